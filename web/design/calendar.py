"""The calendar editor at ``/diseno/calendario``: the legal calendar in force, its drafts (add or remove a
día inhábil, a period or a vacation, each with its reason and published source), the impact preview
(the running deadlines it moves and the scenarios that would fail), four-eyes approval, and the
recount that follows, shown as it advances. Pages call ``CalendarService``, which checks every permission."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import TramitaError
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("calendar", __name__, url_prefix="/calendario")
DESIGNERS = ("legal_designer", "admin")
STATUS = {"draft": "En edición", "submitted": "En espera de aprobación", "approved": "Aprobado y desplegado",
          "rejected": "Rechazado: corrija y vuelva a enviar"}
RECOUNT = {"pendiente": "Pendiente", "en_curso": "En curso", "movido": "Movido", "sin_cambio": "Sin cambio",
           "error": "No se pudo mover"}
CHANGE_FIELDS = ("action", "kind", "first", "last", "reason", "source")
# The steps of a recount a page asks for at a time: each case is its own transaction.
BATCH = 25


@bp.get("")
@roles_required(*DESIGNERS)
def index():  # type: ignore[no-untyped-def]
    service = tramita().calendar
    version, entries = service.current(me())
    drafts = service.drafts(me())
    mine = [d for d in drafts if d.author == me().username and d.status in ("draft", "rejected", "submitted")]
    to_review = [d for d in drafts if d.author != me().username and d.status == "submitted"]
    approved = [d for d in drafts if d.status == "approved"][:5]
    return render_template("design/calendar/index.html", version=version, entries=entries, mine=mine,
                           to_review=to_review, approved=approved, STATUS=STATUS)


@bp.post("/borrador")
@roles_required(*DESIGNERS)
def new_draft():  # type: ignore[no-untyped-def]
    draft = tramita().calendar.create_draft(me())
    return redirect(url_for("design.calendar.draft", draft_id=draft.id))


@bp.get("/borradores/<int:draft_id>")
@roles_required(*DESIGNERS)
def draft(draft_id: int, errors: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
          typed: dict[str, str] | None = None, note_error: str | None = None, review_error: str | None = None,
          status: int = 200):
    service = tramita().calendar
    view = service.draft(me(), draft_id)
    d = view.draft
    editable = d.author == me().username and d.status in ("draft", "rejected")
    impact = service.impact(me(), draft_id) if d.status != "approved" and view.changes else None
    recount = service.recount_status(me(), draft_id) if d.status == "approved" else None
    return render_template("design/calendar/draft.html", view=view, d=d, editable=editable, impact=impact,
                           recount=recount, errors=errors or {}, typed=typed or {"action": "agregar",
                                                                                   "kind": "vacaciones"},
                           note_error=note_error, review_error=review_error, STATUS=STATUS, RECOUNT=RECOUNT,
                           reviewer=d.author != me().username and d.status == "submitted"), status


@bp.post("/borradores/<int:draft_id>/cambios")
@roles_required(*DESIGNERS)
def add_change(draft_id: int):  # type: ignore[no-untyped-def]
    typed = {k: request.form.get(k, "") for k in CHANGE_FIELDS}
    try:
        tramita().calendar.add_change(me(), draft_id, **typed)
    except TramitaError as exc:
        if exc.field in CHANGE_FIELDS or exc.field == "calendar":
            return draft(draft_id, errors={exc.field or "calendar": exc.message}, typed=typed, status=422)
        raise
    flash(_("Cambio agregado al borrador. Revise abajo qué plazos movería."), "success")
    return redirect(url_for("design.calendar.draft", draft_id=draft_id) + "#impacto")


@bp.post("/borradores/<int:draft_id>/cambios/<int:change_id>/deshacer")
@roles_required(*DESIGNERS)
def undo_change(draft_id: int, change_id: int):  # type: ignore[no-untyped-def]
    try:
        tramita().calendar.undo_change(me(), draft_id, change_id)
    except TramitaError as exc:
        if exc.field == "calendar" or exc.field == "first":
            return draft(draft_id, errors={"calendar": exc.message}, status=422)
        raise
    flash(_("Cambio retirado del borrador."), "success")
    return redirect(url_for("design.calendar.draft", draft_id=draft_id))


@bp.post("/borradores/<int:draft_id>/enviar")
@roles_required(*DESIGNERS)
def submit(draft_id: int):  # type: ignore[no-untyped-def]
    try:
        tramita().calendar.submit(me(), draft_id, request.form.get("change_note", ""))
    except TramitaError as exc:
        if exc.field in ("change_note", "changes"):
            return draft(draft_id, note_error=exc.message, status=422)
        raise
    flash(_("Borrador enviado a aprobación. Otra persona diseñadora debe revisarlo."), "success")
    return redirect(url_for("design.calendar.draft", draft_id=draft_id))


@bp.post("/borradores/<int:draft_id>/aprobar")
@roles_required(*DESIGNERS)
def approve(draft_id: int):  # type: ignore[no-untyped-def]
    try:
        version = tramita().calendar.approve(me(), draft_id, request.form.get("comment", ""))
    except TramitaError as exc:
        if exc.field in ("base_version", "content"):
            return draft(draft_id, review_error=exc.message, status=exc.status)
        raise
    flash(_("Aprobado: la versión %(v)s del calendario está desplegada. Los plazos que mueve se recomputan caso "
            "por caso; el avance se muestra abajo.", v=version), "success")
    return redirect(url_for("design.calendar.draft", draft_id=draft_id) + "#recuento")


@bp.post("/borradores/<int:draft_id>/rechazar")
@roles_required(*DESIGNERS)
def reject(draft_id: int):  # type: ignore[no-untyped-def]
    try:
        tramita().calendar.reject(me(), draft_id, request.form.get("comment", ""))
    except TramitaError as exc:
        if exc.field == "comment":
            return draft(draft_id, review_error=exc.message, status=422)
        raise
    flash(_("Borrador rechazado; quien lo escribió verá su comentario."), "success")
    return redirect(url_for("design.calendar.index"))


@bp.post("/borradores/<int:draft_id>/recuento")
@roles_required(*DESIGNERS)
def recount(draft_id: int):  # type: ignore[no-untyped-def]
    """Recount the next cases (the page asks again while some remain); answers the progress fragment."""
    view = tramita().calendar.recount(me(), draft_id, BATCH)
    if request.headers.get("HX-Request"):
        return render_template("design/calendar/_recount.html", recount=view, draft_id=draft_id, RECOUNT=RECOUNT)
    return redirect(url_for("design.calendar.draft", draft_id=draft_id) + "#recuento")


