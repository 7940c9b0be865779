"""Tramita's rules: legal basis, deadlines from a Plazo, who receives each task, forms, message routes."""

from __future__ import annotations

from typing import Iterator

from engine.deploy.lint import iso, plazo
from engine.deploy.lint.context import LintContext
from engine.deploy.lint.findings import ERROR, WARNING, Finding
from engine.deploy.lint.model import BPMN, CAMUNDA_NS, TRAMITA, Model, Node, local
from engine.deploy.lint.rules_bpmn import finding


def legal_basis(m: Model, ctx: LintContext) -> Iterator[Finding]:
    for n in m.nodes.values():
        found = n.fundamentos()
        if not found:
            yield finding(m, n.id, "legal-basis", WARNING,
                          f"Falta el fundamento legal de este elemento ({n.label}): en el grupo Tramita, "
                          "escriba la ley, el artículo y, si aplica, la fracción o el párrafo.")
        for f in found:
            if not f.ley.strip() or not f.articulo.strip():
                yield finding(m, n.id, "legal-basis", WARNING,
                              "El fundamento legal está incompleto: escriba la ley y el artículo.")


def _timer_texts(n: Node) -> list[tuple[str, str]]:
    out = []
    for d in n.el:
        if local(d) == "timerEventDefinition":
            for t in d:
                if local(t) in ("timeDate", "timeDuration", "timeCycle"):
                    out.append((local(t), (t.text or "").strip()))
    return out


def _is_literal(text: str) -> bool:
    if iso.literal_kind(text):
        return True
    quoted = text.strip()
    return len(quoted) > 2 and quoted[0] == quoted[-1] and quoted[0] in "'\"" and bool(iso.literal_kind(quoted[1:-1]))


def deadlines(m: Model, ctx: LintContext) -> Iterator[Finding]:
    for n in m.nodes.values():
        texts = _timer_texts(n)
        due = n.spiff_property("dueDate")
        if due:
            texts.append(("dueDate", due))
        p = n.plazo()
        for kind, text in texts:
            if p is not None:
                try:
                    expected = plazo.expression(p)
                except plazo.PlazoError as exc:
                    yield finding(m, n.id, "plazo", ERROR, f"El Plazo no se puede calcular: {exc}.")
                    continue
                if not plazo.same(expected, text):
                    yield finding(m, n.id, "plazo", WARNING,
                                  f"El temporizador «{text[:80]}» no coincide con su Plazo ({plazo.words(p)}): "
                                  "vuelva a guardar el Plazo en el grupo Tramita para reescribirlo.")
            elif text and not _is_literal(text) and not (kind == "dueDate" and text.isidentifier()):
                what = "El vencimiento" if kind == "dueDate" else "El temporizador"
                yield finding(m, n.id, "plazo", WARNING,
                              f"{what} «{text[:80]}» está escrito a mano: expréselo en el grupo Plazo (cantidad, "
                              "unidad, desde qué fecha y artículo) o como un valor ISO 8601 (PT1H, P7D).")


def _lane_of(m: Model) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in m.root.iter(BPMN + "lane"):
        for ref in lane.iter(BPMN + "flowNodeRef"):
            if ref.text and lane.get("name"):
                lanes[ref.text.strip()] = lane.get("name")
            if ref.text and lane.get(TRAMITA + "grupo"):
                lanes[ref.text.strip()] = GROUP_PREFIX + lane.get(TRAMITA + "grupo")
    return lanes


GROUP_PREFIX = "\x00grupo:"  # a lane whose Grupo the studio set: routed to that group whatever lanes.toml says


def user_tasks(m: Model, ctx: LintContext) -> Iterator[Finding]:
    lanes = _lane_of(m)
    for n in m.by_type("userTask"):
        form = n.spiff_property("formJsonSchemaFilename")
        if not form:
            if not n.el.get("{%s}formKey" % CAMUNDA_NS):
                yield finding(m, n.id, "user-task-form", WARNING,
                              "La tarea de usuario no tiene formulario: elija uno en el grupo Tramita "
                              "(Formulario) para que quien la atienda capture los datos.")
        elif ctx.form(form) is None:
            yield finding(m, n.id, "user-task-form", ERROR,
                          f"El formulario «{form}» no está en el paquete ni desplegado: agréguelo o elija otro.")
        lane, node = None, n
        while node is not None and lane is None:
            lane = lanes.get(node.id)
            node = m.nodes.get(node.container)
        routed = n.el.get("{%s}candidateGroups" % CAMUNDA_NS) or n.el.get("{%s}assignee" % CAMUNDA_NS)
        if routed:
            continue
        if lane is None:
            yield finding(m, n.id, "user-task-group", WARNING,
                          "La tarea de usuario no está en ningún carril: nadie la recibiría. Dibújela dentro del "
                          "carril del grupo que la atiende.")
        elif ctx.lanes and lane not in ctx.lanes and not lane.startswith(GROUP_PREFIX):
            yield finding(m, n.id, "user-task-group", WARNING,
                          f"El carril «{lane}» no tiene grupo en lanes.toml: nadie recibiría la tarea. Elija el "
                          "grupo del carril en el grupo Tramita (Grupo).")


_CAMUNDA = {
    "candidateGroups": "Tramita envía la tarea al primer grupo de candidateGroups; prefiera dibujarla en el "
                       "carril de ese grupo.",
    "candidateUsers": "Tramita no asigna por persona (candidateUsers): dibuje la tarea en el carril del grupo "
                      "que la atiende.",
    "assignee": "Tramita envía la tarea al grupo del carril y no a una persona fija (assignee): dibújela en el "
                "carril de quien la atiende.",
    "dueDate": "Tramita no lee camunda:dueDate: exprese el vencimiento en el grupo Plazo.",
    "formKey": "Tramita no lee camunda:formKey: elija el formulario en el grupo Tramita (Formulario).",
}


def camunda_attributes(m: Model, ctx: LintContext) -> Iterator[Finding]:
    for el in m.root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in el.attrib:
            if attr.startswith("{%s}" % CAMUNDA_NS):
                name = attr.split("}")[1]
                advice = _CAMUNDA.get(name, f"Tramita no lee el atributo camunda:{name}: bórrelo o exprese lo "
                                            "mismo con el grupo Tramita.")
                yield finding(m, el.get("id", ""), "camunda-attribute", WARNING,
                              f"Atributo de Camunda «camunda:{name}=\"{el.get(attr)}\"». {advice}")


def _message_names(m: Model) -> dict[str, str]:
    return {el.get("id"): el.get("name") or el.get("id") for el in m.root.iter(BPMN + "message")}


def messages(m: Model, ctx: LintContext) -> Iterator[Finding]:
    names = _message_names(m)
    thrown: list[tuple[Node, str]] = []
    caught: set[str] = set()
    for n in m.nodes.values():
        refs = [d.get("messageRef") for d in n.el if local(d) == "messageEventDefinition"]
        if n.type in ("sendTask", "receiveTask") and n.el.get("messageRef"):
            refs.append(n.el.get("messageRef"))
        for ref in refs:
            name = names.get(ref or "", ref or "")
            if n.type in ("intermediateThrowEvent", "endEvent", "sendTask"):
                thrown.append((n, name))
            else:
                caught.add(name)
    for n, name in thrown:
        if name and name not in caught and name not in ctx.message_routes and n.id not in m.message_flow_ends:
            yield finding(m, n.id, "message-routed", WARNING,
                          f"Nadie recibe el mensaje «{name}»: dibuje el evento que lo espera o agréguelo a "
                          "messages.toml con el procedimiento que inicia.")


RULES = [legal_basis, deadlines, user_tasks, camunda_attributes, messages]
