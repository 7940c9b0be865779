"""Folios and the register of protection orders (Reglamento arts. 23 III–IV, 28, 43), and its annual evaluation.

Dates as in test_orden_proteccion.py (Hermosillo time): the authority learns the facts on Monday
2 March 2026 at 10:00 and issues at 11:00; 60 natural days of vigencia end on Friday 1 May 23:59:59.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine.casework import register
from engine.errors import Forbidden, InvalidInput
from engine.services import SYSTEM, UserView
from engine.store.models import Event
from tests.procedures.conftest import USER, Case, example
from tests.procedures.test_orden_proteccion import T0, TERCERO, VICTIMA, emitida

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "workflows" / "registro.schema.json").read_text())
COORDINACION = UserView(id=90, username="coordinacion", name="Coordinación", role="manager", institution="FGJE",
                        groups=())
MP = UserView(id=91, username="mp", name="MP", role="caseworker", institution="FGJE",
              groups=("autoridad_emisora_orden",))
DIF = UserView(id=92, username="dif", name="DIF", role="caseworker", institution="DIF", groups=("dif",))
DISENO = UserView(id=93, username="diseno", name="Diseño", role="legal_designer", institution="FGJE", groups=())


def _hasta_emitir(t: Any, start: Any) -> Case:
    c = start(t, "orden_proteccion", VICTIMA, T0)
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T10:30:00")
    assert c.open() == ["emitir_orden"]
    return c


def test_dos_ordenes_emitidas_en_el_mismo_instante_tienen_folios_distintos(tramita_any: Any, start: Any) -> None:
    uno, dos = _hasta_emitir(tramita_any, start), _hasta_emitir(tramita_any, start)
    uno.at("2026-03-02T11:00:00")  # the same frozen instant for both threads
    tasks = [uno.task("emitir_orden").id, dos.task("emitir_orden").id]
    barrier, errors = threading.Barrier(2), []

    def issue(task_id: str) -> None:
        try:
            barrier.wait()
            tramita_any.complete(task_id, example("orden_proteccion_emision", 0), USER)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(t,)) for t in tasks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    folios = sorted(c.value("generar_documento_orden", "folio_orden") for c in (uno, dos))
    assert folios == ["OP-FGJE-2026-000001", "OP-FGJE-2026-000002"]
    assert sorted(e.folio for e in register.entries(tramita_any.db, kind="orden")) == folios


def test_el_folio_es_por_institucion_y_anio(tramita_sqlite: Any, start: Any) -> None:
    a = _hasta_emitir(tramita_sqlite, start)
    a.do("emitir_orden", example("orden_proteccion_emision", 0, institucion_emisora="PJES"), at="2026-03-02T11:00:00")
    b = _hasta_emitir(tramita_sqlite, start)
    b.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-03-02T11:00:00")
    assert a.value("generar_documento_orden", "folio_orden") == "OP-PJES-2026-000001"
    assert b.value("generar_documento_orden", "folio_orden") == "OP-FGJE-2026-000001"
    # The year is the year of issue in Hermosillo: 31 December 2026 at 22:00 is already 2027 in UTC.
    c = start(tramita_sqlite, "orden_proteccion", dict(VICTIMA, fecha_hora_conocimiento="2026-12-31T21:00:00-07:00"),
              "2026-12-31T21:00:00")
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-12-31T21:30:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-12-31T22:00:00")
    assert c.value("generar_documento_orden", "folio_orden") == "OP-FGJE-2026-000002"


def _tres_casos(t: Any, start: Any) -> tuple[Case, Case, Case]:
    """A: issued 2 March, a violation on 5 March (police, sanction requested), extended on 28 April.
    B: denied on 2 March. C: a third party's request, never ratified, lifted on 5 March."""
    a = emitida(t, start)
    a.send("violacion_orden", {"descripcion": "Llamadas amenazantes.", "fecha_hechos": "2026-03-05T21:30:00-07:00"},
           at="2026-03-05T22:00:00")
    a.do("intervenir_policia", example("orden_proteccion_intervencion_policial"), at="2026-03-05T22:15:00")
    a.do("informar_violacion", example("orden_proteccion_informe_violacion"), at="2026-03-06T09:00:00")
    a.do("valorar_inicio_sancion", example("orden_proteccion_valoracion_sancion", 0), at="2026-03-06T10:00:00")
    b = _hasta_emitir(t, start)
    b.do("emitir_orden", example("orden_proteccion_emision", 1), at="2026-03-02T11:00:00")
    c = emitida(t, start, TERCERO)
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-04"}, at="2026-03-04T09:00:00")
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 1, fecha_ratificacion="2026-03-05"),
         at="2026-03-05T10:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0), at="2026-03-05T12:00:00")
    # A's follow-up contacts do not matter here; its reassessment opens on 27 April and extends it.
    a.fire("2026-04-27T00:00:00")
    a.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-04-28T10:00:00")
    return a, b, c


def test_registro_exportado_valida_contra_su_esquema_y_se_audita(tramita_sqlite: Any, start: Any) -> None:
    a, b, c = _tres_casos(tramita_sqlite, start)
    svc = tramita_sqlite.register
    out = svc.export(MP, "json")
    doc = json.loads(out.content)
    Draft202012Validator(SCHEMA, format_checker=FormatChecker()).validate(doc)
    por_folio = {o["folio"]: o for o in doc["ordenes"]}
    # Folios in the order issued: A 000001, B (denied) 000002, C 000003.
    assert {f: o["estado"] for f, o in por_folio.items()} == {
        "OP-FGJE-2026-000001": "prorrogada", "OP-FGJE-2026-000002": "negada", "OP-FGJE-2026-000003": "levantada"}
    orden_a = por_folio["OP-FGJE-2026-000001"]
    assert orden_a["vigente_hasta"] == "2026-05-31T23:59:59-07:00" and orden_a["persona_sujeta"] == "Pedro Ramírez"
    [violacion] = orden_a["violaciones"]
    assert violacion["fecha_hechos"] == "2026-03-05T21:30:00-07:00" and violacion["estado"] == "violacion"
    assert violacion["intervencion_policial"]["violencia_cesada"] is True
    [iniciado] = [e for e in a.detail().events if e.kind == "case_started"]
    assert violacion["caso_sancion"] == iniciado.detail["instance"]
    assert "María López" not in out.content.decode()  # never the protected person
    rows = list(csv.DictReader(io.StringIO(svc.export(COORDINACION, "csv").content.decode("utf-8-sig"))))
    assert [r["folio"] for r in rows] == sorted(por_folio) and rows[0]["violaciones"] == "1"
    viol = list(csv.DictReader(io.StringIO(svc.export(MP, "csv", content="violaciones").content.decode("utf-8-sig"))))
    assert [v["clave"] for v in viol] == ["OP-FGJE-2026-000001-V1"]
    assert len(svc.orders(MP, year=2026, status="levantada")) == 1
    with tramita_sqlite.db.read() as s:
        kinds = [e.kind for e in s.query(Event).filter(Event.kind.like("register_%")).order_by(Event.id)]
        actors = {e.actor for e in s.query(Event).filter(Event.kind.like("register_%"))}
    assert kinds == ["register_exported"] * 3 + ["register_read"] and actors == {"mp", "coordinacion"}
    # Only the roles and groups of [policies.registro] (workflows/lanes.toml); a refusal writes nothing.
    for user in (DIF, DISENO):
        with pytest.raises(Forbidden, match="Reglamento art. 28"):
            svc.orders(user)
    with pytest.raises(InvalidInput) as err:
        svc.export(MP, "xml")
    assert err.value.field == "formato"
    with pytest.raises(InvalidInput) as err:
        svc.orders(MP, year="dos mil")
    assert err.value.field == "anio"


def test_evaluacion_anual_cuenta_los_casos_sin_datos_identificativos(tramita_sqlite: Any, start: Any) -> None:
    a, b, c = _tres_casos(tramita_sqlite, start)
    figures = tramita_sqlite.register.evaluation(COORDINACION, 2026)
    assert figures == {
        "anio": 2026, "fundamento": "Reglamento art. 23, fracciones III y IV",
        "procedimientos_administrativos": 1,  # the sanction case A's violation started
        "sanciones": 0,  # none resolved yet
        "ordenes_emitidas": 2, "ordenes_negadas": 1, "ordenes_prorrogadas": 1, "ordenes_levantadas": 1,
        "ordenes_sin_efectos": 0, "ordenes_vencidas": 0, "ordenes_vigentes": 1,
        "violaciones": 1, "reportes_orden_no_vigente": 0, "intervenciones_policiales": 1,
        "procedimientos_sancionadores_solicitados": 1, "ordenes_incumplidas": 1,
        "efectividad": 0.5,  # of the 2 issued orders, C had no violation
    }
    assert tramita_sqlite.register.evaluation(COORDINACION, 2025)["ordenes_emitidas"] == 0
    # After 31 May 23:59:59 (A's extended end), A shows as vencida.
    a.at("2026-06-01T00:00:00")
    assert tramita_sqlite.register.evaluation(SYSTEM, 2026)["ordenes_vencidas"] == 1
    text = tramita_sqlite.register.evaluation_export(COORDINACION, 2026, "csv").content.decode("utf-8-sig")
    assert "María" not in text and "Pedro" not in text and "efectividad,0.5" in text
