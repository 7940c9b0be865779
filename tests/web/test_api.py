"""The JSON API: token auth, the same permissions as the pages, errors that name the field."""

from __future__ import annotations

import pytest

from engine.casework.access import MASK
from engine.store.models import Event
from tests.web.conftest import SOLICITUD, open_task, start_case


@pytest.fixture
def api(app, wt):  # type: ignore[no-untyped-def]
    client = app.test_client()
    tokens = {u: wt.create_token(u, "pruebas") for u in ["ana", "mario", "dora", "gerente", "disenadora"]}

    def call(method: str, url: str, user: str | None = "ana", **kw):  # type: ignore[no-untyped-def]
        headers = kw.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {tokens[user]}"
        return client.open(url, method=method, headers=headers, **kw)

    return call


def test_openapi_describes_every_endpoint(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/processes", "/processes/{key}/instances", "/instances/{instance_id}", "/tasks",
                                  "/tasks/{task_id}", "/tasks/{task_id}/complete", "/instances/{instance_id}/messages",
                                  "/instances/{instance_id}/messages/{name}",
                                  "/instances/{instance_id}/rectifications",
                                  "/registro/ordenes", "/registro/evaluacion",
                                  # the studio (web/api/design.py)
                                  "/lint", "/processes/{key}/versions", "/processes/{key}/diff", "/drafts",
                                  "/drafts/{draft_id}", "/drafts/{draft_id}/submit", "/drafts/{draft_id}/approve",
                                  "/drafts/{draft_id}/reject", "/processes/{key}/moves",
                                  # the manager console (web/api/monitor.py)
                                  "/monitor/overview", "/monitor/stalled", "/monitor/workload", "/monitor/charts",
                                  "/monitor/heatmap/{key}", "/monitor/actions", "/monitor/tasks/{task_id}/reassign"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # every route but the register's file download (CSV or JSON file, not a JSON answer) is described
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and "openapi" not in r.rule
             and "exportar" not in r.rule}
    assert len(rules) == len(spec["paths"])


def test_token_is_required_and_checked(api, wt) -> None:  # type: ignore[no-untyped-def]
    r = api("GET", "/api/v1/processes", user=None)
    assert r.status_code == 401 and r.get_json()["field"] == "Authorization"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = api("GET", "/api/v1/processes", user=None, headers={"Authorization": "Bearer trm_falso"})
    assert r.status_code == 401
    wt.set_user_active("ana", False)
    assert api("GET", "/api/v1/processes").status_code == 401


def test_tokens_are_stored_hashed(wt) -> None:  # type: ignore[no-untyped-def]
    from engine.store.accounts import ApiToken

    token = wt.create_token("ana")
    with wt.db.read() as s:
        hashes = [t.token_hash for t in s.query(ApiToken)]
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_a_whole_case_through_the_api(api, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    procs = api("GET", "/api/v1/processes").get_json()["processes"]
    assert procs[0]["key"] == "orden_prueba" and "victima_nombre" in procs[0]["start_form"]["properties"]
    r = api("POST", "/api/v1/processes/orden_prueba/instances", json={"data": SOLICITUD, "reference": "API-1"})
    assert r.status_code == 201
    iid = r.get_json()["instance_id"]
    assert wt.instance(iid).instance.reference == "API-1"
    tasks = api("GET", "/api/v1/tasks").get_json()
    assert tasks["total"] == 1 and tasks["items"][0]["badge"]["kind"] == "none"
    task_id = tasks["items"][0]["task_id"]
    detail = api("GET", f"/api/v1/tasks/{task_id}").get_json()
    assert detail["can_complete"] and detail["form"]["schema"]["required"] == ["nivel_riesgo", "riesgos"]
    r = api("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": {"nivel_riesgo": "alto", "riesgos": ["vida"]}})
    assert r.status_code == 200 and r.get_json()["status"] == "running"
    mario_tasks = api("GET", "/api/v1/tasks", user="mario").get_json()
    assert mario_tasks["items"][0]["name"] == "emitir_orden"
    assert mario_tasks["items"][0]["deadline"]["citation"] == "Reglamento art. 42, párrafo segundo"
    body = api("GET", f"/api/v1/instances/{iid}").get_json()
    assert body["data"]["victima_nombre"] == "María Pérez Soto" and body["identifying_data_visible"]
    with wt.db.read() as s:
        assert s.query(Event).filter_by(instance_id=iid, kind="case_opened").one().detail["via"] == "api"


def test_api_errors_name_the_field(api, wt) -> None:  # type: ignore[no-untyped-def]
    r = api("POST", "/api/v1/processes/orden_prueba/instances", json={"data": {"victima_nombre": "Al"}})
    body = r.get_json()
    assert r.status_code == 422 and body["error"] == "invalid"
    assert body["fields"]["victima_nombre"] == "Debe tener al menos 3 caracteres."
    assert body["fields"]["solicitante"] == "Este campo es obligatorio."
    r = api("POST", "/api/v1/processes/no_existe/instances", json={"data": {}})
    assert r.status_code == 404 and r.get_json()["field"] == "key"
    r = api("POST", "/api/v1/processes/orden_prueba/instances", data="{no json", content_type="application/json")
    assert r.status_code == 422 and r.get_json()["field"] == "body"
    r = api("POST", "/api/v1/processes/orden_prueba/instances", json={"data": SOLICITUD, "reference": 5})
    assert r.status_code == 422 and r.get_json()["field"] == "reference"
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    r = api("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": {"nivel_riesgo": "altísimo", "riesgos": []}})
    assert r.status_code == 422
    assert set(r.get_json()["fields"]) == {"nivel_riesgo", "riesgos"}
    api("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": {"nivel_riesgo": "alto", "riesgos": ["vida"]}})
    r = api("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": {"nivel_riesgo": "alto", "riesgos": ["vida"]}})
    assert r.status_code == 409 and r.get_json()["error"] == "conflict" and r.get_json()["field"] == "task"
    r = api("GET", "/api/v1/tasks?page=x")
    assert r.status_code == 400 and r.get_json()["field"] == "page"
    r = api("GET", "/api/v1/tasks/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.get_json()["field"] == "task"


def test_api_applies_the_same_permissions(api, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    r = api("GET", f"/api/v1/instances/{iid}", user="dora")
    # Another institution's case answers as one that does not exist (issue 11 § 4; it was 403).
    missing = api("GET", "/api/v1/instances/999999", user="dora")
    assert r.status_code == missing.status_code == 404
    assert r.get_data(as_text=True) == missing.get_data(as_text=True).replace("999999", str(iid))
    assert api("POST", f"/api/v1/tasks/{task_id}/complete", user="dora", json={"data": {}}).status_code == 403
    assert api("GET", f"/api/v1/tasks/{task_id}", user="dora").status_code == 403
    assert api("GET", "/api/v1/tasks", user="gerente").status_code == 403
    assert api("POST", "/api/v1/processes/orden_prueba/instances", user="gerente",
               json={"data": SOLICITUD}).status_code == 403
    assert api("GET", f"/api/v1/instances/{iid}", user="disenadora").status_code == 403
    body = api("GET", f"/api/v1/instances/{iid}", user="gerente").get_json()
    # identifying (the name) and sensitive (the narrative, free text) are both withheld; choices stay
    assert body["data"]["victima_nombre"] == MASK and body["data"]["hechos"] == MASK
    assert body["data"]["solicitante"] == SOLICITUD["solicitante"]
    assert not body["identifying_data_visible"]
    assert all("María" not in str(e["detail"]) for e in body["events"])


def test_api_needs_no_csrf_token_but_pages_do(api) -> None:  # type: ignore[no-untyped-def]
    r = api("POST", "/api/v1/processes/orden_prueba/instances", json={"data": SOLICITUD})
    assert r.status_code == 201


def test_api_refuses_numbers_json_has_not(api, wt) -> None:  # type: ignore[no-untyped-def]
    """Python's json reads NaN and Infinity; JSON has neither, and the case must not silently change."""
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    r = api("POST", f"/api/v1/tasks/{task_id}/complete", content_type="application/json",
            data='{"data": {"nivel_riesgo": "alto", "riesgos": ["vida"], "puntaje": NaN}}')
    assert r.status_code == 422 and r.get_json()["field"] == "puntaje"
    assert r.get_json()["fields"]["puntaje"] == "El valor no es un número válido."
    assert wt.task(task_id).state == "READY"


def test_rectifying_a_name_through_the_api(api, wt) -> None:  # type: ignore[no-untyped-def]
    """Issue 10, item 22: the same service method as the case page; refusals name the field, write nothing."""
    iid = start_case(wt)
    url = f"/api/v1/instances/{iid}/rectifications"
    r = api("POST", url, json={"field": "victima_nombre", "value": "María Pérez Sotelo", "reason": " "})
    assert r.status_code == 422 and r.get_json()["field"] == "reason"
    r = api("POST", url, user="gerente", json={"field": "victima_nombre", "value": "X", "reason": "Acta."})
    assert r.status_code == 403
    r = api("POST", url, json={"field": "victima_nombre", "value": "María Pérez Sotelo",
                               "reason": "Así consta en su identificación oficial."})
    assert r.status_code == 200, r.get_json()
    with wt.db.read() as s:
        event = s.query(Event).filter_by(instance_id=iid, kind="data_rectified").one()
    assert event.actor == "ana" and event.detail["before"] == {"victima_nombre": SOLICITUD["victima_nombre"]}
    assert event.detail["changes"] == {"victima_nombre": "María Pérez Sotelo"}
