"""The engine as the tests drive it: the services, plus the run layer called with a bare actor name.

Tests of transitions, timers and procedures act as named people ("pruebas", "ana") whose accounts do
not exist; they call ``engine.run`` directly, as the services do once they have checked permissions.
The permission checks themselves are tested through the services (``tests/engine/services``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.deploy import versions
from engine.deploy.versions import BundleFile, DeployResult
from engine.run import recovery, terms, transitions
from engine.run.transitions import TransitionResult
from engine.services import SYSTEM, Tramita
from engine.services import reads
from engine.services.views import FormSpec, InstanceDetail, InstanceView, TaskView


class Driver(Tramita):
    # --- run layer, acting as a name ---
    def deploy(self, files: Sequence[BundleFile], user: str = "pruebas") -> DeployResult:
        result = versions.deploy(self.db, files, user)
        self.runtime.forget_latest()
        return result

    def deploy_paths(self, paths: Iterable[str | Path], user: str = "pruebas") -> DeployResult:
        return self.deploy(versions.collect_files(paths), user)

    def processes(self) -> list[dict[str, Any]]:
        return self.design.processes(SYSTEM)

    def start(self, key: str, data: Any, user: str, **kwargs: Any) -> TransitionResult:
        return transitions.start(self.runtime, key, data, user, **kwargs)

    def complete(self, task_id: str, data: Any, user: str) -> TransitionResult:
        return transitions.complete_task(self.runtime, task_id, data, user)

    def cancel(self, instance_id: int, user: str, reason: str = "") -> TransitionResult:
        return recovery.cancel(self.runtime, instance_id, user, reason)

    def suspend(self, instance_id: int, user: str, reason: str = "") -> TransitionResult:
        return recovery.suspend(self.runtime, instance_id, user, reason)

    def resume(self, instance_id: int, user: str) -> TransitionResult:
        return recovery.resume(self.runtime, instance_id, user)

    def retry(self, instance_id: int, user: str, data: Any = None) -> TransitionResult:
        return recovery.retry(self.runtime, instance_id, user, data)

    def send_message(self, instance_id: int, name: str, payload: Any, user: str) -> TransitionResult:
        return transitions.send_message(self.runtime, instance_id, name, payload, user)

    def suspend_term(self, instance_id: int, timer: str, business_days: int, user: str,
                     reason: str) -> TransitionResult:
        return terms.suspend_term(self.runtime, instance_id, timer, business_days, user, reason)

    def rearm_timer(self, instance_id: int, timer: str, due: str, user: str, reason: str) -> TransitionResult:
        return terms.rearm_timer(self.runtime, instance_id, timer, due, user, reason)

    # --- reads, unmasked ---
    def tasks(self, *, user: str | None = None, groups: Sequence[str] = (), instance_id: int | None = None,
              state: str | None = "READY", limit: int = 200, offset: int = 0) -> list[TaskView]:
        return self.monitor.tasks(SYSTEM, assignee=user, groups=groups, instance_id=instance_id, state=state,
                                  limit=limit, offset=offset)

    def task(self, task_id: str) -> TaskView:
        return reads.task(self.runtime, task_id)

    def instances(self, **kwargs: Any) -> list[InstanceView]:
        return self.monitor.instances(SYSTEM, **kwargs)

    def count_instances(self, status: str | None = None) -> int:
        return self.monitor.count_instances(SYSTEM, status)

    def instance(self, instance_id: int) -> InstanceDetail:
        return reads.instance(self.runtime, instance_id)

    def task_form(self, task_id: str) -> FormSpec:
        return reads.task_form(self.runtime, task_id)

    def start_form(self, key: str) -> FormSpec:
        return self.cases.start_form(SYSTEM, key)

    def waiting_messages(self, instance_id: int) -> list[dict[str, Any]]:
        return reads.waiting_messages(self.runtime, instance_id)

    def diagram(self, instance_id: int) -> Any:
        return reads.diagram(self.runtime, instance_id)

    # --- people, as sistema ---
    def add_user(self, username: str, password: str, **kwargs: Any) -> Any:
        return self.people.add_user(SYSTEM, username, password, **kwargs)

    def users(self) -> list[Any]:
        return self.people.users(SYSTEM)

    def set_user_active(self, username: str, active: bool) -> Any:
        return self.people.set_user_active(SYSTEM, username, active)

    def set_user_groups(self, username: str, groups: Sequence[str]) -> None:
        self.people.set_user_groups(SYSTEM, username, groups)

    def set_password(self, username: str, password: str) -> None:
        self.people.set_password(SYSTEM, username, password)

    def create_token(self, username: str, label: str = "") -> str:
        return self.people.create_token(SYSTEM, username, label)

    def find_user(self, username: str) -> Any:
        return self.people.find_user(username)

    def user(self, user_id: int) -> Any:
        return self.people.user(user_id)

    def authenticate(self, username: str, password: str) -> Any:
        return self.people.authenticate(username, password)

    def user_for_token(self, token: str) -> Any:
        return self.people.user_for_token(token)

    # --- casework, as a signed-in user ---
    def inbox(self, user: Any, filters: Any = None, **kwargs: Any) -> Any:
        return self.cases.inbox(user, filters, **kwargs)

    def inbox_facets(self, user: Any) -> Any:
        return self.cases.inbox_facets(user)

    def claim(self, task_id: str, user: Any) -> None:
        self.cases.claim(user, task_id)

    def unclaim(self, task_id: str, user: Any) -> None:
        self.cases.unclaim(user, task_id)

    def task_access(self, user: Any, task_id: str) -> Any:
        return self.cases.task_access(user, task_id)

    def check_case(self, user: Any, instance_id: int) -> Any:
        return self.cases.check_case(user, instance_id)

    def case_file(self, user: Any, instance_id: int, **kwargs: Any) -> Any:
        return self.cases.case_file(user, instance_id, **kwargs)

    def add_attachment(self, user: Any, instance_id: int, filename: str, content: bytes, **kwargs: Any) -> Any:
        return self.cases.add_attachment(user, instance_id, filename, content, **kwargs)

    def attachment(self, user: Any, attachment_id: int, instance_id: int | None = None) -> Any:
        return self.cases.attachment(user, attachment_id, instance_id)

    def protection_order_pdf(self, user: Any, instance_id: int) -> bytes:
        return self.cases.protection_order_pdf(user, instance_id)
