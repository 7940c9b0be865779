"""What SpiffWorkflow cannot run, and expressions the sandbox refuses: errors that block a deploy."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from lxml import etree

from engine.bpmn import safe_xml
from engine.deploy.lint import iso
from engine.deploy.lint.findings import ERROR, Finding
from engine.deploy.lint.model import BPMN, SPIFF_NS, Model, local, owner_id
from engine.deploy.lint.rules_bpmn import finding
from engine.script import sandbox

_EXPRESSIONS = {
    "conditionExpression": "la condición", "condition": "la condición", "loopCardinality": "la cardinalidad",
    "completionCondition": "la condición de término", "loopCondition": "la condición del ciclo",
    "timeDate": "el temporizador", "timeDuration": "el temporizador", "timeCycle": "el temporizador",
}
_SCRIPTS = {(safe_xml.BPMN_NS, "script"), (SPIFF_NS, "preScript"), (SPIFF_NS, "postScript")}

_SANDBOX_ES = [
    (r"imports are not allowed", "no se permite importar módulos"),
    (r"'(\w+)' is not allowed", r"no se permite usar «\1»"),
    (r"attribute '(\w+)' is not allowed", r"no se permite el atributo «\1»"),
    (r"invalid (expression|script): (.*) \(line (\d+)\)", r"no es Python válido (\2, línea \3)"),
    (r"(\w+) statements are not allowed", r"no se permiten instrucciones \1"),
    (r'Line (\d+): "([^"]+)" is an invalid (variable|attribute) name because it starts with "_"',
     r"«\2» empieza con «_», lo que no se permite (línea \1)"),
    (r"Line (\d+): (.*)", r"\2 (línea \1)"),
]


def spanish(reason: str) -> str:
    """The sandbox's reason in Spanish, without object reprs."""
    reason = re.sub(r"<[^>]* at 0x[0-9a-f]+>", "", reason)
    parts = []
    for part in reason.split("; "):
        for pattern, repl in _SANDBOX_ES:
            if re.fullmatch(pattern, part):
                part = re.sub(pattern, repl, part)
                break
        parts.append(part)
    return "; ".join(parts)


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def executable(m: Model) -> Iterator[Finding]:
    if m.processes and not m.executable():
        p = m.processes[0]
        yield finding(m, p.get("id"), "process-executable", ERROR,
                      "Ningún proceso del archivo es ejecutable (isExecutable=\"false\"): marque el proceso como "
                      "ejecutable en el panel de propiedades o el motor no podrá iniciarlo.")


def unsupported(m: Model) -> Iterator[Finding]:
    for n in m.nodes.values():
        if n.type == "serviceTask" and not any(local(c) == "serviceTaskOperator" for c in n.el.iter()):
            yield finding(m, n.id, "engine-support", ERROR,
                          "El motor no llama servicios externos: convierta la tarea de servicio en tarea de "
                          "script, de usuario o de regla de negocio.")
        if n.type == "businessRuleTask" and not any(local(c) == "calledDecisionId" for c in n.el.iter()):
            yield finding(m, n.id, "engine-support", ERROR,
                          "La tarea de regla de negocio no dice qué tabla de decisión aplica: elija la tabla.")
        if n.type == "callActivity" and not n.el.get("calledElement"):
            yield finding(m, n.id, "engine-support", ERROR,
                          "La actividad de llamada no dice qué procedimiento llama: escriba su clave.")


def expressions(m: Model) -> Iterator[Finding]:
    for node in m.root.iter():
        if not isinstance(node.tag, str):
            continue
        qn = etree.QName(node)
        text = (node.text or "").strip()
        if (qn.namespace, qn.localname) in _SCRIPTS and text:
            yield from _check(m, node, text, "el script", script=True)
        elif qn.namespace == safe_xml.BPMN_NS and qn.localname in _EXPRESSIONS and text:
            if qn.localname.startswith("time"):
                yield from _check_timer(m, node, text, qn.localname)
            else:
                yield from _check(m, node, text, _EXPRESSIONS[qn.localname])
        elif qn.namespace == SPIFF_NS and qn.localname == "property" and node.get("name") == "dueDate":
            value = node.get("value", "")
            if value and not iso.literal_kind(value):
                yield from _check(m, node, value, "el vencimiento (dueDate)")


def _check(m: Model, node: etree._Element, text: str, what: str, script: bool = False) -> Iterator[Finding]:
    try:
        sandbox.check_expression(text, script=script)
    except sandbox.ForbiddenExpression as exc:
        if text.startswith(("${", "#{", "=")) or ":get" in text:
            reason = ("está escrita en JUEL o FEEL (otro motor); Tramita lee expresiones Python, p. ej. "
                      "aprobado == True")
        else:
            reason = spanish(str(exc))
        yield finding(m, owner_id(node), "forbidden-expression", ERROR,
                      f"{what.capitalize()} «{_quote(text)}» no se puede ejecutar: {reason}. "
                      "Corríjala con datos del caso y las funciones permitidas (plazo_habil, plazo_natural, …).")


def _check_timer(m: Model, node: etree._Element, text: str, tag: str) -> Iterator[Finding]:
    if iso.literal_kind(text):
        problem = iso.literal_problem(text, tag)
        if problem:
            yield finding(m, owner_id(node), "timer-iso8601", ERROR, f"Temporizador: {problem}")
        return
    found = list(_check(m, node, text, "el temporizador"))
    if found:
        yield from found
        return
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Constant):
        value = tree.value
        if not isinstance(value, str) or not iso.literal_kind(value):
            yield finding(m, owner_id(node), "timer-iso8601", ERROR,
                          f"Temporizador: «{_quote(text)}» no es una fecha, duración o ciclo ISO 8601 "
                          "(p. ej. PT1H, P7D, R6/P1D): use el grupo Plazo o escriba un valor ISO 8601.")
        else:
            problem = iso.literal_problem(value, tag)
            if problem:
                yield finding(m, owner_id(node), "timer-iso8601", ERROR, f"Temporizador: {problem}")


RULES = [executable, unsupported, expressions]
