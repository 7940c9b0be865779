"""The studio's dry runs and legal parameters, at ``/diseno``: a designer opens the scenarios of a
version or a draft, runs one on the simulator and reads the timeline beside the diagram (the path
taken drawn on it, each deadline on its element); in a draft, edits the scenario and the legal
parameters (value and citation), which deploy with the draft on a second designer's approval."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import TramitaError
from web.design import BUILD, DESIGNERS
from web.security import me, tramita
from web.views import roles_required

bp = Blueprint("scenarios", __name__, url_prefix="/diseno")
KINDS = {"acto": "Acto", "tarea": "Tarea", "temporizador": "Plazo", "disparo": "Vence", "fin": "Fin",
         "error": "Error"}


UNITS = {"business": "días hábiles", "natural": "días naturales", "hours": "horas", "months": "meses",
         "contactos": "contactos", "UMA": "UMA", "MXN": "pesos"}
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# A new scenario starts from this outline (the designer fills in the law's facts and the dates).
OUTLINE = """# Escriba aquí cómo calculó cada fecha esperada, con el artículo y el calendario.
procedimiento = "{key}"
titulo = ""
inicio = "2026-01-05T09:00:00"
datos = {{}}

[[actos]]
en = "2026-01-05T09:05:00"
completar = ""
datos = {{}}

[esperado]
fin = ""
"""


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, studio_built=BUILD.exists(), KINDS=KINDS, UNITS=UNITS,
                           current_user_name=me().username, **context), status


def _diagram(result: Any) -> dict[str, Any]:
    """What the viewer draws: the elements run, the flows taken, each deadline on its element."""
    markers: dict[str, str] = {}
    overlays: list[list[str]] = []
    if result is not None:
        for a, b in result.flows:
            markers.setdefault(a, "sim-done")
            markers.setdefault(b, "sim-done")
        for e in result.timeline:
            if e.kind in ("acto", "disparo") and e.element:
                markers.setdefault(e.element, "sim-done")
            if e.deadline and e.kind in ("tarea", "temporizador"):
                overlays.append([e.element, _("vence %(d)s", d=str(e.deadline.get("due", ""))[:16].replace("T", " "))])
    return {"diagrams": [{"container": "#diagram-sim", "xml": "xml-sim", "markers": markers, "overlays": overlays,
                          "flows": sorted([list(f) for f in result.flows]) if result is not None else [],
                          "fit": True}]}


def _page(key: str, name: str, *, version: int | None = None, draft_id: int | None = None) -> Any:
    t, user = tramita(), me()
    found = t.simulator.scenarios(user, key, version, draft_id=draft_id)
    draft = t.drafts.draft(user, draft_id) if draft_id is not None else None
    editable = draft is not None and draft.author == user.username and draft.status in ("draft", "rejected")
    text = found.scenarios.get(name, "")
    result, error, status = None, None, 200
    if request.method == "POST":
        text = request.form.get("scenario", "")
        try:
            if editable and request.form.get("accion") == "guardar":
                t.drafts.save_draft_scenario(user, draft_id, name, text)  # type: ignore[arg-type]
                flash(_("Escenario guardado en el borrador; se desplegará con él al aprobarse."), "success")
            result = t.simulator.run_text(user, key, name, text, version=version, draft_id=draft_id)
        except TramitaError as exc:
            error, status = exc.message, 422
    elif name not in found.scenarios:
        if not editable:
            return _render("design/scenarios.html", 404, key=key, found=found, draft=draft)
        text = OUTLINE.format(key=key)  # a new scenario of the draft, saved once it reads
    return _render("design/scenario.html", status, key=key, name=name, text=text, found=found, draft=draft,
                   editable=editable, result=result, error=error, viewer=_diagram(result))


@bp.get("/procesos/<key>/escenarios")
@roles_required(*DESIGNERS)
def listing(key: str):  # type: ignore[no-untyped-def]
    version = request.args.get("version", type=int)
    return _render("design/scenarios.html", key=key, found=tramita().simulator.scenarios(me(), key, version),
                   draft=None)


@bp.route("/procesos/<key>/version/<int:version>/escenarios/<name>", methods=["GET", "POST"])
@roles_required(*DESIGNERS)
def version_scenario(key: str, version: int, name: str):  # type: ignore[no-untyped-def]
    return _page(key, name, version=version)


@bp.get("/borradores/<int:draft_id>/escenarios")
@roles_required(*DESIGNERS)
def draft_listing(draft_id: int):  # type: ignore[no-untyped-def]
    d = tramita().drafts.draft(me(), draft_id)
    return _render("design/scenarios.html", key=d.process_key, draft=d,
                   found=tramita().simulator.scenarios(me(), d.process_key, draft_id=draft_id))


@bp.post("/borradores/<int:draft_id>/escenarios")
@roles_required(*DESIGNERS)
def new_scenario(draft_id: int):  # type: ignore[no-untyped-def]
    """Open the editor on a new scenario of the draft (kept only when saved)."""
    d = tramita().drafts.draft(me(), draft_id)
    stem = request.form.get("nombre", "").strip().removesuffix(".toml")
    if not NAME.match(stem):
        found = tramita().simulator.scenarios(me(), d.process_key, draft_id=draft_id)
        return _render("design/scenarios.html", 422, key=d.process_key, draft=d, found=found,
                       name_error=_("Escriba un nombre de archivo con letras sin acentos, números, «_» o «-» "
                                    "(p. ej. recurso_en_vacaciones)."))
    return redirect(url_for("scenarios.draft_scenario", draft_id=draft_id, name=f"{stem}.toml"))


@bp.route("/borradores/<int:draft_id>/escenarios/<name>", methods=["GET", "POST"])
@roles_required(*DESIGNERS)
def draft_scenario(draft_id: int, name: str):  # type: ignore[no-untyped-def]
    d = tramita().drafts.draft(me(), draft_id)
    return _page(d.process_key, name, draft_id=draft_id)


# --- the legal parameters of a draft ---------------------------------------------------------------


@bp.route("/borradores/<int:draft_id>/parametros", methods=["GET", "POST"])
@roles_required(*DESIGNERS)
def parameters(draft_id: int):  # type: ignore[no-untyped-def]
    work = tramita().drafts
    d = work.draft(me(), draft_id)
    editable = d.author == me().username and d.status in ("draft", "rejected")
    _text, rows = work.draft_parameters(me(), draft_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and editable:
        changes = {r["path"]: (request.form.get(f"{r['path']}.value", str(r["value"])),
                               request.form.get(f"{r['path']}.citation", r["citation"])) for r in rows}
        try:
            work.save_draft_parameters(me(), draft_id, changes)
            flash(_("Parámetros guardados en el borrador; se desplegarán con él al aprobarse."), "success")
            return redirect(url_for("scenarios.parameters", draft_id=draft_id))
        except TramitaError as exc:
            errors, status = exc.fields or {exc.field or "": exc.message}, 422
            rows = [{**r, "value": changes[r["path"]][0], "citation": changes[r["path"]][1]} for r in rows]
    return _render("design/parameters.html", status, draft=d, rows=rows, errors=errors, editable=editable,
                   changes=work.parameter_changes(me(), draft_id))
