"""The administrators' pages: the access report (who opened which case file, and every refused access)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.services import EventKind
from engine.errors import InvalidInput
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("admin", __name__, url_prefix="/administracion")

# Through what a case file was opened (``case_opened``'s via), and through what any other access came.
OPENED_VIA = {"web": _l("Página del expediente"), "tarea": _l("Página de una tarea"), "api": _l("API"),
              "cli": _l("Línea de comandos")}
VIA_LABELS = {"web": _l("Páginas web"), "tarea": _l("Página de una tarea"), "api": _l("API"),
              "cli": _l("Línea de comandos")}
ACTION_LABELS = {"case": _l("Abrir expediente"), "task": _l("Abrir tarea"), "attachment": _l("Abrir archivo"),
                 "document": _l("Generar documento"), "upload": _l("Agregar archivo"),
                 "message": _l("Registrar evento"), "start": _l("Iniciar procedimiento"),
                 "complete": _l("Completar tarea"), "claim": _l("Tomar tarea"), "unclaim": _l("Liberar tarea"),
                 "case_list": _l("Lista de casos"), "inbox_search": _l("Búsqueda en la bandeja")}
OPENING_LABELS = {EventKind.CASE_OPENED: _l("Expediente consultado"),
                  EventKind.ATTACHMENT_OPENED: _l("Archivo consultado"),
                  EventKind.DOCUMENT_GENERATED: _l("Documento generado")}


@bp.get("/accesos")
@roles_required("admin")
def accesses():  # type: ignore[no-untyped-def]
    username = (request.args.get("usuario") or "").strip().lower() or None
    raw = (request.args.get("expediente") or "").strip()
    errors: dict[str, str] = {}
    instance_id = None
    if raw:
        if raw.isdigit() and len(raw) <= 12:
            instance_id = int(raw)
        else:
            errors["expediente"] = _("Número de expediente no válido: escriba solo dígitos.")
    if username and len(username) > 120:
        errors["usuario"] = _("Usuario no válido: máximo 120 caracteres.")
        username = None
    try:
        report = tramita().people.access_report(me(), username=username, instance_id=instance_id)
    except InvalidInput as exc:
        errors[exc.field or "usuario"] = exc.message
        report = tramita().people.access_report(me())
    return render_template("admin/accesses.html", report=report, username=username or "", expediente=raw,
                           errors=errors, VIA_LABELS=VIA_LABELS, OPENED_VIA=OPENED_VIA, ACTION_LABELS=ACTION_LABELS,
                           OPENING_LABELS=OPENING_LABELS), 422 if errors else 200
