"""Every variable a gateway, timer or script reads is written somewhere: a form, a script, a decision,
a message or the start call. With a start form, data can only come from the diagram (error);
without one, the API call that starts the case may bring it (warning).
"""

from __future__ import annotations

import ast
import builtins
from typing import Any, Iterator

from lxml import etree

from engine.deploy.lint.context import LintContext
from engine.deploy.lint.findings import ERROR, WARNING, Finding
from engine.deploy.lint.model import BPMN, SPIFF_NS, Model, local, owner_id
from engine.deploy.lint.rules_bpmn import finding
from engine.script.helpers import HELPERS, PUBLISHED

# What every script sees besides the case data: the helpers (and those bound to the database: folio,
# inscribir), the legal parameters and the case-level facts scripts publish (orden_vigente).
ALWAYS = ({"parametros", "True", "False", "None", "folio", "inscribir"} | set(HELPERS) | set(PUBLISHED)
          | set(dir(builtins)))
_READ_TAGS = {"conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
              "completionCondition"}
_SCRIPT_TAGS = {"script", "preScript", "postScript"}
_RELEVANT = _READ_TAGS | _SCRIPT_TAGS | {"property", "calledDecisionId", "messageVariable", "resultVariable",
                                        "inputDataItem", "outputDataItem"}


def _names(text: str, mode: str) -> tuple[set[str], set[str]]:
    """(read, written) names of an expression or script; comprehension and loop variables count as written."""
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError:
        return set(), set()
    read, written = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (written if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = node.args
            written.update(a.arg for a in args.args + args.kwonlyargs + args.posonlyargs)
            if isinstance(node, ast.FunctionDef):
                written.add(node.name)
    return read - written, written


def _form_fields(schema: dict[str, Any] | None) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    fields = set(schema.get("properties", {}) or {})
    for part in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(part, []) or []:
            fields |= _form_fields(sub)
    for key in ("then", "else"):
        fields |= _form_fields(schema.get(key))
    for sub in (schema.get("dependentSchemas") or {}).values():
        fields |= _form_fields(sub)
    return fields


def _process_of(m: Model, element_id: str) -> str:
    node = m.nodes.get(element_id)
    while node is not None and node.container in m.nodes:
        node = m.nodes[node.container]
    return node.container if node is not None else ""


def variables(m: Model, ctx: LintContext) -> Iterator[Finding]:
    written: dict[str, set[str]] = {}  # process id -> names written anywhere in it
    start_form: dict[str, bool] = {}
    open_ended: set[str] = set()  # processes where a call or unknown decision may write anything
    reads: list[tuple[str, str, str, set[str]]] = []  # (element, process, text, names)
    for n in m.nodes.values():
        pid = _process_of(m, n.id)
        w = written.setdefault(pid, set())
        form = n.spiff_property("formJsonSchemaFilename")
        if form:
            schema = ctx.form(form)
            if schema is None:
                open_ended.add(pid)
            w |= _form_fields(schema)
            if n.type == "startEvent" and n.container == pid:
                start_form[pid] = True
        if n.type == "callActivity":
            open_ended.add(pid)
    for obj in m.root.iter(BPMN + "dataObject"):
        for pid in written:
            written[pid].add(obj.get("name") or obj.get("id"))
    for el in m.root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el)
        if name not in _RELEVANT:
            continue
        text = (el.text or "").strip()
        owner = owner_id(el)
        pid = _process_of(m, owner) if owner in m.nodes else _flow_process(m, owner)
        if name == "calledDecisionId":
            outs = ctx.decision_outputs.get(text)
            if outs is None:
                open_ended.add(pid)
            else:
                written.setdefault(pid, set()).update(outs)
        elif name in ("messageVariable", "resultVariable") and text:
            written.setdefault(pid, set()).add(text)
        elif name in ("inputDataItem", "outputDataItem") and (el.get("name") or el.get("id")):
            written.setdefault(pid, set()).add(el.get("name") or el.get("id"))
        elif name in _SCRIPT_TAGS and text:
            r, w = _names(text, "exec")
            written.setdefault(pid, set()).update(w)
            reads.append((owner, pid, text, r))
        elif name in _READ_TAGS and text and etree.QName(el).namespace == BPMN[1:-1]:
            reads.append((owner, pid, text, _names(text, "eval")[0]))
        elif name == "property" and etree.QName(el).namespace == SPIFF_NS and el.get("name") == "dueDate":
            reads.append((owner, pid, el.get("value", ""), _names(el.get("value", ""), "eval")[0]))
    for owner, pid, text, names in reads:
        if pid in open_ended:
            continue
        missing = sorted(names - ALWAYS - written.get(pid, set()))
        if not missing:
            continue
        severity = ERROR if start_form.get(pid) else WARNING
        source = ("el formulario de inicio ni ningún paso" if start_form.get(pid)
                  else "ningún paso (solo podría venir de quien inicia el caso por la API)")
        yield finding(m, owner, "variable-written-before-read", severity,
                      f"Se lee «{', '.join(missing)}» y no lo escribe {source}: agregue el campo al "
                      "formulario que lo captura o corrija el nombre.")


def _flow_process(m: Model, flow_id: str) -> str:
    flow = m.flows.get(flow_id)
    if flow is None:
        return ""
    return _process_of(m, flow.source)


RULES = [variables]
