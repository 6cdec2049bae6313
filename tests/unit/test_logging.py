"""No email address reaches a log line: in the message, a field, a path or a traceback."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from crnt_shared.logging import configure_logging, redact_emails

ADDRESS = "Camille.Martin@lumbres.example"


@pytest.fixture
def service_logging() -> Iterator[io.StringIO]:
    """What a service writes on its standard error, in a buffer."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    configure_logging("test", "INFO", json=True)
    written = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    yield written
    root.handlers, root.level = handlers, level
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()


def test_the_same_address_gets_the_same_pseudonym() -> None:
    once = redact_emails(f"550 5.1.1 <{ADDRESS}>: Recipient address rejected")
    assert "@" not in once
    assert once.startswith("550 5.1.1 <<email ")
    assert redact_emails(f"GET /api/v1/preferences/{ADDRESS.lower().replace('@', '%40')}") == (
        f"GET /api/v1/preferences/{once.split('<', 1)[1].split('>')[0]}>"
    )
    assert redact_emails("no address, 12 @ noon") == "no address, 12 @ noon"


def test_log_lines_carry_no_address(service_logging: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.error("delivery failed", error=f"(550, 'No such user: {ADDRESS}')", path=[ADDRESS])
    logging.getLogger("uvicorn.error").warning("GET /api/v1/preferences/%s", ADDRESS)
    try:
        raise ValueError(f"unknown recipient {ADDRESS}")
    except ValueError:
        log.exception("unhandled error")
    lines = service_logging.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        json.loads(line)
        assert ADDRESS.lower() not in line.lower(), line
        assert "<email " in line, line
