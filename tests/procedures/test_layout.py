"""The shipped diagrams are laid out for a lawyer to read (issue 12, item 2), checked from their DI alone:
no label covers a node, a task's name, a subprocess title, a lane's name, a line or another label; no
task's name runs under its icon or out of its box; no flow runs through a node it does not connect;
crossings stay within a small bound each; and the bpmn.io logo, bottom-right of a fitted canvas, covers
no label and no node. tests/bpmn_geometry.py says how bpmn-js draws each of these from the DI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bpmn_geometry import Diagram, Rect, read

BPMN = Path(__file__).resolve().parents[2] / "workflows" / "bpmn"

# Crossings the flow cannot avoid without moving a step out of its lane or its order (measured after the
# re-layout; the protection order's cycle of renewals, violations and follow-up meets itself).
CROSSINGS = {"agravio.bpmn": 4, "auxilio_policial.bpmn": 0, "orden_proteccion.bpmn": 24, "sancion.bpmn": 3}

# Canvas sizes the diagram is fitted into: the case page, the studio, wider and narrower screens.
CANVASES = [(1118, 520), (1240, 700), (900, 600), (1600, 800), (1400, 520), (1000, 900)]


@pytest.mark.parametrize("name", sorted(CROSSINGS))
def test_no_label_icon_or_line_overlaps(name: str) -> None:
    d = read((BPMN / name).read_bytes())
    assert d.problems() == []


@pytest.mark.parametrize("name", sorted(CROSSINGS))
def test_lines_cross_little(name: str) -> None:
    d = read((BPMN / name).read_bytes())
    assert len(d.crossings()) <= CROSSINGS[name], d.crossings()


@pytest.mark.parametrize("name", sorted(CROSSINGS))
def test_the_watermark_covers_no_label(name: str) -> None:
    d = read((BPMN / name).read_bytes())
    xs = [v for s in d.shapes.values() for v in (s.bounds.x0, s.bounds.x1)]
    ys = [v for s in d.shapes.values() for v in (s.bounds.y0, s.bounds.y1)]
    filled = 1118, 1118 * (max(ys) - min(ys)) / (max(xs) - min(xs))  # the diagram fills the canvas to its corner
    for width, height in [*CANVASES, filled]:
        assert d.watermark_covers(width, height) == [], (width, height)


def test_the_checks_can_fail() -> None:
    """Each check catches the defect it is for (the defects the issue found on the old layout)."""
    xml = (BPMN / "sancion.bpmn").read_text()
    d = read(xml.encode())
    gateway = next(s for s in d.shapes.values() if s.kind == "exclusiveGateway" and s.name)
    task = next(s for s in d.shapes.values() if s.kind == "userTask" and len(s.name) > 30)
    sub = next(s for s in d.shapes.values() if s.expanded)
    # a gateway's question moved onto a subprocess title
    middle = (sub.bounds.x0 + sub.bounds.x1) / 2
    gateway.label = Rect(middle - 40, sub.bounds.y0 + 2, middle + 50, sub.bounds.y0 + 40)
    assert any(f"label {gateway.id} covers {sub.id} (título)" == p for p in d.problems())
    # a task shrunk back to 100×80: its name runs under its icon
    task.bounds = Rect(task.bounds.x0, task.bounds.y0, task.bounds.x0 + 100, task.bounds.y0 + 80)
    assert f"task {task.id}: its name runs under its icon" in d.problems()
    # a flow drawn straight through a node, and two flows crossing
    edges = list(d.edges.values())
    a, b = edges[0], edges[1]
    node = next(s for s in d.nodes() if s.id not in (a.source, a.target) and s.kind == "userTask")
    cy = (node.bounds.y0 + node.bounds.y1) / 2
    a.points = [(node.bounds.x0 - 50, cy), (node.bounds.x1 + 50, cy)]
    assert f"flow {a.id} runs through {node.id}" in d.problems()
    cx = (node.bounds.x0 + node.bounds.x1) / 2
    b.points = [(cx, node.bounds.y0 - 80), (cx, node.bounds.y1 + 80)]
    assert (a.id, b.id) in d.crossings() or (b.id, a.id) in d.crossings()
    # an end event's label in the bottom-right corner of a fitted canvas
    end = Diagram(shapes=dict(d.shapes), edges={})
    xs = [v for s in end.shapes.values() for v in (s.bounds.x0, s.bounds.x1)]
    ys = [v for s in end.shapes.values() for v in (s.bounds.y0, s.bounds.y1)]
    last = next(s for s in end.shapes.values() if s.kind == "endEvent" and s.name)
    last.label = Rect(max(xs) - 300, max(ys) - 200, max(xs) - 200, max(ys) - 150)
    fitted = 1118, 1118 * (max(ys) - min(ys)) / (max(xs) - min(xs))  # a canvas the diagram fills to its corner
    assert f"label {last.id}" in end.watermark_covers(*fitted)
