"""What ``web/`` and the CLI call: one service per audience, composed over one runtime.

- ``cases``: caseworkers (inbox, tasks, the case file, files, documents);
- ``design``: legal designers (deploy, versions, lint);
- ``drafts``: legal designers' drafts and the second designer's approval;
- ``calendar``: legal designers' drafts of the legal calendar, their impact and recount;
- ``migration``: legal designers moving running cases to another version (preview, move);
- ``monitor``: managers and operators (case lists, cancel, suspend, retry, terms, timers);
- ``oversight``: the manager console (overview, stalled cases, workload, heatmap, exports, bulk actions);
- ``people``: administrators (accounts) and signing in;
- ``simulator``: legal designers' dry runs of scenarios on real dates;
- ``calendar``: legal designers' calendar drafts, their impact and the recount after approval;
- ``register``: the register of protection orders and the annual evaluation (Reglamento arts. 23, 28).

Every method takes the acting user (``Principal``; ``SYSTEM`` for installation and operators) and
decides itself what that user may do, so that a permission is written once.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from engine import config
from engine.time import calendar as _calendar
from engine.time import clock as _clock
from engine.time.clock import Clock, FrozenClock, SystemClock
from engine.casework.access import MASK, is_reserved
from engine.casework.inbox import Badge, InboxFilters, badge
from engine.casework.people import LOCKOUT, MAX_FAILURES, ROLE_LABELS, ROLES, UserView
from engine.run.runtime import Runtime
from engine.services.alerts import AlertService
from engine.services.calendar import CalendarService
from engine.services.cases import CaseService, TaskPage
from engine.services.design import DesignService
from engine.services.drafts import DraftService, DraftView
from engine.services.migration import MigrationService
from engine.services.monitor import MonitorService
from engine.services.oversight import OversightService
from engine.services.people import PeopleService
from engine.services.principal import SYSTEM, Principal, is_system
from engine.services.simulator import SimulationView, SimulatorService
from engine.services.register import STATUS_LABELS, RegisterService
from engine.services.views import (CaseFile, DiagramView, EventView, FormSpec, IncidentView, InstanceDetail,
                                   InstanceView, TaskView, TimerView)
from engine.store import settings
from engine.store.db import Database
from engine.store.states import EventKind, FiringOutcome, InstanceStatus, TaskState, TimerStatus

__all__ = ["AlertService", "Badge", "CalendarService", "CaseFile", "CaseService", "Clock", "DesignService", "DiagramView", "DraftService", "DraftView",
           "EventKind", "EventView",
           "FiringOutcome", "FormSpec", "FrozenClock", "IncidentView", "InboxFilters", "InstanceDetail",
           "InstanceStatus", "InstanceView", "LOCKOUT", "MAX_FAILURES", "MigrationService", "MonitorService", "OversightService",
           "PeopleService",
           "Principal", "ROLES", "ROLE_LABELS", "RegisterService", "STATUS_LABELS", "SYSTEM", "SystemClock",
           "TaskPage", "TaskState", "TaskView", "TimerStatus", "TimerView", "Tramita", "UserView", "badge", "config",
           "is_reserved", "is_system", "MASK"]


class Tramita:
    """The services over one database: ``Tramita(url).cases.complete(user, task_id, data)``."""

    def __init__(self, database: Database | str | None = None, *, clock: Clock | None = None) -> None:
        db = database if isinstance(database, Database) else Database(database)
        self.db = db
        self.runtime = Runtime(db, clock=clock)
        self.cases = CaseService(self.runtime)
        self.design = DesignService(self.runtime)
        self.drafts = DraftService(self.runtime, self.design)
        self.monitor = MonitorService(self.runtime)
        self.migration = MigrationService(self.runtime)
        self.oversight = OversightService(self.runtime, self.monitor)
        self.alerts = AlertService(self.runtime)
        self.people = PeopleService(self.runtime)
        self.simulator = SimulatorService(self.runtime)
        self.register = RegisterService(self.runtime)
        self.calendar = CalendarService(self.runtime)

    def group_name(self, group: str) -> str:
        """A user group as people call it (``[groups.<grupo>]`` of ``lanes.toml``); its id where it has none."""
        return self.runtime.group_names.get(group, group)

    @contextmanager
    def bound(self) -> Iterator[Clock]:
        """Bind this engine's clock and calendar to the current thread for a block (a web request, a
        timer pass): the time and the días hábiles every deadline, audit row and Spiff timer reads there."""
        with _clock.using(self.runtime.clock) as now, _calendar.using(self.runtime.own_calendar):
            yield now

    def init_db(self) -> None:
        self.db.upgrade()

    def secret_key(self) -> str:
        """The key that signs sessions and CSRF tokens, the same on every node of the installation.

        ``$TRAMITA_SECRET_KEY`` when set; otherwise a random key generated by the first process to
        start and kept in the database (``settings``), never in a file of one node's disk.
        """
        return settings.secret_key(self.db)

    def timer_service(self, interval: float = 0.5):  # type: ignore[no-untyped-def]
        """The in-process timer service (``TRAMITA_SCHEDULER=1``); the caller starts and stops it."""
        from engine.time.scheduler import TimerService

        return TimerService(self.runtime, interval=interval)

    @staticmethod
    def worker_name() -> str:
        from engine.time.scheduler import worker_name

        return worker_name()
