"""The caseworker's inbox, and claiming or releasing tasks."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import BadParameter, InvalidInput, TramitaError
from engine.services import InboxFilters
from web.auth import home_for, safe_next
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("inbox", __name__)


@bp.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    return redirect(home_for(current_user.role))


def _values() -> Any:
    """The filters: the form posts them (so a searched name never lands in a URL, the server's access log
    or the browser's history); a link may still carry the other filters in its query string."""
    return request.form if request.method == "POST" else request.args


def _date(name: str) -> date | None:
    value = _values().get(name) or ""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Fecha no válida."), field=name) from None


@bp.route("/bandeja", methods=["GET", "POST"])
@roles_required("caseworker")
def index():  # type: ignore[no-untyped-def]
    values = _values()
    error, status = None, 200
    try:
        filters = InboxFilters(scope=values.get("vista") or "all",
                               process_key=values.get("procedimiento") or None,
                               task=values.get("tarea") or None, due_from=_date("desde"),
                               due_to=_date("hasta"), text=(values.get("q") or "").strip() or None)
        page = tramita().cases.inbox(me(), filters, page=values.get("page", 1, type=int) or 1,
                               per_page=values.get("por_pagina", 25, type=int) or 25)
    except InvalidInput as exc:
        error, status = exc.message, exc.status if isinstance(exc, BadParameter) else 200
        filters = InboxFilters()
        page = tramita().cases.inbox(me(), filters)
    template = "inbox/_results.html" if request.headers.get("HX-Request") else "inbox/index.html"
    # Links (pages) carry the filters but never the search text; a text search pages by posting the form.
    args = {k: v for k, v in values.items() if k not in ("page", "q", "csrf_token") and v}
    return render_template(template, page=page, filters=filters, facets=tramita().cases.inbox_facets(me()), error=error,
                           args=args), status


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("inbox.index"))


@bp.post("/tareas/<task_id>/tomar")
@roles_required("caseworker")
def claim(task_id: str):  # type: ignore[no-untyped-def]
    return _claiming(tramita().cases.claim, task_id, _("Tarea tomada: ahora está a su nombre."))


@bp.post("/tareas/<task_id>/liberar")
@roles_required("caseworker")
def unclaim(task_id: str):  # type: ignore[no-untyped-def]
    return _claiming(tramita().cases.unclaim, task_id, _("Tarea liberada: vuelve a la bandeja del grupo."))


def _claiming(operation: Any, task_id: str, done: str) -> Any:
    """Claim or release, then back to the inbox; refusals other than 403/404 become a flash message."""
    try:
        operation(me(), task_id)
        flash(done, "success")
    except TramitaError as exc:
        if exc.status in (403, 404):
            raise
        flash(exc.message, "error")
    return redirect(_back(), 303)
