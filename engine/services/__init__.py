"""What ``web/`` and the CLI call: one service per audience, composed over one runtime.

- ``cases``: caseworkers (inbox, tasks, the case file, files, documents);
- ``design``: legal designers (deploy, versions);
- ``monitor``: managers and operators (case lists, cancel, suspend, retry, terms, timers);
- ``oversight``: the manager console (overview, stalled cases, workload, heatmap, exports, bulk actions);
- ``people``: administrators (accounts) and signing in.

Every method takes the acting user (``Principal``; ``SYSTEM`` for installation and operators) and
decides itself what that user may do, so that a permission is written once.
"""

from __future__ import annotations

from engine import config
from engine.casework.access import MASK, is_identifying
from engine.casework.inbox import Badge, InboxFilters, badge
from engine.casework.people import LOCKOUT, MAX_FAILURES, ROLE_LABELS, ROLES, UserView
from engine.run.runtime import Runtime
from engine.services.alerts import AlertService
from engine.services.cases import CaseService, TaskPage
from engine.services.design import DesignService
from engine.services.monitor import MonitorService
from engine.services.oversight import OversightService
from engine.services.people import PeopleService
from engine.services.principal import SYSTEM, Principal, is_system
from engine.services.views import (CaseFile, DiagramView, EventView, FormSpec, IncidentView, InstanceDetail,
                                   InstanceView, TaskView, TimerView)
from engine.store.db import Database

__all__ = ["AlertService", "Badge", "CaseFile", "CaseService", "DesignService", "DiagramView", "EventView", "FormSpec",
           "IncidentView", "InboxFilters", "InstanceDetail", "InstanceView", "LOCKOUT", "MAX_FAILURES",
           "MonitorService", "OversightService", "PeopleService", "Principal", "ROLES", "ROLE_LABELS", "SYSTEM", "TaskPage", "TaskView",
           "TimerView", "Tramita", "UserView", "badge", "config", "is_identifying", "is_system", "MASK"]


class Tramita:
    """The services over one database: ``Tramita(url).cases.complete(user, task_id, data)``."""

    def __init__(self, database: Database | str | None = None) -> None:
        db = database if isinstance(database, Database) else Database(database)
        self.db = db
        self.runtime = Runtime(db)
        self.cases = CaseService(self.runtime)
        self.design = DesignService(self.runtime)
        self.monitor = MonitorService(self.runtime)
        self.oversight = OversightService(self.runtime, self.monitor)
        self.alerts = AlertService(self.runtime)
        self.people = PeopleService(self.runtime)

    def group_name(self, group: str) -> str:
        """A user group as people call it (``[groups.<grupo>]`` of ``lanes.toml``); its id where it has none."""
        return self.runtime.group_names.get(group, group)

    def init_db(self) -> None:
        self.db.upgrade()

    def timer_service(self, interval: float = 0.5):  # type: ignore[no-untyped-def]
        """The in-process timer service (``TRAMITA_SCHEDULER=1``); the caller starts and stops it."""
        from engine.time.scheduler import TimerService

        return TimerService(self.runtime, interval=interval)

    @staticmethod
    def worker_name() -> str:
        from engine.time.scheduler import worker_name

        return worker_name()
