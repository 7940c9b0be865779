"""The calendar editor in Chromium, on a frozen clock: a winter vacation moves a running sanción's recurso.

The case (Ley de Violencia Familiar art. 54: five días hábiles from the day after the personal
notification), worked out by hand on the calendar in force (America/Hermosillo):
- the resolution is notified on Friday 18 December 2026: Monday 21 (1), 22 (2), 23 (3), 24 (4); Friday 25
  is Christmas (LFT art. 74), 26-27 a weekend; Monday 28 December is the 5th día hábil: the recurso term
  ends on Monday 28 December 2026 at 23:59:59;
- a designer declares a vacation from 21 December 2026 to 1 January 2027 (1 January is New Year too,
  LFT art. 74; 2-3 January a weekend): Monday 4 January 2027 (1), 5 (2), 6 (3), 7 (4), Friday 8 January (5):
  the term ends on Friday 8 January 2027 at 23:59:59.
The clock stands at Saturday 19 December 2026, 09:00 (the term is open). The designer sees the case in the
impact preview with both dates, a second designer approves, the recount runs case by case, and the case
page shows the new deadline and its explanation naming the calendar change. Screenshots in test-artifacts/;
axe-core finds no serious or critical violation on the editor's pages.
"""

from __future__ import annotations

from typing import Any

from tests.procedures.conftest import example, hmo
from tests.web.conftest import open_task
from tests.web.test_browser import chromium, page_for, server, shot  # noqa: F401  (fixtures)
from tests.web.test_studio_browser import axe_serious

SOURCE = ("Acuerdo por el que se declara el periodo vacacional de invierno 2026-2027, Boletín Oficial del Gobierno "
          "del Estado de Sonora, tomo CCXVIII, número 45, sección I, de fecha 3 de diciembre de 2026 "
          "(acuerdo de prueba)")
CLERK = "operativo.autoridad-sancionadora"


def _notified_case(t: Any, clock: Any) -> int:
    """A sanción whose resolution was notified on Friday 18 December 2026 at 12:00."""
    institution = t.people.find_user(CLERK).institution
    clock.set(hmo("2026-03-11T09:00:00"))
    iid = t.start("sancion", example("sancion_inicio"), CLERK, reference="SA-CAL-001",
                  institution=institution).instance_id
    for name, form, at in (("registrar_infraccion", "sancion_registro", "2026-03-11T09:05:00"),
                           ("citar_partes", "sancion_citacion", "2026-04-01T10:00:00"),
                           ("desahogar_comparecencia", "sancion_comparecencia", "2026-04-10T10:00:00"),
                           ("dictar_resolucion", "sancion_resolucion", "2026-06-15T10:00:00"),
                           ("notificar_resolucion", "sancion_notificacion", "2026-12-18T12:00:00")):
        clock.set(hmo(at))
        t.complete(open_task(t, iid, name), example(form), CLERK)
    return iid


def test_a_vacation_moves_the_open_recurso_after_a_second_designer_approves(page_for: Any, server: dict[str, Any],
                                                                          frozen_clock: Any) -> None:
    t, url = server["tramita"], server["url"]
    iid = _notified_case(t, frozen_clock)
    frozen_clock.set(hmo("2026-12-19T09:00:00"))
    violations: dict[str, list[str]] = {}

    clerk = page_for(CLERK)
    clerk.goto(f"{url}/casos/{iid}")
    assert "lunes 28 de diciembre de 2026" in clerk.locator("#plazos").inner_text().lower()

    designer = page_for("diseno.ism")
    designer.goto(url + "/diseno")
    designer.click("text=Calendario legal: días inhábiles")
    violations["calendario"] = axe_serious(designer)
    designer.click("button:has-text('Editar el calendario: nuevo borrador')")
    designer.select_option("#kind", "vacaciones")
    designer.fill("#first", "2026-12-21")
    designer.fill("#last", "2027-01-01")
    designer.fill("#reason", "Vacaciones de invierno")
    designer.click("button:has-text('Agregar al borrador')")  # without its source: refused, nothing changes
    assert designer.locator("#source-error").inner_text().startswith("Falta la fuente: cite el acuerdo publicado")
    assert designer.locator("#reason").input_value() == "Vacaciones de invierno"
    shot(designer, "calendario-1-sin-fuente")
    violations["error"] = axe_serious(designer)
    designer.fill("#source", SOURCE)
    designer.click("button:has-text('Agregar al borrador')")
    designer.wait_for_load_state("networkidle")
    assert "Se agrega: periodo vacacional del 21/12/2026 al 01/01/2027 — Vacaciones de invierno" in \
        designer.inner_text("main")
    row = designer.locator("table.impact tr[data-case='SA-CAL-001']")
    assert row.count() == 1
    text = " ".join(row.inner_text().split())
    assert "Interponer recurso de reconsideración (Plazo del recurso vencido)" in text
    assert "lunes 28 de diciembre de 2026, 23:59:59" in text
    assert "viernes 8 de enero de 2027, 23:59:59" in text
    assert "Vacaciones de invierno, del 21/12/2026 al 01/01/2027 (Acuerdo por el que se declara" in text
    scenarios = designer.locator("#impacto").inner_text()
    assert "pasa hoy y fallaría con este borrador" in scenarios
    assert "se esperaba 2026-12-28T23:59:59-07:00, se computó 2027-01-08T23:59:59-07:00" in scenarios
    shot(designer, "calendario-2-impacto")
    violations["borrador"] = axe_serious(designer)
    designer.fill("#change_note", "Vacaciones de invierno 2026-2027 (Boletín Oficial número 45, 3 de diciembre de 2026)")
    designer.click("button:has-text('Enviar a aprobación')")
    designer.wait_for_load_state("networkidle")
    assert "En espera de aprobación" in designer.inner_text("main")

    reviewer = page_for("revision.ism")
    reviewer.goto(url + "/diseno/calendario")
    reviewer.click("text=Borradores del calendario en espera de su aprobación >> xpath=.. >> a")
    assert reviewer.locator("table.impact tr[data-case='SA-CAL-001']").count() == 1
    violations["revision"] = axe_serious(reviewer)
    shot(reviewer, "calendario-3-revision")
    reviewer.fill("#approve-comment", "Conforme con el acuerdo publicado")
    reviewer.click("button:has-text('Aprobar y desplegar el calendario')")
    reviewer.wait_for_load_state("networkidle")
    assert "la versión 2 del calendario está desplegada" in reviewer.inner_text("main")
    reviewer.wait_for_selector("text=Recómputo terminado: 1 plazo(s) movido(s)", timeout=30000)
    shot(reviewer, "calendario-4-recomputo")
    violations["recomputo"] = axe_serious(reviewer)

    clerk.goto(f"{url}/casos/{iid}")
    plazos = " ".join(clerk.locator("#plazos").inner_text().split())
    assert "viernes 8 de enero de 2027" in plazos.lower()
    assert "Plazo recomputado por el cambio de calendario (calendario versión 2: Vacaciones de invierno, del " \
           "21/12/2026 al 01/01/2027" in plazos
    history = clerk.inner_text("main")
    assert "Plazo recomputado por cambio de calendario" in history
    shot(clerk, "calendario-5-caso")
    # The timer mirror moved with it: nothing fires at the old instant.
    timers = [tm for tm in t.instance(iid).timers if tm.task_name == "plazo_recurso_vencido" and tm.status == "pending"]
    assert [tm.due_at for tm in timers] == [hmo("2027-01-08T23:59:59")]
    assert violations == {k: [] for k in violations}
