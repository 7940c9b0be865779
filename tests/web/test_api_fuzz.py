"""Schemathesis against the API, driven by the OpenAPI description the routes generate.

Every operation gets requests built from its own schemas (and, as negative cases, requests that break
them) against a real app on SQLite with a case in it: no answer may be a 5xx, and every answer must
match what the description says of its status, content type and body. Bounded to a few dozen
examples per operation so ``make test`` stays within its time.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import build_app, make_tramita, start_case

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture
def fuzzed(sqlite_url: str) -> Any:
    t = make_tramita(sqlite_url)
    start_case(t)
    app = build_app(t)
    app.config["TESTING"] = False  # unexpected errors answer as in production (a JSON 500), not raised
    yield app, {"caseworker": t.create_token("ana", "pruebas"), "manager": t.create_token("gerente", "pruebas")}
    t.db.dispose()


OPERATIONS = ["GET /processes", "POST /processes/{key}/instances", "GET /instances/{instance_id}",
              "GET /instances/{instance_id}/messages", "POST /instances/{instance_id}/messages/{name}",
              "GET /tasks", "GET /tasks/{task_id}", "POST /tasks/{task_id}/complete",
              "POST /instances/{instance_id}/rectifications", "GET /registro/ordenes", "GET /registro/evaluacion",
              # the studio (web/api/design.py); the token's caseworker is refused each with a described answer
              "POST /lint", "GET /processes/{key}/versions", "GET /processes/{key}/diff", "POST /drafts",
              "GET /drafts/{draft_id}", "PUT /drafts/{draft_id}", "POST /drafts/{draft_id}/submit",
              "POST /drafts/{draft_id}/approve", "POST /drafts/{draft_id}/reject", "GET /processes/{key}/moves",
              "POST /processes/{key}/moves",
              # the manager console (web/api/monitor.py), as a manager
              "GET /monitor/overview", "GET /monitor/stalled", "GET /monitor/workload", "GET /monitor/charts",
              "GET /monitor/heatmap/{key}", "POST /monitor/actions", "POST /monitor/tasks/{task_id}/reassign"]


def test_every_operation_is_fuzzed(fuzzed: Any) -> None:
    app, _token = fuzzed
    described = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    assert sorted(r.ok().label for r in described.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", OPERATIONS)
def test_api_answers_as_it_describes(fuzzed: Any, label: str, mode: GenerationMode) -> None:
    """(Schemathesis's pytest plugin does not run under pytest 9: its strategies are driven here directly.)"""
    app, tokens = fuzzed
    token = tokens["manager" if "/monitor/" in label else "caseworker"]  # the console is the managers'
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)

    check()
