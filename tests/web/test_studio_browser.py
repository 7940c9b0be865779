"""The studio in Chromium: a designer takes orden_proteccion from version 1 to version 2.

She changes the ratification deadline in the Plazo group, deletes a legal basis and sees the finding
on the element, restores it, writes the change note and submits; a second designer approves; the
diff page shows the change in words and on the diagram; a case started before stays on version 1.
axe-core finds no serious or critical violation on the studio pages. Screenshots in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import REAL_REQUEST
from tests.web.test_design import TEN_DAY_SCENARIOS
from tests.web.test_browser import ROOT, chromium, page_for, server, shot  # noqa: F401  (fixtures)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BUILD = ROOT / "web" / "static" / "build" / "studio.js"
if not BUILD.exists():
    pytest.skip("the studio is not built: run `make install` (npm run build)", allow_module_level=True)


def axe_serious(page: Any) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluate, not a script tag: the CSP refuses inline scripts
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".filter(v => ['serious', 'critical'].includes(v.impact))"
                           ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))")
    return list(result)


def ready(page: Any, value: str | None = None) -> None:
    """Wait for the studio's script to finish importing the diagram(s); name the script error if it failed."""
    try:
        page.wait_for_function("(v) => v ? document.body.dataset.studioReady === v : !!document.body.dataset.studioReady",
                               arg=value, timeout=30000)
    except Exception:
        shot(page, "studio-not-ready")
        raise AssertionError(f"studio not ready at {page.url}; script errors: {page.js_errors}; "
                             f"page: {page.inner_text('main')[:300]}") from None


def wait_checked(page: Any) -> None:
    page.evaluate("() => window.__studio.saving")
    page.wait_for_function("() => window.__studio && !window.__studio.dirty", timeout=15000)
    page.evaluate("() => window.__studio.saving")


def open_group(page: Any, group: str) -> None:
    header = page.locator(f"[data-group-id='group-{group}'] .bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def select_element(page: Any, element_id: str) -> None:
    page.evaluate("(id) => { const m = window.__studio.modeler; const e = m.get('elementRegistry').get(id);"
                  " m.get('selection').select(e); m.get('canvas').scrollToElement(e); }", element_id)


def test_designer_takes_orden_proteccion_to_version_two(page_for: Any, server: dict[str, Any]) -> None:
    t = server["tramita"]
    old_case = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-V1").instance_id
    violations: dict[str, list[str]] = {}

    page = page_for("diseno.ism")
    page.goto(server["url"] + "/diseno")
    violations["inicio"] = axe_serious(page)
    page.click("text=Ciclo de vida de la orden de protección")
    violations["versiones"] = axe_serious(page)
    page.click("button:has-text('Editar: borrador desde la versión 1')")
    ready(page)
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    shot(page, "studio-1-editor")
    titles = page.eval_on_selector_all(".djs-palette .entry", "es => es.map(e => e.getAttribute('aria-label') || e.title)")
    assert "Crear tarea" in " ".join(titles), titles  # the palette speaks Spanish

    # The reform: ratification within 10 días naturales (was the parameter's 5).
    select_element(page, "plazo_ratificacion_vencido")
    open_group(page, "tramita-plazo")
    field = page.locator("#bio-properties-panel-plazo_ratificacion_vencido-plazo-cantidad")
    assert field.input_value() == "parametros.orden_proteccion.ratificacion_dias_naturales"
    field.fill("10")
    page.wait_for_timeout(1200)
    wait_checked(page)
    timer = page.evaluate("() => window.__studio.modeler.get('elementRegistry').get('plazo_ratificacion_vencido')"
                          ".businessObject.eventDefinitions[0].timeDate.body")
    assert timer == 'plazo_natural(fecha_cese_riesgo, 10, "Reglamento art. 41, primer párrafo")'
    shot(page, "studio-2-plazo")

    # Delete the legal basis of «Generar el documento de la orden»: the finding appears on the element.
    select_element(page, "generar_documento_orden")
    open_group(page, "tramita-fundamento")
    page.locator("[data-group-id='group-tramita-fundamento'] .bio-properties-panel-list-item").first.hover()
    page.locator("[data-group-id='group-tramita-fundamento'] .bio-properties-panel-remove-entry").first.click()
    page.wait_for_timeout(1000)
    wait_checked(page)
    page.wait_for_selector("[data-element-id='generar_documento_orden'].lint-warning")
    finding = page.locator("#findings button[data-element='generar_documento_orden']")
    assert "Falta el fundamento legal" in finding.inner_text()
    shot(page, "studio-3-finding")
    violations["editor"] = axe_serious(page)

    # Restore it: Reglamento art. 43.
    page.locator("[data-group-id='group-tramita-fundamento'] .bio-properties-panel-add-entry").click()
    page.locator("[id^='bio-properties-panel-generar_documento_orden-fundamento-0-ley']").fill("Reglamento")
    page.locator("[id^='bio-properties-panel-generar_documento_orden-fundamento-0-articulo']").fill("43")
    page.wait_for_timeout(1200)
    wait_checked(page)
    assert page.locator("#findings button[data-element='generar_documento_orden']").count() == 0
    assert page.locator("[data-element-id='generar_documento_orden'].lint-warning").count() == 0

    # The reform moves the ratification term that four legal scenarios count: a draft whose scenarios fail
    # cannot be sent, so the designer updates them in the same draft, in the studio's scenario editor
    # (each date as worked out in tests/web/test_design.py, TEN_DAY_SCENARIOS).
    editor_url = page.url
    draft_id = int(re.search(r"/borradores/(\d+)", editor_url).group(1))
    for name, changes in TEN_DAY_SCENARIOS.items():
        page.goto(f"{server['url']}/diseno/borradores/{draft_id}/escenarios/{name}")
        text = page.input_value("#scenario")
        for old, new in changes.items():
            assert old in text, (name, old)
            text = text.replace(old, new)
        page.fill("#scenario", text)
        with page.expect_navigation():
            page.click("button[name=accion][value=guardar]")
        assert "El escenario se cumple" in page.inner_text("main"), name
    shot(page, "studio-3b-scenario-updated")
    assert set(TEN_DAY_SCENARIOS) <= {n.rsplit("/", 1)[-1] for n in t.drafts.draft(
        t.people.find_user("diseno.ism"), draft_id).forms}
    page.goto(editor_url)
    ready(page)
    page.fill("#change_note", "Reforma al art. 41 del Reglamento: ratificación en 10 días naturales "
                              "(Boletín Oficial, 15 de enero de 2027)")
    with page.expect_navigation():
        page.click("#submit-form button[type=submit]")  # the studio saves and checks once more, then sends
    page.wait_for_load_state("networkidle")
    assert "En espera de aprobación" in page.inner_text("main")
    shot(page, "studio-4-submitted")

    reviewer = page_for("revision.ism")
    reviewer.goto(server["url"] + "/diseno")
    reviewer.click("text=Borradores en espera de su aprobación >> xpath=.. >> a")
    ready(reviewer, "2")
    assert "10 días naturales" in reviewer.inner_text("main")
    violations["revision"] = axe_serious(reviewer)
    shot(reviewer, "studio-5-review")
    reviewer.click("button:has-text('Aprobar y desplegar')")
    reviewer.wait_for_load_state("networkidle")
    assert "la versión 2 de orden_proteccion está desplegada" in reviewer.inner_text("main")
    shot(reviewer, "studio-6-approved")

    reviewer.goto(server["url"] + "/diseno/procesos/orden_proteccion/comparar?desde=1&hasta=2")
    ready(reviewer, "2")
    text = reviewer.inner_text("main")
    assert "parámetro orden_proteccion.ratificacion_dias_naturales) días naturales → 10 días naturales" in text
    assert reviewer.locator("#diagram-b [data-element-id='plazo_ratificacion_vencido'].diff-changed").count() == 1
    violations["comparar"] = axe_serious(reviewer)
    shot(reviewer, "studio-7-diff")

    reviewer.goto(server["url"] + "/diseno/procesos/orden_proteccion/casos")
    assert "Caso OP-V1 · versión 1 → 2" in reviewer.inner_text("main")
    violations["casos"] = axe_serious(reviewer)

    new_case = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-V2").instance_id
    assert t.instance(old_case).instance.version == 1
    assert t.instance(new_case).instance.version == 2
    assert violations == {k: [] for k in violations}


# BPMN's default attribute values, which bpmn-js does not write out
DEFAULTS = {("cancelActivity", "true"), ("isInterrupting", "true"), ("isForCompensation", "false"),
            ("startQuantity", "1"), ("completionQuantity", "1"), ("isImmediate", "true"), ("parallelMultiple", "false")}


def meaning(xml: str) -> set[tuple[str, ...]]:
    """Every semantic element (not the drawing) as (owner, tag, attributes, text): what a save must keep."""
    from lxml import etree

    root = etree.fromstring(xml.encode())
    out = set()
    for el in root.iter():
        if not isinstance(el.tag, str) or "BPMN/20100524/DI" in el.tag or "/DD/" in el.tag:
            continue
        owner = el
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if (k, v) not in DEFAULTS))
        out.add((owner.get("id") if owner is not None else "", etree.QName(el).localname, str(attrs),
                 " ".join((el.text or "").split())))
    return out


@pytest.mark.parametrize("key", ["orden_proteccion", "agravio", "sancion"])
def test_saving_a_shipped_diagram_without_edits_keeps_its_meaning(page_for: Any, server: dict[str, Any],
                                                                  key: str) -> None:
    t = server["tramita"]
    designer = t.people.find_user("revision.ism")
    draft = t.drafts.create_draft(designer, key, 1)
    original = (ROOT / "workflows" / "bpmn" / f"{key}.bpmn").read_text(encoding="utf-8")
    page = page_for("revision.ism")
    page.goto(f"{server['url']}/diseno/borradores/{draft.id}")
    ready(page)  # the studio saved the modeler's own XML on load
    saved = t.drafts.draft(designer, draft.id).content
    assert saved != original  # re-serialized by bpmn-js ...
    lost, added = meaning(original) - meaning(saved), meaning(saved) - meaning(original)
    assert (sorted(lost)[:8], sorted(added)[:8]) == ([], [])  # ... with the same elements, flows, expressions, extensions
    findings = t.drafts.lint_draft(designer, draft.id)
    assert [f.line() for f in findings if f.severity == "error" or f.rule == "legal-basis"] == []


def test_decision_table_edited_in_the_studio_and_approved(page_for: Any, server: dict[str, Any]) -> None:
    t = server["tramita"]
    page = page_for("diseno.ism")
    page.goto(server["url"] + "/diseno/decisiones/riesgo_orden_proteccion")
    page.click("button:has-text('Editar: borrador desde la versión 1')")
    ready(page)
    cell = page.locator("td.annotation").first
    cell.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" (reforma)")
    page.locator("h1").click()
    page.wait_for_timeout(1200)
    wait_checked(page)
    shot(page, "studio-8-dmn")
    assert axe_serious(page) == []
    page.fill("#change_note", "Reforma: anotación de la regla")
    with page.expect_navigation():
        page.click("#submit-form button[type=submit]")
    draft_url = page.url
    reviewer = page_for("revision.ism")
    reviewer.goto(draft_url)
    ready(reviewer, "2")
    assert "(reforma)" in reviewer.inner_text("main")
    reviewer.click("button:has-text('Aprobar y desplegar')")
    reviewer.wait_for_load_state("networkidle")
    rows = t.design.versions(t.people.find_user("revision.ism"), "riesgo_orden_proteccion", "decision")
    assert [r.version for r in rows] == [2, 1] and rows[0].note == "Reforma: anotación de la regla"
