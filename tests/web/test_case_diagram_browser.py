"""The caseworker's case diagram in Chromium (issue 12, item 2): Ctrl+wheel zooms the diagram (not the page)
without a click first, a concluded case opens readable around the path it took, a case in error flags the
element that failed (marker and legend), and axe-core finds no `nested-interactive` on the diagram's wrapper.
Screenshots in test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.diagrams import bundle
from tests.procedures.conftest import example
from tests.web.test_browser import ARTIFACTS, chromium, page_for, server, shot  # noqa: F401 (fixtures)

AXE = ARTIFACTS.parent / "node_modules" / "axe-core" / "axe.min.js"
READABLE = 0.75  # web/static/js/diagram.js: the smallest scale at which a task's name reads on a laptop

SCALE = "() => document.querySelector('#bpmn .viewport').transform.baseVal.consolidate().matrix.a"

# A script that divides by a number from the start data: with 0 it fails, and the case waits in error.
FAILING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs_falla" targetNamespace="http://tramita.test">
  <bpmn:process id="reparto_falla" name="Reparto con error" isExecutable="true">
    <bpmn:startEvent id="inicio" name="Inicio"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="repartir" name="Repartir el monto"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>parte = 100 / partes</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="fin" name="Repartido"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="inicio" targetRef="repartir" />
    <bpmn:sequenceFlow id="f2" sourceRef="repartir" targetRef="fin" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="p" bpmnElement="reparto_falla">
    <bpmndi:BPMNShape id="inicio_di" bpmnElement="inicio"><dc:Bounds x="100" y="100" width="36" height="36" />
      <bpmndi:BPMNLabel><dc:Bounds x="100" y="143" width="36" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="repartir_di" bpmnElement="repartir"><dc:Bounds x="200" y="78" width="100" height="80" />
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="fin_di" bpmnElement="fin"><dc:Bounds x="370" y="100" width="36" height="36" />
      <bpmndi:BPMNLabel><dc:Bounds x="360" y="143" width="56" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" />
    </bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118" /><di:waypoint x="370" y="118" />
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#bpmn[data-ready=true]")


def _inside(page: Any, element_id: str) -> bool:
    """Whether the element's shape is drawn wholly inside the diagram's frame."""
    return page.evaluate("""(id) => {
        const box = document.getElementById('bpmn').getBoundingClientRect();
        const el = document.querySelector(`#bpmn [data-element-id="${id}"]`).getBoundingClientRect();
        return el.left >= box.left && el.right <= box.right && el.top >= box.top && el.bottom <= box.bottom;
    }""", element_id)


def _axe(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluate, not a script tag: the CSP refuses inline scripts
    return list(page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                              ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"))


def _agravio_refused(t: Any, reference: str) -> int:
    """Agravio registered with a request desechada on 2025-12-15: the six-month bar (Reglamento art. 36,
    third paragraph) runs to 2026-06-15, after the receipt on 2026-03-02, so the case ends refused."""
    iid = t.start("agravio", example("agravio_inicio"), "operativo.ism", reference=reference,
                  institution="ISM").instance_id
    [task] = t.tasks(instance_id=iid)
    t.complete(task.id, example("agravio_registro", solicitud_previa_desechada=True, expediente_previo="AGR-2025-007",
                                fecha_desechamiento_previo="2025-12-15"), "operativo.ism")
    [task] = t.tasks(instance_id=iid)
    assert task.name == "notificar_rechazo_impedimento"
    t.complete(task.id, example("agravio_rechazo_impedimento"), "operativo.ism")
    assert t.instance(iid).instance.status == "completed"
    return iid


def test_ctrl_wheel_zooms_the_diagram_not_the_page_and_no_nested_interactive(page_for: Any,
                                                                             server: dict[str, Any]) -> None:
    iid = _agravio_refused(server["tramita"], "AG-DIAG-001")
    page = page_for("operativo.ism")
    _open(page, f"{server['url']}/casos/{iid}")
    page.locator("#diagrama").scroll_into_view_if_needed()
    # Record, after every handler, whether the browser would still zoom the page (nobody prevented it).
    page.evaluate("() => { window.pageZoomed = 0; window.addEventListener('wheel', (e) => {"
                  " if (e.ctrlKey && !e.defaultPrevented) { window.pageZoomed += 1; } }, {passive: true}); }")
    before = page.evaluate(SCALE)
    box = page.locator("#bpmn").bounding_box()
    # No click on the diagram first: the pointer arrives and the wheel turns with Ctrl held.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    for _ in range(3):
        page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_timeout(200)
    after = page.evaluate(SCALE)
    assert after > before * 1.3, (before, after)
    assert page.evaluate("window.pageZoomed") == 0
    # The plain wheel is left to the page (it scrolls), and does not zoom the diagram.
    page.mouse.wheel(0, 200)
    page.wait_for_timeout(200)
    assert page.evaluate(SCALE) == pytest.approx(after)
    shot(page, "12-diagrama-ctrl-rueda", full=False)
    violations = _axe(page)
    assert not [v for v in violations if v["id"] == "nested-interactive"], violations
    assert not [v for v in violations if v["impact"] in ("serious", "critical")
                and any("#bpmn" in n for n in v["nodes"])], violations
    assert page.locator("#bpmn").get_attribute("role") != "img"


def test_a_concluded_case_opens_readable_around_the_path_taken(page_for: Any, server: dict[str, Any]) -> None:
    iid = _agravio_refused(server["tramita"], "AG-DIAG-002")
    page = page_for("operativo.ism")
    _open(page, f"{server['url']}/casos/{iid}")
    opened = page.evaluate(SCALE)
    assert opened >= READABLE - 1e-6, opened
    # The outcome and the steps that led to it are in sight, marked as done.
    for element in ("registrar_solicitud", "notificar_rechazo_impedimento", "fin_rechazo_impedimento"):
        assert _inside(page, element), element
        assert "tr-completed" in page.locator(f'#bpmn [data-element-id="{element}"]').get_attribute("class")
    page.locator("#bpmn").screenshot(path=str(ARTIFACTS / "12-diagrama-caso-concluido.png"))
    # The whole procedure fitted in the frame is the unreadable strip the case used to open on.
    page.click("#bpmn-fit")
    assert page.evaluate(SCALE) < READABLE
    page.locator("#bpmn").screenshot(path=str(ARTIFACTS / "12-diagrama-caso-concluido-todo.png"))


def test_an_incident_flags_the_element_that_failed(page_for: Any, server: dict[str, Any]) -> None:
    from engine.errors import ExecutionFailed

    t = server["tramita"]
    t.deploy([bundle("reparto_falla.bpmn", FAILING)], "prueba de incidente")
    try:
        t.start("reparto_falla", {"partes": 0}, "operativo.ism", reference="RF-001", institution="ISM")
    except ExecutionFailed:
        pass  # the start fails in the script: the case is kept, in error, with an incident naming the task
    [case] = [c for c in t.instances(process_key="reparto_falla") if c.reference == "RF-001"]
    assert case.status == "error"
    page = page_for("operativo.ism")
    _open(page, f"{server['url']}/casos/{case.id}")
    assert page.locator("#bpmn").get_attribute("data-failed") == "repartir"
    classes = page.locator('#bpmn [data-element-id="repartir"]').get_attribute("class")
    assert "tr-failed" in classes and "tr-active" not in classes
    assert "tr-failed" not in page.locator('#bpmn [data-element-id="fin"]').get_attribute("class")
    stroke = page.evaluate("() => getComputedStyle(document.querySelector("
                           "'#bpmn [data-element-id=\"repartir\"] .djs-visual > :first-child')).stroke")
    assert stroke == "rgb(185, 28, 28)", stroke
    legend = page.locator("#bpmn-failed-key")
    assert legend.is_visible() and "Falló" in legend.inner_text()
    assert _inside(page, "repartir")
    shot(page, "12-diagrama-incidente", full=False)
    page.locator("#diagrama").screenshot(path=str(ARTIFACTS / "12-diagrama-incidente-detalle.png"))


RENDERED_OVERLAPS = """() => {
    const box = (el) => el.getBoundingClientRect();
    const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const out = [];
    document.querySelectorAll('.viewer-canvas, .studio-canvas').forEach((canvas) => {
      const logo = canvas.querySelector('.bjs-powered-by');
      const labels = [...canvas.querySelectorAll('g.djs-element[data-element-id$="_label"] text')];
      labels.forEach((t) => { if (logo && hit(box(t), box(logo))) out.push('logo covers ' + t.textContent); });
      canvas.querySelectorAll('g.djs-shape').forEach((g) => {
        const paths = [...g.querySelectorAll(':scope > .djs-visual > path')];
        const text = g.querySelector(':scope > .djs-visual > text.djs-label');
        if (!text || !paths.length) { return; }
        const top = box(g.querySelector(':scope > .djs-visual > rect') || paths[0]).top;
        const near = paths.map(box).filter((b) => b.top < top + 40);  // the type icon, not a bottom marker
        if (!near.length) { return; }
        const icon = {left: Math.min(...near.map((b) => b.left)), right: Math.max(...near.map((b) => b.right)),
                      top: Math.min(...near.map((b) => b.top)), bottom: Math.max(...near.map((b) => b.bottom))};
        [...text.querySelectorAll('tspan')].forEach((line) => {
          if (line.textContent.trim() && hit(box(line), icon)) out.push('icon under ' + line.textContent);
        });
      });
    });
    return out;
}"""


@pytest.mark.parametrize("key", ["orden_proteccion", "agravio", "sancion", "auxilio_policial"])
def test_the_shipped_diagrams_read_cleanly_in_chromium(page_for: Any, server: dict[str, Any], key: str) -> None:
    """The real bpmn-js drawing agrees with the DI checks (tests/procedures/test_layout.py): fitted whole in
    the studio's viewer, no task name runs under its icon and the bpmn.io logo covers no label."""
    page = page_for("diseno.ism")
    page.goto(f"{server['url']}/diseno/procesos/{key}/version/1")
    page.wait_for_function("() => !!document.body.dataset.studioReady", timeout=30000)
    assert page.locator(".bjs-powered-by").first.is_visible()
    problems = page.evaluate(RENDERED_OVERLAPS)
    shot(page, f"12-diagrama-{key}", full=False)
    assert problems == [], problems
