"""The manager console (``/monitor``): overview and trends, stalled cases, workload, the heatmap on the
diagram, reassigning tasks, bulk recovery of cases and exports. Every figure and action comes from
``tramita().oversight``, which decides what a manager (their institution) or an admin (all) may see.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidInput, TramitaError
from engine.services import SYSTEM
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
ROLES = ("manager", "admin")
REASONS = {"overdue": "Plazo legal vencido", "idle": "Sin actividad", "timer": "Temporizador sin disparar",
           "message": "Espera de mensaje excedida", "error": "Con incidente"}
PER_PAGE = 50
ACTIONS = {"retry": "Reintentar", "cancel": "Cancelar", "suspend": "Suspender", "resume": "Reanudar"}


def stalled_filters(args: Any) -> dict[str, Any]:
    """The stalled list's filters from a query string (pages and API share the names)."""
    return {"process_key": args.get("procedimiento") or None, "reason": args.get("motivo") or None,
            "step": args.get("paso") or None, "holder": args.get("responsable") or None,
            "sort": args.get("orden") or "retraso", "descending": args.get("desc") == "1"}


@bp.get("")
@roles_required(*ROLES)
def overview():  # type: ignore[no-untyped-def]
    o = tramita().oversight
    return render_template("monitor/overview.html", o=o.overview(me()), charts=o.charts(me()))


@bp.get("/detenidos")
@roles_required(*ROLES)
def stalled():  # type: ignore[no-untyped-def]
    filters = stalled_filters(request.args)
    error = None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    try:
        rows, total = tramita().oversight.stalled_page(me(), **filters, page=page, per_page=PER_PAGE)
    except InvalidInput as exc:
        error, page = exc.message, 1
        rows, total = tramita().oversight.stalled_page(me(), per_page=PER_PAGE)
    processes = tramita().design.processes(SYSTEM)
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template("monitor/stalled.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), filters=filters, error=error, reasons=REASONS,
                           actions=ACTIONS, processes=processes, args=args)


@bp.get("/carga")
@roles_required(*ROLES)
def workload():  # type: ignore[no-untyped-def]
    return render_template("monitor/workload.html", rows=tramita().oversight.workload(me()))


@bp.get("/mapa")
@roles_required(*ROLES)
def heatmap_index():  # type: ignore[no-untyped-def]
    """The heatmap of the first deployed procedure; the page links to the others."""
    processes = tramita().design.processes(SYSTEM)
    if not processes:
        flash(_("No hay procedimientos desplegados."), "error")
        return redirect(url_for("monitor.overview"), 303)
    return redirect(url_for("monitor.heatmap", key=processes[0]["key"]), 303)


@bp.get("/mapa/<key>")
@roles_required(*ROLES)
def heatmap(key: str):  # type: ignore[no-untyped-def]
    version = request.args.get("version", type=int)
    heat = tramita().oversight.heatmap(me(), key, version)
    processes = tramita().design.processes(SYSTEM)
    return render_template("monitor/heatmap.html", heat=heat, processes=processes)


@bp.get("/mapa/<key>/datos")
@roles_required(*ROLES)
def heatmap_data(key: str):  # type: ignore[no-untyped-def]
    heat = tramita().oversight.heatmap(me(), key, request.args.get("version", type=int))
    return jsonify(xml=heat.xml, elements=[e.__dict__ for e in heat.elements])


@bp.get("/casos/<int:instance_id>/pasos/<step>/reasignar")
@roles_required(*ROLES)
def reassign_for(instance_id: int, step: str):  # type: ignore[no-untyped-def]
    """The open task of a case at a step (a stalled row names the step), to reassign it."""
    tasks = [t for t in tramita().monitor.tasks(me(), instance_id=instance_id) if t.name == step]
    if not tasks:
        flash(_("La tarea ya no está abierta."), "error")
        return redirect(url_for("monitor.stalled"), 303)
    return redirect(url_for("monitor.reassign", task_id=tasks[0].id), 303)


@bp.route("/tareas/<task_id>/reasignar", methods=["GET", "POST"])
@roles_required(*ROLES)
def reassign(task_id: str):  # type: ignore[no-untyped-def]
    o = tramita().oversight
    task = tramita().monitor.task(me(), task_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        reason = request.form.get("motivo", "")
        to = request.form.get("persona", "")
        try:
            if to == "__grupo__":
                o.release(me(), task_id, reason)
                flash(_("Tarea devuelta a la bandeja de su grupo."), "success")
            else:
                o.reassign(me(), task_id, to, reason)
                flash(_("Tarea reasignada a %(who)s.", who=to), "success")
            return redirect(url_for("monitor.stalled"), 303)
        except InvalidInput as exc:
            errors[{"reason": "motivo", "to": "persona"}.get(exc.field or "", "persona")] = exc.message
    return render_template("monitor/reassign.html", task=task, candidates=o.candidates(me(), task_id),
                           errors=errors, form=request.form), 422 if errors else 200


@bp.post("/acciones")
@roles_required(*ROLES)
def bulk():  # type: ignore[no-untyped-def]
    ids = [int(v) for v in request.form.getlist("casos") if v.isdigit()]
    action = request.form.get("accion", "")
    rows_only = request.form.get("fila") == "1"  # the page's script sends one case at a time, for progress
    try:
        results = tramita().oversight.bulk(me(), action, ids, request.form.get("motivo", ""))
    except InvalidInput as exc:
        if rows_only:
            return exc.message, 422, {"Content-Type": "text/plain; charset=utf-8"}
        flash(exc.message, "error")
        return redirect(url_for("monitor.stalled"), 303)
    if rows_only:
        return render_template("monitor/_result_rows.html", results=results)
    return render_template("monitor/results.html", results=results, action=ACTIONS.get(action, action))


@bp.get("/exportar/<what>.<fmt>")
@roles_required(*ROLES)
def export(what: str, fmt: str):  # type: ignore[no-untyped-def]
    filters = stalled_filters(request.args) if what == "stalled" else {}
    if what == "cases" and request.args.get("procedimiento"):
        filters = {"process_key": request.args["procedimiento"]}
    body, mimetype, filename = tramita().oversight.export(me(), what, fmt, **filters)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def init_app(app: Any) -> None:
    app.register_blueprint(bp)

    @app.template_filter("retraso")
    def _late(seconds: int) -> str:
        """How late, as a manager reads it: days and hours, or hours and minutes."""
        days, rest = divmod(max(0, int(seconds)), 86400)
        hours, rest = divmod(rest, 3600)
        if days:
            return _("%(d)s d %(h)s h", d=days, h=hours)
        return _("%(h)s h %(m)s min", h=hours, m=rest // 60)

    @app.template_filter("porcentaje")
    def _share(value: float | None) -> str:
        return "—" if value is None else f"{round(value * 100)} %"
