"""Every service's HTTP API fuzzed from its own OpenAPI document with schemathesis, on the real
system (the services as separate processes): no 5xx, and no response that the document does not
describe (status, media type, body), for valid and invalid requests alike.

Every service of the devstack's list is fuzzed. ``CRNT_FUZZ_EXAMPLES`` (default 30) bounds the
examples per operation and generation mode (valid, then invalid requests).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from crnt_devstack.services import SERVICES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err

from tests.e2e.system import System, running_system

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("CRNT_FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Findings:
    requests: int = 0
    server_errors: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def fuzz(base_url: str, headers: dict[str, str], findings: Findings) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is not valid OpenAPI
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                phases=[Phase.explicit, Phase.generate],
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def attempt(case: schemathesis.Case[Any]) -> None:
                response = case.call(base_url=base_url, headers=headers, timeout=15)
                findings.requests += 1
                if response.status_code >= 500:
                    findings.server_errors += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Failure, FailureGroup) as failure:
                    key = f"{case.method} {case.path} → {response.status_code}"
                    findings.failures.setdefault(key, str(failure)[:1500])

            try:
                attempt()
            except Unsatisfiable:
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
                # An operation without parameters nor body has no invalid request.


@pytest.fixture(scope="module")
async def fuzzed_system(
    kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    logs: Path = tmp_path_factory.mktemp("fuzz-logs")
    async with running_system(kafka_bootstrap, postgres_admin_url, logs) as system:
        yield system


@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", [service.name for service in SERVICES])
async def test_the_api_answers_every_request_as_its_document_says(
    fuzzed_system: System, service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = Findings()
    base_url = fuzzed_system.services[service].url
    await asyncio.to_thread(fuzz, base_url, fuzzed_system.agency, findings)
    with capsys.disabled():
        print(
            f"\nfuzz {service}: {findings.requests} requests fuzzed, "
            f"{findings.server_errors} × 5xx, "
            f"{len(findings.failures)} response(s) outside the OpenAPI document"
        )
    report = "\n\n".join(f"{key}\n{text}" for key, text in sorted(findings.failures.items()))
    assert not findings.failures, report
    assert findings.requests > 0
