"""The legal designers' studio at ``/diseno``: procedures and decisions with their versions, read-only
views, drafts edited in the bpmn-js Modeler, lint while editing, the diff in words and on the diagram,
and four-eyes approval. Pages call the same ``DesignService`` and ``DraftService`` methods as the API and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from engine.errors import TramitaError
from web.security import me, tramita
from web.design.calendar import bp as calendar_bp
from web.views import roles_required

bp = Blueprint("design", __name__, url_prefix="/diseno")
bp.register_blueprint(calendar_bp)  # the calendar editor: /diseno/calendario (web.design.calendar)
DESIGNERS = ("legal_designer", "admin")
BUILD = Path(__file__).resolve().parent.parent / "static" / "build" / "studio.js"
STATUS = {"draft": "En edición", "submitted": "En espera de aprobación", "approved": "Aprobado y desplegado",
          "rejected": "Rechazado: corrija y vuelva a enviar"}
CHANGE_LABELS = {"added": "Se agrega", "removed": "Se elimina", "changed": "Cambia"}


def _render(template: str, **context: Any) -> str:
    return render_template(template, studio_built=BUILD.exists(), STATUS=STATUS, CHANGE_LABELS=CHANGE_LABELS,
                           **context)


@bp.get("")
@roles_required(*DESIGNERS)
def index():  # type: ignore[no-untyped-def]
    design = tramita().design
    drafts = tramita().drafts.drafts(me())
    mine = [d for d in drafts if d.author == me().username and d.status in ("draft", "rejected", "submitted")]
    to_review = [d for d in drafts if d.author != me().username and d.status == "submitted"]
    return _render("design/index.html", catalog=design.catalog(me()), mine=mine, to_review=to_review)


@bp.get("/<any(procesos, decisiones):kind>/<key>")
@roles_required(*DESIGNERS)
def versions(kind: str, key: str):  # type: ignore[no-untyped-def]
    kind = "decision" if kind == "decisiones" else "process"
    rows = tramita().design.versions(me(), key, kind)
    return _render("design/versions.html", key=key, kind=kind, rows=rows)


@bp.get("/<any(procesos, decisiones):kind>/<key>/version/<int:version>")
@roles_required(*DESIGNERS)
def view(kind: str, key: str, version: int):  # type: ignore[no-untyped-def]
    kind = "decision" if kind == "decisiones" else "process"
    number, filename, content = tramita().design.version_source(me(), key, version, kind)
    return _render("design/view.html", key=key, kind=kind, version=number, filename=filename, content=content)


@bp.get("/procesos/<key>/comparar")
@roles_required(*DESIGNERS)
def compare(key: str):  # type: ignore[no-untyped-def]
    design = tramita().design
    rows = design.versions(me(), key)
    latest = rows[0].version
    try:
        a = int(request.args.get("desde", max(latest - 1, 1)))
        b = int(request.args.get("hasta", latest))
    except ValueError:
        a, b = max(latest - 1, 1), latest
    d = design.diff(me(), key, a, b)
    xml_a = design.version_source(me(), key, a)[2]
    xml_b = design.version_source(me(), key, b)[2]
    return _render("design/diff.html", key=key, rows=rows, diff=d, xml_a=xml_a, xml_b=xml_b,
                   markers_a=_markers(d, "a"), markers_b=_markers(d, "b"))


def _markers(d: Any, side: str) -> dict[str, str]:
    out = {}
    for e in d.elements:
        if e.change == "changed" or (side == "a" and e.change == "removed") or (side == "b" and e.change == "added"):
            out[e.id] = f"diff-{e.change}"
    return out


@bp.post("/<any(procesos, decisiones):kind>/<key>/borrador")
@roles_required(*DESIGNERS)
def new_draft(kind: str, key: str):  # type: ignore[no-untyped-def]
    base = request.form.get("base_version", type=int)
    draft = tramita().drafts.create_draft(me(), key, base, "decision" if kind == "decisiones" else "process")
    return redirect(url_for("design.draft", draft_id=draft.id))


@bp.get("/borradores/<int:draft_id>")
@roles_required(*DESIGNERS)
def draft(draft_id: int, note_error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    design, work = tramita().design, tramita().drafts
    d = work.draft(me(), draft_id)
    kind = "decision" if d.filename.endswith(".dmn") else "process"
    if d.author == me().username and d.status in ("draft", "rejected"):
        options = design.studio_options(me())
        config = {"checkUrl": url_for("design.check", draft_id=d.id), "csrf": generate_csrf(), "options": options}
        return _render("design/editor.html", draft=d, config=config, note_error=note_error, kind=kind,
                       forms=forms_used(d.content)), status
    findings = work.lint_draft(me(), draft_id)
    diff = work.draft_diff(me(), draft_id)
    base_xml = design.version_source(me(), d.process_key, d.base_version, kind)[2]
    changes = work.parameter_changes(me(), draft_id) if kind == "process" else []
    return _render("design/review.html", draft=d, findings=findings, diff=diff, base_xml=base_xml, kind=kind,
                   parameter_changes=changes,
                   edited=[n.rsplit("/", 1)[-1] for n in d.forms if n.startswith("scenarios/")],
                   markers_a=_markers(diff, "a"), markers_b=_markers(diff, "b")), status


@bp.post("/borradores/<int:draft_id>/revisar")
@roles_required(*DESIGNERS)
def check(draft_id: int):  # type: ignore[no-untyped-def]
    """Save the modeler's XML and answer its findings (the studio calls this, debounced, as the designer edits)."""
    import json

    work = tramita().drafts
    work.save_draft(me(), draft_id, request.get_data(as_text=True))
    findings = work.lint_draft(me(), draft_id)
    errors = sum(f.severity == "error" for f in findings)
    body = {"findings": [f.to_dict() for f in findings], "errors": errors, "warnings": len(findings) - errors}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.post("/borradores/<int:draft_id>/enviar")
@roles_required(*DESIGNERS)
def submit(draft_id: int):  # type: ignore[no-untyped-def]
    try:
        tramita().drafts.submit_draft(me(), draft_id, request.form.get("change_note", ""),
                                      _entry_into_force(request.form.get("effective_from", "")))
    except TramitaError as exc:
        if exc.field in ("change_note", "content", "effective_from"):
            return draft(draft_id, note_error=exc.message, status=422)
        raise
    flash(_("Borrador enviado a aprobación. Otra persona diseñadora debe revisarlo."), "success")
    return redirect(url_for("design.draft", draft_id=draft_id))


def _entry_into_force(text: str) -> Any:
    """A date (the reform's entry into force) as 00:00 in Hermosillo; empty: in force once approved."""
    from datetime import date, datetime, time

    from engine.errors import InvalidInput
    from engine.services.terms import HERMOSILLO

    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(_("La fecha de entrada en vigor no es válida: escríbala como AAAA-MM-DD."),
                           field="effective_from") from None
    return datetime.combine(day, time(0, 0), HERMOSILLO)


@bp.post("/borradores/<int:draft_id>/aprobar")
@roles_required(*DESIGNERS)
def approve(draft_id: int):  # type: ignore[no-untyped-def]
    d = tramita().drafts.draft(me(), draft_id)
    version = tramita().drafts.approve_draft(me(), draft_id, request.form.get("comment", ""))
    flash(_("Aprobado: la versión %(v)s de %(k)s está desplegada. Los casos nuevos la usan; los abiertos siguen "
            "en su versión.", v=version, k=d.process_key), "success")
    return redirect(url_for("design.versions", kind="procesos", key=d.process_key))


@bp.post("/borradores/<int:draft_id>/rechazar")
@roles_required(*DESIGNERS)
def reject(draft_id: int):  # type: ignore[no-untyped-def]
    tramita().drafts.reject_draft(me(), draft_id, request.form.get("comment", ""))
    flash(_("Borrador rechazado; quien lo escribió verá su comentario."), "success")
    return redirect(url_for("design.index"))


@bp.post("/borradores/<int:draft_id>/actualizar")
@roles_required(*DESIGNERS)
def rebase(draft_id: int):  # type: ignore[no-untyped-def]
    tramita().drafts.rebase_draft(me(), draft_id)
    flash(_("El borrador ahora parte de la versión vigente: revise el cambio antes de enviarlo."), "success")
    return redirect(url_for("design.draft", draft_id=draft_id))


# --- forms (JSON Schema) edited beside the preview caseworkers will see -------------------------------


def _preview_fields(text: str) -> tuple[list[Any], str | None]:
    from engine.services.design import parse_form
    from web.cases import schema_form

    try:
        schema = parse_form(text)
    except TramitaError as exc:
        return [], exc.message
    return schema_form.build(schema, None, None), None


@bp.route("/borradores/<int:draft_id>/formularios/<name>", methods=["GET", "POST"])
@roles_required(*DESIGNERS)
def draft_form(draft_id: int, name: str):  # type: ignore[no-untyped-def]
    work = tramita().drafts
    d = work.draft(me(), draft_id)
    error, status = None, 200
    if request.method == "POST":
        text = request.form.get("schema", "")
        try:
            work.save_draft_form(me(), draft_id, name, text)
            flash(_("Formulario guardado en el borrador; se desplegará con él al aprobarse."), "success")
            return redirect(url_for("design.draft_form", draft_id=draft_id, name=name))
        except TramitaError as exc:
            error, status = exc.message, 422
    else:
        text = work.draft_form(me(), draft_id, name)
    fields, problem = _preview_fields(text)
    editable = d.author == me().username and d.status in ("draft", "rejected")
    return _render("design/form.html", draft=d, name=name, text=text, fields=fields, error=error or problem,
                   editable=editable), status


@bp.post("/formularios/vista-previa")
@roles_required(*DESIGNERS)
def form_preview():  # type: ignore[no-untyped-def]
    fields, problem = _preview_fields(request.form.get("schema", ""))
    return render_template("design/_preview.html", fields=fields, error=problem)


def forms_used(content: str) -> list[str]:
    import re

    return sorted(set(re.findall(r'formJsonSchemaFilename"\s+value="([^"]+)"', content)))


@bp.route("/procesos/<key>/casos", methods=["GET", "POST"])
@roles_required(*DESIGNERS)
def moves(key: str):  # type: ignore[no-untyped-def]
    """Open cases on other versions, what moving each to the latest would mean, and the move of those
    chosen (each case in its own transaction; the result says, per case, whether it moved or why not)."""
    service = tramita().migration
    rows = tramita().design.versions(me(), key)
    errors: dict[str, str] = {}
    results = None
    chosen = request.form.getlist("caso") if request.method == "POST" else []
    reason = request.form.get("motivo", "") if request.method == "POST" else ""
    status = 200
    if request.method == "POST":
        ids = [int(c) for c in chosen if c.isdigit()]
        if not ids:
            errors["caso"] = _("Elija al menos un caso para moverlo.")
        if not reason.strip():
            errors["motivo"] = _("Escriba el motivo del cambio de versión: queda en la bitácora de cada caso.")
        if not errors:
            try:
                results = service.move(me(), key, rows[0].version, ids, reason)
            except TramitaError as exc:
                errors[{"instances": "caso"}.get(exc.field or "", "motivo")] = exc.message
        status = 422 if errors else 200
    return _render("design/moves.html", key=key, latest=rows[0].version, previews=service.move_previews(me(), key),
                   errors=errors, results=results, chosen=chosen, reason=reason if errors else ""), status
