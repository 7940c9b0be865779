"""The caseworkers' service: inbox, tasks, starting and completing, the case file, files and documents.

Each method takes the acting user and decides, here and only here, what that user may see or do; the
pages, the API and the CLI all come through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.casework import access, attachments, documents, inbox
from engine.casework.access import CaseAccess, CaseRow, TaskAccess
from engine.casework.attachments import AttachmentView
from engine.casework.inbox import InboxFilters, InboxPage
from engine.deploy import versions
from engine.errors import Conflict, Forbidden, NotFound
from engine.run import transitions
from engine.run.runtime import Runtime
from engine.run.transitions import TransitionResult
from engine.services import reads
from engine.services.principal import Principal, is_system, require_role
from engine.services.views import (CaseFile, DiagramView, EventView, FormSpec, InstanceDetail, InstanceView, TaskView,
                                   form_spec)
from engine.time import clock

START_ROLES = ("caseworker",)


@dataclass(frozen=True)
class TaskPage:
    """What a task page or the API's task answer needs: the task, its form, and what the user may do."""

    task: TaskView
    form: FormSpec
    access: TaskAccess
    instance: InstanceView  # the case's head (number, status), which a task's holder sees without its data


class CaseService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    # --- the inbox ---
    def inbox(self, user: Principal, filters: InboxFilters | None = None, *, page: int = 1,
              per_page: int = 25) -> InboxPage:
        return inbox.inbox(self.db, user, filters, page=page, per_page=per_page)

    def inbox_facets(self, user: Principal) -> dict[str, list[tuple[str, str]]]:
        return inbox.facets(self.db, user)

    def claim(self, user: Principal, task_id: str) -> None:
        inbox.claim(self.db, user, task_id)

    def unclaim(self, user: Principal, task_id: str) -> None:
        inbox.unclaim(self.db, user, task_id)

    # --- tasks ---
    def task_access(self, user: Principal, task_id: str) -> TaskAccess:
        if is_system(user):
            reads.task(self.rt, task_id)
            return TaskAccess(True, True)
        return access.task_access(self.db, user, task_id)

    def task(self, user: Principal, task_id: str) -> TaskPage:
        """The task with its form, for a user who may see it (403 otherwise, nothing written)."""
        grant = self.task_access(user, task_id)
        if not grant.view:
            raise Forbidden("No puede ver esta tarea.", field="task")
        view = reads.task(self.rt, task_id)
        return TaskPage(view, reads.task_form(self.rt, task_id), grant, reads.instance(self.rt, view.instance_id).instance)

    def complete(self, user: Principal, task_id: str, data: Any) -> TransitionResult:
        """Complete a task the user may act on. Someone who could see it but lost it to a race (it was
        completed, or another person took it) gets ``Conflict``; anyone else ``Forbidden``."""
        grant = self.task_access(user, task_id)
        if not grant.act:
            current = reads.task(self.rt, task_id)
            if grant.view and user.role == "caseworker" and (
                    current.state != "READY" or current.assignee not in (None, user.username)):
                raise Conflict(f"La tarea {task_id} ya está {current.state.lower()} o la tomó otra persona; "
                               "no se guardó nada.", field="task")
            raise Forbidden("No puede completar esta tarea.", field="task")
        return transitions.complete_task(self.rt, task_id, data, user.username)

    # --- procedures a user may start ---
    def processes(self, user: Principal) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [{"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                     "deployed_by": d.deployed_by} for d in versions.list_processes(s)]

    def start_form(self, user: Principal, key: str) -> FormSpec:
        with self.db.read() as s:
            definition = versions.latest_process(s, key)
            for element, info in (definition.task_info or {}).items():
                if info.get("type") == "StartEvent" and info.get("process") == key:
                    return form_spec(key, element, info)
            return FormSpec(key, "", definition.name, None, None, None)

    def start(self, user: Principal, key: str, data: Any, **kwargs: Any) -> TransitionResult:
        require_role(user, *START_ROLES, field="role", message="Solo el personal operativo puede iniciar casos.")
        return transitions.start(self.rt, key, data, user.username, **kwargs)

    # --- the case file ---
    def cases(self, user: Principal, **filters: Any) -> list[CaseRow]:
        return access.list_cases(self.db, user, **filters)

    def check_case(self, user: Principal, instance_id: int) -> CaseAccess:
        if is_system(user):
            reads.instance(self.rt, instance_id)
            return CaseAccess(instance_id, True, True)
        return access.check_case(self.db, user, instance_id)

    def sees_case(self, user: Principal, instance_id: int) -> bool:
        try:
            self.check_case(user, instance_id)
        except (Forbidden, NotFound):
            return False
        return True

    def case_file(self, user: Principal, instance_id: int, *, via: str = "web") -> CaseFile:
        """The case as this user may see it; the opening is written to the audit trail (403 writes nothing)."""
        grant = access.open_case(self.db, user, instance_id, via=via)
        detail = reads.instance(self.rt, instance_id)
        forms_ = reads.case_forms(self.rt, instance_id)
        props = access.schema_properties([*(f.schema for f in forms_.values()),
                                          self.rt.data_dictionary(detail.instance.process_key)])
        events = [EventView(e.id, e.at, e.actor, e.kind, e.task_id, access.mask_data(e.detail, user, props))
                  for e in detail.events]
        masked = InstanceDetail(detail.instance, access.mask_data(detail.data, user, props), detail.tasks,
                                detail.timers, events, detail.incidents)
        docs = documents.available(detail.instance.process_key, detail.data) if grant.identifying else []
        return CaseFile(masked, grant, props, attachments.for_instance(self.db, instance_id), docs)

    def case_head(self, user: Principal, instance_id: int) -> InstanceDetail:
        """The case's status, tasks and timers without its data, for a user who may see the case."""
        self.check_case(user, instance_id)
        detail = reads.instance(self.rt, instance_id)
        return InstanceDetail(detail.instance, {}, detail.tasks, detail.timers, [], detail.incidents)

    def diagram(self, user: Principal, instance_id: int) -> DiagramView:
        self.check_case(user, instance_id)
        return reads.diagram(self.rt, instance_id)

    # --- events a case waits for ---
    def waiting_messages(self, user: Principal, instance_id: int) -> list[dict[str, Any]]:
        self.check_case(user, instance_id)
        return reads.waiting_messages(self.rt, instance_id)

    def send_message(self, user: Principal, instance_id: int, name: str, payload: Any) -> TransitionResult:
        grant = self.check_case(user, instance_id)
        if not grant.act:
            raise Forbidden("Su rol no permite registrar eventos en este expediente.", field="instance")
        return transitions.send_message(self.rt, instance_id, name, payload, user.username)

    # --- files and documents ---
    def add_attachment(self, user: Principal, instance_id: int, filename: str, content: bytes, *,
                       task_id: str | None = None, field: str | None = None) -> AttachmentView:
        if task_id is not None:
            access.require_task(self.db, user, task_id, act=True)
        else:
            grant = self.check_case(user, instance_id)
            if not grant.act:
                raise Forbidden("Su rol no permite agregar archivos.", field="file")
        return attachments.store(self.db, instance_id, filename, content, user.username, task_id=task_id,
                                 field=field)

    def attachment(self, user: Principal, attachment_id: int,
                   instance_id: int | None = None) -> tuple[AttachmentView, bytes]:
        """An attachment's bytes, for users who may see its case; the download is audited."""
        meta = attachments.get(self.db, attachment_id)
        if instance_id is not None and meta.instance_id != instance_id:
            raise NotFound(f"El archivo {attachment_id} no existe en el expediente {instance_id}.",
                           field="attachment")
        grant = self.check_case(user, meta.instance_id)
        if not grant.identifying:
            raise Forbidden("Su rol no permite abrir los archivos del expediente.", field="attachment")
        content = attachments.read(self.db, attachment_id)
        access.record(self.db, user, meta.instance_id, "attachment_opened",
                      {"attachment": meta.id, "filename": meta.filename})
        return meta, content

    def protection_order_pdf(self, user: Principal, instance_id: int, version: int | None = None) -> bytes:
        """The art. 43 document; ``version`` picks the issue (1) or an extension (2, ...), all kept."""
        grant = self.check_case(user, instance_id)
        if not grant.identifying:
            raise Forbidden("Su rol no permite ver la orden: contiene datos de la víctima.", field="document")
        detail = reads.instance(self.rt, instance_id)
        issued = next((t.completed_at for t in reversed(detail.tasks) if t.state == "COMPLETED"), None)
        pdf = documents.protection_order_pdf(
            instance_id=instance_id, reference=detail.instance.reference, process_key=detail.instance.process_key,
            data=detail.data, issued_at=issued, generated_at=clock.now(), generated_by=user.username, version=version,
            wording=documents.load_wording(self.rt.workflows_dir / "documentos.toml"))
        access.record(self.db, user, instance_id, "document_generated",
                      {"document": "orden-proteccion", **({"version": version} if version else {})})
        return pdf
