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

ROLE_LABELS = {"caseworker": _l("Personal operativo"), "legal_designer": _l("Diseño jurídico"),
               "manager": _l("Coordinación"), "admin": _l("Administración")}

EVENT_LABELS = {
    "instance_started": _l("Caso iniciado"),
    "task_completed": _l("Tarea completada"),
    "timer_fired": _l("Plazo cumplido (temporizador)"),
    "task_claimed": _l("Tarea tomada"),
    "task_unclaimed": _l("Tarea liberada"),
    "attachment_added": _l("Archivo agregado"),
    "attachment_opened": _l("Archivo consultado"),
    "document_generated": _l("Documento generado"),
    "case_opened": _l("Expediente consultado"),
    "instance_cancelled": _l("Caso cancelado"),
    "instance_suspended": _l("Caso suspendido"),
    "instance_resumed": _l("Caso reanudado"),
    "instance_retried": _l("Caso reintentado"),
    "message_received": _l("Mensaje recibido"),
}

STATUS_LABELS = {"running": _l("En trámite"), "completed": _l("Concluido"), "cancelled": _l("Cancelado"),
                 "suspended": _l("Suspendido"), "error": _l("Con incidente"), "READY": _l("Abierta"),
                 "COMPLETED": _l("Completada"), "CANCELLED": _l("Cancelada"), "WAITING": _l("En espera"),
                 "pending": _l("Pendiente"), "fired": _l("Cumplido")}

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


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, EVENT_LABELS=EVENT_LABELS, STATUS_LABELS=STATUS_LABELS,
                                 UNIT_LABELS=UNIT_LABELS)

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
                       (400, _l("Solicitud no válida."))):
        def handler(exc: Exception, code: int = code, text: Any = text):  # type: ignore[no-untyped-def]
            if wants_json():
                return jsonify(error={403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                                      413: "too_large", 400: "bad_request"}[code], message=str(text)), code
            return render_template("errors/error.html", status=code, message=str(text)), code

        app.register_error_handler(code, handler)
