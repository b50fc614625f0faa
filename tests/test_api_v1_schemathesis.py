"""Property-based run of schemathesis over every `/api/v1` operation, through the app's WSGI interface.

Schemathesis generates requests from the OpenAPI document, valid and invalid, and sends
them with a real token of the Mae Sai district clerk. Every response must be below 500
and match the document: a documented status code, content type and body schema.
"""

from __future__ import annotations

from datetime import timedelta

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from workflow import apitokens, jobs, operations
from workflow.routing import operations as routing
from workflow.routing.calendar import today_in_thailand
from workflow.web.api_v1.openapi import OPENAPI

from tests.conftest import TEST_PASSWORD

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation; each example is one request against the real database.
EXAMPLES_PER_OPERATION = 25


def run_operation(app, operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.function_scoped_fixture])
    def check(case):
        response = case.call(headers=headers)
        # Uploads start parse jobs in a worker thread. Waiting for them keeps their lazy imports
        # from racing Hypothesis, which walks sys.modules when each example starts.
        jobs.thread_worker(app).wait_until_idle()
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


def issue_province_circular(session) -> None:
    """Send a Chiang Rai circular to the Mae Sai and Chiang Saen district offices, so routing calls find tasks."""
    head = operations.create_user(session, "thanasak", "นายธนศักดิ์ ใจใส", TEST_PASSWORD, "PROV-57", "supervisor")
    routing.issue_circular(
        session, head, subject="การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น",
        recipient_codes=["DIST-5709", "DIST-5707"], due_nominal=today_in_thailand() + timedelta(days=20),
        confirmation_form=list(routing.CARBON_CREDIT_CONFIRMATION_FORM),
    )


def test_api_matches_its_schema(app, session, users, stored_letter):
    issue_province_circular(session)
    token = apitokens.create_token(session, users["clerk"].username, "ระบบ e-office ทดสอบ", "test").token
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, item in OPENAPI["paths"].items() for method in item}
    # Schemathesis leaves out the operation that serves the document it loaded.
    assert {operation.label for operation in operations} == documented - {"GET /api/v1/openapi.json"}
    for operation in operations:
        try:
            run_operation(app, operation, headers)
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
