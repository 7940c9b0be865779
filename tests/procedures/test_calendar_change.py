"""A calendar change moves the running terms it reaches, case by case, each saying why; nothing else moves."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from engine.run import terms
from engine.simulate.impact import impact
from engine.time.calendar import default_calendar, with_days
from tests.procedures.conftest import example, hmo, local

# A winter vacation declared for the state's offices, 21 December 2026 to 1 January 2027.
VACATION = {date(2026, 12, 21) + timedelta(days=n): "Vacaciones de invierno (acuerdo hipotético)" for n in range(12)}


def notified(t: Any, start: Any) -> Any:
    c = start(t, "sancion", example("sancion_inicio"), "2026-03-11T09:00:00")
    c.do("registrar_infraccion", example("sancion_registro"))
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2026-04-10T10:00:00")
    c.do("dictar_resolucion", example("sancion_resolucion"), at="2026-06-15T10:00:00")
    c.do("notificar_resolucion", example("sancion_notificacion"), at="2026-12-18T12:00:00")
    return c


def test_a_vacation_moves_the_open_recurso_term(tramita_any: Any, start: Any) -> None:
    c = notified(tramita_any, start)
    # Today (art. 54): notified Friday 18 December; 21-24 (1-4), 25 Christmas, 26-27 weekend, 28 (5).
    assert local(c.timer("plazo_recurso_vencido").due_at) == "2026-12-28T23:59:59-07:00"
    c.at("2026-12-19T09:00:00")
    new = with_days(default_calendar(), VACATION)
    # With the vacation: 21 Dec - 1 Jan are inhábiles, 2-3 January a weekend; Monday 4 January 2027 is
    # the 1st día hábil, 5 (2), 6 (3), 7 (4), Friday 8 January 2027 the 5th: due 8 January at 23:59:59.
    [moved] = impact(tramita_any.db, new, VACATION, now=hmo("2026-12-19T09:00:00"), reasons=VACATION)
    assert (moved.instance_id, moved.element, moved.kind) == (c.id, "plazo_recurso_vencido", "timer")
    assert (local(moved.old_due), local(moved.new_due)) == ("2026-12-28T23:59:59-07:00", "2027-01-08T23:59:59-07:00")
    assert moved.entries[0] == (date(2026, 12, 21), "Vacaciones de invierno (acuerdo hipotético)")
    # the prescription (months, Código Civil) does not depend on the calendar: it is not listed

    terms.recalendar(tramita_any.runtime, c.id, "plazo_recurso_vencido", new, "disenadora",
                     "calendario v2: vacaciones de invierno")
    timer = c.timer("plazo_recurso_vencido")
    assert local(timer.due_at) == "2027-01-08T23:59:59-07:00"
    assert "cambio de calendario (calendario v2: vacaciones de invierno)" in timer.deadline["rule"]
    assert timer.deadline["recalendared"]["previous_due"] == "2026-12-28T23:59:59-07:00"
    assert local(c.task("interponer_recurso").due_at) == "2027-01-08T23:59:59-07:00"
    assert [e.kind for e in c.detail().events][-1] == "term_recalendared"
    # once moved, the same change finds nothing more to move
    assert impact(tramita_any.db, new, VACATION, now=hmo("2026-12-19T09:00:00")) == []


def test_a_term_that_already_ended_never_moves(tramita_sqlite: Any, start: Any) -> None:
    c = notified(tramita_sqlite, start)
    c.at("2026-12-29T09:00:00")  # the recurso term ended on the 28th (its timer not fired yet)
    new = with_days(default_calendar(), VACATION)
    assert impact(tramita_sqlite.db, new, VACATION, now=hmo("2026-12-29T09:00:00")) == []
