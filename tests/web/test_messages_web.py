"""Registering the events a case waits for (BPMN messages) from the case file and the API.

A real protection order (``workflows/orden_proteccion.bpmn``) is carried to the issued and
notified order, where it waits for a reported violation (``violacion_orden``, Reglamento
arts. 23 IV, 28 and 44); a third party's request also waits for the end of the state of
risk (``fin_estado_riesgo``, art. 41). Only who may act on the case registers them; a
refusal writes nothing. The last test does it in Chromium.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from engine.store.models import Event
from engine.time import clock
from engine.time.hermosillo import HERMOSILLO
from tests.web.conftest import (REAL_ISSUE, REAL_REQUEST, REAL_RISK, REAL_WORKFLOWS, Browser, build_app,
                                open_task)
from web.cases import events

try:  # the browser fixtures (a real server on the real procedures, Debian's Chromium)
    from tests.web.test_browser import ARTIFACTS, chromium, no_script_errors, page_for, server, shot  # noqa: F401
    NO_BROWSER = None
except pytest.skip.Exception as exc:  # Chromium or bpmn-js missing: only the browser test is skipped
    NO_BROWSER = str(exc)

REQUESTED = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)  # Monday 2 March 2026, 10:00 in Hermosillo
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)  # 11:00: the order is issued and notified
NOTIFICATION = json.loads((REAL_WORKFLOWS / "forms" / "orden_proteccion_notificacion.schema.json")
                          .read_text(encoding="utf-8"))["examples"][0]
REPORT = json.loads((REAL_WORKFLOWS / "forms" / "orden_proteccion_informe_orden.schema.json")
                    .read_text(encoding="utf-8"))["examples"][0]
THIRD_PARTY = dict(REAL_REQUEST, solicitante_tipo="tercero", nombre_solicitante="Rosa López",
                   vinculo_solicitante="Hermana", motivo_impedimento="Se encuentra hospitalizada por las lesiones.")
VIOLATION = {"descripcion": "El agresor se presentó en el domicilio de la víctima y la amenazó.",
             "fecha": "2026-03-02T10:30"}


def issued_order(t: Any, user: str = "mp", request: dict[str, Any] = REAL_REQUEST, reference: str = "OP-EV-1") -> int:
    """A real request through risk assessment, issuing and notification: the order is in force."""
    iid = t.start("orden_proteccion", dict(request), user, reference=reference, institution="FGJE").instance_id
    t.complete(open_task(t, iid, "valorar_riesgo"), REAL_RISK, user)
    t.complete(open_task(t, iid, "emitir_orden"), REAL_ISSUE, user)
    # Notified and reported as the order is issued: acts already done, not later than now (item 19).
    now = clock.now().astimezone(HERMOSILLO).isoformat(timespec="seconds")
    notified = dict(NOTIFICATION, fecha_hora_notificacion=now,
                    notificacion_persona_agresora=dict(NOTIFICATION["notificacion_persona_agresora"], fecha_hora=now))
    t.complete(open_task(t, iid, "notificar_orden"), notified, user)
    t.complete(open_task(t, iid, "informar_orden_registro"), dict(REPORT, fecha_informe_orden=now[:10]),
               user)  # Reglamento art. 28
    return iid


@pytest.fixture
def order(real: Any, frozen_clock: Any) -> int:
    frozen_clock.set(REQUESTED)
    iid = issued_order(real)
    frozen_clock.set(NOW)
    return iid


@pytest.fixture
def browser(real: Any):  # type: ignore[no-untyped-def]
    app = build_app(real)

    def make(username: str) -> Browser:
        b = Browser(app)
        assert b.login(username).status_code == 302
        return b

    return make


def _written(t: Any, iid: int) -> tuple[int, int]:
    """The case's revision and its audit rows other than openings: what a refusal must leave as it was."""
    with t.db.read() as s:
        rows = s.query(Event).filter(Event.instance_id == iid, Event.kind != "case_opened").count()
    return t.instance(iid).instance.revision, rows


def _open(t: Any, iid: int) -> list[str]:
    return sorted(x.name for x in t.tasks(instance_id=iid))


# --- the case page --------------------------------------------------------------------------------------


def test_the_case_page_lists_what_the_case_waits_for(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser("mp").get(f"/casos/{order}").get_data(as_text=True)
    assert "Eventos que el expediente espera" in page and 'href="#eventos"' in page
    section = page.split('id="eventos"')[1].split("</section>")[0]
    assert "Reportar violación de la orden de protección" in section
    assert "Recibir reporte de violación de la orden" in section  # the diagram's title
    assert "Reglamento arts. 23, fracción IV, y 44" in section  # and its documentation
    assert f'action="/casos/{order}/eventos/violacion_orden#evento-violacion_orden"' in section
    assert 'name="csrf_token"' in section and 'type="datetime-local"' in section
    assert 'value="2026-03-02T11:00"' in section  # now, in Hermosillo time
    assert re.search(r'<textarea[^>]*name="descripcion"[^>]*required', section)
    # A manager of the institution sees what the case waits for, but may not register it (nor complete tasks).
    page = browser("gerente_fgje").get(f"/casos/{order}").get_data(as_text=True)
    section = page.split('id="eventos"')[1].split("</section>")[0]
    assert "Reportar violación de la orden de protección" in section
    assert "<form" not in section and "Solo el personal operativo a cargo del expediente" in section


def test_a_case_that_waits_for_nothing_has_no_events_section(real, frozen_clock, browser) -> None:  # type: ignore[no-untyped-def]
    iid = real.start("orden_proteccion", dict(REAL_REQUEST), "mp", institution="FGJE").instance_id
    assert real.waiting_messages(iid) == []
    assert "Eventos que el expediente espera" not in browser("mp").get(f"/casos/{iid}").get_data(as_text=True)


def test_registering_a_violation_opens_the_police_intervention(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    assert "intervenir_policia" not in _open(real, order)
    b = browser("mp")
    r = b.post(f"/casos/{order}/eventos/violacion_orden", VIOLATION)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/casos/{order}#tareas")
    # The first follow-up contact (LGAMVLV art. 34 Bis) is open since the order was issued.
    assert _open(real, order) == ["contactar_victima", "informar_violacion", "intervenir_policia", "valorar_inicio_sancion"]
    data = real.instance(order).data
    assert data["violacion"] == {"descripcion": VIOLATION["descripcion"], "fecha": "2026-03-02T10:30:00-07:00"}
    assert data["descripcion_violacion"] == VIOLATION["descripcion"]  # what the diagram's script reads
    assert data["registro_violacion"]["fundamento"] == "Reglamento arts. 23, fracción IV, y 28"
    [event] = [e for e in real.instance(order).events if e.kind == "message_received"]
    assert event.actor == "mp" and event.detail["message"] == "violacion_orden"
    page = b.get(f"/casos/{order}").get_data(as_text=True)
    assert "Se registró «Reportar violación de la orden de protección». Tareas nuevas: " in page
    assert "Intervenir de inmediato" in page.split('id="tareas"')[1].split("</section>")[0]
    history = page.split('id="historial"')[1]
    assert "Mensaje recibido</strong>: Reportar violación de la orden de protección" in history
    assert VIOLATION["descripcion"] in history and "02/03/2026 10:30" in history
    # The order stays in force: another violation can be reported.
    assert [m["name"] for m in real.waiting_messages(order)] == ["violacion_orden"]


def test_the_end_of_the_state_of_risk_starts_the_ratification_term_from_its_date(real, frozen_clock, browser) -> None:  # type: ignore[no-untyped-def]
    frozen_clock.set(REQUESTED)
    iid = issued_order(real, request=THIRD_PARTY)
    frozen_clock.set(NOW)
    assert [m["name"] for m in real.waiting_messages(iid)] == ["fin_estado_riesgo", "violacion_orden"]
    b = browser("mp")
    page = b.get(f"/casos/{iid}").get_data(as_text=True)
    assert "Registrar el fin del estado de riesgo" in page and "Reglamento art. 41, primer párrafo" in page
    r = b.post(f"/casos/{iid}/eventos/fin_estado_riesgo",
               {"descripcion": "Fue dada de alta del hospital.", "fecha": "2026-03-02T10:15"})
    assert r.status_code == 303
    data = real.instance(iid).data
    assert data["cese_riesgo"]["fecha_cese"] == "2026-03-02T10:15:00-07:00"  # the key the diagram reads
    assert data["fecha_cese_riesgo"] == "2026-03-02T10:15:00-07:00"
    assert "ratificar_solicitud" in _open(real, iid)
    [task] = [x for x in real.tasks(instance_id=iid) if x.name == "ratificar_solicitud"]
    assert task.deadline["count"] == 5 and task.deadline["unit"] == "natural"
    assert task.deadline["start"].startswith("2026-03-02T10:15")


def test_who_may_not_act_on_the_case_gets_403_and_nothing_is_written(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    before = _written(real, order)
    # Another institution's caseworker (who does not even see the case) and the institution's manager.
    # 404 for who does not see the case (issue 11 § 4: as for one that does not exist), 403 for who sees it.
    for user, status in [("ism", 404), ("gerente_fgje", 403)]:
        r = browser(user).post(f"/casos/{order}/eventos/violacion_orden", VIOLATION)
        assert r.status_code == status, user
        assert "Reportar violación" not in r.get_data(as_text=True)
    assert _written(real, order) == before
    assert "intervenir_policia" not in _open(real, order)


def test_an_event_the_case_no_longer_waits_for_keeps_what_was_typed(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    before = _written(real, order)
    b = browser("mp")
    # The victim asked herself: no ratification, so the case never waits for the end of the state of risk.
    r = b.post(f"/casos/{order}/eventos/fin_estado_riesgo", {"descripcion": "Salió del hospital.",
                                                            "fecha": "2026-03-02T10:05"})
    page = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "El expediente ya no espera «Registrar el fin del estado de riesgo»" in page
    assert "No se guardó nada" in page and "Salió del hospital." in page
    assert "Reportar violación de la orden de protección" in page  # what it does wait for is still offered
    r = b.post(f"/casos/{order}/eventos/no_existe", VIOLATION)
    assert r.status_code == 409 and "El expediente ya no espera «no_existe»" in r.get_data(as_text=True)
    assert _written(real, order) == before
    # Sent twice from the same page (a double click): the second finds the case changed and writes nothing.
    form = dict(VIOLATION, _revision=str(real.instance(order).instance.revision))
    assert b.post(f"/casos/{order}/eventos/violacion_orden", form).status_code == 303
    after = _written(real, order)
    r = b.post(f"/casos/{order}/eventos/violacion_orden", form)
    assert r.status_code == 409 and "El expediente cambió desde que abrió esta página" in r.get_data(as_text=True)
    assert VIOLATION["descripcion"] in r.get_data(as_text=True)
    assert _written(real, order) == after
    assert _open(real, order).count("intervenir_policia") == 1


def test_the_description_and_date_are_checked(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    before = _written(real, order)
    b = browser("mp")
    r = b.post(f"/casos/{order}/eventos/violacion_orden", {"descripcion": "  ", "fecha": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Describa lo ocurrido." in page and "Indique la fecha y la hora" in page
    r = b.post(f"/casos/{order}/eventos/violacion_orden", dict(VIOLATION, fecha="2026-03-03T09:00"))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "La fecha no puede ser posterior al momento actual." in page
    assert VIOLATION["descripcion"] in page and 'value="2026-03-03T09:00"' in page  # kept
    r = b.post(f"/casos/{order}/eventos/violacion_orden", dict(VIOLATION, fecha="2026-02-01T09:00"))
    assert r.status_code == 422 and "anterior al inicio del expediente (02/03/2026 10:00)" in r.get_data(as_text=True)
    r = b.post(f"/casos/{order}/eventos/violacion_orden", dict(VIOLATION, fecha="ayer"))
    assert r.status_code == 422 and "Fecha y hora no válidas" in r.get_data(as_text=True)
    assert _written(real, order) == before


def test_the_form_needs_its_csrf_token(real, order, browser) -> None:  # type: ignore[no-untyped-def]
    before = _written(real, order)
    r = browser("mp").client.post(f"/casos/{order}/eventos/violacion_orden", data=VIOLATION)
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    assert _written(real, order) == before


def test_payloads_carry_the_keys_the_diagrams_read(real) -> None:  # type: ignore[no-untyped-def]
    """The events and their date keys come from workflows/eventos.toml, the texts in the page's language."""
    kinds = real.runtime.event_kinds()
    when = datetime(2026, 7, 2, 17, 0, tzinfo=timezone.utc)
    assert events.payload(kinds["norma_reformada"], " Reforma al art. 5 ", when) == {
        "descripcion": "Reforma al art. 5", "fecha": "2026-07-02T10:00:00-07:00"}
    assert events.payload(kinds["fin_estado_riesgo"], "x", when)["fecha_cese"] == "2026-07-02T10:00:00-07:00"
    assert events.payload(None, "x", when) == {"descripcion": "x", "fecha": "2026-07-02T10:00:00-07:00"}
    assert kinds["norma_reformada"].text("es").accion == "Registrar la reforma de la norma"
    assert kinds["norma_reformada"].text("en").accion == "Record the amendment of the norm"
    assert kinds["violacion_orden"].fundamento.startswith("Reglamento arts. 23")
    with build_app(real).test_request_context("/"):
        assert events.label(kinds["norma_reformada"], "norma_reformada") == "Registrar la reforma de la norma"
        assert events.label(None, "otro_mensaje", "Esperar otra cosa") == "Esperar otra cosa"


def test_an_event_text_missing_from_eventos_toml_is_refused_by_name() -> None:
    from engine.deploy import eventos
    from engine.errors import DeploymentRejected

    with pytest.raises(DeploymentRejected, match=r"\[eventos.x\]: falta el texto 'efecto'"):
        eventos.parse({"eventos": {"x": {"accion": "a", "descripcion": "d", "cuando": "c"}}})


# --- the API --------------------------------------------------------------------------------------------


@pytest.fixture
def api(real: Any):  # type: ignore[no-untyped-def]
    client = build_app(real).test_client()
    tokens = {u: real.create_token(u, "pruebas") for u in ["mp", "ism", "gerente_fgje"]}

    def call(method: str, url: str, user: str = "mp", **kw: Any):  # type: ignore[no-untyped-def]
        return client.open(url, method=method, headers={"Authorization": f"Bearer {tokens[user]}"}, **kw)

    return call


def test_api_lists_the_waiting_messages(real, order, api) -> None:  # type: ignore[no-untyped-def]
    body = api("GET", f"/api/v1/instances/{order}/messages").get_json()
    assert body["can_send"] is True and body["status"] == "running"
    [m] = body["messages"]
    assert m["name"] == "violacion_orden" and m["element"] == "recibir_reporte_violacion"
    assert m["label"] == "Reportar violación de la orden de protección"
    assert "Reglamento arts. 23, fracción IV, y 44" in m["documentation"]
    assert m["payload_keys"] == ["descripcion", "fecha"]
    assert api("GET", f"/api/v1/instances/{order}/messages", user="gerente_fgje").get_json()["can_send"] is False
    r = api("GET", f"/api/v1/instances/{order}/messages", user="ism")
    assert r.status_code == 404 and r.get_json()["field"] == "instance"  # another institution's case
    assert api("GET", "/api/v1/instances/999/messages").status_code == 404


def test_api_registers_a_violation(real, order, api) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/instances/{order}/messages/violacion_orden"
    payload = {"descripcion": "Llamadas amenazantes.", "fecha": "2026-03-02T10:45:00-07:00"}
    r = api("POST", url, json={"payload": payload, "revision": real.instance(order).instance.revision})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["message"] == "violacion_orden" and body["payload"] == payload and body["status"] == "running"
    assert "intervenir_policia" in _open(real, order)
    assert real.instance(order).data["violacion"] == payload


def test_api_refusals_and_errors_name_the_field(real, order, api) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/instances/{order}/messages/violacion_orden"
    payload = {"descripcion": "Llamadas amenazantes.", "fecha": "2026-03-02T10:45:00-07:00"}
    before = _written(real, order)
    for user, status, error in [("ism", 404, "not_found"), ("gerente_fgje", 403, "forbidden")]:
        r = api("POST", url, user=user, json={"payload": payload})
        assert r.status_code == status and r.get_json()["error"] == error, user
    r = api("POST", f"/api/v1/instances/{order}/messages/fin_estado_riesgo", json={"payload": payload})
    assert r.status_code == 409 and r.get_json()["field"] == "message"
    assert "no espera el evento «fin_estado_riesgo» (espera ahora: violacion_orden)" in r.get_json()["message"]
    r = api("POST", url, json={"payload": "hechos"})
    assert r.status_code == 422 and r.get_json()["field"] == "payload"
    r = api("POST", url, json=payload)  # the payload not wrapped
    assert r.status_code == 422 and r.get_json()["field"] == "descripcion"
    r = api("POST", url, json={"payload": {"fecha": "2026-03-02"}})
    assert r.status_code == 422
    assert set(r.get_json()["fields"]) == {"payload.descripcion", "payload.fecha"}
    r = api("POST", url, json={"payload": dict(payload, fecha="2027-01-01T00:00:00-07:00")})
    assert r.status_code == 422 and "posterior al momento actual" in r.get_json()["fields"]["payload.fecha"]
    r = api("POST", url, json={"payload": payload, "revision": 1})
    assert r.status_code == 409 and r.get_json()["field"] == "revision"
    r = api("POST", url, data="{no es json", content_type="application/json")
    assert r.status_code == 422 and r.get_json()["field"] == "body"
    assert _written(real, order) == before
    assert "intervenir_policia" not in _open(real, order)


def test_openapi_describes_the_message_endpoints(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/instances/{instance_id}/messages/{name}"]["post"]
    assert {"403", "409", "422"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MessageRequest")
    assert "get" in spec["paths"]["/instances/{instance_id}/messages"]
    assert spec["components"]["schemas"]["MessageRequest"]["required"] == ["payload"]


# --- in a real browser ----------------------------------------------------------------------------------


@pytest.mark.skipif(NO_BROWSER is not None, reason=str(NO_BROWSER))
def test_a_violation_reported_from_the_case_page_in_the_browser(page_for: Any, server: dict[str, Any]) -> None:
    t = server["tramita"]
    iid = issued_order(t, user="operativo.fgje", reference="OP-NAV-EV")
    mp = page_for("operativo.fgje")
    mp.goto(f"{server['url']}/casos/{iid}")
    section = mp.locator("#eventos")
    assert "Eventos que el expediente espera" in section.locator("h2").inner_text()
    assert "Reglamento arts. 23, fracción IV, y 44" in section.inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", mp.locator("#ev-violacion_orden-fecha").input_value())
    assert "Intervenir de inmediato" not in mp.locator("#tareas").inner_text()
    mp.click("button:has-text('Reportar violación de la orden de protección')")  # nothing typed
    mp.wait_for_load_state("networkidle")
    assert mp.locator("#ev-violacion_orden-descripcion-error").inner_text() == "Describa lo ocurrido."
    section.screenshot(path=str(ARTIFACTS / "16-evento-violacion-sin-descripcion.png"))
    mp.fill("#ev-violacion_orden-descripcion", "El agresor se presentó en el domicilio y la amenazó de muerte.")
    mp.click("button:has-text('Reportar violación de la orden de protección')")
    mp.wait_for_url(re.compile(rf"/casos/{iid}#tareas$"))
    flash = mp.locator(".flash-success").inner_text()
    assert "Se registró «Reportar violación de la orden de protección». Tareas nuevas:" in flash
    assert "Intervenir de inmediato" in mp.locator("#tareas").inner_text()
    assert "intervenir_policia" in _open(t, iid)
    entry = mp.locator("#historial li", has_text="Mensaje recibido: Reportar violación de la orden de protección")
    entry.locator("summary:has-text('Detalle del evento')").click()
    assert "El agresor se presentó en el domicilio" in entry.inner_text()
    assert "Intervenir de inmediato" in entry.inner_text()  # the tasks it opened
    shot(mp, "17-evento-violacion-registrado")
    no_script_errors(mp)


# --- the register of orders through the API and the page (Reglamento arts. 23, 28) -------------------------


def test_register_api_and_page_for_the_roles_its_policy_names(real: Any, order: int) -> None:
    """[policies.registro] of workflows/lanes.toml: managers and the caseworkers of the issuing authority,
    the Instituto and the SESP; every read and export on the audit trail; others get 403 and write nothing."""
    from web import create_app

    app = create_app({"TRAMITA": real, "SECRET_KEY": "k", "SESSION_COOKIE_SECURE": False})
    client = app.test_client()

    def get(url: str, user: str) -> Any:
        return client.get(url, headers={"Authorization": f"Bearer {real.create_token(user, 'pruebas')}"})

    def audited() -> int:
        with real.db.read() as s:
            return s.query(Event).filter(Event.kind.in_(["register_read", "register_exported"])).count()

    r = get("/api/v1/registro/ordenes?anio=2026", "ism")
    assert r.status_code == 200
    [orden] = r.get_json()["ordenes"]
    assert orden["folio"] == "OP-FGJE-2026-000001" and orden["estado"] == "vigente"
    assert orden["persona_sujeta"] == "Pedro Ramírez Soto" and "María" not in r.get_data(as_text=True)
    r = get("/api/v1/registro/exportar.csv", "gerente_fgje")
    assert r.status_code == 200 and r.mimetype == "text/csv" and "OP-FGJE-2026-000001" in r.get_data(as_text=True)
    assert audited() == 2
    r = get("/api/v1/registro/exportar.xml", "mp")
    assert r.status_code == 422 and r.get_json()["field"] == "formato"
    r = get("/api/v1/registro/evaluacion?anio=2026", "gerente_fgje")
    assert r.status_code == 200 and r.get_json()["ordenes_emitidas"] == 1
    page = browser_for(real, "mp").get("/registro").get_data(as_text=True)
    assert "OP-FGJE-2026-000001" in page and "Exportar JSON" in page and audited() == 3


def browser_for(t: Any, user: str) -> Browser:
    b = Browser(build_app(t))
    assert b.login(user).status_code == 302
    return b
