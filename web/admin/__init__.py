"""The administrators' pages, one blueprint with explicit paths: the access report
(``/administracion/accesos``: who opened which case file, and every refused access), users (add,
disable, enable, groups, e-mail address, reset the password, API tokens; ``/admin/usuarios``, as
``tramita users`` does), the directory of institutions and groups (``/admin/directorio``: add, edit,
disable and enable a group, as ``tramita directory`` does), and every user's own account
(``/admin/cuenta``: where their deadline e-mails go)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine.errors import InvalidInput, NotFound, TramitaError
from engine.services import ROLES, EventKind
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("admin", __name__)

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


@bp.get("/administracion/accesos")
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


FIELDS = {"username": "usuario", "password": "contrasena", "role": "rol", "institution": "institucion",
          "email": "correo", "name": "nombre"}


def _users_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    people = tramita().people
    return render_template("admin/users.html", users=people.users(me()), directory=people.directory(me()),
                           roles=ROLES, errors=errors or {}, form=form or {}), status


@bp.get("/admin/usuarios")
@roles_required("admin")
def users():  # type: ignore[no-untyped-def]
    return _users_page()


@bp.post("/admin/usuarios")
@roles_required("admin")
def add():  # type: ignore[no-untyped-def]
    f = request.form
    people = tramita().people
    try:
        user = people.add_user(me(), f.get("usuario", ""), f.get("contrasena", ""), name=f.get("nombre", ""),
                               role=f.get("rol", ""), institution=f.get("institucion", ""),
                               groups=f.getlist("grupos"))
        if f.get("correo"):
            people.set_email(me(), user.username, f["correo"])
    except TramitaError as exc:
        if exc.status not in (409, 422):
            raise
        return _users_page({FIELDS.get(exc.field or "", "usuario"): exc.message}, f, 422)
    flash(_("Cuenta creada: %(u)s.", u=user.username), "success")
    return redirect(url_for("admin.user", username=user.username), 303)


@bp.get("/admin/usuarios/<username>")
@roles_required("admin")
def user(username: str):  # type: ignore[no-untyped-def]
    return _user_page(username)


def _user_page(username: str, errors: dict[str, str] | None = None, token: str | None = None,
               status: int = 200) -> Any:
    people = tramita().people
    found = people.find_user(username)
    if found is None:
        raise NotFound(_("La cuenta no existe."), field="username")
    return render_template("admin/user.html", u=found, directory=people.directory(me()), errors=errors or {},
                           token=token), status


@bp.post("/admin/usuarios/<username>/<action>")
@roles_required("admin")
def act(username: str, action: str):  # type: ignore[no-untyped-def]
    people, f = tramita().people, request.form
    token = None
    try:
        if action == "deshabilitar":
            people.set_user_active(me(), username, False)
            flash(_("Cuenta deshabilitada; sus tokens de API quedaron revocados."), "success")
        elif action == "habilitar":
            people.set_user_active(me(), username, True)
            flash(_("Cuenta habilitada."), "success")
        elif action == "grupos":
            people.set_user_groups(me(), username, f.getlist("grupos"))
            flash(_("Grupos actualizados."), "success")
        elif action == "correo":
            people.set_email(me(), username, f.get("correo", ""))
            flash(_("Correo electrónico actualizado."), "success")
        elif action == "contrasena":
            people.set_password(me(), username, f.get("contrasena", ""))
            flash(_("Contraseña restablecida; la cuenta quedó desbloqueada."), "success")
        elif action == "token":
            token = people.create_token(me(), username, f.get("etiqueta", ""))
        else:
            raise InvalidInput(_("Acción desconocida."), field="action")
    except TramitaError as exc:
        if exc.status not in (409, 422):
            raise
        return _user_page(username, {FIELDS.get(exc.field or "", action): exc.message}, status=422)
    if token:
        return _user_page(username, token=token)
    return redirect(url_for("admin.user", username=username), 303)


GROUP_FIELDS = {"code": "clave", "name": "nombre", "institution": "institucion", "notes": "notas"}


def _directory_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    return render_template("admin/directory.html", directory=tramita().people.directory(me()), errors=errors or {},
                           form=form or {}), status


@bp.get("/admin/directorio")
@roles_required("admin")
def directory():  # type: ignore[no-untyped-def]
    return _directory_page()


@bp.post("/admin/directorio")
@roles_required("admin")
def save_group():  # type: ignore[no-untyped-def]
    """Add a group, or edit the one whose code the form carries (the edit forms send it hidden)."""
    f = request.form
    try:
        group = tramita().people.save_group(me(), f.get("clave", ""), f.get("nombre", ""), f.get("institucion", ""),
                                            f.get("notas", ""))
    except TramitaError as exc:
        if exc.status not in (409, 422):
            raise
        return _directory_page({GROUP_FIELDS.get(exc.field or "", "clave"): exc.message}, f, 422)
    flash(_("Grupo guardado: %(name)s.", name=group.name), "success")
    return redirect(url_for("admin.directory"), 303)


@bp.post("/admin/directorio/<code>/<action>")
@roles_required("admin")
def group_active(code: str, action: str):  # type: ignore[no-untyped-def]
    if action not in ("deshabilitar", "habilitar"):
        raise NotFound(_("Acción desconocida."), field="action")
    try:
        tramita().people.set_group_active(me(), code, action == "habilitar")
    except TramitaError as exc:
        if exc.status not in (409, 422):
            raise
        return _directory_page({f"estado-{code}": exc.message}, status=409)
    flash(_("Grupo habilitado.") if action == "habilitar" else _("Grupo deshabilitado."), "success")
    return redirect(url_for("admin.directory"), 303)


@bp.route("/admin/cuenta", methods=["GET", "POST"], endpoint="account")
@login_required
def account():  # type: ignore[no-untyped-def]
    """Any signed-in user sets where their own deadline e-mails go."""
    error = None
    if request.method == "POST":
        try:
            tramita().people.set_email(me(), me().username, request.form.get("correo", ""))
            flash(_("Correo electrónico actualizado."), "success")
            return redirect(url_for("admin.account"), 303)
        except InvalidInput as exc:
            error = exc.message
    current = tramita().people.find_user(me().username)
    return render_template("admin/account.html", u=current, error=error), 422 if error else 200
