"""The geometry of a BPMN diagram as bpmn-js draws it, read from its DI alone, to check that a lawyer can read it.

bpmn-js writes an external label (events, gateways, named flows) from the top-left corner of its DI
bounds, in 11 px Arial wrapped at 90 px, 13.2 px a line; a task's name in 12 px Arial wrapped at its
width less 7 px each side, centred, 14.4 px a line; an expanded subprocess's title centred at its top.
Text widths come from Arial's advance widths (Liberation Sans has the same metrics; Chromium draws
with it here), so the checks need no browser. A task's type icon sits in its top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterator

from lxml import etree

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}

# Arial / Liberation Sans advance widths in thousandths of an em.
_WIDTHS = {191: "'", 222: "ijl", 278: "ftI .,:;!/íÍ", 333: "r()¡-", 355: '"', 389: "*", 400: "°",
           500: "cksvxyzJ", 556: "abdeghnopquL0123456789?–«»_áéóúñü#§", 584: "+=", 611: "FTZ¿",
           667: "ABEKPSVXY&ÁÉ", 722: "wCDHNRUÚÑÜ", 778: "GOQÓ", 833: "mM", 889: "%", 944: "W", 1000: "—"}
_EM = {c: w for w, cs in _WIDTHS.items() for c in cs}

EXTERNAL_FONT, EXTERNAL_WRAP, EXTERNAL_LINE = 11, 90, 11 * 1.2
TASK_FONT, TASK_PADDING, TASK_LINE = 12, 7, 12 * 1.2
ICON = (4, 4, 28, 24)  # a task type's icon, relative to the task's top-left corner (x0, y0, x1, y1)
ICON_TASKS = {"userTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask", "manualTask"}
TASKS = ICON_TASKS | {"task", "callActivity", "subProcess", "transaction"}
CONTAINERS = {"participant", "lane"}
WATERMARK = (15, 15, 52, 22)  # the bpmn.io logo: right and bottom margins, width, height (screen pixels)


def text_width(text: str, size: float) -> float:
    return sum(_EM.get(c, 556) for c in text) * size / 1000


def wrap(text: str, max_width: float, size: float) -> list[str]:
    """Word wrap as bpmn-js's Text.layoutText does: the rest of the text on one line if it fits, else the
    most words that fit with the space after them (a broken line keeps and measures its trailing space)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split(" ")
        while words:
            if text_width(" ".join(words), size) <= max_width:
                lines.append(" ".join(words))
                break
            k = len(words) - 1
            while k > 1 and text_width(" ".join(words[:k]) + " ", size) > max_width:
                k -= 1
            lines.append(" ".join(words[:k]) + " ")
            words = words[k:]
    return lines


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Rect", tolerance: float = 0.5) -> bool:
        return (self.x0 < other.x1 - tolerance and other.x0 < self.x1 - tolerance
                and self.y0 < other.y1 - tolerance and other.y0 < self.y1 - tolerance)

    def hit_by(self, a: tuple[float, float], b: tuple[float, float], tolerance: float = 0.5) -> bool:
        """Whether the segment a-b passes through the rectangle (Liang-Barsky clipping)."""
        r = Rect(self.x0 + tolerance, self.y0 + tolerance, self.x1 - tolerance, self.y1 - tolerance)
        if r.x0 >= r.x1 or r.y0 >= r.y1:
            return False
        dx, dy = b[0] - a[0], b[1] - a[1]
        t0, t1 = 0.0, 1.0
        for p, q in ((-dx, a[0] - r.x0), (dx, r.x1 - a[0]), (-dy, a[1] - r.y0), (dy, r.y1 - a[1])):
            if p == 0:
                if q < 0:
                    return False
            else:
                t = q / p
                if p < 0:
                    t0 = max(t0, t)
                else:
                    t1 = min(t1, t)
        return t0 < t1


@dataclass
class Shape:
    id: str
    kind: str
    name: str
    bounds: Rect
    label: Rect | None = None
    attached_to: str | None = None
    expanded: bool = False


@dataclass
class Edge:
    id: str
    name: str
    source: str
    target: str
    points: list[tuple[float, float]]
    label: Rect | None = None

    def segments(self) -> Iterator[tuple[tuple[float, float], tuple[float, float]]]:
        yield from zip(self.points, self.points[1:])


@dataclass
class Diagram:
    shapes: dict[str, Shape] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)

    # --- what bpmn-js draws ------------------------------------------------------------------------
    def label_text(self, element_id: str) -> Rect | None:
        """The rectangle the external label's text covers, from its DI bounds' top-left corner."""
        owner = self.shapes.get(element_id) or self.edges.get(element_id)
        if owner is None or owner.label is None or not owner.name.strip():
            return None
        lines = wrap(owner.name, EXTERNAL_WRAP, EXTERNAL_FONT)
        width = max(text_width(line.rstrip(), EXTERNAL_FONT) for line in lines)
        return Rect(owner.label.x0, owner.label.y0, owner.label.x0 + width, owner.label.y0 + len(lines) * EXTERNAL_LINE)

    def task_lines(self, shape: Shape) -> list[Rect]:
        """Each line of a task's name, centred in the task (a collapsed one) or at the top (expanded)."""
        b = shape.bounds
        lines = wrap(shape.name, b.x1 - b.x0 - 2 * TASK_PADDING, TASK_FONT)
        if shape.expanded:
            top = b.y0 + TASK_PADDING
        else:
            top = b.y0 + ((b.y1 - b.y0) - len(lines) * TASK_LINE) / 2
        out = []
        for i, line in enumerate(lines):
            w = text_width(line.rstrip(), TASK_FONT)
            cx = (b.x0 + b.x1) / 2
            out.append(Rect(cx - w / 2, top + i * TASK_LINE + 1, cx + w / 2, top + (i + 1) * TASK_LINE - 1))
        return out

    def icon(self, shape: Shape) -> Rect | None:
        if shape.kind not in ICON_TASKS:
            return None
        return Rect(shape.bounds.x0 + ICON[0], shape.bounds.y0 + ICON[1], shape.bounds.x0 + ICON[2],
                    shape.bounds.y0 + ICON[3])

    def nodes(self) -> Iterator[Shape]:
        """Flow nodes and data: what a label must not cover (an expanded subprocess only by its title)."""
        for s in self.shapes.values():
            if s.kind not in CONTAINERS and not s.expanded:
                yield s

    def container_lines(self) -> Iterator[tuple[str, tuple[float, float], tuple[float, float]]]:
        """The borders of lanes, pools and expanded subprocesses: lines a label must not sit on."""
        for s in self.shapes.values():
            if s.kind in CONTAINERS or s.expanded:
                b = s.bounds
                corners = [(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1), (b.x0, b.y0)]
                for a, c in zip(corners, corners[1:]):
                    yield s.id, a, c
                if s.kind == "participant":  # the band with the pool's name
                    yield s.id, (b.x0 + 30, b.y0), (b.x0 + 30, b.y1)

    def obstacles(self) -> Iterator[tuple[str, Rect]]:
        """Rectangles no label may cover: nodes, task names, subprocess titles, lane and pool name bands."""
        for s in self.nodes():
            yield s.id, s.bounds
        for s in self.shapes.values():
            if s.expanded and s.name:
                lines = self.task_lines(s)
                yield s.id + " (título)", Rect(min(r.x0 for r in lines), s.bounds.y0, max(r.x1 for r in lines),
                                               max(r.y1 for r in lines) + 2)
            if s.kind in CONTAINERS:
                yield s.id + " (nombre)", Rect(s.bounds.x0, s.bounds.y0, s.bounds.x0 + 30, s.bounds.y1)

    def labels(self) -> dict[str, Rect]:
        out = {}
        for element_id in [*self.shapes, *self.edges]:
            r = self.label_text(element_id)
            if r is not None:
                out[element_id] = r
        return out

    # --- the checks ---------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every overlap a reader would stumble on, one line each."""
        out: list[str] = []
        labels = self.labels()
        for element_id, text in labels.items():
            owner = self.shapes.get(element_id) or self.edges.get(element_id)
            di = owner.label  # type: ignore[union-attr]
            if text.x1 > di.x1 + 3 or text.y1 > di.y1 + 3:  # type: ignore[union-attr]
                out.append(f"label {element_id}: its text ({text.x1 - text.x0:.0f}×{text.y1 - text.y0:.0f}) "
                           f"overflows its DI bounds")
            for other, rect in self.obstacles():
                if text.overlaps(rect):
                    out.append(f"label {element_id} covers {other}")
            for edge in self.edges.values():
                if any(text.hit_by(a, b) for a, b in edge.segments()):
                    out.append(f"label {element_id} is crossed by flow {edge.id}")
            for container, a, b in self.container_lines():
                if text.hit_by(a, b):
                    out.append(f"label {element_id} sits on the border of {container}")
        for (a, ra), (b, rb) in combinations(labels.items(), 2):
            if ra.overlaps(rb):
                out.append(f"labels {a} and {b} overlap")
        for s in self.shapes.values():
            icon = self.icon(s)
            if icon is not None and s.name and any(line.overlaps(icon) for line in self.task_lines(s)):
                out.append(f"task {s.id}: its name runs under its icon")
            if s.kind in TASKS and not s.expanded and s.name:
                lines = self.task_lines(s)
                if lines[0].y0 < s.bounds.y0 or lines[-1].y1 > s.bounds.y1:
                    out.append(f"task {s.id}: its name does not fit in it")
        for edge in self.edges.values():
            for node in self.nodes():
                if node.id in (edge.source, edge.target) or node.attached_to in (edge.source,):
                    continue
                inner = Rect(node.bounds.x0 + 2, node.bounds.y0 + 2, node.bounds.x1 - 2, node.bounds.y1 - 2)
                if any(inner.hit_by(a, b) for a, b in edge.segments()):
                    out.append(f"flow {edge.id} runs through {node.id}")
        return out

    def crossings(self) -> list[tuple[str, str]]:
        """Pairs of flows whose lines cross (touching at a shared end or running along each other is not a crossing)."""
        out = []
        for e, f in combinations(self.edges.values(), 2):
            if any(_cross(a, b, c, d) for a, b in e.segments() for c, d in f.segments()):
                out.append((e.id, f.id))
        return out

    def watermark_covers(self, width: float, height: float) -> list[str]:
        """What the bpmn.io logo covers when the whole diagram is fitted into a width×height canvas."""
        xs = [v for s in self.shapes.values() for v in (s.bounds.x0, s.bounds.x1)]
        ys = [v for s in self.shapes.values() for v in (s.bounds.y0, s.bounds.y1)]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        scale = min(1.0, width / (x1 - x0), height / (y1 - y0))
        vx, vy = (x0 + x1) / 2 - width / scale / 2, (y0 + y1) / 2 - height / scale / 2  # fit-viewport centres
        right, bottom, w, h = WATERMARK
        logo = Rect(vx + (width - right - w) / scale, vy + (height - bottom - h) / scale,
                    vx + (width - right) / scale, vy + (height - bottom) / scale)
        hits = [f"label {i}" for i, r in self.labels().items() if r.overlaps(logo)]
        hits += [s.id for s in self.nodes() if s.bounds.overlaps(logo)]
        return hits


def _cross(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]) -> bool:
    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


def _rect(bounds: etree._Element) -> Rect:
    x, y = float(bounds.get("x")), float(bounds.get("y"))
    return Rect(x, y, x + float(bounds.get("width")), y + float(bounds.get("height")))


def read(xml: bytes) -> Diagram:
    """The first diagram of a BPMN file: its shapes, flows and labels with the semantics they draw."""
    root = etree.fromstring(xml)
    semantic = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    d = Diagram()
    for s in root.iterfind(".//bpmndi:BPMNShape", NS):
        el = semantic.get(s.get("bpmnElement"))
        if el is None:
            continue
        kind = etree.QName(el).localname
        label = s.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        d.shapes[el.get("id")] = Shape(
            el.get("id"), kind, el.get("name") or "", _rect(s.find("dc:Bounds", NS)),
            _rect(label) if label is not None else None, el.get("attachedToRef"),
            kind in ("subProcess", "transaction") and s.get("isExpanded") == "true")
    for e in root.iterfind(".//bpmndi:BPMNEdge", NS):
        el = semantic.get(e.get("bpmnElement"))
        if el is None:
            continue
        label = e.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        points = [(float(p.get("x")), float(p.get("y"))) for p in e.iterfind("di:waypoint", NS)]
        d.edges[el.get("id")] = Edge(el.get("id"), el.get("name") or "", el.get("sourceRef") or "",
                                     el.get("targetRef") or "", points,
                                     _rect(label) if label is not None else None)
    return d
