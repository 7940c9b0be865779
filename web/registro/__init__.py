"""The register of protection orders (Reglamento art. 28) and the annual evaluation (art. 23 III, IV): pages.

Server-rendered like the case pages; who may read is decided by ``engine.services.RegisterService``
(``[policies.registro]`` of ``workflows/lanes.toml``), which also audits every read and export.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import login_required

from engine.services import STATUS_LABELS
from web.security import me, tramita

bp = Blueprint("registro", __name__)


def _download(out) -> Response:  # type: ignore[no-untyped-def]
    response = Response(out.content, mimetype=out.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return response


@bp.get("/registro")
@login_required
def index():  # type: ignore[no-untyped-def]
    year, status = request.args.get("anio", ""), request.args.get("estado", "")
    rows = tramita().register.orders(me(), year=year, status=status)
    return render_template("registro/index.html", rows=rows, year=year, status=status, labels=STATUS_LABELS,
                           statuses=("vigente", "prorrogada", "levantada", "negada", "sin_efectos", "vencida"))


@bp.get("/registro/exportar.<formato>")
@login_required
def export(formato: str):  # type: ignore[no-untyped-def]
    out = tramita().register.export(me(), formato, year=request.args.get("anio"), status=request.args.get("estado"),
                                    content=request.args.get("contenido", "ordenes"))
    return _download(out)


@bp.get("/registro/evaluacion")
@login_required
def evaluation():  # type: ignore[no-untyped-def]
    svc = tramita().register
    years = svc.years(me())
    year = request.args.get("anio") or (str(years[0]) if years else "")
    figures = svc.evaluation(me(), year) if year else None
    return render_template("registro/evaluacion.html", figures=figures, year=year, years=years)


@bp.get("/registro/evaluacion/exportar.<formato>")
@login_required
def evaluation_export(formato: str):  # type: ignore[no-untyped-def]
    return _download(tramita().register.evaluation_export(me(), request.args.get("anio"), formato))
