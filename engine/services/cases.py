"""The caseworkers' service: inbox, tasks, starting and completing, the case file, files and documents.

Each method takes the acting user and decides, here and only here, what that user may see or do; the
pages, the API and the CLI all come through it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from engine.casework import access, attachments, documents, inbox, policies
from engine.casework.access import CaseAccess, CaseRow, TaskAccess
from engine.casework.attachments import AttachmentView
from engine.casework.inbox import InboxFilters, InboxPage
from engine.deploy import versions
from engine.deploy.eventos import ExternalEvent
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.run import rectify as rectification
from engine.run import transitions
from engine.run.runtime import Runtime
from engine.run.transitions import TransitionResult
from engine.services import reads
from engine.services.principal import Principal, is_system, require_role
from engine.services.views import (CaseFile, DiagramView, EventView, FormSpec, InstanceDetail, InstanceView, TaskView,
                                   form_spec)
from engine.store.states import EventKind, TaskState
from engine.time import clock

CONCLUDED = ("completed", "cancelled")


@dataclass(frozen=True)
class TaskPage:
    """What a task page or the API's task answer needs: the task, its form, and what the user may do."""

    task: TaskView
    form: FormSpec
    access: TaskAccess
    instance: InstanceView  # the case's head (number, status), which a task's holder sees without its data
    # For a caseworker who does not see the case (another institution's): the case data this task lets them
    # see (its form's fields and what the procedure's policy grants while it is theirs; what they entered,
    # once they completed it), with the fields' schemas for labels. ``None`` for who sees the case file.
    holder_data: dict[str, Any] | None = None
    holder_fields: dict[str, dict[str, Any]] | None = None
    holder_attachments: tuple[AttachmentView, ...] = ()
    holder_documents: tuple[Any, ...] = ()  # the case's documents, if the policy grants them while it is theirs


class CaseService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    # --- the inbox ---
    def inbox(self, user: Principal, filters: InboxFilters | None = None, *, page: int = 1,
              per_page: int = 25, via: str = "web") -> InboxPage:
        """A page of the user's inbox; a filtered one (a search) is logged with its filters, never with a
        search text that could name someone."""
        result = inbox.inbox(self.db, user, filters, page=page, per_page=per_page)
        f = filters or InboxFilters()
        searched = {"procedimiento": f.process_key, "tarea": f.task, "texto": access.search_text_for_log(f.text),
                    "desde": f.due_from.isoformat() if f.due_from else None,
                    "hasta": f.due_to.isoformat() if f.due_to else None}
        if any(searched.values()):
            access.log_access(self.db, user, "inbox_search", "viewed", via,
                              detail={k: v for k, v in searched.items() if v})
        return result

    def inbox_facets(self, user: Principal) -> dict[str, list[tuple[str, str]]]:
        return inbox.facets(self.db, user)

    def claim(self, user: Principal, task_id: str) -> None:
        try:
            inbox.claim(self.db, user, task_id)
        except Forbidden:
            access.log_access(self.db, user, "claim", "refused", target=str(task_id))
            raise

    def unclaim(self, user: Principal, task_id: str) -> None:
        try:
            inbox.unclaim(self.db, user, task_id)
        except Forbidden:
            access.log_access(self.db, user, "unclaim", "refused", target=str(task_id))
            raise

    # --- tasks ---
    def task_access(self, user: Principal, task_id: str) -> TaskAccess:
        if is_system(user):
            reads.task(self.rt, task_id)
            return TaskAccess(True, True)
        return access.task_access(self.db, user, task_id)

    def _policy(self, process_key: str) -> policies.ProcedurePolicy:
        """The procedure's ``[policies.<key>]`` of ``workflows/lanes.toml``."""
        return policies.parse(process_key, self.rt.policies(process_key))

    def task(self, user: Principal, task_id: str, *, via: str = "web") -> TaskPage:
        """The task with its form, for a user who may see it (403 otherwise, logged as a refusal). A
        caseworker who does not see the case gets only what the task lets them see (``holder_data``)."""
        grant = self.task_access(user, task_id)
        if not grant.view:
            access.log_access(self.db, user, "task", "refused", via, target=str(task_id))
            raise Forbidden("No puede ver esta tarea.", field="task")
        view = reads.task(self.rt, task_id)
        form = reads.task_form(self.rt, task_id)
        detail = reads.instance(self.rt, view.instance_id)
        if is_system(user) or access.visible(self.db, user, view.instance_id):
            return TaskPage(view, form, grant, detail.instance)
        policy = self._policy(view.process_key)
        if not policy.grants("instructions"):
            form = dataclasses.replace(form, documentation=None)
        fields = access.schema_properties([form.schema, *(f.schema for f in reads.case_forms(
            self.rt, view.instance_id).values()), self.rt.instance_parts(view.instance_id).dictionary])  # labels only
        if grant.act:  # the task is theirs now: what its form names, plus what the policy grants
            names = set(((form.schema or {}).get("properties") or {})) | set(policy.foreign_task_holder_data)
            data = {k: v for k, v in detail.data.items() if k in names}
        else:  # completed (or lost): what they themselves entered
            data = {}
            for e in detail.events:
                if e.kind == EventKind.TASK_COMPLETED and e.task_id == view.id and e.actor == user.username:
                    data.update((e.detail or {}).get("changes") or {})
        mine = tuple(a for a in attachments.for_instance(self.db, view.instance_id)
                     if a.uploaded_by == user.username or (grant.act and policy.grants("attachments")))
        docs = tuple(documents.available(view.process_key, detail.data)) if grant.act and policy.grants(
            "documents") else ()
        return TaskPage(view, form, grant, detail.instance, access.mask_data(data, user, fields), fields, mine, docs)

    def complete(self, user: Principal, task_id: str, data: Any) -> TransitionResult:
        """Complete a task the user may act on. Someone who could see it but lost it to a race (it was
        completed, or another person took it) gets ``Conflict``; anyone else ``Forbidden``."""
        grant = self.task_access(user, task_id)
        if not grant.act:
            current = reads.task(self.rt, task_id)
            if grant.view and user.role == "caseworker" and (
                    current.state != TaskState.READY or current.assignee not in (None, user.username)):
                raise Conflict(f"La tarea {task_id} ya está {current.state.lower()} o la tomó otra persona; "
                               "no se guardó nada.", field="task")
            access.log_access(self.db, user, "complete", "refused", target=str(task_id))
            raise Forbidden("No puede completar esta tarea.", field="task")
        return transitions.complete_task(self.rt, task_id, data, user.username)

    # --- procedures a user may start ---
    def processes(self, user: Principal) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [{"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                     "deployed_by": d.deployed_by} for d in versions.list_processes(s)]

    def start_form(self, user: Principal, key: str, *, starting: bool = False, via: str = "web") -> FormSpec:
        """The procedure's start form; ``starting``: for starting a case, so only for who may start it."""
        if starting and not self.may_start(user, key):
            access.log_access(self.db, user, "start", "refused", via, target=key[:120])
            raise Forbidden("Su rol o su grupo no pueden iniciar este procedimiento.", field="process")
        with self.db.read() as s:
            definition = versions.latest_process(s, key)
            for element, info in (definition.task_info or {}).items():
                if info.get("type") == "StartEvent" and info.get("process") == key:
                    return form_spec(key, element, info, self.rt.specs.get(s, definition.id).parts.parameters)
            return FormSpec(key, "", definition.name, None, None, None)

    def may_start(self, user: Principal, key: str) -> bool:
        """Whether the procedure's policy (``start_roles``, ``start_groups``) lets this user start it."""
        return is_system(user) or self._policy(key).may_start(user)

    def start(self, user: Principal, key: str, data: Any, *, via: str = "web", **kwargs: Any) -> TransitionResult:
        if not self.may_start(user, key):
            access.log_access(self.db, user, "start", "refused", via, target=key[:120])
            raise Forbidden("Su rol o su grupo no pueden iniciar este procedimiento.", field="process")
        return transitions.start(self.rt, key, data, user.username, **kwargs)

    # --- the case file ---
    def cases(self, user: Principal, **filters: Any) -> tuple[list[CaseRow], int]:
        """The cases this user may see. A case's title is free text a person typed (sensitive: it could
        name someone), so it is shown only to the roles that see everything."""
        rows, total = access.list_cases(self.db, user, **filters)
        if not access.can_see_identifying(user):
            rows = [replace(r, title=None) for r in rows]
        return rows, total

    def check_case(self, user: Principal, instance_id: int, *, action: str = "case",
                   via: str = "web") -> CaseAccess:
        """The user's access to a case; a case they may not see answers as one that does not exist."""
        if is_system(user):
            reads.instance(self.rt, instance_id)
            return CaseAccess(instance_id, True, True)
        return access.check_case(self.db, user, instance_id, action=action, via=via)

    def sees_case(self, user: Principal, instance_id: int) -> bool:
        """Whether the user may open the case file (asking is not an attempt: nothing is logged)."""
        if is_system(user):
            return access.instance_head(self.db, instance_id) is not None
        return access.visible(self.db, user, instance_id)

    def case_file(self, user: Principal, instance_id: int, *, via: str = "web") -> CaseFile:
        """The case as this user may see it; the opening is written to the audit trail, a refusal to the access
        log (and nothing else)."""
        grant = access.open_case(self.db, user, instance_id, via=via)
        detail = reads.instance(self.rt, instance_id)
        forms_ = reads.case_forms(self.rt, instance_id)
        props = access.schema_properties([*(f.schema for f in forms_.values()),
                                          self.rt.instance_parts(instance_id).dictionary])
        events = [EventView(e.id, e.at, e.actor, e.kind, e.task_id, access.mask_event(e.detail, user, props))
                  for e in detail.events]
        head = detail.instance if grant.identifying else replace(detail.instance, title=None)
        masked = InstanceDetail(head, access.mask_data(detail.data, user, props), detail.tasks,
                                detail.timers, events, detail.incidents)
        docs = documents.available(detail.instance.process_key, detail.data) if grant.identifying else []
        files = attachments.for_instance(self.db, instance_id)
        if not grant.identifying:  # a file's name can name the victim ("INE_Maria_Perez.pdf")
            files = [replace(f, filename=access.MASK) for f in files]
        return CaseFile(masked, grant, props, files, docs)

    def case_head(self, user: Principal, instance_id: int) -> InstanceDetail:
        """The case's status, tasks and timers without its data, for a user who may see the case."""
        self.check_case(user, instance_id)
        detail = reads.instance(self.rt, instance_id)
        head = detail.instance if access.can_see_identifying(user) else replace(detail.instance, title=None)
        return InstanceDetail(head, {}, detail.tasks, detail.timers, [], detail.incidents)

    def diagram(self, user: Principal, instance_id: int) -> DiagramView:
        self.check_case(user, instance_id)
        return reads.diagram(self.rt, instance_id)

    # --- events a case waits for ---
    def waiting_messages(self, user: Principal, instance_id: int) -> list[dict[str, Any]]:
        """The events the case waits for now, each with its kind (texts, article, date keys) where
        ``eventos.toml`` describes it (``kind`` is ``None`` otherwise)."""
        self.check_case(user, instance_id)
        kinds = self.rt.event_kinds(self.rt.instance_definition(instance_id))
        return [{**m, "kind": kinds.get(m["name"])} for m in reads.waiting_messages(self.rt, instance_id)]

    def event_kinds(self, user: Principal) -> dict[str, ExternalEvent]:
        """Every kind of external event, by message name (the case history names what was registered)."""
        return self.rt.event_kinds()

    def send_message(self, user: Principal, instance_id: int, name: str, payload: Any, *,
                     via: str = "web") -> TransitionResult:
        """Register an event the case waits for: only who sees the case and may act on it (another
        institution's caseworker acts only through their task)."""
        grant = self.check_case(user, instance_id, action="message", via=via)
        if not grant.act:
            access.log_access(self.db, user, "message", "refused", via, instance_id=instance_id, target=name[:120])
            raise Forbidden("Su rol no permite registrar eventos en este expediente.", field="instance")
        return transitions.send_message(self.rt, instance_id, name, payload, user.username)

    # --- rectification (right to rectify a wrong name or date) ---
    def rectifiable_fields(self, user: Principal, instance_id: int) -> dict[str, str]:
        """Field -> title of the names and dates this case holds that its holder may rectify."""
        self.check_case(user, instance_id)
        detail = reads.instance(self.rt, instance_id)
        props = self._props(instance_id, detail.instance.process_key)
        return {k: str((props.get(k) or {}).get("title") or k) for k in sorted(detail.data)
                if rectification.rectifiable(props.get(k), k)}

    def rectify(self, user: Principal, instance_id: int, field: str, value: Any, reason: str) -> TransitionResult:
        """Correct a wrong name or date, with the reason: only the caseworker who may act on the case. The old
        and new values stay in the audit trail and every term computed from the date is worked out again."""
        require_role(user, "caseworker", field="role",
                     message="Solo el personal operativo a cargo del expediente puede rectificar sus datos.")
        grant = self.check_case(user, instance_id)
        if not grant.act:
            raise Forbidden("Solo quien tiene a su cargo el expediente puede rectificar sus datos.", field="instance")
        detail = reads.instance(self.rt, instance_id)
        schema = self._props(instance_id, detail.instance.process_key).get(field)
        return rectification.rectify(self.rt, instance_id, field, value, schema or {}, user.username, reason)

    def _props(self, instance_id: int, process_key: str) -> dict[str, dict[str, Any]]:
        forms_ = reads.case_forms(self.rt, instance_id)
        return access.schema_properties([*(f.schema for f in forms_.values()),
                                         self.rt.instance_parts(instance_id).dictionary])

    # --- files and documents ---
    def add_attachment(self, user: Principal, instance_id: int, filename: str, content: bytes, *,
                       task_id: str | None = None, field: str | None = None, via: str = "web") -> AttachmentView:
        """A file for the case: through a task the user may act on (of that very case), or on the case file
        by a caseworker who sees it. A concluded case takes no more files."""
        if task_id is not None:
            access.require_task(self.db, user, task_id, act=True, action="upload", via=via)
            if reads.task(self.rt, task_id).instance_id != instance_id:
                access.log_access(self.db, user, "upload", "refused", via, instance_id=instance_id,
                                  target=str(task_id))
                raise Forbidden("La tarea no es de este expediente.", field="task")
        else:
            grant = self.check_case(user, instance_id, action="upload", via=via)
            if not grant.act:
                access.log_access(self.db, user, "upload", "refused", via, instance_id=instance_id)
                raise Forbidden("Su rol no permite agregar archivos.", field="file")
        head = access.instance_head(self.db, instance_id)
        if head is None:
            raise access.case_not_found(instance_id)
        if head[1] in CONCLUDED:
            raise InvalidState("El expediente está concluido: ya no se le pueden agregar archivos. No se guardó "
                               "nada.", field="file")
        return attachments.store(self.db, instance_id, filename, content, user.username, task_id=task_id,
                                 field=field)

    def attachment(self, user: Principal, attachment_id: int, instance_id: int | None = None, *,
                   via: str = "web") -> tuple[AttachmentView, bytes]:
        """An attachment's bytes, for users who may see its case, and for another institution's caseworker
        the files they uploaded themselves or, while a task of the case is theirs, what the policy grants.
        The download is audited; whether the file exists is not told to who may not see it."""
        missing = NotFound(f"El archivo {attachment_id} no existe o no tiene acceso a él.", field="attachment")
        try:
            meta = attachments.get(self.db, attachment_id)
        except NotFound:
            if not is_system(user):
                access.log_access(self.db, user, "attachment", "refused", via, instance_id=instance_id,
                                  target=str(attachment_id))
            raise missing from None
        if instance_id is not None and meta.instance_id != instance_id:
            access.log_access(self.db, user, "attachment", "refused", via, instance_id=instance_id,
                              target=str(attachment_id))
            raise missing
        if self._foreign_holder_may(user, meta.instance_id, "attachments") or (
                user.role == "caseworker" and meta.uploaded_by == user.username):
            grant = CaseAccess(meta.instance_id, True, False)
        else:
            try:
                grant = self.check_case(user, meta.instance_id, action="attachment", via=via)
            except NotFound:
                raise missing from None
        if not grant.identifying:
            access.log_access(self.db, user, "attachment", "refused", via, instance_id=meta.instance_id,
                              target=str(attachment_id))
            raise Forbidden("Su rol no permite abrir los archivos del expediente.", field="attachment")
        content = attachments.read(self.db, attachment_id)
        access.record(self.db, user, meta.instance_id, EventKind.ATTACHMENT_OPENED,
                      {"attachment": meta.id, "filename": meta.filename, "via": via, "role": user.role,
                       "institution": user.institution})
        return meta, content

    def _foreign_holder_may(self, user: Principal, instance_id: int, part: str) -> bool:
        """Whether a caseworker who does not see the case may, through a task of it that is theirs now,
        see ``part`` ("attachments", "documents") because the procedure's policy grants it."""
        if user.role != "caseworker" or access.visible(self.db, user, instance_id):
            return False
        head = access.instance_head(self.db, instance_id)
        return head is not None and self._policy(head[0]).grants(part) and access.holds_open_task(
            self.db, user, instance_id)

    def protection_order_pdf(self, user: Principal, instance_id: int, version: int | None = None, *,
                             via: str = "web") -> bytes:
        """The art. 43 document; ``version`` picks the issue (1) or an extension (2, ...), all kept."""
        if self._foreign_holder_may(user, instance_id, "documents"):
            grant = CaseAccess(instance_id, True, False)
        else:
            grant = self.check_case(user, instance_id, action="document", via=via)
        if not grant.identifying:
            access.log_access(self.db, user, "document", "refused", via, instance_id=instance_id)
            raise Forbidden("Su rol no permite ver la orden: contiene datos de la víctima.", field="document")
        detail = reads.instance(self.rt, instance_id)
        issued = next((t.completed_at for t in reversed(detail.tasks) if t.state == TaskState.COMPLETED), None)
        pdf = documents.protection_order_pdf(
            instance_id=instance_id, reference=detail.instance.reference, process_key=detail.instance.process_key,
            data=detail.data, issued_at=issued, generated_at=clock.now(), generated_by=user.username, version=version,
            wording=documents.parse_wording(self.rt.instance_parts(instance_id).toml("documentos")))
        access.record(self.db, user, instance_id, EventKind.DOCUMENT_GENERATED,
                      {"document": "orden-proteccion", "via": via, "role": user.role, "institution": user.institution,
                       **({"version": version} if version else {})})
        return pdf
