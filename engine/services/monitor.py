"""The managers' and operators' service: case lists and their state, and the operations that unblock a case.

Managers see their institution's cases, administrators and ``SYSTEM`` all of them; only those roles may
cancel, suspend, resume or retry a case, or move a running term.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import func, select

from engine.errors import Forbidden
from engine.run import firing, recovery, terms
from engine.run.firing import Fired
from engine.run.runtime import Runtime
from engine.run.transitions import TransitionResult
from engine.services import reads
from engine.services.principal import Principal, is_system, require_role
from engine.services.views import InstanceDetail, InstanceView, TaskView, instance_view
from engine.store.models import Definition, Instance, Task
from engine.store.states import TaskState
from engine.time import clock

MONITOR_ROLES = ("manager", "admin")


class MonitorService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def _require(self, user: Principal) -> None:
        require_role(user, *MONITOR_ROLES, field="user", message="Su rol no permite operar expedientes.")

    def _scope(self, user: Principal, q: Any) -> Any:
        if is_system(user) or user.role == "admin":
            return q
        return q.where(Instance.institution == user.institution)

    def _require_case(self, user: Principal, instance_id: int) -> None:
        self._require(user)
        q = self._scope(user, select(Instance.id).where(Instance.id == instance_id))
        with self.db.read() as s:
            if s.execute(q).first() is None:
                reads.instance(self.rt, instance_id)  # NotFound for a case that does not exist
                raise Forbidden("No tiene acceso a este expediente.", field="instance")

    def parameter_warnings(self, user: Principal) -> list[str]:
        """Legal parameters that must be loaded soon (from January: next year's UMA), for the managers' pages."""
        from engine.deploy.parameters import uma_warnings
        from engine.time import clock
        from engine.time.hermosillo import HERMOSILLO

        self._require(user)
        return uma_warnings(self.rt.periods()[1], clock.now().astimezone(HERMOSILLO).date())

    # --- lists ---
    def instances(self, user: Principal, *, status: str | None = None, process_key: str | None = None,
                  limit: int = 100, offset: int = 0) -> list[InstanceView]:
        self._require(user)
        q = select(Instance, Definition.version).join(Definition, Definition.id == Instance.definition_id)
        if status:
            q = q.where(Instance.status == status)
        if process_key:
            q = q.where(Instance.process_key == process_key)
        q = self._scope(user, q).order_by(Instance.id.desc()).limit(limit).offset(offset)
        with self.db.read() as s:
            return [instance_view(i, v) for i, v in s.execute(q).all()]

    def count_instances(self, user: Principal, status: str | None = None) -> int:
        self._require(user)
        q = select(func.count(Instance.id))
        if status:
            q = q.where(Instance.status == status)
        with self.db.read() as s:
            return int(s.execute(self._scope(user, q)).scalar_one())

    def tasks(self, user: Principal, *, assignee: str | None = None, groups: Sequence[str] = (),
              instance_id: int | None = None, state: str | None = TaskState.READY, limit: int = 200,
              offset: int = 0) -> list[TaskView]:
        self._require(user)
        q = select(Task)
        if state:
            q = q.where(Task.state == state)
        if instance_id is not None:
            q = q.where(Task.instance_id == instance_id)
        if assignee is not None:
            mine = Task.assignee == assignee
            if groups:
                mine = mine | (Task.assignee.is_(None) & Task.candidate_group.in_(list(groups)))
            q = q.where(mine)
        if not (is_system(user) or user.role == "admin"):
            q = q.join(Instance, Instance.id == Task.instance_id).where(Instance.institution == user.institution)
        q = q.order_by(Task.due_at.is_(None), Task.due_at, Task.created_at).limit(limit).offset(offset)
        with self.db.read() as s:
            return [TaskView.of(r) for r in s.execute(q).scalars()]

    def instance(self, user: Principal, instance_id: int) -> InstanceDetail:
        """The whole stored case, data included: operators only (``SYSTEM``, the CLI); the pages use the
        masked case file of the cases service."""
        if not is_system(user):
            raise Forbidden("Solo la operación del sistema lee el expediente sin enmascarar.", field="instance")
        return reads.instance(self.rt, instance_id)

    def task(self, user: Principal, task_id: str) -> TaskView:
        self._require(user)
        view = reads.task(self.rt, task_id)
        self._require_case(user, view.instance_id)
        return view

    # --- operations ---
    def cancel(self, user: Principal, instance_id: int, reason: str = "") -> TransitionResult:
        self._require_case(user, instance_id)
        return recovery.cancel(self.rt, instance_id, user.username, reason)

    def suspend(self, user: Principal, instance_id: int, reason: str = "") -> TransitionResult:
        self._require_case(user, instance_id)
        return recovery.suspend(self.rt, instance_id, user.username, reason)

    def resume(self, user: Principal, instance_id: int, reason: str = "") -> TransitionResult:
        self._require_case(user, instance_id)
        return recovery.resume(self.rt, instance_id, user.username, reason)

    def retry(self, user: Principal, instance_id: int, data: Any = None, reason: str = "") -> TransitionResult:
        self._require_case(user, instance_id)
        return recovery.retry(self.rt, instance_id, user.username, data, reason)

    def suspend_term(self, user: Principal, instance_id: int, timer: str, business_days: int,
                     reason: str) -> TransitionResult:
        """Extend a running term by the días hábiles it was suspended (decree, pending prevención)."""
        self._require_case(user, instance_id)
        return terms.suspend_term(self.rt, instance_id, timer, business_days, user.username, reason)

    def rearm_timer(self, user: Principal, instance_id: int, timer: str, due: str, reason: str) -> TransitionResult:
        self._require_case(user, instance_id)
        return terms.rearm_timer(self.rt, instance_id, timer, due, user.username, reason)

    def fire_due_timers(self, user: Principal, *, as_of: datetime | None = None,
                        worker: str = "cli") -> list[Fired]:
        """Fire what is due as of an instant (the clock is set to it meanwhile): operators only."""
        if not is_system(user):
            raise Forbidden("Solo la operación del sistema dispara temporizadores.", field="user")
        if as_of is None:
            return firing.fire_due(self.rt, worker=worker)
        with clock.using(clock.FrozenClock(as_of)):
            return firing.fire_due(self.rt, as_of=as_of, worker=worker)
