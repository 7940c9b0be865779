"""Smaller holes of the security review, seen from the web: bounded page numbers, an API that never
answers an HTML 500, a health check that lists nothing, and no server software in the headers."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.diagrams import bundle, flows, process, script_task, user_task
from tests.web.conftest import Browser

HUGE = "99999999999999999999"


@pytest.fixture
def api(app, wt):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = wt.create_token("ana", "pruebas")

    def call(method: str, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)

    return call


@pytest.mark.parametrize("url", [f"/casos?page={HUGE}", f"/bandeja?page={HUGE}", f"/bandeja?por_pagina={HUGE}",
                                 "/casos?page=-3", "/bandeja?page=0&por_pagina=1000"])
def test_pages_refuse_a_page_number_out_of_range(app, url: str) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    b.login("ana")
    r = b.get(url)
    assert r.status_code == 400
    assert "debe ser un número entero entre 1 y" in r.get_data(as_text=True)


@pytest.mark.parametrize("query", [f"page={HUGE}", f"per_page={HUGE}", "page=0", "per_page=101", "page=x"])
def test_api_refuses_a_page_number_out_of_range(api, query: str) -> None:  # type: ignore[no-untyped-def]
    r = api("GET", f"/api/v1/tasks?{query}")
    assert r.status_code == 400 and r.is_json
    body = r.get_json()
    assert body["field"] in {"page", "per_page"} and body["message"]


NOT_JSON = process("no_json", "\n".join([
    '<bpmn:startEvent id="start"/>', script_task("mapea", "m = map(str, [1])"), user_task("despues"),
    '<bpmn:endEvent id="end"/>', flows(("start", "mapea"), ("mapea", "despues"), ("despues", "end")),
]))


def test_a_script_value_json_cannot_hold_is_an_incident_not_an_html_500(api, wt) -> None:  # type: ignore[no-untyped-def]
    wt.deploy([bundle("n.bpmn", NOT_JSON)])
    r = api("POST", "/api/v1/processes/no_json/instances", json={"data": {}})
    assert r.is_json, r.get_data(as_text=True)[:200]
    assert 400 <= r.status_code < 500
    [case] = wt.instances(process_key="no_json")
    [incident] = wt.instance(case.id).incidents
    assert incident.task_name == "mapea"


def test_health_says_up_and_nothing_else(app, wt) -> None:  # type: ignore[no-untyped-def]
    r = app.test_client().get("/health")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert "orden_prueba" not in r.get_data(as_text=True)


def test_responses_do_not_announce_the_server_software(app) -> None:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/health", timeout=10) as r:
            header = r.headers.get("Server", "")
    finally:
        server.shutdown()
    assert "Werkzeug" not in header and "Python" not in header and "/" not in header


def test_gunicorn_does_not_announce_itself_either(app) -> None:  # type: ignore[no-untyped-def]
    gunicorn_wsgi = pytest.importorskip("gunicorn.http.wsgi")  # production's server (the bench extra)
    assert "gunicorn" not in gunicorn_wsgi.SERVER
