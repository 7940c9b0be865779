"""What every page blueprint shares: role checks, error pages, labels for the audit trail."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from engine.errors import Forbidden, TramitaError
from engine.services import EventKind, InstanceStatus, TaskState, TimerStatus

ROLE_LABELS = {"caseworker": _l("Personal operativo"), "legal_designer": _l("Diseño jurídico"),
               "manager": _l("Coordinación"), "admin": _l("Administración")}

# Every state and event kind the engine stores, as people read it: Spanish here, English in the
# catalog (translations/en). tests/web/test_labels.py fails when a member of these enums has no label
# in both languages, and the pages go through the ``evento`` and ``estado`` filters, never the raw id.
EVENT_LABELS: dict[str, Any] = {
    EventKind.INSTANCE_STARTED: _l("Caso iniciado"),
    EventKind.TASK_COMPLETED: _l("Tarea completada"),
    EventKind.TIMER_FIRED: _l("Plazo cumplido (temporizador)"),
    EventKind.TASK_CLAIMED: _l("Tarea tomada"),
    EventKind.TASK_UNCLAIMED: _l("Tarea liberada"),
    EventKind.ATTACHMENT_ADDED: _l("Archivo agregado"),
    EventKind.ATTACHMENT_OPENED: _l("Archivo consultado"),
    EventKind.DOCUMENT_GENERATED: _l("Documento generado"),
    EventKind.CASE_OPENED: _l("Expediente consultado"),
    EventKind.INSTANCE_CANCELLED: _l("Caso cancelado"),
    EventKind.INSTANCE_SUSPENDED: _l("Caso suspendido"),
    EventKind.INSTANCE_RESUMED: _l("Caso reanudado"),
    EventKind.INSTANCE_RETRIED: _l("Caso reintentado"),
    EventKind.MESSAGE_RECEIVED: _l("Mensaje recibido"),
    EventKind.TERM_SUSPENDED: _l("Plazo suspendido"),
    EventKind.TERM_RECALENDARED: _l("Plazo recomputado por cambio de calendario"),
    EventKind.INSTANCE_MOVED: _l("Caso movido a otra versión del trámite"),
    EventKind.TIMER_REARMED: _l("Vencimiento fijado de nuevo"),
    EventKind.CASE_STARTED: _l("Caso relacionado iniciado"),
    EventKind.MESSAGE_NOT_DELIVERED: _l("Caso relacionado no iniciado"),
    EventKind.DATA_RECTIFIED: _l("Dato rectificado"),
    EventKind.REGISTER_READ: _l("Registro de órdenes consultado"),
    EventKind.REGISTER_EXPORTED: _l("Registro de órdenes exportado"),
    EventKind.EVALUATION_EXPORTED: _l("Evaluación anual exportada"),
    EventKind.TASK_REASSIGNED: _l("Tarea reasignada por la coordinación"),
    EventKind.TASK_RELEASED: _l("Tarea devuelta al grupo por la coordinación"),
    EventKind.DIRECTORY_CHANGED: _l("Directorio de grupos modificado"),
}

INSTANCE_STATUS_LABELS: dict[str, Any] = {
    InstanceStatus.RUNNING: _l("En trámite"), InstanceStatus.COMPLETED: _l("Concluido"),
    InstanceStatus.CANCELLED: _l("Cancelado"), InstanceStatus.SUSPENDED: _l("Suspendido"),
    InstanceStatus.ERROR: _l("Con incidente")}
TASK_STATE_LABELS: dict[str, Any] = {
    TaskState.READY: _l("Abierta"), TaskState.COMPLETED: _l("Completada"), TaskState.CANCELLED: _l("Cancelada")}
TIMER_STATUS_LABELS: dict[str, Any] = {
    TimerStatus.PENDING: _l("Pendiente"), TimerStatus.FIRED: _l("Cumplido"), TimerStatus.CANCELLED: _l("Cancelado")}
# One table for the templates: the three sets of values do not overlap except ``cancelled``, "Cancelado" in both.
STATUS_LABELS: dict[str, Any] = {**TIMER_STATUS_LABELS, **TASK_STATE_LABELS, **INSTANCE_STATUS_LABELS}

UNIT_LABELS = {"business": (_l("día hábil"), _l("días hábiles")), "natural": (_l("día natural"), _l("días naturales")),
               "hours": (_l("hora"), _l("horas")), "months": (_l("mes"), _l("meses"))}


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @login_required
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                raise Forbidden(_("Su rol no permite esta acción."), field="role")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/metrics"


def event_label(kind: str) -> str:
    """An audit event kind as people read it; never the raw id, even for a kind this version does not know."""
    label = EVENT_LABELS.get(kind)
    return str(label) if label is not None else _("Otro evento")


def status_label(value: str) -> str:
    """An instance status, task state or timer status as people read it; never the raw id."""
    label = STATUS_LABELS.get(value)
    return str(label) if label is not None else _("Otro estado")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, EVENT_LABELS=EVENT_LABELS, STATUS_LABELS=STATUS_LABELS,
                                 UNIT_LABELS=UNIT_LABELS, EventKind=EventKind, InstanceStatus=InstanceStatus,
                                 TaskState=TaskState, TimerStatus=TimerStatus)
    app.jinja_env.filters["evento"] = event_label
    app.jinja_env.filters["estado"] = status_label

    @app.template_global("may_read_register")
    def _may_read_register() -> bool:
        """Whether the signed-in user may open the register of orders (``[policies.registro]``, Reglamento art. 28)."""
        from flask_login import current_user

        if not current_user.is_authenticated:
            return False
        return bool(app.extensions["tramita"].register.may_read(current_user.view))

    @app.template_filter("grupo")
    def _group_name(group: str | None) -> str:
        """A user group as people call it (``workflows/lanes.toml``); its id where it has no name."""
        if not group:
            return ""
        return app.extensions["tramita"].group_name(group)

    @app.errorhandler(TramitaError)
    def _tramita_error(exc: TramitaError):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(exc.to_dict()), exc.status
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        message = _("El formulario caducó o no es válido (protección CSRF). Vuelva a cargar la página e "
                    "intente de nuevo.")
        return render_template("errors/error.html", status=400, message=message), 400

    for code, text in ((403, _l("No tiene acceso a esta página.")), (404, _l("La página no existe.")),
                       (405, _l("Método no permitido.")), (413, _l("El archivo es demasiado grande.")),
                       (400, _l("Solicitud no válida.")),
                       (500, _l("Error interno: la operación no se completó. Intente de nuevo o avise a soporte."))):
        def handler(exc: Exception, code: int = code, text: Any = text):  # type: ignore[no-untyped-def]
            if wants_json():
                return jsonify(error={403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                                      413: "too_large", 400: "bad_request", 500: "internal"}[code],
                               message=str(text)), code
            return render_template("errors/error.html", status=code, message=str(text)), code

        app.register_error_handler(code, handler)
