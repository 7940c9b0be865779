"""The JSON API under ``/api/v1``: bearer-token auth, the same permissions as the pages.

Errors are JSON bodies that name the field (``TramitaError.to_dict()``) with a
proper 4xx status; ``/api/v1/openapi.json`` describes every endpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, current_app, g, jsonify, request

from engine.errors import BadParameter, Conflict, Forbidden, InvalidInput, InvalidState, TramitaError
from engine.services import InboxFilters, InstanceStatus
from engine.services.terms import now
from web.api import schemas as S
from web.api.contract import operation
from web.api.openapi import spec
from web.cases import events
from web.security import tramita

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Unauthorized(TramitaError):
    code = "unauthorized"
    status = 401


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)  # type: ignore[arg-type]
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def respond(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, default=_default, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Falta el encabezado Authorization: Bearer <token>.", field="Authorization")
        user = tramita().people.user_for_token(token.strip())
        if user is None:
            raise Unauthorized("Token no válido, revocado o de un usuario deshabilitado.", field="Authorization")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def _body() -> dict[str, Any]:
    if not request.data:
        return {}
    try:
        body = json.loads(request.data)
    except ValueError as exc:
        raise InvalidInput(f"El cuerpo no es JSON válido: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("El cuerpo debe ser un objeto JSON.", field="body")
    return body


@bp.errorhandler(TramitaError)
def _error(exc: TramitaError):  # type: ignore[no-untyped-def]
    response = jsonify(exc.to_dict())
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tramita"'
    return response


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(spec(current_app, request.host_url.rstrip("/")))


@bp.get("/processes")
@token_required
@operation("Deployed procedures with their start forms", ok=(200, "Procedures", S.PROCESSES))
def processes():  # type: ignore[no-untyped-def]
    out = []
    for p in tramita().cases.processes(g.api_user):
        form = tramita().cases.start_form(g.api_user, p["key"])
        out.append({**p, "start_form": form.schema, "documentation": form.documentation})
    return respond({"processes": out})


@bp.post("/processes/<key>/instances")
@token_required
@operation("Start a case of a procedure", ok=(201, "Started", S.TRANSITION), body=S.START_REQUEST)
def start(key: str):  # type: ignore[no-untyped-def]
    user = g.api_user
    body = g.body
    result = tramita().cases.start(user, key, body.get("data", {}), reference=body.get("reference"),
                             title=body.get("title"), institution=user.institution, via="api")
    return respond(asdict(result), 201)


@bp.get("/instances/<int:instance_id>")
@token_required
@operation("A case: data (identifying data masked for roles that may not see it), tasks, timers, audit trail",
           ok=(200, "The case", S.INSTANCE))
def instance(instance_id: int):  # type: ignore[no-untyped-def]
    cf = tramita().cases.case_file(g.api_user, instance_id, via="api")
    d = cf.detail
    return respond({"instance": d.instance, "data": d.data, "tasks": d.tasks, "timers": d.timers, "events": d.events,
                    "incidents": d.incidents, "attachments": cf.attachments,
                    "documents": [doc.slug for doc in cf.documents],
                    "identifying_data_visible": cf.access.identifying})


@bp.get("/tasks")
@token_required
@operation("My tasks and my groups' unclaimed tasks, by legal deadline", ok=(200, "A page of tasks with counts",
                                                                          S.TASK_PAGE),
           query=S.TASKS_QUERY, descriptions={"q": "text in the case number or title"})
def tasks():  # type: ignore[no-untyped-def]
    q = g.query
    filters = InboxFilters(scope=q["scope"], process_key=q.get("process"), task=q.get("task"), text=q.get("q"))
    result = tramita().cases.inbox(g.api_user, filters, page=q["page"], per_page=q["per_page"], via="api")
    return respond({"items": result.items, "total": result.total, "page": result.page, "per_page": result.per_page,
                    "pages": result.pages, "counts": result.counts})


@bp.get("/tasks/<task_id>")
@token_required
@operation("A task with its form (JSON Schema), instructions and deadline", ok=(200, "The task", S.TASK_DETAIL))
def task(task_id: str):  # type: ignore[no-untyped-def]
    page = tramita().cases.task(g.api_user, task_id, via="api")
    # case_data: for a caseworker of another institution, what this task lets them see of the case.
    return respond({"task": page.task, "form": page.form, "can_complete": page.access.act,
                    "case_data": page.holder_data})


@bp.post("/tasks/<task_id>/complete")
@token_required
@operation("Complete a task with its form data", ok=(200, "Completed", S.TRANSITION), body=S.COMPLETE_REQUEST)
def complete(task_id: str):  # type: ignore[no-untyped-def]
    body = g.body
    result = tramita().cases.complete(g.api_user, task_id, body.get("data", {}))
    return respond(asdict(result))


# --- external events a case waits for (BPMN messages) ---------------------------------------------


def _message_view(m: dict[str, Any]) -> dict[str, Any]:
    kind = m.get("kind")
    view = {k: v for k, v in m.items() if k != "kind"}
    return {**view, "label": events.label(kind, m["name"], m.get("title")),
            "payload_keys": ["descripcion", *(kind.claves_fecha if kind else ("fecha",))]}


@bp.get("/instances/<int:instance_id>/messages")
@token_required
@operation("The external events the case waits for now (e.g. a violation of the order)",
           ok=(200, "Waiting messages, and whether this user may send them", S.WAITING))
def messages(instance_id: int):  # type: ignore[no-untyped-def]
    grant = tramita().cases.check_case(g.api_user, instance_id, via="api")
    inst = tramita().cases.case_head(g.api_user, instance_id).instance
    return respond({"instance_id": instance_id, "status": inst.status, "revision": inst.revision,
                    "can_send": grant.act and inst.status == InstanceStatus.RUNNING,
                    "messages": [_message_view(m) for m in tramita().cases.waiting_messages(g.api_user, instance_id)]})


@bp.post("/instances/<int:instance_id>/messages/<name>")
@token_required
@operation("Register an event the case waits for (sends its message): only users who may act on the case; "
           "409 with field `message` if the case does not wait for it",
           ok=(200, "Registered; the tasks it opened are among `open_tasks`", S.SENT), body=S.MESSAGE_REQUEST,
           body_required=True, descriptions={"name": "the message, e.g. violacion_orden"}, check_body=False)
def send_message(instance_id: int, name: str):  # type: ignore[no-untyped-def]
    """Register an event the case waits for; the same rule as acting on its tasks, nothing written if refused."""
    grant = tramita().cases.check_case(g.api_user, instance_id, action="message", via="api")
    if not grant.act:
        raise Forbidden("Su rol no permite registrar eventos en este expediente.", field="instance")
    body = g.body
    unknown = sorted(set(body) - {"payload", "revision"})
    if unknown:
        raise InvalidInput(f"Campo no reconocido: {unknown[0]}. Envíe el evento como "
                           '{"payload": {"descripcion": ..., "fecha": ...}}.', field=unknown[0])
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise InvalidInput("payload debe ser un objeto JSON, p. ej. {\"descripcion\": \"...\", "
                           "\"fecha\": \"2026-03-02T10:00:00-07:00\"}.", field="payload")
    revision = body.get("revision")
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise InvalidInput("revision debe ser un entero.", field="revision")
    inst = tramita().cases.case_head(g.api_user, instance_id).instance
    if inst.status != InstanceStatus.RUNNING:
        raise InvalidState(f"El expediente {instance_id} está {inst.status}: no se pueden registrar eventos.",
                           field="instance")
    waiting = [m["name"] for m in tramita().cases.waiting_messages(g.api_user, instance_id)]
    if name not in waiting:
        raise InvalidState(_not_waiting(instance_id, name, waiting), field="message")
    if revision is not None and revision != inst.revision:
        raise Conflict(f"El expediente cambió (revisión {inst.revision}, no {revision}); no se guardó nada.",
                       field="revision")
    checked, errors = events.from_api(tramita().cases.event_kinds(g.api_user).get(name), payload, started_at=inst.started_at, now=now())
    if checked is None:
        raise InvalidInput("Revise los campos del evento; no se guardó nada.", field=next(iter(errors)),
                           fields=errors)
    try:
        result = tramita().cases.send_message(g.api_user, instance_id, name, checked)
    except InvalidState as exc:
        if exc.field != "message":
            raise
        raise InvalidState(_not_waiting(instance_id, name, [m["name"] for m in
                                                            tramita().cases.waiting_messages(g.api_user,
                                                                                             instance_id)]),
                           field="message") from None
    return respond({**asdict(result), "message": name, "payload": checked})


@bp.post("/instances/<int:instance_id>/rectifications")
@token_required
@operation("Rectify a wrong name or date of a running case, with the reason (data protection: right to rectify)",
           ok=(200, "Rectified", S.TRANSITION), body=S.RECTIFY_REQUEST, body_required=True)
def rectify(instance_id: int):  # type: ignore[no-untyped-def]
    """Correct a wrong name or date with the reason (the case page's form, same service method)."""
    body = _body()
    unknown = sorted(set(body) - {"field", "value", "reason"})
    if unknown:
        raise InvalidInput(f"Campo no reconocido: {unknown[0]}. Envíe "
                           '{"field": ..., "value": ..., "reason": ...}.', field=unknown[0])
    for key in ("field", "value", "reason"):
        if not isinstance(body.get(key), str):
            raise InvalidInput(f"{key} es obligatorio y debe ser texto.", field=key)
    result = tramita().cases.rectify(g.api_user, instance_id, body["field"], body["value"], body["reason"])
    return respond({**asdict(result), "field": body["field"], "value": body["value"]})


def _not_waiting(instance_id: int, name: str, waiting: list[str]) -> str:
    listed = ", ".join(waiting) if waiting else "ninguno"
    return f"El expediente {instance_id} no espera el evento «{name}» (espera ahora: {listed}); no se guardó nada."


# --- the register of protection orders and the annual evaluation (Reglamento arts. 23, 28) ---------


@bp.get("/registro/ordenes")
@token_required
@operation("The register of protection orders and their violations (Reglamento art. 28): only the roles its policy "
           "names; every read is audited", ok=(200, "Orders", S.REGISTER_ORDERS), query=S.REGISTER_QUERY)
def register_orders():  # type: ignore[no-untyped-def]
    q = g.query
    rows = tramita().register.orders(g.api_user, year=q.get("anio"), status=q.get("estado"), via="api")
    return respond({"ordenes": rows, "total": len(rows)})


@bp.get("/registro/exportar.<formato>")
@token_required
def register_export(formato: str):  # type: ignore[no-untyped-def]
    out = tramita().register.export(g.api_user, formato, year=request.args.get("anio"),
                                    status=request.args.get("estado"),
                                    content=request.args.get("contenido", "ordenes"), via="api")
    response = Response(out.content, mimetype=out.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return response


@bp.get("/registro/evaluacion")
@token_required
@operation("The annual evaluation (Reglamento art. 23 III-IV): counts per year, no victim data",
           ok=(200, "Figures of the year", {"type": "object"}), query=S.EVALUATION_QUERY)
def register_evaluation():  # type: ignore[no-untyped-def]
    return respond(tramita().register.evaluation(g.api_user, g.query.get("anio")))


from web.api import design as _design  # noqa: E402,F401  (registers the studio endpoints)
