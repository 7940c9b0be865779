"""A BPMN file read once for the lint rules: elements by id, flows, containers, Tramita extensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
TRAMITA_NS = "http://tramita.mx/schema/bpmn/1.0"
BPMN = "{%s}" % BPMN_NS
TRAMITA = "{%s}" % TRAMITA_NS

TASKS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
FLOW_NODES = TASKS | EVENTS | GATEWAYS
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}

TYPE_LABELS = {
    "task": "tarea", "userTask": "tarea de usuario", "manualTask": "tarea manual", "scriptTask": "tarea de script",
    "serviceTask": "tarea de servicio", "sendTask": "tarea de envío", "receiveTask": "tarea de recepción",
    "businessRuleTask": "tarea de regla de negocio", "callActivity": "actividad de llamada",
    "subProcess": "subproceso", "transaction": "transacción", "adHocSubProcess": "subproceso ad hoc",
    "startEvent": "evento de inicio", "endEvent": "evento de fin", "intermediateThrowEvent": "evento intermedio",
    "intermediateCatchEvent": "evento intermedio", "boundaryEvent": "evento de borde",
    "exclusiveGateway": "compuerta exclusiva", "parallelGateway": "compuerta paralela",
    "inclusiveGateway": "compuerta inclusiva", "eventBasedGateway": "compuerta basada en eventos",
    "complexGateway": "compuerta compleja", "sequenceFlow": "flujo", "process": "proceso", "rule": "regla",
}


def local(node: etree._Element) -> str:
    """The tag without its namespace (string slicing: QName objects are slow on 100 KiB diagrams)."""
    tag = node.tag
    return tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""


@dataclass
class Fundamento:
    ley: str
    articulo: str
    fraccion: str = ""
    parrafo: str = ""

    def text(self) -> str:
        parts = [f"{self.ley} art. {self.articulo}".strip()]
        parts += [p for p in (self.fraccion, self.parrafo) if p]
        return ", ".join(parts)


@dataclass
class Plazo:
    cantidad: str
    unidad: str
    desde: str
    sentido: str = "despues"
    repeticiones: str = ""
    mover: bool = True
    articulo: str = ""
    regla: str = ""


@dataclass
class Node:
    id: str
    type: str
    name: str
    el: etree._Element
    container: str  # id of the process or subprocess holding it
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)

    def event_definitions(self) -> list[str]:
        return [local(c) for c in self.el if local(c).endswith("EventDefinition")]

    def fundamentos(self) -> list[Fundamento]:
        ext = self.el.find(BPMN + "extensionElements")
        if ext is None:
            return []
        return [Fundamento(f.get("ley", ""), f.get("articulo", ""), f.get("fraccion", ""), f.get("parrafo", ""))
                for f in ext.iter(TRAMITA + "fundamento")]

    def plazo(self) -> Plazo | None:
        ext = self.el.find(BPMN + "extensionElements")
        p = ext.find(TRAMITA + "plazo") if ext is not None else None
        if p is None:
            return None
        return Plazo(p.get("cantidad", ""), p.get("unidad", ""), p.get("desde", ""), p.get("sentido", "despues"),
                     p.get("repeticiones", ""), p.get("mover", "true") != "false", p.get("articulo", ""),
                     p.get("regla", ""))

    def spiff_property(self, name: str) -> str | None:
        """The element's own SpiffWorkflow property (not one of a task inside it, when it is a subprocess)."""
        ext = self.el.find(BPMN + "extensionElements")
        if ext is None:
            return None
        for prop in ext.iter("{%s}property" % SPIFF_NS):
            if prop.get("name") == name:
                return prop.get("value")
        return None


@dataclass
class Flow:
    id: str
    name: str
    source: str
    target: str
    el: etree._Element

    @property
    def condition(self) -> str:
        c = self.el.find(BPMN + "conditionExpression")
        return (c.text or "").strip() if c is not None else ""


@dataclass
class Model:
    filename: str
    root: etree._Element
    processes: list[etree._Element]
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    message_flow_ends: set[str]
    names: dict[str, str]  # every element with an id -> its name (for messages)

    def by_type(self, *types: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.type in types)

    def children(self, container: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.container == container]

    def executable(self) -> list[etree._Element]:
        return [p for p in self.processes if p.get("isExecutable", "false") == "true"]


def build(root: etree._Element, filename: str) -> Model:
    processes = [p for p in root if local(p) == "process"]
    nodes: dict[str, Node] = {}
    flows: dict[str, Flow] = {}

    def walk(container: etree._Element) -> None:
        for el in container:
            kind = local(el)
            if kind in FLOW_NODES and el.get("id"):
                nodes[el.get("id")] = Node(el.get("id"), kind, (el.get("name") or "").strip(), el, container.get("id"))
                if kind in CONTAINERS:
                    walk(el)
            elif kind == "sequenceFlow" and el.get("id"):
                flows[el.get("id")] = Flow(el.get("id"), (el.get("name") or "").strip(), el.get("sourceRef", ""),
                                           el.get("targetRef", ""), el)

    for p in processes:
        walk(p)
    for f in flows.values():
        if f.source in nodes:
            nodes[f.source].outgoing.append(f.id)
        if f.target in nodes:
            nodes[f.target].incoming.append(f.id)
    ends = set()
    for mf in root.iter(BPMN + "messageFlow"):
        ends.update({mf.get("sourceRef", ""), mf.get("targetRef", "")})
    names = {el.get("id"): (el.get("name") or "").strip() for el in root.iter()
             if isinstance(el.tag, str) and el.get("id")}
    return Model(filename, root, processes, nodes, flows, ends, names)


def owner_id(node: etree._Element) -> str:
    """The element the modeler shows for a node deep inside it (a flow, not its conditionExpression)."""
    while node is not None and (node.get("id") is None or local(node) in ("conditionExpression", "script")
                                or local(node).endswith("EventDefinition")):
        node = node.getparent()
    return node.get("id") if node is not None else ""
