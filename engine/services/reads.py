"""Reads that several services share: a case's rows as frozen views, its forms, its diagram state."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.errors import NotFound
from engine.run.runtime import Runtime
from engine.store.models import DeployedFile, Definition, Event, Incident, Instance, Task, Timer
from engine.store.states import EventKind, InstanceStatus, TimerStatus
from engine.services.views import (DiagramView, EventView, FormSpec, IncidentView, InstanceDetail, TaskView,
                                   TimerView, form_spec, instance_view)


def task(rt: Runtime, task_id: str) -> TaskView:
    with rt.db.read() as s:
        row = s.get(Task, task_id)
        if row is None:
            raise NotFound(f"task {task_id!r} does not exist", field="task")
        return TaskView.of(row)


def instance(rt: Runtime, instance_id: int) -> InstanceDetail:
    with rt.db.read() as s:
        row = s.execute(select(Instance, Definition.version).join(Definition, Definition.id == Instance.definition_id)
                        .where(Instance.id == instance_id)).first()
        if row is None:
            raise NotFound(f"instance {instance_id} does not exist", field="instance")
        inst, version = row
        state = json.loads(inst.state)
        tasks = [TaskView.of(t) for t in s.execute(
            select(Task).where(Task.instance_id == instance_id).order_by(Task.created_at)).scalars()]
        timers = [TimerView(t.id, t.task_name, t.kind, t.due_at, TimerStatus(t.status), t.interrupting,
                            t.attached_to, t.deadline, t.fired_at) for t in s.execute(
            select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)).scalars()]
        events = [EventView(e.id, e.at, e.actor, EventKind(e.kind), e.task_id, e.detail) for e in s.execute(
            select(Event).where(Event.instance_id == instance_id).order_by(Event.id)).scalars()]
        incidents = [IncidentView(i.id, i.task_name, i.message, i.created_at, i.resolved_at) for i in s.execute(
            select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id)).scalars()]
        return InstanceDetail(instance_view(inst, version), serializer.case_data(state), tasks, timers, events,
                              incidents)


def task_form(rt: Runtime, task_id: str) -> FormSpec:
    with rt.db.read() as s:
        row = s.get(Task, task_id)
        if row is None:
            raise NotFound(f"task {task_id!r} does not exist", field="task")
        definition_id = s.execute(select(Instance.definition_id).where(Instance.id == row.instance_id)).scalar_one()
        loaded = rt.specs.get(s, definition_id)
        info = loaded.task_info.get(row.name, {})
        return form_spec(row.process_key, row.name, info, loaded.parts.parameters)


def case_forms(rt: Runtime, instance_id: int) -> dict[str, FormSpec]:
    """Every form of the case's process version, by element id (labels for the data summary)."""
    with rt.db.read() as s:
        inst = s.get(Instance, instance_id)
        if inst is None:
            raise NotFound(f"instance {instance_id} does not exist", field="instance")
        info = rt.specs.get(s, inst.definition_id).task_info
    return {el: form_spec(inst.process_key, el, i) for el, i in info.items() if i.get("schema")}


def waiting_messages(rt: Runtime, instance_id: int) -> list[dict[str, Any]]:
    """The messages a case is waiting for now (e.g. a violation report), read without restoring it."""
    with rt.db.read() as s:
        inst = s.get(Instance, instance_id)
        if inst is None:
            raise NotFound(f"instance {instance_id} does not exist", field="instance")
        info = rt.specs.get(s, inst.definition_id).task_info
        state = json.loads(inst.state)
    waiting: dict[str, dict[str, Any]] = {}
    for task_ in serializer.state_tasks(state):
        element = info.get(task_.get("task_spec"), {})
        if task_["state"] == TaskState.WAITING and element.get("message"):
            waiting.setdefault(element["message"], {
                "name": element["message"], "element": task_["task_spec"], "title": element.get("title"),
                "documentation": element.get("documentation")})
    return sorted(waiting.values(), key=lambda m: m["name"])


def diagram(rt: Runtime, instance_id: int) -> DiagramView:
    """The deployed XML of the instance's version, with which elements are done, which are current and
    which failed (an open incident names its task), and whether the case has ended."""
    with rt.db.read() as s:
        inst = s.get(Instance, instance_id)
        if inst is None:
            raise NotFound(f"instance {instance_id} does not exist", field="instance")
        definition = s.get(Definition, inst.definition_id)
        xml = s.get(DeployedFile, definition.file_id).content
        info = definition.task_info or {}
        state = json.loads(inst.state)
        ended = inst.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
        failed = {name for name in s.scalars(select(Incident.task_name).where(
            Incident.instance_id == instance_id, Incident.resolved_at.is_(None))) if name in info}
    completed: set[str] = set()
    active: set[str] = set()
    for task_ in serializer.state_tasks(state):
        name = task_.get("task_spec")
        if name not in info:
            continue
        if task_["state"] == TaskState.COMPLETED:
            completed.add(name)
        elif task_["state"] in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(name)
        elif task_["state"] == TaskState.ERROR:
            failed.add(name)
    return DiagramView(xml, sorted(completed - active - failed), sorted(active - failed), sorted(failed), ended)
