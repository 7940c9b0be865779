"""The manager console through the API (``/api/v1/monitor``): the same service calls and permissions as
the pages. Each list also as ``?format=csv`` or ``?format=xlsx``; actions are POSTs with a JSON body.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, g, request

from engine.errors import InvalidInput
from web.api import _body, respond, token_required
from web.monitor import stalled_filters
from web.security import tramita

bp = Blueprint("api_monitor", __name__, url_prefix="/api/v1/monitor")


def _export(what: str, **filters: Any) -> Response | None:
    fmt = request.args.get("format")
    if not fmt or fmt == "json":
        return None
    body, mimetype, filename = tramita().oversight.export(g.api_user, what, fmt, **filters)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/overview")
@token_required
def overview():  # type: ignore[no-untyped-def]
    return _export("overview") or respond(asdict(tramita().oversight.overview(g.api_user)))


@bp.get("/stalled")
@token_required
def stalled():  # type: ignore[no-untyped-def]
    filters = stalled_filters(request.args)
    exported = _export("stalled", **filters)
    if exported is not None:
        return exported
    rows = tramita().oversight.stalled(g.api_user, **filters)
    return respond([dict(asdict(r), reason_label=r.reason_label) for r in rows])


@bp.get("/workload")
@token_required
def workload():  # type: ignore[no-untyped-def]
    return _export("workload") or respond([asdict(x) for x in tramita().oversight.workload(g.api_user)])


@bp.get("/charts")
@token_required
def charts():  # type: ignore[no-untyped-def]
    return _export("terms") or respond(tramita().oversight.charts(g.api_user))


@bp.get("/heatmap/<key>")
@token_required
def heatmap(key: str):  # type: ignore[no-untyped-def]
    version = request.args.get("version")
    if version is not None and not version.isdigit():
        raise InvalidInput("version debe ser un número entero positivo.", field="version")
    heat = tramita().oversight.heatmap(g.api_user, key, int(version) if version else None)
    return respond({"process_key": heat.process_key, "version": heat.version, "name": heat.name,
                    "elements": [asdict(e) for e in heat.elements]})


@bp.post("/actions")
@token_required
def actions():  # type: ignore[no-untyped-def]
    """``{"action": "retry|cancel|suspend|resume", "instances": [ids], "reason": "..."}``: a result per case."""
    body = _body()
    ids = body.get("instances")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("instances debe ser una lista de números de caso.", field="instances")
    results = tramita().oversight.bulk(g.api_user, str(body.get("action") or ""), ids, str(body.get("reason") or ""))
    return respond({"results": [asdict(r) for r in results]})


@bp.post("/tasks/<task_id>/reassign")
@token_required
def reassign(task_id: str):  # type: ignore[no-untyped-def]
    """``{"to": "username", "reason": "..."}``; ``"to": null`` releases the task to its group."""
    body = _body()
    reason = str(body.get("reason") or "")
    if body.get("to") is None:
        tramita().oversight.release(g.api_user, task_id, reason)
    else:
        tramita().oversight.reassign(g.api_user, task_id, str(body["to"]), reason)
    return respond({"task": task_id, "assignee": body.get("to")})


