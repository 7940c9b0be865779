"""The deploy lint of diagram code: every expression, script and payload the sandbox would refuse,
timers SpiffWorkflow would read in the server's local time, a literal ``loopCardinality`` over the
limit, and the limits a process sets for its own code (it may lower the server's, never raise them).
"""

from __future__ import annotations

import ast
from datetime import datetime

from lxml import etree

from engine.bpmn import safe_xml
from engine.errors import DeploymentRejected
from engine.script import lint, sandbox

SPIFF = "{%s}" % safe_xml.SPIFF_NS
BPMN = "{%s}" % safe_xml.BPMN_NS


_EXPRESSION_TAGS = {
    BPMN + "conditionExpression": "condition",
    BPMN + "timeDate": "timeDate",
    BPMN + "timeDuration": "timeDuration",
    BPMN + "timeCycle": "timeCycle",
    BPMN + "condition": "condition",
    BPMN + "loopCardinality": "expression",
    BPMN + "completionCondition": "expression",
    BPMN + "loopCondition": "expression",
    BPMN + "formalExpression": "expression",  # a correlation property's retrieval expression
    SPIFF + "messagePayload": "expression",
    SPIFF + "payloadExpression": "expression",  # signal, error and escalation payloads
    SPIFF + "expression": "expression",  # a process correlation
}
_SCRIPT_TAGS = {BPMN + "script", SPIFF + "preScript", SPIFF + "postScript"}
LIMIT_PREFIX = "limit."


def diagram_limits(root: etree._Element, pid: str) -> dict[str, float]:
    """The budget a process lowers for its own code (``<spiffworkflow:property name="limit.steps" value="1000"/>``
    on the process): checked against the server's, since a diagram may lower a limit, never raise it."""
    wanted: dict[str, float] = {}
    server = sandbox.server_limits()
    for process in root.iter(BPMN + "process"):
        if process.get("id") != pid:
            continue
        for prop in process.iterfind(f"{BPMN}extensionElements/{SPIFF}properties/{SPIFF}property"):
            name = prop.get("name") or ""
            if not name.startswith(LIMIT_PREFIX):
                continue
            key, raw = name[len(LIMIT_PREFIX):], (prop.get("value") or "").strip()
            if not hasattr(server, key):
                raise DeploymentRejected(f"process {pid}: unknown limit {name!r}; known: "
                                         f"{', '.join(LIMIT_PREFIX + k for k in vars(server))}", field="files")
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not value > 0 or value == float("inf"):
                raise DeploymentRejected(f"process {pid}: limit {name} must be a positive number, not {raw!r}",
                                         field="files")
            if value > getattr(server, key):
                raise DeploymentRejected(f"process {pid}: limit {name}={raw} is over the server's "
                                         f"{getattr(server, key):g} ({sandbox.Limits.variable(key)}); a diagram "
                                         "may lower a limit, never raise it", field="files")
            wanted[key] = value
    return wanted


def _owner(node: etree._Element) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else "?"


def lint_expressions(root: etree._Element, filename: str) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        text = (node.text or "").strip()
        try:
            if node.tag in _SCRIPT_TAGS and text:
                sandbox.check_expression(text, script=True)
            elif node.tag in _EXPRESSION_TAGS and text:
                sandbox.check_expression(text)
                if _EXPRESSION_TAGS[node.tag].startswith("time"):
                    _check_timer(text, _EXPRESSION_TAGS[node.tag])
                if node.tag == BPMN + "loopCardinality":
                    _check_cardinality(text)
            elif node.tag == SPIFF + "property" and node.get("name") == "dueDate":
                sandbox.check_expression(node.get("value", ""))
            elif etree.QName(node).localname == "text" and etree.QName(node).namespace in safe_xml.DMN_NAMESPACES:
                check_dmn_text(node, text)
        except sandbox.ForbiddenExpression as exc:
            raise DeploymentRejected(f"{filename}, element {_owner(node)}: forbidden expression: {exc}",
                                     field="files") from None


def check_dmn_text(node: etree._Element, text: str) -> None:
    """A DMN cell as the engine evaluates it: an input entry is a test against the input (``== x`` or
    ``< 5``), anything else an expression; ``ForbiddenExpression`` when the sandbox refuses it."""
    if not text or text == "-":
        return
    parent = etree.QName(node.getparent()).localname
    if parent == "inputEntry":
        candidate = text.replace("?", "dmninputexpr")
        try:
            sandbox.check_expression(f"(dmninputexpr) == ({candidate})")
        except sandbox.ForbiddenExpression:
            sandbox.check_expression(f"dmninputexpr {candidate}")
    else:
        sandbox.check_expression(text)


def _check_cardinality(text: str) -> None:
    """A literal ``loopCardinality`` over the server's limit could only ever end in an incident."""
    limit = sandbox.server_limits().instances
    count = lint.literal_int(text, sandbox.server_limits())
    if count is not None and count > limit:
        raise sandbox.ForbiddenExpression(f"loopCardinality {count:,} is over the limit of {limit:,} instances "
                                          f"({sandbox.Limits.variable('instances')})")


def _check_timer(text: str, kind: str) -> None:
    """Refuse literal timers that SpiffWorkflow would read in the server's local time."""
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        value = tree.value
        if kind == "timeDate":
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise sandbox.ForbiddenExpression(f"timer date {value!r} is not an ISO 8601 date-time") from None
            if parsed.tzinfo is None:
                raise sandbox.ForbiddenExpression(f"timer date {value!r} has no UTC offset")
        elif kind == "timeCycle" and "/" in value:
            start = value.split("/")[1]
            if "T" in start and not (start.endswith("Z") or "+" in start[10:] or "-" in start[10:]):
                raise sandbox.ForbiddenExpression(f"timer cycle start {start!r} has no UTC offset")
    elif isinstance(tree, ast.Constant):
        raise sandbox.ForbiddenExpression("a timer expression must return an ISO 8601 string with its UTC offset")
