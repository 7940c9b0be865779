"""``tramita timers fire`` and ``tramita scheduler``: the timer service run by an operator, as sistema."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from engine.services import SYSTEM, Tramita
from engine.services import FiringOutcome
from engine.services.terms import local_instant


def cmd_fire(args: argparse.Namespace) -> None:
    t = Tramita()
    as_of = local_instant(args.as_of) if args.as_of else None
    fired = t.monitor.fire_due_timers(SYSTEM, as_of=as_of, worker=t.worker_name())
    for f in fired:
        print(f"timer {f.timer_id} {f.task_name} of instance {f.instance_id}: {f.outcome} "
              f"({f.lateness:.0f} s after due)")
    print(f"{sum(f.outcome == FiringOutcome.FIRED for f in fired)} timer(s) fired")


def cmd_scheduler(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not two lines per pass, every pass
    t = Tramita()
    t.runtime.workflows.size = 0  # a scheduler rarely touches the same case twice: keep no workflows in memory
    service = t.timer_service(interval=args.interval)
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
