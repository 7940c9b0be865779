"""The timer service: APScheduler polls the ``timers`` table and fires what is due.

One polling job, not one APScheduler job per timer: the table is the durable
store, so 100,000 pending timers cost rows, not scheduler memory, and a restart
simply finds the overdue rows on its first pass (catch-up). Workers lease rows
before firing (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single writer lock on
SQLite) and each firing re-checks its row in the same transaction as the workflow
change, so each timer fires exactly once however many schedulers run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from engine.time import calendar, clock
from engine.run import firing as timers
from engine.run import recalendar
from engine.run.runtime import Runtime
from engine.store.states import FiringOutcome

log = logging.getLogger("tramita.scheduler")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class TimerService:
    """Fires due timers every ``interval`` seconds in a background thread."""

    def __init__(self, rt: Runtime, interval: float = 0.5, batch: int = 200) -> None:
        timers.lease()  # a bad TRAMITA_TIMER_LEASE_SECONDS stops the service here, not on every pass
        self.rt = rt
        self.worker = worker_name()
        self.batch = batch
        self.fired_count = 0
        self._scheduler = BackgroundScheduler(timezone="UTC")
        # APScheduler wakes up on the real clock, whatever Tramita's clock says (a frozen or
        # --as-of clock in the future would otherwise postpone the first pass until then).
        self._scheduler.add_job(self.run_once, "interval", seconds=interval, id="fire-due-timers",
                                max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc))
        self.smtp_url = os.environ.get("TRAMITA_SMTP_URL")
        if self.smtp_url:  # deadline e-mails ride along: a pass a minute (engine.oversight.mail)
            self._scheduler.add_job(self.alerts_once, "interval", seconds=60, id="deadline-emails",
                                    max_instances=1, coalesce=True)

    def alerts_once(self) -> None:
        from engine.oversight import mail

        try:
            result = mail.send_due(self.rt.db, mail.SmtpSettings.parse(self.smtp_url or ""),
                                   os.environ.get("TRAMITA_BASE_URL", "http://localhost:5000"), clock.now(),
                                   self.rt.calendar()[1])
        except Exception:  # noqa: BLE001 - keep the service alive; the next pass retries
            log.exception("deadline e-mail pass failed")
            return
        if result.sent or result.failed:
            log.info("deadline e-mails: %s sent, %s failed", result.sent, result.failed)

    def run_once(self) -> int:
        try:
            with clock.using(self.rt.clock), calendar.using(self.rt.own_calendar):
                fired = timers.fire_due(self.rt, worker=self.worker, batch=self.batch)
                recalendar.run_pending(self.rt, limit=20)  # an approved calendar's recount, a few cases a pass
        except Exception:  # noqa: BLE001 - keep the service alive; the next pass retries
            log.exception("timer pass failed")
            return 0
        for f in fired:  # one line per timer: a catch-up of thousands writes thousands of lines
            if f.outcome != FiringOutcome.FIRED:
                continue
            if f.lateness > 60:
                log.warning("caught up timer %s of instance %s, %.0f s late", f.timer_id, f.instance_id, f.lateness)
            else:
                log.info("timer %s (%s) of instance %s fired %.3f s after it was due", f.timer_id, f.task_name,
                         f.instance_id, f.lateness)
        self.fired_count += sum(f.outcome == FiringOutcome.FIRED for f in fired)
        return len(fired)

    def start(self) -> None:
        self._scheduler.start()
        log.info("timer service %s started", self.worker)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def stop(self) -> None:
        self._scheduler.shutdown(wait=True)
