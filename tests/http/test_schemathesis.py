"""Property-based API checks: schemathesis against /openapi.json of a live server (real model).

Every operation gets a bounded number of generated requests, valid and invalid, with a
fixed seed; the server must never answer 5xx, and every answer must match the documented
status codes, content types and schemas. (schemathesis's pytest fixture loader does not
work under pytest 9, so the operations are driven through hypothesis directly.)
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}


def _operations(server):
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _has_inputs(operation) -> bool:
    return any(len(group) for group in (operation.body, operation.path_parameters, operation.query))


def _check(operation, mode: GenerationMode, base_url: str) -> None:
    @seed(20240611)
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(base_url=base_url, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_api_conforms_to_its_openapi_document(captioner_server, mode):
    operations = _operations(captioner_server)
    assert len(operations) >= 10  # every route but /openapi.json itself
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue  # nothing to make invalid (GET /health, /metrics, /v1/models)
        _check(operation, mode, captioner_server.url)
