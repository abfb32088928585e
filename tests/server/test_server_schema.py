"""Property-based API test: schemathesis generates requests from the OpenAPI schema for every operation;
none may get a 5xx, and every response must conform to its documented status codes and schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from liqmap.server import create_app

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_generated_requests_get_no_server_errors(sample_db):
    app = create_app(sample_db, allowed_hosts=("testserver",))  # the Host schemathesis sends
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/api/symbols",
        "/api/heatmap",
        "/api/map",
        "/api/levels",
        "/api/cascade",
        "/api/validate",
        "/api/scan",
        "/api/liquidations",
    }
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
