"""The studio's dry runs and parameters editor in Chromium.

1. A designer runs the sanción scenario (notified Friday 18 December 2026): the recurso (Ley de
   Violencia Familiar art. 54, 5 días hábiles from the next day) counts Mon 21, Tue 22, Wed 23, Thu 24,
   skips Fri 25 (Navidad, LFT art. 74) and the weekend 26-27, and ends Monday 28 December 2026 at
   23:59:59 in Hermosillo. She sees it in the timeline with its explanation, and the path taken and the
   deadline on the diagram; in a draft she declares 23 December non-working, and the scenario fails.
2. A designer changes vigencia_max_dias from 60 to 90 in a draft (a wrong value and an empty citation
   are refused next to their fields), a second designer approves, and the emission form of a new
   case then says 1 to 90 days, refuses 91 and accepts 90.
axe-core: no serious or critical violation on the new pages. Screenshots in test-artifacts/.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import REAL_REQUEST, REAL_RISK, open_task
from tests.web.test_browser import chromium, page_for, server, shot, submit  # noqa: F401  (fixtures)
from tests.web.test_studio_browser import axe_serious, ready

PATH = "orden_proteccion.vigencia_max_dias"
FIELD = PATH.replace(".", "\\.")


def test_designer_runs_the_sancion_scenario_and_sees_timeline_and_path(page_for: Any, server: dict[str, Any]) -> None:
    page = page_for("diseno.ism")
    page.goto(server["url"] + "/diseno/procesos/sancion")
    page.click("a:has-text('Escenarios')")
    assert axe_serious(page) == []
    page.click("a:has-text('sin_recurso_cobro.toml')")
    with page.expect_navigation():
        page.click("button:has-text('Ejecutar')")
    ready(page, "1")
    timeline = page.locator("#timeline").inner_text()
    assert "El escenario se cumple" in page.inner_text("main")
    assert "vence el lunes 28 de diciembre de 2026 a las 23:59:59" in timeline  # «Interponer recurso» opens with its deadline
    item = page.locator("#timeline li", has_text="lunes 28 de diciembre de 2026 a las 23:59:59").first
    item.locator("summary").click()
    explained = item.inner_text()
    assert "Navidad" in explained and "art. 54" in explained and "5 días hábiles" in explained, explained
    assert page.locator("#diagram-sim .djs-element.sim-done").count() >= 8
    assert page.locator("#diagram-sim .djs-connection.sim-flow").count() >= 6
    overlay = page.locator("#diagram-sim .sim-plazo", has_text="vence 2026-12-28 23:59")
    assert overlay.count() >= 1 and overlay.first.is_visible()
    shot(page, "scenario-1-timeline-and-path")
    assert axe_serious(page) == []

    # Edit the text badly: the error names the act and its line, in Spanish, next to the editor.
    text = page.locator("#scenario").input_value()
    page.fill("#scenario", text.replace('en = "2026-04-01T10:00:00"', 'en = "el 1 de abril"'))
    with page.expect_navigation():
        page.click("button:has-text('Ejecutar')")
    error = page.locator("#scenario-error").inner_text()
    assert "acto 2" in error and "línea" in error and "no es una fecha y hora" in error, error
    shot(page, "scenario-2-error")
    assert axe_serious(page) == []

    # In a draft: declare Wednesday 23 December non-working, save and run again. The recurso then
    # counts Mon 21, Tue 22, Thu 24, Mon 28, Tue 29: it ends Tuesday 29 December at 23:59:59 and the
    # scenario (which expects Monday 28) fails, naming expected and computed.
    page.goto(server["url"] + "/diseno/procesos/sancion")
    page.click("button:has-text('Editar: borrador desde la versión')")
    ready(page)
    page.click("a:has-text('Escenarios del borrador')")
    page.click("a:has-text('sin_recurso_cobro.toml')")
    page.fill("#scenario", text + '\n[calendario]\ninhabiles = [{ fecha = "2026-12-23", motivo = "Acuerdo de prueba", '
                                  'fuente = "Boletín Oficial de prueba" }]\n')
    with page.expect_navigation():
        page.click("button:has-text('Guardar en el borrador y ejecutar')")
    ready(page, "1")
    failed = page.locator(".sim-fail").inner_text()
    assert "se esperaba 2026-12-28T23:59:59-07:00, se computó 2026-12-29T23:59:59-07:00" in failed, failed
    assert "Escenario guardado en el borrador" in page.inner_text("body")
    shot(page, "scenario-3-draft-fails")
    page.reload()
    assert "Acuerdo de prueba" in page.locator("#scenario").input_value()  # kept with the draft


def test_vigencia_max_dias_changed_in_a_draft_sets_the_form_limit(page_for: Any, server: dict[str, Any]) -> None:
    t, url = server["tramita"], server["url"]
    page = page_for("diseno.ism")
    page.goto(url + "/diseno/procesos/orden_proteccion")
    page.click("button:has-text('Editar: borrador desde la versión')")
    ready(page)
    page.click("a:has-text('Parámetros legales')")
    assert page.locator(f"#{FIELD}\\.value").input_value() == "60"
    page.fill(f"#{FIELD}\\.value", "cuarenta y cinco")
    page.fill(f"#{FIELD}\\.citation", "")
    page.click("button:has-text('Guardar en el borrador')")
    assert page.locator(f"#{FIELD}\\.value-error").inner_text() == \
        "El valor de «vigencia_max_dias» debe ser un número entero."
    assert "Escriba el fundamento" in page.locator(f"#{FIELD}\\.citation-error").inner_text()
    shot(page, "parameters-1-errors")
    assert axe_serious(page) == []
    page.fill(f"#{FIELD}\\.value", "90")
    page.fill(f"#{FIELD}\\.citation", "LGAMVLV art. 28 (reforma de prueba)")
    page.click("button:has-text('Guardar en el borrador')")
    assert "60 → 90" in page.inner_text("main")
    shot(page, "parameters-2-saved")
    page.click("a:has-text('Borrador')")
    ready(page)
    page.fill("#change_note", "Vigencia máxima de las órdenes: 90 días (reforma de prueba)")
    with page.expect_navigation():
        page.click("#submit-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "En espera de aprobación" in page.inner_text("main")

    reviewer = page_for("revision.ism")
    reviewer.goto(url + "/diseno")
    reviewer.click("text=Borradores en espera de su aprobación >> xpath=.. >> a")
    ready(reviewer, "2")
    assert f"Parámetro «{PATH}»: 60 → 90" in reviewer.inner_text("main")
    shot(reviewer, "parameters-3-review")
    reviewer.click("button:has-text('Aprobar y desplegar')")
    reviewer.wait_for_load_state("networkidle")
    assert "la versión 2 de orden_proteccion está desplegada" in reviewer.inner_text("main")

    # A new case runs on version 2: its emission form takes the new limit, on the page and on the server.
    iid = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-45",
                  institution="FGJE").instance_id
    t.complete(open_task(t, iid, "valorar_riesgo"), REAL_RISK, "operativo.fgje")
    mp = page_for("operativo.fgje")
    mp.goto(f"{url}/tareas/{open_task(t, iid, 'emitir_orden')}")
    assert mp.locator("#f-vigencia_dias").get_attribute("max") == "90"
    mp.check("input[name=decision_emision][value=otorgar]")
    mp.check("input[name=tipo_orden][value=emergencia]")
    mp.fill("#f-vigencia_dias", "91")
    mp.fill("#f-fundamentacion", "Reglamento arts. 42 y 43; LGAMVLV art. 28.")
    mp.fill("#f-medidas", "Prohibición de acercarse al domicilio de la víctima")
    mp.fill("#f-lugar_emision", "Hermosillo, Sonora")
    mp.fill("#f-autoridad_emisora", "Agente del Ministerio Público especializado")
    mp.fill("#f-persona_agresora", "Pedro Ramírez Soto")
    submit(mp)
    assert mp.locator("#f-vigencia_dias-error").inner_text() == \
        "La vigencia debe ser de 1 a 90 días naturales (LGAMVLV art. 28)."
    shot(mp, "parameters-4-form-refuses-46")
    mp.fill("#f-vigencia_dias", "90")
    submit(mp)
    assert mp.locator("#f-vigencia_dias-error").count() == 0
    assert t.instance(iid).data["vigencia_dias"] == 90
    shot(mp, "parameters-5-form-accepts-45")
