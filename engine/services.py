"""The one API that ``web/`` and the CLI call: typed inputs, plain results, no ORM or Spiff objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import func, select

from engine import deployments, instances
from engine.deployments import BundleFile, DeployResult
from engine.errors import NotFound
from engine.instances import TransitionResult
from engine.runtime import Runtime
from engine.store.db import Database
from engine.store.models import Definition, Event, Incident, Instance, Task, Timer


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: int
    process_key: str
    name: str
    title: str | None
    lane: str | None
    state: str
    assignee: str | None
    candidate_group: str | None
    created_at: datetime
    due_at: datetime | None
    deadline: dict[str, Any] | None
    completed_at: datetime | None
    completed_by: str | None
    overdue: bool

    @classmethod
    def of(cls, row: Task) -> "TaskView":
        return cls(row.id, row.instance_id, row.process_key, row.name, row.title, row.lane, row.state, row.assignee,
                   row.candidate_group, row.created_at, row.due_at, row.deadline, row.completed_at,
                   row.completed_by, row.overdue)


@dataclass(frozen=True)
class TimerView:
    id: int
    task_name: str
    kind: str
    due_at: datetime
    status: str
    interrupting: bool
    attached_to: str | None
    deadline: dict[str, Any] | None
    fired_at: datetime | None


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class IncidentView:
    id: int
    task_name: str | None
    message: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    version: int
    status: str
    reference: str | None
    title: str | None
    started_at: datetime
    started_by: str
    updated_at: datetime
    ended_at: datetime | None
    revision: int


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceView
    data: dict[str, Any]
    tasks: list[TaskView]
    timers: list[TimerView]
    events: list[EventView]
    incidents: list[IncidentView]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FormSpec:
    """What a page needs to render a task's or a procedure's form."""

    process_key: str
    element: str
    title: str | None
    documentation: str | None
    lane: str | None
    schema: dict[str, Any] | None


@dataclass(frozen=True)
class DiagramView:
    xml: str
    completed: list[str]
    active: list[str]


def _form_spec(key: str, element: str, info: dict[str, Any]) -> FormSpec:
    return FormSpec(key, element, info.get("title"), info.get("documentation"), info.get("lane"), info.get("schema"))


class Tramita:
    """Tramita's engine as its callers see it."""

    def __init__(self, database: Database | str | None = None) -> None:
        db = database if isinstance(database, Database) else Database(database)
        self.runtime = Runtime(db)
        self.db = db

    # --- schema and deployments ---
    def init_db(self) -> None:
        self.db.upgrade()

    def deploy(self, files: Sequence[BundleFile], user: str) -> DeployResult:
        return deployments.deploy(self.db, files, user)

    def deploy_paths(self, paths: Iterable[str | Path], user: str) -> DeployResult:
        return self.deploy(deployments.collect_files(paths), user)

    def processes(self) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [{"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                     "deployed_by": d.deployed_by} for d in deployments.list_processes(s)]

    # --- transitions ---
    def start(self, key: str, data: Any, user: str, **kwargs: Any) -> TransitionResult:
        return instances.start(self.runtime, key, data, user, **kwargs)

    def complete(self, task_id: str, data: Any, user: str) -> TransitionResult:
        return instances.complete_task(self.runtime, task_id, data, user)

    def cancel(self, instance_id: int, user: str, reason: str = "") -> TransitionResult:
        return instances.cancel(self.runtime, instance_id, user, reason)

    def suspend(self, instance_id: int, user: str, reason: str = "") -> TransitionResult:
        return instances.suspend(self.runtime, instance_id, user, reason)

    def resume(self, instance_id: int, user: str) -> TransitionResult:
        return instances.resume(self.runtime, instance_id, user)

    def retry(self, instance_id: int, user: str, data: Any = None) -> TransitionResult:
        return instances.retry(self.runtime, instance_id, user, data)

    def send_message(self, instance_id: int, name: str, payload: Any, user: str) -> TransitionResult:
        return instances.send_message(self.runtime, instance_id, name, payload, user)

    # --- queries ---
    def tasks(self, *, user: str | None = None, groups: Sequence[str] = (), instance_id: int | None = None,
              state: str | None = "READY", limit: int = 200, offset: int = 0) -> list[TaskView]:
        q = select(Task)
        if state:
            q = q.where(Task.state == state)
        if instance_id is not None:
            q = q.where(Task.instance_id == instance_id)
        if user is not None:
            mine = Task.assignee == user
            if groups:
                mine = mine | (Task.assignee.is_(None) & Task.candidate_group.in_(list(groups)))
            q = q.where(mine)
        q = q.order_by(Task.due_at.is_(None), Task.due_at, Task.created_at).limit(limit).offset(offset)
        with self.db.read() as s:
            return [TaskView.of(r) for r in s.execute(q).scalars()]

    def task(self, task_id: str) -> TaskView:
        with self.db.read() as s:
            row = s.get(Task, task_id)
            if row is None:
                raise NotFound(f"task {task_id} does not exist", field="task")
            return TaskView.of(row)

    def instances(self, *, status: str | None = None, process_key: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[InstanceView]:
        q = select(Instance, Definition.version).join(Definition, Definition.id == Instance.definition_id)
        if status:
            q = q.where(Instance.status == status)
        if process_key:
            q = q.where(Instance.process_key == process_key)
        q = q.order_by(Instance.id.desc()).limit(limit).offset(offset)
        with self.db.read() as s:
            return [_instance_view(i, v) for i, v in s.execute(q).all()]

    def count_instances(self, status: str | None = None) -> int:
        q = select(func.count(Instance.id))
        if status:
            q = q.where(Instance.status == status)
        with self.db.read() as s:
            return int(s.execute(q).scalar_one())

    def instance(self, instance_id: int) -> InstanceDetail:
        import json

        with self.db.read() as s:
            row = s.execute(select(Instance, Definition.version).join(Definition, Definition.id == Instance.definition_id)
                            .where(Instance.id == instance_id)).first()
            if row is None:
                raise NotFound(f"instance {instance_id} does not exist", field="instance")
            inst, version = row
            state = json.loads(inst.state)
            tasks = [TaskView.of(t) for t in s.execute(
                select(Task).where(Task.instance_id == instance_id).order_by(Task.created_at)).scalars()]
            timers = [TimerView(t.id, t.task_name, t.kind, t.due_at, t.status, t.interrupting, t.attached_to,
                                t.deadline, t.fired_at) for t in s.execute(
                select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)).scalars()]
            events = [EventView(e.id, e.at, e.actor, e.kind, e.task_id, e.detail) for e in s.execute(
                select(Event).where(Event.instance_id == instance_id).order_by(Event.id)).scalars()]
            incidents = [IncidentView(i.id, i.task_name, i.message, i.created_at, i.resolved_at) for i in s.execute(
                select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id)).scalars()]
            return InstanceDetail(_instance_view(inst, version), _workflow_data(state), tasks, timers, events,
                                  incidents)


    # --- what pages need ---
    def task_form(self, task_id: str) -> FormSpec:
        with self.db.read() as s:
            row = s.get(Task, task_id)
            if row is None:
                raise NotFound(f"task {task_id} does not exist", field="task")
            definition_id = s.execute(select(Instance.definition_id).where(Instance.id == row.instance_id)).scalar_one()
            info = self.runtime.specs.get(s, definition_id).task_info.get(row.name, {})
            return _form_spec(row.process_key, row.name, info)


    def start_form(self, key: str) -> FormSpec:
        with self.db.read() as s:
            definition = deployments.latest_process(s, key)
            for element, info in (definition.task_info or {}).items():
                if info.get("type") == "StartEvent" and info.get("process") == key:
                    return _form_spec(key, element, info)
            return FormSpec(key, "", definition.name, None, None, None)


    def diagram(self, instance_id: int) -> DiagramView:
        """The deployed XML of the instance's version, with which elements are done and which are current."""
        import json

        from SpiffWorkflow.util.task import TaskState

        from engine.store.models import DeployedFile

        with self.db.read() as s:
            inst = s.get(Instance, instance_id)
            if inst is None:
                raise NotFound(f"instance {instance_id} does not exist", field="instance")
            definition = s.get(Definition, inst.definition_id)
            xml = s.get(DeployedFile, definition.file_id).content
            info = definition.task_info or {}
            state = json.loads(inst.state)
        completed: set[str] = set()
        active: set[str] = set()
        task_maps = [state.get("tasks", {})] + [sp.get("tasks", {}) for sp in state.get("subprocesses", {}).values()]
        for tasks in task_maps:
            for task in tasks.values():
                name = task.get("task_spec")
                if name not in info:
                    continue
                if task["state"] == TaskState.COMPLETED:
                    completed.add(name)
                elif task["state"] in (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR):
                    active.add(name)
        return DiagramView(xml, sorted(completed - active), sorted(active))

def _instance_view(inst: Instance, version: int) -> InstanceView:
    return InstanceView(inst.id, inst.process_key, version, inst.status, inst.reference, inst.title, inst.started_at,
                        inst.started_by, inst.updated_at, inst.ended_at, inst.revision)


def _workflow_data(state: dict[str, Any]) -> dict[str, Any]:
    """The case data as the latest finished task left it (without restoring the workflow)."""
    tasks = state.get("tasks", {})
    last = state.get("last_task")
    data: dict[str, Any] = dict(state.get("data") or {})
    if last and last in tasks:
        chain = []
        node = tasks[last]
        while node is not None:
            chain.append(node)
            node = tasks.get(node.get("parent")) if node.get("parent") else None
        merged: dict[str, Any] = {}
        for node in reversed(chain):
            merged.update(node.get("data") or {})
            delta = node.get("delta") or {}
            merged.update(delta.get("updates") or {})
            for key in delta.get("deletions") or []:
                merged.pop(key, None)
        data.update(merged)
    return data
