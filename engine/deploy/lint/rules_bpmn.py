"""bpmnlint's recommended rule set, ported to Python: the structure and style a reader relies on.

Rule ids keep bpmnlint's names so a designer who knows Camunda Modeler recognises them. These are
warnings (style), except where SpiffWorkflow could not run the diagram at all.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterator

from engine.deploy.lint.findings import ERROR, WARNING, Finding
from engine.deploy.lint.model import BPMN, CONTAINERS, GATEWAYS, Model, Node, local

Rule = Callable[[Model], Iterator[Finding]]


def finding(m: Model, element_id: str, rule: str, severity: str, message: str) -> Finding:
    return Finding(m.filename, element_id, m.names.get(element_id, ""), rule, severity, message)


def _event_subprocess(n: Node) -> bool:
    return n.type in CONTAINERS and n.el.get("triggeredByEvent") == "true"


def _exempt_from_flow(m: Model, n: Node) -> bool:
    """Elements that legitimately have no sequence flows: boundary events, event subprocesses and their starts,
    compensation handlers, and ends of message flows."""
    if n.type == "boundaryEvent" or _event_subprocess(n) or n.el.get("isForCompensation") == "true":
        return True
    parent = m.nodes.get(n.container)
    if parent is not None and _event_subprocess(parent) and n.type == "startEvent":
        return True
    if n.id in m.message_flow_ends:
        return True
    return n.type in ("intermediateCatchEvent", "intermediateThrowEvent") and "linkEventDefinition" in \
        n.event_definitions() and (n.incoming or n.outgoing)


def start_event_required(m: Model) -> Iterator[Finding]:
    for p in m.processes:
        children = m.children(p.get("id"))
        if children and not any(n.type == "startEvent" for n in children):
            yield finding(m, p.get("id"), "start-event-required", ERROR,
                          "El proceso no tiene evento de inicio: dibuje uno donde empieza el trámite.")
    for sub in m.by_type(*CONTAINERS):
        if not any(n.type == "startEvent" for n in m.children(sub.id)) and m.children(sub.id):
            yield finding(m, sub.id, "start-event-required", ERROR,
                          f"Falta el evento de inicio dentro de este {sub.label}: dibuje uno.")


def end_event_required(m: Model) -> Iterator[Finding]:
    for p in m.processes:
        children = m.children(p.get("id"))
        if children and not any(n.type == "endEvent" for n in children):
            yield finding(m, p.get("id"), "end-event-required", WARNING,
                          "El proceso no tiene evento de fin: dibuje dónde concluye el trámite.")
    for sub in m.by_type(*CONTAINERS):
        if m.children(sub.id) and not any(n.type == "endEvent" for n in m.children(sub.id)):
            yield finding(m, sub.id, "end-event-required", WARNING,
                          f"Falta el evento de fin dentro de este {sub.label}: dibuje uno.")


def no_disconnected(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if not n.incoming and not n.outgoing and not _exempt_from_flow(m, n):
            yield finding(m, n.id, "no-disconnected", WARNING,
                          f"Elemento sin conectar ({n.label}): únalo al flujo con una flecha o bórrelo.")


def no_implicit_start(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.type not in ("startEvent",) and not n.incoming and n.outgoing and not _exempt_from_flow(m, n):
            yield finding(m, n.id, "no-implicit-start", WARNING,
                          f"Elemento sin flecha de entrada ({n.label}): conéctelo desde el paso anterior.")


def no_implicit_end(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.type != "endEvent" and n.incoming and not n.outgoing and not _exempt_from_flow(m, n) \
                and not (n.type == "intermediateThrowEvent" and "linkEventDefinition" in n.event_definitions()):
            yield finding(m, n.id, "no-implicit-end", WARNING,
                          f"Elemento sin flecha de salida ({n.label}): conéctelo con el paso siguiente o con un evento de fin.")


def no_implicit_split(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.type in GATEWAYS or len(n.outgoing) < 2:
            continue
        if not all(m.flows[f].condition for f in n.outgoing if n.el.get("default") != f):
            yield finding(m, n.id, "no-implicit-split", WARNING,
                          f"Salen varias flechas de este elemento ({n.label}) sin compuerta: use una compuerta para "
                          "decir si los caminos son alternativos o paralelos.")


def fake_join(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.type not in GATEWAYS and len(n.incoming) > 1:
            yield finding(m, n.id, "fake-join", WARNING,
                          f"Llegan varias flechas a este elemento ({n.label}) sin compuerta (unión implícita): "
                          "una los caminos con una compuerta antes de él.")


def no_gateway_join_fork(m: Model) -> Iterator[Finding]:
    for n in m.by_type(*GATEWAYS):
        if len(n.incoming) > 1 and len(n.outgoing) > 1:
            yield finding(m, n.id, "no-gateway-join-fork", WARNING,
                          "La compuerta une y divide a la vez: use una compuerta para unir y otra para dividir.")


def superfluous_gateway(m: Model) -> Iterator[Finding]:
    for n in m.by_type(*GATEWAYS):
        if len(n.incoming) == 1 and len(n.outgoing) == 1:
            yield finding(m, n.id, "superfluous-gateway", WARNING,
                          "La compuerta tiene una sola entrada y una sola salida: bórrela y conecte los pasos.")


def no_complex_gateway(m: Model) -> Iterator[Finding]:
    for n in m.by_type("complexGateway"):
        yield finding(m, n.id, "no-complex-gateway", ERROR,
                      "El motor no ejecuta compuertas complejas: use una compuerta exclusiva, inclusiva o paralela.")


def conditional_flows(m: Model) -> Iterator[Finding]:
    for n in m.by_type("exclusiveGateway", "inclusiveGateway"):
        if len(n.outgoing) < 2:
            continue
        for fid in n.outgoing:
            if not m.flows[fid].condition and n.el.get("default") != fid:
                yield finding(m, fid, "conditional-flows", WARNING,
                              "Esta salida de la compuerta no tiene condición ni es la salida por defecto: "
                              "escriba la condición o márquela como salida por defecto.")


def label_required(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.name or n.type == "parallelGateway":
            continue
        if n.type in GATEWAYS and len(n.outgoing) < 2:
            continue  # a joining gateway needs no question
        if n.type == "eventBasedGateway":
            continue
        yield finding(m, n.id, "label-required", WARNING,
                      f"Elemento sin nombre ({n.label}): escriba qué ocurre en él para que se lea el diagrama.")


def single_blank_start_event(m: Model) -> Iterator[Finding]:
    containers = [p.get("id") for p in m.processes] + [n.id for n in m.by_type(*CONTAINERS)]
    for c in containers:
        blank = [n for n in m.children(c) if n.type == "startEvent" and not n.event_definitions()]
        if len(blank) > 1:
            for n in blank[1:]:
                yield finding(m, n.id, "single-blank-start-event", WARNING,
                              "Hay más de un evento de inicio simple: deje uno solo o dele a este un disparador.")


def single_event_definition(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if len(n.event_definitions()) > 1:
            yield finding(m, n.id, "single-event-definition", ERROR,
                          "El evento tiene varios disparadores y el motor solo atiende uno: divídalo en varios "
                          "eventos.")


def event_sub_process_typed_start_event(m: Model) -> Iterator[Finding]:
    for sub in m.nodes.values():
        if _event_subprocess(sub):
            for n in m.children(sub.id):
                if n.type == "startEvent" and not n.event_definitions():
                    yield finding(m, n.id, "event-sub-process-typed-start-event", ERROR,
                                  "El inicio de un subproceso de evento necesita un disparador (mensaje, "
                                  "temporizador, señal, error…): elija uno.")


def no_duplicate_sequence_flows(m: Model) -> Iterator[Finding]:
    seen = Counter((f.source, f.target, f.condition) for f in m.flows.values())
    reported = set()
    for f in m.flows.values():
        key = (f.source, f.target, f.condition)
        if seen[key] > 1 and key in reported:
            yield finding(m, f.id, "no-duplicate-sequence-flows", WARNING,
                          "Esta flecha repite otra entre los mismos elementos: bórrela.")
        reported.add(key)


def no_bpmndi(m: Model) -> Iterator[Finding]:
    drawn = {el.get("bpmnElement") for el in m.root.iter() if local(el) in ("BPMNShape", "BPMNEdge")}
    if not drawn:
        yield finding(m, "", "no-bpmndi", WARNING,
                      "El archivo no tiene dibujo (BPMN DI): ábralo en un modelador y guárdelo para ubicar los "
                      "elementos.")
        return
    for n in m.nodes.values():
        if n.id not in drawn:
            yield finding(m, n.id, "no-bpmndi", WARNING,
                          f"Elemento que no aparece en el dibujo ({n.label}): ubíquelo en el diagrama.")


def link_event(m: Model) -> Iterator[Finding]:
    def link_names(kind: str) -> dict[str, str]:
        out = {}
        for n in m.by_type(kind):
            for d in n.el:
                if local(d) == "linkEventDefinition":
                    out[n.id] = d.get("name", "") or n.name
        return out

    throws, catches = link_names("intermediateThrowEvent"), link_names("intermediateCatchEvent")
    for nid, name in throws.items():
        if name not in catches.values():
            yield finding(m, nid, "link-event", ERROR,
                          f"El enlace «{name}» no tiene un evento de enlace que lo reciba con el mismo nombre: "
                          "dibuje la captura o corrija el nombre.")


RULES: list[Rule] = [
    start_event_required, end_event_required, no_disconnected, no_implicit_start, no_implicit_end,
    no_implicit_split, fake_join, no_gateway_join_fork, superfluous_gateway, no_complex_gateway, conditional_flows,
    label_required, single_blank_start_event, single_event_definition, event_sub_process_typed_start_event,
    no_duplicate_sequence_flows, no_bpmndi, link_event,
]

__all__ = ["RULES", "finding", "BPMN"]
