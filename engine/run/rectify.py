"""Rectifying a wrong name or date in a running case (right to rectify, Ley General de Protección de Datos
Personales en Posesión de Sujetos Obligados, art. 37 and following; see docs/terms.md).

One transition, one audit event (``data_rectified``) that keeps the old and the new value and the reason.
The corrected value replaces the wrong one wherever the case holds it, and every term computed from it
is worked out again: a waiting timer whose expression reads the field is re-evaluated and re-armed at its
new instant (the way ``engine.run.terms`` moves a suspended term), and an open task dated by a ``dueDate``
expression that reads it takes its new due date; each new explanation says why the end moved and keeps
the previous one.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from engine.errors import InvalidInput, NotFound
from engine.run import terms, timers
from engine.run import transitions as instances
from engine.run.runtime import Runtime
from engine.run.transitions import TransitionResult
from engine.store.models import Instance, Task, Timer
from engine.store.states import EventKind, TimerStatus
from engine.time import clock
from engine.time.hermosillo import HERMOSILLO



def rectifiable(schema: dict[str, Any] | None, field: str) -> bool:
    """Names and dates typed on a form: a free-text ``nombre…`` field or a date / date-time field."""
    if not isinstance(schema, dict) or schema.get("type") not in ("string", None) or "enum" in schema \
            or "oneOf" in schema:
        return False
    return schema.get("format") in ("date", "date-time") or "nombre" in field


def _all_tasks(wf: BpmnWorkflow) -> list[SpiffTask]:
    found = list(wf.get_tasks())
    for sub in getattr(wf, "subprocesses", {}).values():
        found.extend(sub.get_tasks())
    return found


def _reads(expression: str | None, field: str) -> bool:
    return bool(expression) and re.search(rf"\b{re.escape(field)}\b", str(expression)) is not None


def rectify(rt: Runtime, instance_id: int, field: str, value: Any, schema: dict[str, Any], user: str,
            reason: str) -> TransitionResult:
    """Replace ``field`` by ``value`` (valid for its form ``schema``) and recompute the terms that read it."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Escriba el motivo de la rectificación (derecho de rectificación).", field="reason")
    if not rectifiable(schema, field):
        raise InvalidInput(f"«{field}» no es un nombre ni una fecha que pueda rectificarse.", field="field")
    errors = [e.message for e in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(value)]
    if errors or value in (None, ""):
        kind = "fecha (AAAA-MM-DD)" if schema.get("format") == "date" else "valor"
        raise InvalidInput(f"Escriba una {kind} válida para «{schema.get('title') or field}».", field="value")
    reason = reason.strip()

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        holders = [t for t in _all_tasks(wf) if field in t.data]
        in_workflow = field in wf.data
        if not holders and not in_workflow:
            raise NotFound(f"El caso {instance_id} no tiene el dato «{field}».", field="field")
        old = next((t.data[field] for t in reversed(holders)), wf.data.get(field))
        if old == value:
            raise InvalidInput("El valor nuevo es igual al registrado: no hay nada que rectificar.", field="value")
        for t in _all_tasks(wf):  # finished tasks keep their serialized text (engine.bpmn.serializer): drop it
            t.__dict__.pop("_tramita_json", None)
        for t in holders:
            t.data[field] = value
        if in_workflow:
            wf.data[field] = value
        note = {"field": field, "before": {field: old}, "changes": {field: value}, "reason": reason, "by": user,
                "at": clock.now().astimezone(HERMOSILLO).isoformat()}
        moved = _rearm_timers(rt, s, wf, instance_id, field, old, value, note)
        dated = _redate_tasks(rt, s, wf, instance_id, field)
        return {**note, "timers": moved, "tasks": dated}

    return instances.transition(rt, instance_id, user, EventKind.DATA_RECTIFIED, apply, step=False, writes=True)


def _rearm_timers(rt: Runtime, s: Session, wf: BpmnWorkflow, instance_id: int, field: str, old: Any, new: Any,
                  note: dict[str, Any]) -> list[dict[str, Any]]:
    from engine.script.helpers import _computed

    moved = []
    conn = s.connection()
    t = Timer.__table__
    for task in timers.waiting_timers(wf):
        expression = getattr(task.task_spec.event_definition, "expression", None)
        if not _reads(expression, field):
            continue
        old_value = task._get_internal_data("event_value")
        new_iso = str(wf.script_engine.evaluate(task, expression))
        if new_iso == str(old_value):
            continue
        cancelled = conn.execute(
            update(t).where(t.c.instance_id == instance_id, t.c.task_id == str(task.id), t.c.status == TimerStatus.PENDING)
            .values(status="cancelled", claimed_by=None, claimed_until=None).returning(t.c.deadline)).all()
        previous = cancelled[0][0] if cancelled else None
        entries = _computed.get()
        explanation = dict((entries or {}).get(new_iso) or {})
        explanation["rule"] = (f"Recalculado por la rectificación de «{field}» ({old} → {new}; motivo: "
                               f"{note['reason']}). " + str(explanation.get("rule", "")))
        explanation["rectified"] = {**note, "previous_due": str(old_value)}
        if previous is not None:
            explanation["previous"] = previous
        terms._explain(new_iso, explanation)
        task._set_internal_data(event_value=new_iso)
        task.internal_data.pop("event_fired", None)
        attached = terms._update_attached_tasks(rt, s, instance_id, task)
        # The same computed deadline kept as case data (e.g. fecha_limite_recurso, which later decides whether
        # a filing was timely) follows the timer.
        derived = sorted({k for t in _all_tasks(wf) for k, v in t.data.items()
                          if k != field and isinstance(v, str) and v == str(old_value)})
        for t in _all_tasks(wf):
            for k in derived:
                if t.data.get(k) == str(old_value):
                    t.data[k] = new_iso
        moved.append({"timer": task.task_spec.bpmn_id, "old_due": str(old_value), "new_due": new_iso,
                      "attached_to": attached, "data": derived})
    return moved


def _redate_tasks(rt: Runtime, s: Session, wf: BpmnWorkflow, instance_id: int, field: str) -> list[str]:
    """Open user tasks dated by a ``dueDate`` expression that reads the field take their new due date."""
    from sqlalchemy import select

    conn = s.connection()
    definition_id = conn.execute(select(Instance.definition_id).where(Instance.id == instance_id)).scalar_one()
    info = rt.specs.get(s, definition_id).task_info
    dated = []
    for task in wf.get_tasks(state=TaskState.READY):
        spec_info = info.get(task.task_spec.bpmn_id, {})
        if not task.task_spec.manual or not _reads(spec_info.get("due"), field):
            continue
        due, deadline = timers.due_for_task(rt, task, spec_info)
        if deadline is not None:
            deadline = {**deadline, "rule": f"Recalculado por la rectificación de «{field}». " + deadline.get("rule", "")}
        t = Task.__table__
        conn.execute(update(t).where(t.c.id == str(task.id), t.c.state == instances.OPEN)
                     .values(due_at=due, deadline=deadline))
        dated.append(task.task_spec.bpmn_id)
    return dated
