"""The timer service: APScheduler polls the ``timers`` table and fires what is due.

One polling job, not one APScheduler job per timer: the table is the durable
store, so 100,000 pending timers cost rows, not scheduler memory, and a restart
simply finds the overdue rows on its first pass (catch-up). Workers lease rows
before firing (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single writer lock on
SQLite) and each firing re-checks its row in the same transaction as the workflow
change, so each timer fires exactly once however many schedulers run.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from engine import clock, timers
from engine.runtime import Runtime

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

    def run_once(self) -> int:
        try:
            fired = timers.fire_due(self.rt, worker=self.worker, batch=self.batch)
        except Exception:  # noqa: BLE001 - keep the service alive; the next pass retries
            log.exception("timer pass failed")
            return 0
        for f in fired:  # one line per timer: a catch-up of thousands writes thousands of lines
            if f.outcome != "fired":
                continue
            if f.lateness > 60:
                log.warning("caught up timer %s of instance %s, %.0f s late", f.timer_id, f.instance_id, f.lateness)
            else:
                log.info("timer %s (%s) of instance %s fired %.3f s after it was due", f.timer_id, f.task_name,
                         f.instance_id, f.lateness)
        self.fired_count += sum(f.outcome == "fired" for f in fired)
        return len(fired)

    def start(self) -> None:
        self._scheduler.start()
        log.info("timer service %s started", self.worker)

    def stop(self) -> None:
        self._scheduler.shutdown(wait=True)


def cmd_fire(args: argparse.Namespace) -> None:
    from engine.calendar import to_local
    from engine.services import Tramita

    t = Tramita()
    as_of: datetime | None = None
    if args.as_of:
        try:
            as_of = to_local(args.as_of)
        except ValueError as exc:
            from engine.errors import InvalidInput

            raise InvalidInput(f"--as-of is not an ISO 8601 instant: {exc}", field="as_of") from None
    if as_of is not None:
        with clock.frozen_at(as_of):
            fired = timers.fire_due(t.runtime, as_of=as_of, worker=worker_name())
    else:
        fired = timers.fire_due(t.runtime, worker=worker_name())
    for f in fired:
        print(f"timer {f.timer_id} {f.task_name} of instance {f.instance_id}: {f.outcome} "
              f"({f.lateness:.0f} s after due)")
    print(f"{sum(f.outcome == 'fired' for f in fired)} timer(s) fired")


def cmd_scheduler(args: argparse.Namespace) -> None:
    from engine.services import Tramita

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not two lines per pass, every pass
    runtime = Tramita().runtime
    runtime.workflows.size = 0  # a scheduler rarely touches the same case twice: keep no workflows in memory
    service = TimerService(runtime, interval=args.interval)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    stop.wait()
    service.stop()


def add_commands(sub: Any) -> None:
    t = sub.add_parser("timers", help="timer operations")
    tsub = t.add_subparsers(dest="timers_command", required=True)
    f = tsub.add_parser("fire", help="fire every timer due as of an instant (default: now)")
    f.add_argument("--as-of", help="ISO 8601 instant; the clock is set to it while firing")
    f.set_defaults(func=cmd_fire)
    s = sub.add_parser("scheduler", help="run the timer service alone (for multi-process deployments)")
    s.add_argument("--interval", type=float, default=0.5, help="seconds between passes")
    s.set_defaults(func=cmd_scheduler)
