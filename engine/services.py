"""The one API that ``web/`` and the CLI call: typed inputs, plain results, no ORM or Spiff objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import func, select

from engine import deployments, instances, terms
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


@dataclass(frozen=True)
class CaseFile:
    """A case as one user may see it: masked data, what they may do, files and documents."""

    detail: InstanceDetail
    access: Any
    fields: dict[str, dict[str, Any]]
    attachments: list[Any]
    documents: list[Any]


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

    def suspend_term(self, instance_id: int, timer: str, business_days: int, user: str,
                     reason: str) -> TransitionResult:
        """Extend a running term by the días hábiles it was suspended (decree, pending prevención)."""
        return terms.suspend_term(self.runtime, instance_id, timer, business_days, user, reason)

    def rearm_timer(self, instance_id: int, timer: str, due: str, user: str, reason: str) -> TransitionResult:
        return terms.rearm_timer(self.runtime, instance_id, timer, due, user, reason)

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


    def waiting_messages(self, instance_id: int) -> list[dict[str, Any]]:
        """The messages a case is waiting for now (e.g. a violation report), read without restoring it."""
        import json

        from SpiffWorkflow.util.task import TaskState

        with self.db.read() as s:
            inst = s.get(Instance, instance_id)
            if inst is None:
                raise NotFound(f"instance {instance_id} does not exist", field="instance")
            info = self.runtime.specs.get(s, inst.definition_id).task_info
            state = json.loads(inst.state)
        waiting: dict[str, dict[str, Any]] = {}
        task_maps = [state.get("tasks", {})] + [sp.get("tasks", {}) for sp in state.get("subprocesses", {}).values()]
        for tasks in task_maps:
            for task in tasks.values():
                element = info.get(task.get("task_spec"), {})
                if task["state"] == TaskState.WAITING and element.get("message"):
                    waiting.setdefault(element["message"], {
                        "name": element["message"], "element": task["task_spec"], "title": element.get("title"),
                        "documentation": element.get("documentation")})
        return sorted(waiting.values(), key=lambda m: m["name"])

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

    # --- people, inbox, access, attachments, documents (the web's needs) ---
    def add_user(self, username: str, password: str, *, name: str, role: str, institution: str,
                 groups: Sequence[str] = ()) -> Any:
        from engine import accounts

        return accounts.add_user(self.db, username, password, name=name, role=role, institution=institution,
                                 groups=groups)

    def users(self) -> list[Any]:
        from engine import accounts

        return accounts.list_users(self.db)

    def set_user_active(self, username: str, active: bool) -> Any:
        from engine import accounts

        return accounts.set_active(self.db, username, active)

    def set_user_groups(self, username: str, groups: Sequence[str]) -> None:
        from engine import accounts

        accounts.set_groups(self.db, username, groups)

    def set_password(self, username: str, password: str) -> None:
        from engine import accounts

        accounts.set_password(self.db, username, password)

    def authenticate(self, username: str, password: str) -> Any:
        from engine import accounts

        return accounts.authenticate(self.db, username, password)

    def user(self, user_id: int) -> Any:
        from engine import accounts

        return accounts.get_user(self.db, user_id)

    def find_user(self, username: str) -> Any:
        from engine import accounts

        return accounts.find_user(self.db, username)

    def create_token(self, username: str, label: str = "") -> str:
        from engine import accounts

        return accounts.create_token(self.db, username, label)

    def user_for_token(self, token: str) -> Any:
        from engine import accounts

        return accounts.user_for_token(self.db, token)

    def inbox(self, user: Any, filters: Any = None, *, page: int = 1, per_page: int = 25) -> Any:
        from engine import inbox

        return inbox.inbox(self.db, user, filters, page=page, per_page=per_page)

    def inbox_facets(self, user: Any) -> dict[str, list[tuple[str, str]]]:
        from engine import inbox

        return inbox.facets(self.db, user)

    def claim(self, task_id: str, user: Any) -> None:
        from engine import inbox

        inbox.claim(self.db, user, task_id)

    def unclaim(self, task_id: str, user: Any) -> None:
        from engine import inbox

        inbox.unclaim(self.db, user, task_id)

    def task_access(self, user: Any, task_id: str) -> Any:
        from engine import access

        return access.task_access(self.db, user, task_id)

    def check_case(self, user: Any, instance_id: int) -> Any:
        from engine import access

        return access.check_case(self.db, user, instance_id)

    def cases(self, user: Any, **filters: Any) -> Any:
        from engine import access

        return access.list_cases(self.db, user, **filters)

    def case_forms(self, instance_id: int) -> dict[str, FormSpec]:
        """Every form of the case's process version, by element id (labels for the data summary)."""
        with self.db.read() as s:
            inst = s.get(Instance, instance_id)
            if inst is None:
                raise NotFound(f"instance {instance_id} does not exist", field="instance")
            info = self.runtime.specs.get(s, inst.definition_id).task_info
        return {el: _form_spec(inst.process_key, el, i) for el, i in info.items() if i.get("schema")}

    def case_file(self, user: Any, instance_id: int, *, via: str = "web") -> "CaseFile":
        """The case as this user may see it; the opening is written to the audit trail (403 writes nothing)."""
        from engine import access, attachments, documents

        grant = access.open_case(self.db, user, instance_id, via=via)
        detail = self.instance(instance_id)
        forms_ = self.case_forms(instance_id)
        props = access.schema_properties([*(f.schema for f in forms_.values()),
                                          self.runtime.data_dictionary(detail.instance.process_key)])
        events = [EventView(e.id, e.at, e.actor, e.kind, e.task_id, access.mask_data(e.detail, user, props))
                  for e in detail.events]
        masked = InstanceDetail(detail.instance, access.mask_data(detail.data, user, props), detail.tasks,
                                detail.timers, events, detail.incidents)
        docs = documents.available(detail.instance.process_key, detail.data) if grant.identifying else []
        return CaseFile(masked, grant, props, attachments.for_instance(self.db, instance_id), docs)

    def add_attachment(self, user: Any, instance_id: int, filename: str, content: bytes, *,
                       task_id: str | None = None, field: str | None = None) -> Any:
        from engine import access, attachments

        if task_id is not None:
            access.require_task(self.db, user, task_id, act=True)
        else:
            grant = access.check_case(self.db, user, instance_id)
            if not grant.act:
                from engine.errors import Forbidden

                raise Forbidden("Su rol no permite agregar archivos.", field="file")
        return attachments.store(self.db, instance_id, filename, content, user.username, task_id=task_id,
                                 field=field)

    def attachment(self, user: Any, attachment_id: int, instance_id: int | None = None) -> tuple[Any, bytes]:
        """An attachment's bytes, for users who may see its case; the download is audited."""
        from engine import access, attachments

        meta = attachments.get(self.db, attachment_id)
        if instance_id is not None and meta.instance_id != instance_id:
            raise NotFound(f"El archivo {attachment_id} no existe en el expediente {instance_id}.",
                           field="attachment")
        grant = access.check_case(self.db, user, meta.instance_id)
        if not grant.identifying:
            from engine.errors import Forbidden

            raise Forbidden("Su rol no permite abrir los archivos del expediente.", field="attachment")
        content = attachments.read(self.db, attachment_id)
        access.record(self.db, user, meta.instance_id, "attachment_opened",
                      {"attachment": meta.id, "filename": meta.filename})
        return meta, content

    def protection_order_pdf(self, user: Any, instance_id: int) -> bytes:
        from engine import access, clock, documents

        grant = access.check_case(self.db, user, instance_id)
        if not grant.identifying:
            from engine.errors import Forbidden

            raise Forbidden("Su rol no permite ver la orden: contiene datos de la víctima.", field="document")
        detail = self.instance(instance_id)
        issued = next((t.completed_at for t in reversed(detail.tasks) if t.state == "COMPLETED"), None)
        pdf = documents.protection_order_pdf(
            instance_id=instance_id, reference=detail.instance.reference, process_key=detail.instance.process_key,
            data=detail.data, issued_at=issued, generated_at=clock.now(), generated_by=user.username)
        access.record(self.db, user, instance_id, "document_generated", {"document": "orden-proteccion"})
        return pdf


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
