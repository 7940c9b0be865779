"""Figures for ``/metrics``, read from the database at scrape time.

The database is the one place every worker process writes to, so counting there (events by kind,
fired timers' lateness, overdue tasks, cases in error, alerts sent and failed) gives the same answer
whichever gunicorn worker is scraped, and survives restarts, with nothing added to the transition path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.store.models import Alert, Event, Instance, Task, Timer

LATENESS_BUCKETS = (1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0)


@dataclass(frozen=True)
class Snapshot:
    transitions: dict[str, int]  # event kind -> count
    timer_lateness: list[tuple[float, int]]  # cumulative (le, count) over fired timers
    timer_lateness_sum: float
    timers_fired: int
    overdue: dict[tuple[str, str], int]  # (process, step) -> open overdue tasks
    errors: dict[str, int]  # process -> cases in error
    emails_sent: int
    emails_failed: int


def snapshot(s: Any, now: datetime) -> Snapshot:
    transitions = {k: int(n) for k, n in s.execute(select(Event.kind, func.count()).group_by(Event.kind)).all()}
    late = sorted(max(0.0, (fired - due).total_seconds()) for due, fired in s.execute(
        select(Timer.due_at, Timer.fired_at).where(Timer.status == "fired", Timer.fired_at.is_not(None))).all())
    buckets = [(le, sum(1 for x in late if x <= le)) for le in LATENESS_BUCKETS]
    overdue = {(k, n): int(c) for k, n, c in s.execute(
        select(Task.process_key, Task.name, func.count()).where(Task.state == "READY", Task.due_at < now)
        .group_by(Task.process_key, Task.name)).all()}
    errors = {k: int(c) for k, c in s.execute(select(Instance.process_key, func.count())
                                               .where(Instance.status == "error").group_by(Instance.process_key)).all()}
    sent = int(s.execute(select(func.count()).select_from(Alert).where(Alert.sent_at.is_not(None))).scalar_one())
    failed = int(s.execute(select(func.count()).select_from(Alert).where(Alert.sent_at.is_(None),
                                                                          Alert.attempts > 0)).scalar_one())
    return Snapshot(transitions, buckets, sum(late), len(late), overdue, errors, sent, failed)
