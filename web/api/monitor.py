"""The manager console through the API (``/api/v1/monitor``): the same service calls and permissions as
the pages. Each list also as ``?format=csv`` or ``?format=xlsx``; actions are POSTs with a JSON body.

Every route declares its contract (``@operation``), so ``/api/v1/openapi.json`` describes it and an
unknown or out-of-range query parameter is refused before the route runs.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, g

from engine.errors import InvalidInput
from engine.services.oversight import MAX_BULK
from web.api import respond, token_required
from web.api.contract import MAX_ID, operation
from web.monitor import stalled_filters
from web.security import tramita

bp = Blueprint("api_monitor", __name__, url_prefix="/api/v1/monitor")

_MANAGERS = "Managers see their institution's cases, admins all."
_FORMAT = {"format": {"enum": ["json", "csv", "xlsx"], "default": "json"}}
_FILES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_FORMAT_TEXT = {"format": "json (default), csv (UTF-8 with a byte-order mark) or xlsx: a file without "
                          "identifying or sensitive data (the forms' x-clasificacion decides)"}
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 255}
_COUNT = {"type": "integer", "minimum": 0}
_BREAKDOWN = {"type": "array", "items": {"type": "object", "properties": {
    "process_key": {"type": "string"}, "process_name": {"type": ["string", "null"]},
    "step": {"type": ["string", "null"]}, "step_title": {"type": ["string", "null"]}, "count": _COUNT}}}
OVERVIEW: dict[str, Any] = {
    "type": "object", "required": ["open_cases", "overdue_tasks", "due_soon_tasks", "error_cases", "stalled_cases"],
    "properties": {"open_cases": _COUNT, "overdue_tasks": _COUNT, "due_soon_tasks": _COUNT, "error_cases": _COUNT,
                   "stalled_cases": _COUNT, "overdue_by_step": _BREAKDOWN, "due_soon_by_step": _BREAKDOWN,
                   "open_by_process": _BREAKDOWN, "error_by_process": _BREAKDOWN}}
STALLED: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "required": ["instance_id", "reason", "since", "late_seconds"], "properties": {
        "instance_id": {"type": "integer"}, "reference": {"type": ["string", "null"]},
        "process_key": {"type": "string"}, "process_name": {"type": ["string", "null"]},
        "step": {"type": ["string", "null"]}, "step_title": {"type": ["string", "null"]},
        "holder": {"type": ["string", "null"], "description": "the assignee, else grupo:<candidate group>"},
        "reason": {"enum": ["overdue", "idle", "timer", "message", "error"]}, "reason_label": {"type": "string"},
        "since": {"type": "string", "format": "date-time"}, "late_seconds": _COUNT,
        "citation": {"type": ["string", "null"], "description": "the article that sets the term or threshold"}}}}
WORKLOAD: dict[str, Any] = {"type": "array", "items": {"type": "object", "properties": {
    "kind": {"enum": ["person", "group"]}, "who": {"type": "string"}, "open_tasks": _COUNT, "overdue_tasks": _COUNT}}}
CHARTS: dict[str, Any] = {"type": "object", "properties": {
    "weekly": {"type": "object", "description": "cases opened and closed per week"},
    "hours": {"type": "object", "description": "time to complete the steps counted in hours against their term"},
    "terms": {"type": "array", "description": "share of each step completed within its legal term"}}}
HEATMAP: dict[str, Any] = {"type": "object", "required": ["process_key", "version", "elements"], "properties": {
    "process_key": {"type": "string"}, "version": {"type": "integer"}, "name": {"type": ["string", "null"]},
    "elements": {"type": "array", "items": {"type": "object", "properties": {
        "element": {"type": "string"}, "title": {"type": ["string", "null"]}, "open_tasks": _COUNT, "overdue": _COUNT,
        "completed": _COUNT, "median_hours": {"type": ["number", "null"]}, "p90_hours": {"type": ["number", "null"]},
        "within_term": {"type": ["number", "null"], "minimum": 0, "maximum": 1}}}}}}
ACTIONS_REQUEST: dict[str, Any] = {"type": "object", "required": ["action", "instances", "reason"], "properties": {
    "action": {"enum": ["retry", "cancel", "suspend", "resume"]},
    "instances": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                  "minItems": 1, "maxItems": MAX_BULK, "description": "case numbers (ids)"},
    "reason": {"type": "string", "description": "why, kept in each case's audit trail"}}}
RESULTS: dict[str, Any] = {"type": "object", "properties": {"results": {"type": "array", "items": {
    "type": "object", "properties": {"instance_id": {"type": "integer"}, "done": {"type": "boolean"},
                                     "message": {"type": "string"}, "reference": {"type": ["string", "null"]}}}}}}
REASSIGN_REQUEST: dict[str, Any] = {"type": "object", "required": ["reason"], "properties": {
    "to": {"type": ["string", "null"], "description": "a user of the group of the task's lane; null releases it"},
    "reason": {"type": "string"}}}
REASSIGNED: dict[str, Any] = {"type": "object", "properties": {"task": {"type": "string"},
                                                                "assignee": {"type": ["string", "null"]}}}


def _export(what: str, **filters: Any) -> Response | None:
    fmt = g.query.get("format", "json")
    if fmt == "json":
        return None
    body, mimetype, filename = tramita().oversight.export(g.api_user, what, fmt, **filters)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/overview")
@token_required
@operation(f"Open cases, overdue and due-soon tasks, cases in error and stalled, by procedure and step. {_MANAGERS}",
           ok=(200, "The overview", OVERVIEW), query=_FORMAT, descriptions=_FORMAT_TEXT, files=_FILES)
def overview():  # type: ignore[no-untyped-def]
    return _export("overview") or respond(asdict(tramita().oversight.overview(g.api_user)))


@bp.get("/stalled")
@token_required
@operation(f"Stalled cases with their reason (overdue, idle, timer, message, error), step, holder, since when and "
           f"how late, filtered and sorted. {_MANAGERS}", ok=(200, "The stalled rows", STALLED),
           query={**_FORMAT, "procedimiento": _TEXT, "motivo": _TEXT, "paso": _TEXT, "responsable": _TEXT,
                  "orden": _TEXT, "desc": {"enum": ["0", "1"]}},
           descriptions={**_FORMAT_TEXT, "procedimiento": "a procedure's key",
                         "motivo": "overdue, idle, timer, message or error", "paso": "a step (BPMN element id)",
                         "responsable": "a username, or grupo:<group>",
                         "orden": "caso, procedimiento, paso, responsable, motivo, desde or retraso (default)",
                         "desc": "1: descending"}, files=_FILES)
def stalled():  # type: ignore[no-untyped-def]
    filters = stalled_filters(g.query)
    exported = _export("stalled", **filters)
    if exported is not None:
        return exported
    rows = tramita().oversight.stalled(g.api_user, **filters)
    return respond([dict(asdict(r), reason_label=r.reason_label) for r in rows])


@bp.get("/workload")
@token_required
@operation(f"Open and overdue tasks per person and per group. {_MANAGERS}", ok=(200, "The workload", WORKLOAD),
           query=_FORMAT, descriptions=_FORMAT_TEXT, files=_FILES)
def workload():  # type: ignore[no-untyped-def]
    return _export("workload") or respond([asdict(x) for x in tramita().oversight.workload(g.api_user)])


@bp.get("/charts")
@token_required
@operation(f"The trend charts' data: weekly cases, hour terms, share within the legal term per step; as a file, the "
           f"share per step. {_MANAGERS}", ok=(200, "Chart data", CHARTS), query=_FORMAT, descriptions=_FORMAT_TEXT,
           files=_FILES)
def charts():  # type: ignore[no-untyped-def]
    return _export("terms") or respond(tramita().oversight.charts(g.api_user))


@bp.get("/heatmap/<key>")
@token_required
@operation(f"Per element of a procedure's version: open tasks, overdue, median and p90 hours, share within term. "
           f"{_MANAGERS}", ok=(200, "The heatmap", HEATMAP),
           query={"version": {"type": "integer", "minimum": 1}},
           descriptions={"key": "the procedure's key", "version": "a version number (default: the newest)"})
def heatmap(key: str):  # type: ignore[no-untyped-def]
    heat = tramita().oversight.heatmap(g.api_user, key, g.query.get("version"))
    return respond({"process_key": heat.process_key, "version": heat.version, "name": heat.name,
                    "elements": [asdict(e) for e in heat.elements]})


@bp.post("/actions")
@token_required
@operation(f"Retry, cancel, suspend or resume cases, each in its own transaction, with a reason: a result per case "
           f"(done, or refused and why); one failing case never stops the others. {_MANAGERS}",
           ok=(200, "A result per case", RESULTS), body=ACTIONS_REQUEST, body_required=True)
def actions():  # type: ignore[no-untyped-def]
    body = g.body
    ids = body.get("instances")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("instances debe ser una lista de números de caso.", field="instances")
    results = tramita().oversight.bulk(g.api_user, str(body.get("action") or ""), ids, str(body.get("reason") or ""))
    return respond({"results": [asdict(r) for r in results]})


@bp.post("/tasks/<task_id>/reassign")
@token_required
@operation(f"Give an open task, held or not, to a user of its lane's group (`to`), or release it to the group "
           f"(`to`: null), with a reason. {_MANAGERS}", ok=(200, "Reassigned", REASSIGNED), body=REASSIGN_REQUEST,
           body_required=True, descriptions={"task_id": "the task's id"})
def reassign(task_id: str):  # type: ignore[no-untyped-def]
    body = g.body
    reason = str(body.get("reason") or "")
    if body.get("to") is None:
        tramita().oversight.release(g.api_user, task_id, reason)
    else:
        tramita().oversight.reassign(g.api_user, task_id, str(body["to"]), reason)
    return respond({"task": task_id, "assignee": body.get("to")})
