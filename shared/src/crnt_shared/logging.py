"""Structured JSON logs (structlog); the correlation id is on every line, and no email
address is on any (personal data: an address becomes ``<email 1a2b3c4d>``)."""

import hashlib
import logging
import re
import sys
from typing import Any

import structlog
from structlog.types import EventDict, WrappedLogger

from crnt_shared.context import current_correlation_id


def _add_correlation_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    correlation_id = current_correlation_id()
    if correlation_id is not None:
        event_dict.setdefault("correlation_id", correlation_id)
    return event_dict


#: An email address, also percent-encoded as in a path (``/preferences/ana%40a.example``).
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)


def _pseudonym(match: re.Match[str]) -> str:
    address = match[0].replace("%40", "@").lower()
    return f"<email {hashlib.sha256(address.encode()).hexdigest()[:8]}>"


def redact_emails(text: str) -> str:
    """``text`` with every email address replaced by a short pseudonym: the same address gives
    the same one, so that lines about one person can still be followed."""
    return _EMAIL.sub(_pseudonym, text) if "@" in text or "%40" in text else text


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_emails(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redacted(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_emails(str(value))


def _redact_emails(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Last before rendering, so that tracebacks (formatted by then) are covered too: an SMTP
    error, a request path or an exception can carry an address, whatever logs it."""
    return {key: _redacted(value) for key, value in event_dict.items()}


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and the standard library (uvicorn, aiokafka) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact_emails,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    structlog.contextvars.bind_contextvars(service=service)
