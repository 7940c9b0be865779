"""The manager console's pages and API on the real procedures: permissions, lists, actions, exports."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine.time import clock
from tests.web.conftest import REAL_REQUEST, build_app

HMO = timezone(timedelta(hours=-7))


@pytest.fixture
def console(real: Any) -> Any:
    real.add_user("mp2", "contrasena-de-prueba", name="Mp2", role="caseworker", institution="FGJE",
                  groups=["autoridad_emisora_orden"])
    return real


def _order(t: Any, at: datetime) -> int:
    with clock.frozen_at(at):
        return t.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-MON-1", institution="FGJE").instance_id


def test_pages_permissions_reassign_and_exports(console: Any) -> None:
    from tests.web.conftest import Browser

    app = build_app(console)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=HMO)  # Monday 10:00; the risk assessment is due in 4 h
    case = _order(console, start)
    gerente, mp = Browser(app), Browser(app)
    assert gerente.login("gerente_fgje").status_code == 302 and mp.login("mp").status_code == 302
    assert mp.get("/monitor").status_code == 403  # caseworkers have no console
    with clock.frozen_at(start + timedelta(hours=5)):
        page = gerente.get("/monitor").get_data(as_text=True)
        assert 'id="kpi-overdue">1<' in page
        stalled = gerente.get("/monitor/detenidos").get_data(as_text=True)
        assert "OP-MON-1" in stalled and "Plazo legal vencido" in stalled and "María" not in stalled
        [task] = [t for t in console.tasks(instance_id=case)]
        r = gerente.post(f"/monitor/tareas/{task.id}/reasignar", {"persona": "mp2", "motivo": ""})
        assert r.status_code == 422 and "Falta el motivo" in r.get_data(as_text=True)
        r = gerente.post(f"/monitor/tareas/{task.id}/reasignar", {"persona": "mp2", "motivo": "Cubre la guardia"})
        assert r.status_code == 303
        assert console.task(task.id).assignee == "mp2"
        xlsx = gerente.get("/monitor/exportar/stalled.xlsx")
        assert xlsx.status_code == 200
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(xlsx.data)).active
        cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        assert "OP-MON-1" in cells and not any("María" in c for c in cells)
        csv = gerente.get("/monitor/exportar/cases.csv").data
        assert csv.startswith("\ufeff".encode()) and "María".encode() not in csv and b"OP-MON-1" in csv
        assert b"tipo_orden_solicitada" in csv  # an enum: general
        assert b"hechos" not in csv  # free text: sensitive
        assert gerente.get("/monitor/carga").status_code == 200
        monthly = gerente.get("/monitor/exportar/monthly.csv").data.decode("utf-8-sig")
        assert "2026-03,Ciclo de vida de la orden de protección,FGJE,,En trámite,1," in monthly
        assert gerente.get("/monitor/exportar/nada.csv").status_code == 422
        heat = gerente.get("/monitor/mapa/orden_proteccion")
        assert heat.status_code == 200 and 'data-element="valorar_riesgo"' in heat.get_data(as_text=True)
        # The API, with an admin's token, and the same refusals.
        token = console.create_token("gerente_fgje")
        client = app.test_client()
        h = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/monitor/overview", headers=h).json["overdue_tasks"] == 1
        assert client.get("/api/v1/monitor/stalled", headers=h).json[0]["reason"] == "overdue"
        assert client.get("/api/v1/monitor/stalled?format=csv", headers=h).data.startswith("\ufeff".encode())
        assert client.get("/api/v1/monitor/heatmap/orden_proteccion?version=x", headers=h).json["field"] == "version"
        r = client.post("/api/v1/monitor/actions", headers=h, json={"action": "suspend", "instances": [case, 999],
                                                                     "reason": "Revisión"})
        assert [(x["instance_id"], x["done"]) for x in r.json["results"]] == [(case, True), (999, False)]
        r = client.post("/api/v1/monitor/actions", headers=h, json={"action": "resume", "instances": [case]})
        assert r.status_code == 422 and r.json["field"] == "reason"
        assert client.get("/api/v1/monitor/workload").status_code == 401
        # Released through the API: back in its group's inbox, the release audited with its reason.
        r = client.post(f"/api/v1/monitor/tasks/{task.id}/reassign", headers=h,
                        json={"to": None, "reason": "Vuelve a la guardia"})
        assert r.status_code == 200 and console.task(task.id).assignee is None
        r = client.post(f"/api/v1/monitor/tasks/{task.id}/reassign", headers=h, json={"to": "gerente_fgje",
                                                                                     "reason": "Prueba"})
        assert r.status_code == 422 and r.json["field"] == "to"  # not of the lane's group
        kinds = [e.kind for e in console.instance(case).events]
        assert kinds.count("task_reassigned") == 1 and kinds.count("task_released") == 1
        # The bulk form without script: every case at once, the results page; with it: one row per call.
        page = gerente.post("/monitor/acciones", {"casos": [str(case)], "accion": "resume", "motivo": "Fin de revisión"})
        assert page.status_code == 200 and f'data-case="{case}" data-done="true"' in page.get_data(as_text=True)
        row = gerente.post("/monitor/acciones", {"casos": [str(case)], "accion": "resume", "motivo": "Otra vez",
                                                 "fila": "1"}).get_data(as_text=True)
        assert row.startswith("<tr") and 'data-done="false"' in row and "no está en un estado" in row
        refused = gerente.post("/monitor/acciones", {"casos": [str(case)], "accion": "resume", "fila": "1"})
        assert refused.status_code == 422 and refused.get_data(as_text=True).startswith("Falta el motivo")
