"""The calendar editor's service: a draft of the legal calendar with its reasons and sources, the impact
preview, four-eyes approval, and the recount case by case, each in its own audited transaction.

Dates worked out by hand (America/Hermosillo; Ley de Violencia Familiar art. 54: five días hábiles from
the day after the personal notification):
- notified Friday 18 December 2026: 21 (1), 22 (2), 23 (3), 24 (4); 25 Christmas (LFT art. 74); 26-27 a
  weekend; Monday 28 December is the 5th: due 28 December 2026 23:59:59;
- with a vacation from 21 December 2026 to 1 January 2027 (1 January is also New Year, LFT art. 74) and
  2-3 January a weekend: Monday 4 January 2027 (1), 5 (2), 6 (3), 7 (4), Friday 8 January 2027 (5): due
  8 January 2027 23:59:59.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from engine.services import SYSTEM
from tests.procedures.conftest import hmo, local
from tests.procedures.test_calendar_change import notified

SCENARIOS = Path(__file__).resolve().parents[2] / "workflows" / "scenarios"

SOURCE = "Acuerdo que declara el periodo vacacional de invierno, Boletín Oficial del Gobierno del Estado de Sonora, " \
         "tomo CCXVIII, número 45, de fecha 3 de diciembre de 2026 (acuerdo hipotético de prueba)"


def designers(t: Any) -> tuple[Any, Any, Any]:
    t.add_user("autora", "contrasena-larga-1", name="Autora", role="legal_designer", institution="ISM")
    t.add_user("revisora", "contrasena-larga-2", name="Revisora", role="legal_designer", institution="ISM")
    t.add_user("capturista", "contrasena-larga-3", name="Capturista", role="caseworker", institution="ISM",
               groups=["instituto"])
    return t.find_user("autora"), t.find_user("revisora"), t.find_user("capturista")


def vacation(t: Any, author: Any) -> int:
    draft = t.calendar.create_draft(author)
    t.calendar.add_change(author, draft.id, action="agregar", kind="vacaciones", first="2026-12-21",
                          last="2027-01-01", reason="Vacaciones de invierno", source=SOURCE)
    return draft.id


def test_a_vacation_moves_the_open_recurso_case_by_case(tramita_any: Any, start: Any) -> None:
    t = tramita_any
    author, reviewer, clerk = designers(t)
    c = notified(t, start)
    ended = notified(t, start)  # a second case, whose term will have ended: see below
    assert local(c.timer("plazo_recurso_vencido").due_at) == "2026-12-28T23:59:59-07:00"
    c.at("2026-12-19T09:00:00")

    with pytest.raises(Forbidden):
        t.calendar.create_draft(clerk)
    draft_id = vacation(t, author)
    assert t.calendar.create_draft(author).id == draft_id  # resumed, not a second draft
    view = t.calendar.draft(author, draft_id)
    assert [ch.label for ch in view.changes] == [
        "Se agrega: periodo vacacional del 21/12/2026 al 01/01/2027 — Vacaciones de invierno"]
    assert 'start = "2026-12-21"' in view.draft.content and "Jueves Santo" in view.draft.content  # comments kept

    preview = t.calendar.impact(author, draft_id, scenarios=False)
    [moved] = [m for m in preview.moved if m.instance_id == c.id]
    assert moved.step == "Interponer recurso de reconsideración (Plazo del recurso vencido)"
    assert (local(moved.old_due), local(moved.new_due)) == ("2026-12-28T23:59:59-07:00", "2027-01-08T23:59:59-07:00")
    assert moved.because[0].startswith("Vacaciones de invierno, del 21/12/2026 al 01/01/2027 (Acuerdo")
    assert moved.citation == "Ley de Prevención y Atención de la Violencia Familiar art. 54"

    with pytest.raises(InvalidInput) as empty_note:
        t.calendar.submit(author, draft_id, "  ")
    assert empty_note.value.field == "change_note"
    t.calendar.submit(author, draft_id, "Vacaciones de invierno 2026-2027 (Boletín Oficial, 3 de diciembre de 2026)")
    with pytest.raises(Forbidden):
        t.calendar.approve(author, draft_id, "yo misma")  # never the author
    with pytest.raises(Forbidden):
        t.calendar.approve(clerk, draft_id, "")
    with pytest.raises(InvalidState):
        t.calendar.add_change(author, draft_id, action="agregar", kind="dia", first="2027-02-02",
                              reason="Otro", source=SOURCE)  # in review: not editable

    version = t.calendar.approve(reviewer, draft_id, "Conforme con el acuerdo publicado")
    assert version == 2
    assert t.calendar.recount_status(reviewer, draft_id).progress.pending == 2  # both cases' recurso terms
    # The second case's term ends before its row is reached: it must not move (nothing moves once ended).
    c.at("2026-12-29T09:00:00")
    first = t.calendar.recount(reviewer, draft_id, limit=1)
    assert (first.progress.moved + first.progress.unchanged, first.progress.pending) == (1, 1)
    done = t.calendar.recount(reviewer, draft_id)
    assert done.progress.done and done.progress.moved == 0 and done.progress.unchanged == 2
    assert {r.detail for r in done.rows} == {"El plazo ya había vencido: no se mueve."}
    assert local(ended.timer("plazo_recurso_vencido").due_at) == "2026-12-28T23:59:59-07:00"


def test_approval_recounts_the_term_and_says_which_change_moved_it(tramita_any: Any, start: Any) -> None:
    t = tramita_any
    author, reviewer, _ = designers(t)
    c = notified(t, start)
    c.at("2026-12-19T09:00:00")
    draft_id = vacation(t, author)
    t.calendar.submit(author, draft_id, "Vacaciones de invierno")
    t.calendar.approve(reviewer, draft_id, "Conforme")
    done = t.calendar.recount(reviewer, draft_id)
    assert (done.progress.moved, done.progress.pending, done.progress.failed) == (1, 0, 0)
    timer = c.timer("plazo_recurso_vencido")
    assert local(timer.due_at) == "2027-01-08T23:59:59-07:00"
    assert timer.deadline["calendar_version"] == 2
    assert "cambio de calendario (calendario versión 2: Vacaciones de invierno, del 21/12/2026 al 01/01/2027" \
        in timer.deadline["rule"]
    assert local(c.task("interponer_recurso").due_at) == "2027-01-08T23:59:59-07:00"
    assert c.data()["fecha_limite_recurso"] == "2027-01-08T23:59:59-07:00"  # decides later if a filing was timely
    [event] = [e for e in c.detail().events if e.kind == "term_recalendared"]
    assert event.actor == "revisora"
    # The timer fires at the new instant, not at the old one.
    assert [f.task_name for f in c.fire("2026-12-29T00:00:01")] == []
    assert "plazo_recurso_vencido" in [f.task_name for f in c.fire("2027-01-09T00:00:00")]
    assert c.open() == ["certificar_recurso"]
    # New terms are counted on the new calendar version.
    assert t.runtime.calendar()[0] == 2


def test_reason_and_source_are_both_required_and_nothing_changes(tramita_sqlite: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    draft = t.calendar.create_draft(author)
    before = t.calendar.draft(author, draft.id).draft.content
    for fields, field in ((dict(reason="", source=SOURCE), "reason"), (dict(reason="Vacaciones", source=" "), "source"),
                          (dict(reason="Vacaciones", source="Día pendiente de confirmar"), "source")):
        with pytest.raises(InvalidInput) as refused:
            t.calendar.add_change(author, draft.id, action="agregar", kind="vacaciones", first="2026-12-21",
                                  last="2027-01-01", **fields)
        assert refused.value.field == field
    with pytest.raises(InvalidInput) as bad_range:
        t.calendar.add_change(author, draft.id, action="agregar", kind="periodo", first="2027-01-01",
                              last="2026-12-21", reason="Vacaciones", source=SOURCE)
    assert bad_range.value.field == "last"
    with pytest.raises(Forbidden):  # only the author edits her draft
        t.calendar.add_change(reviewer, draft.id, action="agregar", kind="dia", first="2027-02-02",
                              reason="Asueto", source=SOURCE)
    assert t.calendar.draft(author, draft.id).draft.content == before
    assert t.calendar.draft(author, draft.id).changes == ()
    with pytest.raises(InvalidInput):
        t.calendar.submit(author, draft.id, "Sin cambios")


def test_removing_a_day_and_undoing_a_change(tramita_sqlite: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    draft = t.calendar.create_draft(author)
    added = t.calendar.add_change(author, draft.id, action="agregar", kind="dia", first="2027-02-02",
                                  reason="Asueto estatal", source=SOURCE)
    removed = t.calendar.add_change(author, draft.id, action="quitar", kind="dia", first="2027-02-02",
                                    reason="Se revoca el asueto", source=SOURCE)
    assert "2027-02-02" not in t.calendar.draft(author, draft.id).draft.content
    with pytest.raises(InvalidInput):  # nothing declared there: Saturdays and LFT days cannot be removed
        t.calendar.add_change(author, draft.id, action="quitar", kind="dia", first="2027-02-06", reason="x",
                              source=SOURCE)
    with pytest.raises(InvalidInput):  # the removal needs the day it removes
        t.calendar.undo_change(author, draft.id, added.id)
    t.calendar.undo_change(author, draft.id, removed.id)
    view = t.calendar.draft(author, draft.id)
    assert [c.id for c in view.changes] == [added.id] and 'date = "2027-02-02"' in view.draft.content
    t.calendar.submit(author, draft.id, "Revoca asueto")
    with pytest.raises(InvalidInput):
        t.calendar.reject(reviewer, draft.id, " ")  # a rejection says why
    with pytest.raises(Forbidden):
        t.calendar.reject(author, draft.id, "Me arrepiento")  # never the author
    t.calendar.reject(reviewer, draft.id, "El acuerdo no se ha publicado")
    assert t.calendar.draft(author, draft.id).draft.status == "rejected"


def test_a_draft_on_an_old_version_cannot_be_approved(tramita_sqlite: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    first = vacation(t, author)
    t.calendar.submit(author, first, "Vacaciones")
    other = t.calendar.create_draft(reviewer)
    t.calendar.add_change(reviewer, other.id, action="agregar", kind="dia", first="2027-02-02",
                          reason="Asueto", source=SOURCE)
    t.calendar.submit(reviewer, other.id, "Asueto")
    t.calendar.approve(author, other.id, "Conforme")
    with pytest.raises(Conflict):
        t.calendar.approve(reviewer, first, "Conforme")
    assert t.calendar.recount(SYSTEM, other.id).progress.total == 0


def test_the_timer_service_finishes_a_recount_nobody_watches(tramita_sqlite: Any, start: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    c = notified(t, start)
    c.at("2026-12-19T09:00:00")
    draft_id = vacation(t, author)
    t.calendar.submit(author, draft_id, "Vacaciones de invierno")
    t.calendar.approve(reviewer, draft_id, "Conforme")
    t.timer_service().run_once()  # one pass of the timer service: fires what is due, then recounts
    status = t.calendar.recount_status(reviewer, draft_id)
    assert status.progress.done and status.progress.moved == 1
    [row] = status.rows
    assert (row.reference, row.step, row.status) == (
        t.instance(c.id).instance.reference or str(c.id),
        "Interponer recurso de reconsideración (Plazo del recurso vencido)", "movido")
    rule = c.timer("plazo_recurso_vencido").deadline["rule"]
    assert "vencía el lunes 28 de diciembre de 2026 a las 23:59:59." in rule
    [event] = [e for e in c.detail().events if e.kind == "term_recalendared"]
    assert event.actor == "revisora"  # the approval moved it, whoever ran the batch


def test_the_preview_names_the_scenarios_that_would_now_fail(tramita_sqlite: Any) -> None:
    t = tramita_sqlite
    author, _, _ = designers(t)
    draft_id = vacation(t, author)
    preview = t.calendar.impact(author, draft_id)
    [check] = [s for s in preview.scenarios if s.path == "scenarios/sancion/sin_recurso_cobro.toml"]
    assert (check.passes_now, check.passes_with_draft) == (True, False)
    # Only the scenarios whose days reach the vacation (21 December 2026 - 1 January 2027) run; the
    # 2027 ones (orden de protección, agravio...) are counted, not run.
    assert preview.untouched > 0
    assert all(s.procedure in ("sancion", "agravio", "orden_proteccion", "auxilio_policial") for s in preview.scenarios)
    ran = {s.path for s in preview.scenarios}
    assert len(ran) + preview.untouched == len(list(SCENARIOS.glob("*/*.toml")))
    assert "plazo «interponer_recurso»: se esperaba 2026-12-28T23:59:59-07:00, se computó " \
           "2027-01-08T23:59:59-07:00" in check.failures


def test_an_open_task_dated_by_its_own_due_date_is_recounted_in_its_own_transition(tramita_sqlite: Any,
                                                                                   start: Any) -> None:
    from datetime import date

    from engine.run import recalendar
    from engine.time.calendar import default_calendar, with_days
    from tests.procedures.test_agravio import admitida

    c = admitida(tramita_sqlite, start)
    # Reglamento art. 36: 45 días hábiles from the radicación of Monday 9 March 2026 end on Wednesday 13 May 2026.
    assert local(c.task("planear_investigacion").due_at) == "2026-05-13T23:59:59-07:00"
    c.at("2026-03-20T09:00:00")
    # One more día inhábil inside the term (Wednesday 15 April): the 45th día hábil is Thursday 14 May.
    new = with_days(default_calendar(), {date(2026, 4, 15): "Suspensión de labores"})
    recalendar.recalendar_task(tramita_sqlite.runtime, c.id, "planear_investigacion", new, "revisora",
                               "calendario versión 2: Suspensión de labores, 15/04/2026", 2)
    task = c.task("planear_investigacion")
    assert local(task.due_at) == "2026-05-14T23:59:59-07:00"
    assert task.deadline["calendar_version"] == 2
    assert "vencía el miércoles 13 de mayo de 2026 a las 23:59:59" in task.deadline["rule"]
    assert [e.kind for e in c.detail().events][-1] == "term_recalendared"
    with pytest.raises(InvalidState):  # counted again on the same calendar, it no longer moves
        recalendar.recalendar_task(tramita_sqlite.runtime, c.id, "planear_investigacion", new, "revisora", "otra vez")


def test_a_resumed_draft_moves_onto_the_version_in_force(tramita_sqlite: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    mine = vacation(t, author)
    other = t.calendar.create_draft(reviewer)
    t.calendar.add_change(reviewer, other.id, action="agregar", kind="dia", first="2027-02-02", reason="Asueto",
                          source=SOURCE)
    t.calendar.submit(reviewer, other.id, "Asueto")
    assert t.calendar.approve(author, other.id, "Conforme") == 2
    resumed = t.calendar.create_draft(author)
    assert (resumed.id, resumed.base_version) == (mine, 2)
    assert 'date = "2027-02-02"' in resumed.content and 'start = "2026-12-21"' in resumed.content


def test_a_suspended_case_is_not_moved_and_the_page_says_why(tramita_sqlite: Any, start: Any) -> None:
    t = tramita_sqlite
    author, reviewer, _ = designers(t)
    c = notified(t, start)
    c.at("2026-12-19T09:00:00")
    t.suspend(c.id, "pruebas", "Amparo en trámite")
    draft_id = vacation(t, author)
    t.calendar.submit(author, draft_id, "Vacaciones de invierno")
    t.calendar.approve(reviewer, draft_id, "Conforme")
    [row] = t.calendar.recount(reviewer, draft_id).rows
    assert row.status == "error" and row.detail.startswith("El caso no está en trámite")
    assert local(c.timer("plazo_recurso_vencido").due_at) == "2026-12-28T23:59:59-07:00"
    with pytest.raises(NotFound):  # the studio's procedure drafts do not open a calendar draft
        t.drafts.draft(author, draft_id)
