"""Procedures, task pages and case files."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext

from engine.services import MASK, EventKind, InstanceStatus, TaskState, badge, is_reserved
from engine.services.terms import HERMOSILLO, DateContext, now
from engine.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound, TramitaError
from web.cases import events, form_values, schema_form, schema_reading, value_display
from web.security import me, tramita
from web.views import roles_required, status_label

bp = Blueprint("cases", __name__)

ALL_ROLES = ("caseworker", "legal_designer", "manager", "admin")


# --- procedures -----------------------------------------------------------------------------------


@bp.get("/procedimientos")
@roles_required(*ALL_ROLES)
def processes():  # type: ignore[no-untyped-def]
    procs = tramita().cases.processes(me())
    for p in procs:
        p["may_start"] = tramita().cases.may_start(me(), p["key"])
        try:
            spec = tramita().cases.start_form(me(), p["key"])
            p["documentation"] = spec.documentation
        except TramitaError:
            p["documentation"] = None
    return render_template("cases/processes.html", processes=procs)


def _new_reference(key: str) -> str:
    today = now().astimezone(HERMOSILLO)
    prefix = "".join(part[0] for part in key.split("_") if part)[:3].upper() or "EXP"
    return f"{prefix}-{today:%Y%m%d}-{secrets.token_hex(2).upper()}"


@bp.route("/procedimientos/<key>/iniciar", methods=["GET", "POST"])
@roles_required("caseworker")
def start(key: str):  # type: ignore[no-untyped-def]
    spec = tramita().cases.start_form(me(), key, starting=True)
    schema = spec.schema
    errors: dict[str, str] = {}
    general: str | None = None
    raw: dict[str, Any] | None = None
    reference = request.form.get("_reference", "").strip()
    title = request.form.get("_title", "").strip()
    status = 200
    if request.method == "POST":
        parsed = form_values.parse(_without_files(schema), request.form, request.files)
        raw = parsed.raw
        if len(reference) > 120:
            errors["_reference"] = _("Máximo 120 caracteres.")
        if len(title) > 255:
            errors["_title"] = _("Máximo 255 caracteres.")
        if request.form.get(form_values.ADD_ROW):  # another row for a table: show the form again, save nothing
            pass
        elif not errors:
            try:
                result = tramita().cases.start(me(), key, parsed.data, reference=reference or _new_reference(key),
                                         title=title or None, institution=me().institution)
            except InvalidInput as exc:
                errors, status = dict(exc.fields), 422
                general = _("Revise los campos marcados.")
            except TramitaError as exc:
                general, status = exc.message, exc.status
            else:
                flash(_("Caso iniciado: %(ref)s.", ref=reference or _("nuevo expediente")), "success")
                return redirect(url_for("cases.case", instance_id=result.instance_id))
        if errors:
            status = 422
    fields = schema_form.build(_without_files(schema), None, None, raw=raw, identifying=is_reserved,
                               context=DateContext(now(), {}, {}))
    leftover = schema_form.attach_errors(fields, errors)
    return render_template("cases/start.html", spec=spec, fields=fields, errors=errors, leftover=leftover,
                           general=general, reference=reference, title=title), status


def _without_files(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """Files need a case to belong to; on a start form they are attached afterwards, on the case file."""
    if not schema:
        return schema
    props = {k: v for k, v in (schema.get("properties") or {}).items()
             if not (isinstance(v, dict) and schema_reading.is_file(v))}
    return {**schema, "properties": props, "required": [r for r in schema.get("required", []) if r in props]}


# --- tasks ----------------------------------------------------------------------------------------


@bp.route("/tareas/<task_id>", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def task(task_id: str):  # type: ignore[no-untyped-def]
    page = tramita().cases.task(me(), task_id)
    grant, task_view, spec = page.access, page.task, page.form
    schema = spec.schema
    errors: dict[str, str] = {}
    general: str | None = None
    conflict = False
    raw: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        raced = not grant.act and (task_view.state != TaskState.READY or
                                   (task_view.assignee not in (None, me().username) and me().role == "caseworker"))
        if not grant.act and not raced:
            abort(403)
        parsed = form_values.parse(schema, request.form, request.files)
        raw = parsed.raw
        data = parsed.data
        if raced:  # finished or taken by someone else while this page was open: keep what was typed
            parsed.files.clear()
            errors["__conflict__"] = ""
        for path, upload in parsed.files.items():
            try:
                att = tramita().cases.add_attachment(me(), task_view.instance_id, upload.filename or "", upload.read(),
                                               task_id=task_id, field=path)
            except InvalidInput as exc:
                errors[path] = exc.message
                continue
            ref = f"{form_values.FILE_PREFIX}{att.id}:{att.filename}"
            _set_path(data, path, ref)
            raw[path] = ref
        if request.form.get(form_values.ADD_ROW) and not raced:  # another row for a table: save nothing
            pass
        elif errors.pop("__conflict__", None) is not None:
            status, conflict = 409, True
            general = _("Esta tarea ya no se puede completar (otra persona la completó, la tomó o el caso "
                        "cambió). Sus datos siguen abajo: cópielos si los necesita.")
        elif errors:
            status, general = 422, _("Revise los campos marcados.")
        else:
            try:
                tramita().cases.complete(me(), task_id, data)
            except InvalidInput as exc:
                errors, status = dict(exc.fields), 422
                general = _("Revise los campos marcados. No se guardó nada.")
            except (Conflict, InvalidState) as exc:
                status, conflict = 409, True
                general = _("Esta tarea ya no se puede completar (otra persona la completó, la tomó o el caso "
                            "cambió). Sus datos siguen abajo: cópielos si los necesita.") + f" ({exc.message})"
            except NotFound:
                raise
            except TramitaError as exc:
                status, general = exc.status, exc.message
            else:
                flash(_("Tarea «%(t)s» completada.", t=task_view.title or task_view.name), "success")
                if _sees_case(task_view.instance_id):
                    return redirect(url_for("cases.case", instance_id=task_view.instance_id))
                return redirect(url_for("inbox.index"))
        page = tramita().cases.task(me(), task_id)
        grant, task_view = page.access, page.task
    instance = page.instance
    sees_case = _sees_case(task_view.instance_id)
    # What the case holds so far (e.g. the risk table's recommendation when issuing an order); seeing it is
    # an opening of the case file, audited like one.
    cf = tramita().cases.case_file(me(), task_view.instance_id, via="tarea") if sees_case else None
    case_data = cf.detail.data if cf else {}
    values = None if raw is not None else {}
    fields = schema_form.build(schema, values, None, raw=raw, identifying=is_reserved,
                               context=DateContext(now(), case_data, case_data.get("parametros") or {}))
    leftover = schema_form.attach_errors(fields, errors)
    return render_template("cases/task.html", task=task_view, spec=spec, fields=fields, leftover=leftover,
                           general=general, conflict=conflict, grant=grant, instance=instance,
                           badge=(badge(task_view.due_at, task_view.overdue) if task_view.state == TaskState.READY
                                  else None),
                           sees_case=sees_case, cf=cf, summary=_summary(cf) if cf else [],
                           holder=_holder_rows(page) if not cf else [], holder_files=page.holder_attachments, page=page,
                           process_name=_process_name(task_view.process_key)), status


def _process_name(key: str) -> str:
    """The procedure's name as its diagram gives it (the key is an identifier, not for people)."""
    return next((p["name"] for p in tramita().cases.processes(me()) if p["key"] == key), None) or key


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _sees_case(instance_id: int) -> bool:
    return tramita().cases.sees_case(me(), instance_id)


# --- case files -----------------------------------------------------------------------------------


@bp.route("/casos", methods=["GET", "POST"])
@roles_required("caseworker", "manager", "admin")
def case_list():  # type: ignore[no-untyped-def]
    # The filter form posts (a searched name must not reach a URL or the server's access log); links may
    # still carry the other filters.
    values = request.form if request.method == "POST" else request.args
    page = values.get("page", 1, type=int) or 1
    filters = {"process_key": values.get("procedimiento") or None,
               "status": values.get("estado") or None, "text": values.get("q") or None}
    rows, total = tramita().cases.cases(me(), page=page, per_page=25, **filters)
    pages = max(1, -(-total // 25))
    args = {k: v for k, v in values.items() if k not in ("page", "q", "csrf_token") and v}
    warnings = tramita().monitor.parameter_warnings(me()) if me().role in ("manager", "admin") else []
    return render_template("cases/list.html", rows=rows, total=total, page=page, pages=pages, filters=filters,
                           warnings=warnings,
                           processes=tramita().cases.processes(me()), args=args)


@bp.get("/casos/<int:instance_id>")
@roles_required("caseworker", "manager", "admin")
def case(instance_id: int):  # type: ignore[no-untyped-def]
    return _render_case(instance_id)


def _render_case(instance_id: int, posted: dict[str, Any] | None = None, status: int = 200,
                 rectify: dict[str, Any] | None = None) -> Any:
    """The case file; ``posted`` is an event form sent back with its values and errors (see ``register_event``)."""
    cf = tramita().cases.case_file(me(), instance_id)
    detail = cf.detail
    summary = _summary(cf)
    open_tasks = [(t, badge(t.due_at, t.overdue)) for t in detail.tasks if t.state == TaskState.READY]
    # A timer's term shows on its own unless a task with a form already shows it: the art. 40 term runs on a
    # receive task (the case waits for the reform), which has no task row, so the timer is listed itself.
    dated = {t.name for t in detail.tasks if t.deadline}
    deadlines = [t for t in detail.tasks if t.deadline] + [tm for tm in detail.timers if tm.deadline
                                                           and tm.attached_to not in dated]
    timeline = [e for e in detail.events if e.kind != EventKind.CASE_OPENED]
    openings = [e for e in detail.events if e.kind == EventKind.CASE_OPENED]
    names = _element_names(instance_id)
    may_rectify = cf.access.act and me().role == "caseworker" and detail.instance.status == "running"
    rectifiable = tramita().cases.rectifiable_fields(me(), instance_id) if may_rectify else {}
    return render_template("cases/case.html", cf=cf, detail=detail, inst=detail.instance, summary=summary,
                           rectifiable=rectifiable, rectify=rectify,
                           process_name=_process_name(detail.instance.process_key),
                           open_tasks=open_tasks, deadlines=deadlines, timeline=timeline, openings=openings,
                           names=names, waiting=_waiting(instance_id, posted), posted=posted,
                           received={e.id: _received(e, names) for e in timeline
                                     if e.kind == EventKind.MESSAGE_RECEIVED},
                           may_register=cf.access.act and detail.instance.status == InstanceStatus.RUNNING), status


def _received(event: Any, names: dict[str, str]) -> dict[str, Any]:
    """A registered event as the timeline shows it: what was done, what happened, when, which tasks it opened."""
    from web.i18n import fecha

    detail = event.detail or {}
    body = detail.get("payload") if isinstance(detail.get("payload"), dict) else {}
    when = body.get("fecha")
    try:
        when_text = fecha(when) if isinstance(when, str) and when else None
    except (ValueError, TypeError):  # sent by hand (CLI) in another format: shown as sent
        when_text = str(when)
    name = str(detail.get("message", ""))
    return {"label": events.label(tramita().cases.event_kinds(me()).get(name), name),
            "descripcion": body.get("descripcion") if isinstance(body.get("descripcion"), str) else None,
            "fecha": when_text,
            "tasks": [names.get(t, t) for t in detail.get("tasks_created") or []]}


def _waiting(instance_id: int, posted: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The events the case waits for, each with what its form shows (typed values and errors if just posted)."""
    typed_now = events.local_input(now())
    out = []
    for m in tramita().cases.waiting_messages(me(), instance_id):
        mine = posted if posted and posted["name"] == m["name"] and posted.get("keep", True) else None
        out.append({**m, "label": events.label(m["kind"], m["name"], m.get("title")), "texts": events.texts(m["kind"]),
                    "typed": mine["typed"] if mine else {"descripcion": "", "fecha": typed_now},
                    "errors": mine["errors"] if mine else {}, "general": mine.get("general") if mine else None})
    return out


# --- rectification ---------------------------------------------------------------------------------


@bp.post("/casos/<int:instance_id>/rectificar")
@roles_required("caseworker")
def rectify(instance_id: int):  # type: ignore[no-untyped-def]
    """Correct a wrong name or date of the case, with the reason (right to rectify); the terms follow."""
    typed = {k: request.form.get(k, "").strip() for k in ("campo", "valor", "motivo")}
    errors: dict[str, str] = {}
    if not typed["campo"]:
        errors["campo"] = _("Elija el dato que va a rectificar.")
    if not typed["valor"]:
        errors["valor"] = _("Escriba el valor correcto.")
    if not typed["motivo"]:
        errors["motivo"] = _("Escriba el motivo de la rectificación (por ejemplo, el documento que la acredita).")
    if not errors:
        try:
            tramita().cases.rectify(me(), instance_id, typed["campo"], typed["valor"], typed["motivo"])
        except InvalidInput as exc:
            errors[{"field": "campo", "value": "valor", "reason": "motivo"}.get(exc.field or "", "valor")] = exc.message
        except Conflict:
            errors["valor"] = _changed()
        else:
            flash(_("Dato rectificado. Los plazos que dependían de él se recalcularon."), "success")
            return redirect(url_for("cases.case", instance_id=instance_id) + "#datos", 303)
    return _render_case(instance_id, status=422, rectify={"typed": typed, "errors": errors})


# --- external events (BPMN messages) ----------------------------------------------------------------


@bp.post("/casos/<int:instance_id>/eventos/<name>")
@roles_required("caseworker", "manager", "admin")
def register_event(instance_id: int, name: str):  # type: ignore[no-untyped-def]
    """Register an event the case waits for (e.g. a reported violation of the order): send its message.

    Only who may act on the case (as for its tasks and attachments) may register one; a refusal writes
    nothing. Invalid input or a case that no longer waits for it shows the case again with what was typed.
    """
    grant = tramita().cases.check_case(me(), instance_id)  # 404 / 403, writing nothing
    if not grant.act:
        raise Forbidden(_("Su rol no permite registrar eventos en este expediente."), field="message")
    inst = tramita().cases.case_head(me(), instance_id).instance
    kind = tramita().cases.event_kinds(me()).get(name)
    label = events.label(kind, name)
    payload, values, errors = events.from_form(kind, request.form, started_at=inst.started_at, now=now())
    posted: dict[str, Any] = {"name": name, "label": label, "typed": values, "errors": errors}
    waiting = {m["name"]: m for m in tramita().cases.waiting_messages(me(), instance_id)}
    if name in waiting:
        posted["label"] = label = events.label(kind, name, waiting[name].get("title"))
    if inst.status != InstanceStatus.RUNNING:
        posted.update(keep=False, general=_("El caso está %(s)s: no se pueden registrar eventos. No se guardó "
                                            "nada.", s=status_label(inst.status).lower()))
        return _render_case(instance_id, posted, 409)
    if name not in waiting:
        posted.update(keep=False, general=_no_longer_waiting(label))
        return _render_case(instance_id, posted, 409)
    if str(inst.revision) != request.form.get("_revision", str(inst.revision)):
        posted["general"] = _changed()
        return _render_case(instance_id, posted, 409)
    if payload is None:
        posted["general"] = _("Revise los campos marcados. No se guardó nada.")
        return _render_case(instance_id, posted, 422)
    before = {t.id for t in tramita().cases.case_head(me(), instance_id).tasks}
    try:
        tramita().cases.send_message(me(), instance_id, name, payload)
    except InvalidState:  # someone registered it (or the case changed) between the check and now
        posted.update(keep=False, general=_no_longer_waiting(label))
        return _render_case(instance_id, posted, 409)
    except Conflict:
        posted["general"] = _changed()
        return _render_case(instance_id, posted, 409)
    except InvalidInput as exc:
        posted.update(errors=dict(exc.fields), general=_("Revise los campos marcados. No se guardó nada."))
        return _render_case(instance_id, posted, 422)
    except NotFound:
        raise
    except TramitaError as exc:  # a script of the diagram failed: the engine recorded an incident
        flash(_("El evento «%(e)s» se registró, pero el procedimiento tuvo un incidente: %(m)s", e=label,
                m=exc.message), "error")
        return redirect(url_for("cases.case", instance_id=instance_id) + "#tareas", 303)
    new = [t.title or t.name for t in tramita().cases.case_head(me(), instance_id).tasks
           if t.state == TaskState.READY and t.id not in before]
    message = _("Se registró «%(e)s».", e=label)
    if new:
        message += " " + ngettext("Tarea nueva: %(t)s.", "Tareas nuevas: %(t)s.", len(new), t="; ".join(new))
    flash(message, "success")
    return redirect(url_for("cases.case", instance_id=instance_id) + "#tareas", 303)


def _changed() -> str:
    return _("El expediente cambió desde que abrió esta página (por ejemplo, otra persona ya registró este "
             "evento). Revise el historial y, si el evento sigue pendiente, vuelva a enviarlo. No se guardó nada.")


def _no_longer_waiting(label: str) -> str:
    return _("El expediente ya no espera «%(e)s»: otra persona ya lo registró o el caso cambió. No se guardó "
             "nada; lo que escribió sigue abajo por si lo necesita.", e=label)


def _element_names(instance_id: int) -> dict[str, str]:
    """Diagram element id -> its name, so timers and incidents read as the diagram labels them."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(tramita().cases.diagram(me(), instance_id).xml.encode("utf-8"))
    except (ET.ParseError, TramitaError):
        return {}
    return {str(el.get("id")): " ".join(str(el.get("name")).split()) for el in root.iter()
            if el.get("id") and el.get("name")}


def _summary(cf: Any) -> list[dict[str, Any]]:
    """The case data as rows of label and text (masked for roles that may not see identifying data)."""
    rows = []
    for key, value in cf.detail.data.items():
        if key == "parametros" or key.startswith("_"):
            continue
        sub = cf.fields.get(key)
        rows.append({"key": key, "label": (sub or {}).get("title") or key.replace("_", " ").capitalize(),
                     "value": value, "text": _display(value, sub), "identifying":
                     is_reserved(key, sub), "file": _file_ref(value)})
    return rows


def _holder_rows(page: Any) -> list[dict[str, Any]]:
    """What a task lets a caseworker of another institution see of the case, as rows of label and text."""
    fields = page.holder_fields or {}
    return [{"label": (fields.get(k) or {}).get("title") or k.replace("_", " ").capitalize(),
             "text": _display(v, fields.get(k))} for k, v in (page.holder_data or {}).items()
            if k != "parametros" and not k.startswith("_")]


def _file_ref(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.startswith(form_values.FILE_PREFIX):
        rest = value[len(form_values.FILE_PREFIX):]
        att_id, _sep, name = rest.partition(":")
        if att_id.isdigit():
            return {"id": int(att_id), "name": name or att_id}
    return None


@bp.app_template_filter("dato")
def _display(value: Any, schema: dict[str, Any] | None) -> str:
    """A case datum as a person reads it (option titles, Sí/No, dates); a masked one stays masked."""
    if value == MASK:
        return value
    return value_display.display(value, schema)


@bp.get("/casos/<int:instance_id>/diagrama.json")
@roles_required("caseworker", "manager", "admin")
def diagram(instance_id: int):  # type: ignore[no-untyped-def]
    view = tramita().cases.diagram(me(), instance_id)
    return jsonify(xml=view.xml, completed=view.completed, active=view.active, failed=view.failed, ended=view.ended)


@bp.post("/casos/<int:instance_id>/adjuntos")
@roles_required("caseworker")
def upload(instance_id: int):  # type: ignore[no-untyped-def]
    f = request.files.get("archivo")
    if f is None or not f.filename:
        flash(_("Elija un archivo."), "error")
    else:
        try:
            att = tramita().cases.add_attachment(me(), instance_id, f.filename, f.read())
        except (InvalidInput, InvalidState) as exc:
            flash(exc.message, "error")
            return redirect(url_for("cases.case", instance_id=instance_id) + "#adjuntos"), 303
        flash(_("Archivo «%(n)s» agregado.", n=att.filename), "success")
    return redirect(url_for("cases.case", instance_id=instance_id) + "#adjuntos"), 303


@bp.get("/casos/<int:instance_id>/adjuntos/<int:attachment_id>")
@roles_required("caseworker", "manager", "admin")
def attachment(instance_id: int, attachment_id: int):  # type: ignore[no-untyped-def]
    meta, content = tramita().cases.attachment(me(), attachment_id, instance_id)
    response = Response(content, mimetype=meta.content_type.split(";")[0])
    response.headers["Content-Disposition"] = _disposition(meta.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.get("/casos/<int:instance_id>/documentos/orden-proteccion.pdf")
@roles_required("caseworker", "manager", "admin")
def protection_order(instance_id: int):  # type: ignore[no-untyped-def]
    raw = request.args.get("version")
    version = int(raw) if raw and raw.isdigit() else None
    if raw and version is None:
        raise InvalidInput("La versión de la orden es un número: 1 para la emisión, 2 o más para cada prórroga.",
                           field="version")
    pdf = tramita().cases.protection_order_pdf(me(), instance_id, version)
    response = Response(pdf, mimetype="application/pdf")
    suffix = f"-v{version}" if version else ""
    response.headers["Content-Disposition"] = f'inline; filename="orden-proteccion-{instance_id}{suffix}.pdf"'
    return response
