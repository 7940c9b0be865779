"""``tramita alerts send``: the deadline e-mails due now (run it from cron every few minutes, as sistema).

Each alert is recorded once before it is handed to SMTP (``TRAMITA_SMTP_URL``), so running it again,
or after a crash, never sends one twice; a failed hand-over is retried on the next run.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.services import SYSTEM, Tramita


def cmd_send(args: argparse.Namespace) -> None:
    result = Tramita().alerts.send_due(SYSTEM, base_url=args.base_url, smtp_url=args.smtp_url)
    print(f"{result.recorded} alert(s) recorded, {result.sent} sent, {result.failed} failed")


def add_commands(sub: Any) -> None:
    a = sub.add_parser("alerts", help="deadline e-mails")
    asub = a.add_subparsers(dest="alerts_command", required=True)
    s = asub.add_parser("send", help="record and send the deadline e-mails due now")
    s.add_argument("--base-url", help="the address links point to (default $TRAMITA_BASE_URL)")
    s.add_argument("--smtp-url", help="smtp://host:port?from=... (default $TRAMITA_SMTP_URL)")
    s.set_defaults(func=cmd_send)
