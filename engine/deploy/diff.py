"""What changed between two versions of a procedure, in words a lawyer reads and by element for the canvas.

Deadlines are compared by their Plazo (count, unit, from, article), legal basis by its Fundamento
legal elements, forms by their fields, lanes by who does each step, and messages by name. The
studio colours the diagram from the same answer the API and ``tramita diff`` give.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from engine.bpmn import safe_xml
from engine.deploy.lint import model, plazo

FormReader = Callable[[str], "dict[str, Any] | None"]


@dataclass
class ElementChange:
    id: str
    name: str
    type: str
    change: str  # added | removed | changed
    details: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    key: str
    from_version: int
    to_version: int
    elements: list[ElementChange] = field(default_factory=list)
    general: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = list(self.general)
        verbs = {"added": "Se agrega", "removed": "Se elimina", "changed": "Cambia"}
        for e in self.elements:
            head = f"{verbs[e.change]} {model.TYPE_LABELS.get(e.type, e.type)} «{e.name or e.id}» ({e.id})"
            out.append(head + (": " + "; ".join(e.details) if e.details else ""))
        return out


def _lanes(m: model.Model) -> dict[str, str]:
    out: dict[str, str] = {}
    for lane in m.root.iter(model.BPMN + "lane"):
        for ref in lane.iter(model.BPMN + "flowNodeRef"):
            if ref.text:
                out[ref.text.strip()] = lane.get("name") or lane.get("id")
    return out


def _param_value(cantidad: str, params: dict[str, Any]) -> str:
    """«parametros.agravio.x» with the value in force, so the lawyer sees the number."""
    out = []
    for term in cantidad.split("+"):
        term = term.strip()
        if term.startswith("parametros."):
            node: Any = params
            for part in term.split(".")[1:]:
                node = node.get(part, {}) if isinstance(node, dict) else {}
            value = node.get("value") if isinstance(node, dict) else None
            out.append(f"{value} (parámetro {term.removeprefix('parametros.')})" if value is not None else term)
        else:
            out.append(term)
    return " + ".join(out)


def _plazo_changes(a: model.Plazo | None, b: model.Plazo | None, params: dict[str, Any]) -> list[str]:
    if a is None and b is None:
        return []
    if a is None:
        return [f"nuevo plazo: {plazo.words(b)}"]  # type: ignore[arg-type]
    if b is None:
        return [f"se quita el plazo ({plazo.words(a)})"]
    out = []
    unit = plazo.UNIT_LABELS
    if (a.cantidad, a.unidad) != (b.cantidad, b.unidad):
        out.append(f"plazo: {_param_value(a.cantidad, params)} {unit.get(a.unidad, a.unidad)} → "
                   f"{_param_value(b.cantidad, params)} {unit.get(b.unidad, b.unidad)}")
    if a.desde != b.desde or a.sentido != b.sentido:
        out.append(f"el plazo corre {'antes de' if b.sentido == 'antes' else 'desde'} {b.desde} "
                   f"(antes: {'antes de' if a.sentido == 'antes' else 'desde'} {a.desde})")
    if a.repeticiones != b.repeticiones:
        out.append(f"repeticiones: {a.repeticiones or 'ninguna'} → {b.repeticiones or 'ninguna'}")
    if a.mover != b.mover:
        out.append("ahora " + ("se recorre" if b.mover else "no se recorre") + " al día hábil siguiente")
    if a.regla != b.regla:
        out.append(f"regla de los meses: {_param_value(a.regla, params) or '—'} → {_param_value(b.regla, params) or '—'}")
    if a.articulo != b.articulo:
        out.append(f"artículo del plazo: {a.articulo or '—'} → {b.articulo or '—'}")
    return out


def _texts(n: model.Node, tag: str) -> list[str]:
    return [" ".join((t.text or "").split()) for t in n.el.iter(model.BPMN + tag)]


def _form_changes(a: str | None, b: str | None, read_a: FormReader, read_b: FormReader) -> list[str]:
    if a == b and a is None:
        return []
    out = []
    if a != b:
        out.append(f"formulario: {a or 'ninguno'} → {b or 'ninguno'}")
    sa, sb = (read_a(a) if a else None) or {}, (read_b(b) if b else None) or {}
    pa, pb = sa.get("properties", {}) or {}, sb.get("properties", {}) or {}
    ra, rb = set(sa.get("required", []) or []), set(sb.get("required", []) or [])
    title = lambda props, k: props.get(k, {}).get("title") or k  # noqa: E731
    for k in pb.keys() - pa.keys():
        out.append(f"nuevo campo «{title(pb, k)}»" + (" (obligatorio)" if k in rb else ""))
    for k in pa.keys() - pb.keys():
        out.append(f"se quita el campo «{title(pa, k)}»")
    for k in (rb - ra) & pa.keys() & pb.keys():
        out.append(f"el campo «{title(pb, k)}» ahora es obligatorio")
    for k in (ra - rb) & pb.keys():
        out.append(f"el campo «{title(pb, k)}» deja de ser obligatorio")
    return out


def diff(key: str, va: int, xml_a: str, vb: int, xml_b: str, *, forms_a: FormReader = lambda n: None,
         forms_b: FormReader = lambda n: None, params: dict[str, Any] | None = None) -> VersionDiff:
    params = params or {}
    ma = model.build(safe_xml.load_xml(xml_a.encode(), "a.bpmn"), "a.bpmn")
    mb = model.build(safe_xml.load_xml(xml_b.encode(), "b.bpmn"), "b.bpmn")
    out = VersionDiff(key, va, vb)
    la, lb = _lanes(ma), _lanes(mb)
    for nid, n in mb.nodes.items():
        if nid not in ma.nodes:
            details = [f"fundamento: {f.text()}" for f in n.fundamentos()]
            if n.plazo():
                details.append(f"plazo: {plazo.words(n.plazo())}")  # type: ignore[arg-type]
            out.elements.append(ElementChange(nid, n.name, n.type, "added", details))
            continue
        o = ma.nodes[nid]
        details = []
        if o.name != n.name:
            details.append(f"nombre: «{o.name}» → «{n.name}»")
        details += _plazo_changes(o.plazo(), n.plazo(), params)
        fa, fb = {f.text() for f in o.fundamentos()}, {f.text() for f in n.fundamentos()}
        details += [f"se agrega el fundamento {t}" for t in sorted(fb - fa)]
        details += [f"se quita el fundamento {t}" for t in sorted(fa - fb)]
        if la.get(nid) != lb.get(nid):
            details.append(f"lo atiende {lb.get(nid) or 'nadie'} (antes: {la.get(nid) or 'nadie'})")
        details += _form_changes(o.spiff_property("formJsonSchemaFilename"), n.spiff_property("formJsonSchemaFilename"),
                                 forms_a, forms_b)
        for tag, label in (("timeDate", "temporizador"), ("timeDuration", "temporizador"),
                           ("timeCycle", "temporizador"), ("script", "script")):
            if _texts(o, tag) != _texts(n, tag) and not (tag.startswith("time") and (o.plazo() or n.plazo())):
                details.append(f"{label}: «{' '.join(_texts(o, tag))[:100]}» → «{' '.join(_texts(n, tag))[:100]}»")
        if o.spiff_property("dueDate") != n.spiff_property("dueDate") and not (o.plazo() or n.plazo()):
            details.append(f"vencimiento: {o.spiff_property('dueDate') or '—'} → {n.spiff_property('dueDate') or '—'}")
        if details:
            out.elements.append(ElementChange(nid, n.name, n.type, "changed", details))
    for nid, o in ma.nodes.items():
        if nid not in mb.nodes:
            out.elements.append(ElementChange(nid, o.name, o.type, "removed"))
    for fid, f in mb.flows.items():
        old = ma.flows.get(fid)
        if old is None:
            out.elements.append(ElementChange(fid, f.name, "sequenceFlow", "added",
                                              [f"condición: {f.condition}"] if f.condition else []))
        elif old.condition != f.condition or (old.source, old.target) != (f.source, f.target):
            det = [f"condición: «{old.condition or 'ninguna'}» → «{f.condition or 'ninguna'}»"] \
                if old.condition != f.condition else []
            if (old.source, old.target) != (f.source, f.target):
                det.append(f"ahora va de {f.source} a {f.target}")
            out.elements.append(ElementChange(fid, f.name, "sequenceFlow", "changed", det))
    for fid, f in ma.flows.items():
        if fid not in mb.flows:
            out.elements.append(ElementChange(fid, f.name, "sequenceFlow", "removed"))
    lanes_a = {ln.get("name") for ln in ma.root.iter(model.BPMN + "lane")}
    lanes_b = {ln.get("name") for ln in mb.root.iter(model.BPMN + "lane")}
    out.general += [f"Nuevo carril «{n}»" for n in sorted(x for x in lanes_b - lanes_a if x)]
    out.general += [f"Se quita el carril «{n}»" for n in sorted(x for x in lanes_a - lanes_b if x)]
    msgs_a = {m.get("name") for m in ma.root.iter(model.BPMN + "message")}
    msgs_b = {m.get("name") for m in mb.root.iter(model.BPMN + "message")}
    out.general += [f"Nuevo mensaje «{n}»" for n in sorted(x for x in msgs_b - msgs_a if x)]
    out.general += [f"Se quita el mensaje «{n}»" for n in sorted(x for x in msgs_a - msgs_b if x)]
    return out



def _rules(xml: str) -> dict[str, tuple[str, list[str]]]:
    """Rule id -> (decision, its cells: input entries, then outputs, then the annotation)."""
    root = safe_xml.load_xml(xml.encode(), "tabla.dmn")
    out = {}
    for decision in root.iter("{*}decision"):
        for rule in decision.iter("{*}rule"):
            cells = [" ".join((t.text or "").split()) for t in rule.iter("{*}text")]
            out[rule.get("id")] = (decision.get("name") or decision.get("id"), cells)
    return out


def diff_dmn(key: str, va: int, xml_a: str, vb: int, xml_b: str) -> VersionDiff:
    """Rules of a decision table added, removed or with changed cells."""
    ra, rb = _rules(xml_a), _rules(xml_b)
    out = VersionDiff(key, va, vb)
    for rid, (decision, cells) in rb.items():
        if rid not in ra:
            out.elements.append(ElementChange(rid, decision, "rule", "added", [" | ".join(cells)]))
        elif ra[rid][1] != cells:
            out.elements.append(ElementChange(rid, decision, "rule", "changed",
                                              [f"«{' | '.join(ra[rid][1])}» → «{' | '.join(cells)}»"]))
    for rid, (decision, cells) in ra.items():
        if rid not in rb:
            out.elements.append(ElementChange(rid, decision, "rule", "removed", [" | ".join(cells)]))
    return out
