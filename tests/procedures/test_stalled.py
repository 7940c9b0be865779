"""Stalled cases (manager console): each reason, with the dates worked out by hand from the law.

Calendar facts (America/Hermosillo, UTC−7; see test_sancion.py and test_orden_proteccion.py):
* Recurso de reconsideración filed Tuesday 2026-12-22; resolved within 10 días hábiles (Ley de
  Violencia Familiar art. 57): 23, 24, [25 Navidad, 26–27], 28, 29, 30, 31, [1 Año Nuevo, 2–3], 4, 5, 6,
  Thursday 7 January 2027 -> due 2027-01-07T23:59:59-07:00.
* A sanction case registered on Wednesday 2026-03-11 at 09:00 waits at «Citar a las partes»; with a
  threshold of 3 días hábiles without activity: Thu 12 (1), Fri 13 (2), [14–15 weekend, Mon 16 is the
  third Monday of March, LFT art. 74], Tue 17 (3) -> stalled from 2026-03-17T23:59:59-07:00.
* A protection order issued on Monday 2026-03-02 waits for the report of a violation (a message); with
  a limit of 2 natural days: Wednesday 2026-03-04 is a business day, so it is not moved -> stalled from
  2026-03-04T23:59:59-07:00.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from engine.deploy.versions import BundleFile
from engine.errors import ExecutionFailed, InvalidInput
from engine.oversight import supervision
from engine.services import SYSTEM
from tests.diagrams import FAILING_SCRIPT, bundle
from tests.procedures.conftest import ROOT, example, hmo, local
from tests.procedures.test_orden_proteccion import emitida
from tests.procedures.test_sancion import SIN_SUSPENSION, en_recurso, registrada


def stalled(t: Any, **kw: Any) -> list[Any]:
    return t.oversight.stalled(SYSTEM, **kw)


def reasons(t: Any, instance_id: int) -> list[tuple[str, str | None, str]]:
    return sorted((r.reason, r.step, local(r.since)) for r in stalled(t) if r.instance_id == instance_id)


def use_supervision(t: Any, text: str) -> None:
    """Deploy ``supervision.toml`` alone, as a legal designer would: a new version of each procedure it
    changes, whose thresholds the console reads from then on."""
    t.deploy([BundleFile("supervision.toml", text.encode())], "disenadora")


def test_task_past_its_legal_due_date_then_the_unfired_timer(tramita_any: Any, start: Any) -> None:
    c = en_recurso(tramita_any, start, SIN_SUSPENSION)
    c.at("2027-01-07T23:59:58")
    assert reasons(tramita_any, c.id) == []
    c.at("2027-01-08T00:00:00")  # one second past the tenth día hábil
    [row] = stalled(tramita_any)
    assert (row.reason, row.step, local(row.since), row.late_seconds) == (
        "overdue", "resolver_recurso", "2027-01-07T23:59:59-07:00", 1)
    assert row.citation.endswith("art. 57") and row.holder == "grupo:autoridad_sancionadora"
    # Ten minutes later its boundary timer still has not fired (the timer service is down): grace is 5 min.
    c.at("2027-01-08T00:10:00")
    assert reasons(tramita_any, c.id) == [("overdue", "resolver_recurso", "2027-01-07T23:59:59-07:00"),
                                          ("timer", "plazo_resolver_recurso", "2027-01-07T23:59:59-07:00")]
    [timer] = stalled(tramita_any, reason="timer")
    assert timer.step_title == "Plazo de diez días hábiles vencido"  # named as the diagram names it
    # Once fired, only the overdue task remains.
    c.fire("2027-01-08T00:10:00")
    assert [r.reason for r in stalled(tramita_any) if r.instance_id == c.id] == ["overdue"]
    overview = tramita_any.oversight.overview(SYSTEM)
    assert (overview.overdue_tasks, overview.stalled_cases) == (1, 1)
    assert [(b.step, b.count) for b in overview.overdue_by_step] == [("resolver_recurso", 1)]


def test_no_activity_for_n_business_days_at_a_step(tramita_sqlite: Any, start: Any) -> None:
    use_supervision(tramita_sqlite, '[sancion.sin_actividad.citar_partes]\nvalue = 3\n'
                                              'citation = "Prueba: tres días hábiles"\n')
    c = registrada(tramita_sqlite, start)
    c.at("2026-03-17T23:59:58")
    assert reasons(tramita_sqlite, c.id) == []
    c.at("2026-03-18T00:00:00")
    assert reasons(tramita_sqlite, c.id) == [("idle", "citar_partes", "2026-03-17T23:59:59-07:00")]
    [row] = stalled(tramita_sqlite, reason="idle")
    assert row.citation == "Prueba: tres días hábiles"
    # Activity at the step (the citation done) ends it.
    c.do("citar_partes", example("sancion_citacion", fecha_citacion="2026-03-18"))  # cited that day
    assert reasons(tramita_sqlite, c.id) == []


def test_a_suspended_case_is_not_stalled(tramita_sqlite: Any, start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, SIN_SUSPENSION)
    tramita_sqlite.oversight.act(SYSTEM, "suspend", c.id, "Suspensión decretada por la autoridad")
    c.at("2027-01-20T10:00:00")
    assert reasons(tramita_sqlite, c.id) == []


def test_waiting_for_a_message_past_its_limit(tramita_sqlite: Any, start: Any) -> None:
    use_supervision(tramita_sqlite, '[orden_proteccion.espera_mensaje.recibir_reporte_violacion]\n'
                                              'value = 2\nunit = "natural"\ncitation = "Prueba: dos días"\n')
    c = emitida(tramita_sqlite, start)
    c.at("2026-03-04T23:59:58")
    assert [r for r in stalled(tramita_sqlite) if r.reason == "message"] == []
    c.at("2026-03-05T00:00:00")
    [row] = [r for r in stalled(tramita_sqlite) if r.reason == "message"]
    assert (row.step, local(row.since)) == ("recibir_reporte_violacion", "2026-03-04T23:59:59-07:00")
    # The message arrives: the wait is over.
    c.send("violacion_orden", {"descripcion": "Se presentó en el domicilio."})
    assert [r for r in stalled(tramita_sqlite) if r.reason == "message" and r.step == "recibir_reporte_violacion"] == []


def test_in_error_since_its_incident_and_retried(tramita_sqlite: Any, frozen_clock: Any) -> None:
    t = tramita_sqlite
    t.deploy([bundle("f.bpmn", FAILING_SCRIPT)], "d")
    frozen_clock.set(hmo("2026-06-01T09:00:00"))
    r = t.start("failing", {}, "u")
    frozen_clock.set(hmo("2026-06-01T09:30:00"))
    with pytest.raises(ExecutionFailed):
        t.complete(r.open_tasks[0], {"boom": True}, "ana")
    frozen_clock.set(hmo("2026-06-02T08:00:00"))
    assert reasons(t, r.instance_id) == [("error", "calc", "2026-06-01T09:30:00-07:00")]
    assert t.oversight.overview(SYSTEM).error_cases == 1
    results = t.oversight.bulk(SYSTEM, "retry", [r.instance_id], "Se corrigió el dato")
    assert [(x.done, x.message) for x in results] == [(False, "Falló de nuevo: el caso sigue con incidente "
                                                               "(revise su causa).")]
    # The failed retry resolved the first incident and opened another: in error since the retry.
    assert reasons(t, r.instance_id) == [("error", "calc", "2026-06-02T08:00:00-07:00")]


def test_filters_sorting_and_bad_input(tramita_sqlite: Any, start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, SIN_SUSPENSION)
    c.at("2027-01-08T00:10:00")
    assert [r.reason for r in stalled(tramita_sqlite, sort="motivo")] == ["overdue", "timer"]
    assert [r.reason for r in stalled(tramita_sqlite, sort="motivo", descending=True)] == ["timer", "overdue"]
    assert [r.reason for r in stalled(tramita_sqlite, reason="timer")] == ["timer"]
    assert stalled(tramita_sqlite, holder="nadie") == []
    with pytest.raises(InvalidInput) as exc:
        stalled(tramita_sqlite, reason="aburrido")
    assert exc.value.field == "motivo"
    with pytest.raises(InvalidInput) as exc:
        stalled(tramita_sqlite, sort="color")
    assert exc.value.field == "orden"


def test_the_shipped_thresholds_cite_their_articles(tramita_sqlite: Any) -> None:
    """Read from the deployed ``supervision`` part, each procedure's from its own section."""
    s = tramita_sqlite.oversight.supervision
    recurso = s.idle[("sancion", "resolver_recurso")]
    assert (recurso.value, recurso.unit, recurso.citation) == (10, "business", "Ley de Violencia Familiar art. 57")
    assert s.message_waits[("agravio", "esperar_reforma")].unit == "natural"
    on_disk = supervision.parse(tomllib.loads((ROOT / "workflows" / "supervision.toml").read_text(encoding="utf-8")))
    assert on_disk == s


def test_a_threshold_without_its_article_is_refused() -> None:
    with pytest.raises(InvalidInput, match="citation"):
        supervision.parse(tomllib.loads("[sancion.sin_actividad.citar_partes]\nvalue = 3\n"))


def test_a_procedure_sets_only_its_own_thresholds() -> None:
    """Another procedure's section in a version's part is ignored: each procedure answers for its own."""
    raw = tomllib.loads('[sancion.sin_actividad.citar_partes]\nvalue = 3\ncitation = "art. 1"\n')
    assert supervision.of_procedures({"agravio": raw}).idle == {}
    assert list(supervision.of_procedures({"sancion": raw}).idle) == [("sancion", "citar_partes")]


def test_heatmap_reads_the_durations_each_completion_records(tramita_any: Any, start: Any) -> None:
    """Assessed 30 min after the request (bucket 0.25–0.5 h), within its 4 hours; issued 30 min later."""
    c = emitida(tramita_any, start)  # 10:00 request, 10:30 assessed, 11:00 issued, 12:00 notified
    heat = {e.element: e for e in tramita_any.oversight.heatmap(SYSTEM, "orden_proteccion").elements}
    risk = heat["valorar_riesgo"]
    assert (risk.completed, risk.open_tasks, risk.within_term) == (1, 0, 1.0)
    # One sample in the bucket (0.25 h, 0.5 h]: interpolated at its 50th and 90th percent.
    assert (risk.median_hours, risk.p90_hours) == (0.38, 0.47)  # 0.375 and 0.475 (0.47499… in binary)
    assert heat["notificar_orden"].completed == 1 and heat["valorar_riesgo"].title == "Valorar el riesgo"
    assert c.status == "running"
    charts = tramita_any.oversight.charts(SYSTEM)
    [risk_hours] = [x for x in charts["hours"]["series"] if x["element"] == "valorar_riesgo"]
    assert risk_hours["term"] == 4 and charts["hours"]["labels"][1] == "≤ 30 min" and risk_hours["counts"][1] == 1
    [risk_term] = [x for x in charts["terms"] if x["step"] == "valorar_riesgo"]
    assert (risk_term["title"], risk_term["completed"], risk_term["share"]) == ("Valorar el riesgo", 1, 1.0)
