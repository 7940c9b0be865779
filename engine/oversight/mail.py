"""Deadline e-mails: a daily digest per caseworker, an escalation to the coordinators when a task
becomes overdue, and, for terms counted in hours (the 4-hour protection order), an alert to the
task's group when it opens and again in the last hour before it expires, at any hour and on any day.

Each alert is first recorded in ``alerts`` (unique per kind and target: the task, or the digest's day
and user) in its own committed transaction, and only then handed to SMTP; a failed hand-over is
retried on the next run, with the same stable Message-ID, so a retry or a restart never makes a
second alert and a receiving server can drop a duplicate delivery. No victim data goes into any
e-mail: the case number, the step, the due date and a link.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Iterable
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from engine.store.accounts import User
from engine.store.models import Alert, Instance, Task
from engine.time.calendar import HERMOSILLO, LegalCalendar

DIGEST_DAYS = 2  # días hábiles ahead in the daily digest
EXPIRING = timedelta(hours=1)  # the second alert of a term in hours
MAX_ATTEMPTS = 5
KINDS = ("digest", "overdue", "opened", "expiring")


@dataclass(frozen=True)
class Outgoing:
    kind: str
    target: str
    recipients: list[str]
    subject: str
    body: str


@dataclass(frozen=True)
class MailResult:
    recorded: int
    sent: int
    failed: int


def _when(instant: datetime | None) -> str:
    return instant.astimezone(HERMOSILLO).strftime("%d/%m/%Y %H:%M") if instant else "sin fecha"


def _line(task: Any, base_url: str) -> str:
    ref = task.reference or f"#{task.instance_id}"
    return (f"- Caso {ref} · {task.title or task.name} · vence {_when(task.due_at)} (hora de Hermosillo)\n"
            f"  {base_url}/casos/{task.instance_id}")


def _users(s: Any) -> list[User]:
    return list(s.execute(select(User).where(User.active.is_(True), User.email.is_not(None))).scalars())


def _open_tasks(s: Any, *conds: Any) -> list[Any]:
    q = (select(Task.id, Task.instance_id, Task.name, Task.title, Task.due_at, Task.assignee, Task.candidate_group,
                Task.deadline, Task.created_at, Instance.reference, Instance.institution)
         .join(Instance, Instance.id == Task.instance_id)
         .where(Task.state == "READY", Instance.status == "running", *conds).order_by(Task.due_at, Task.id))
    return list(s.execute(q).all())


def plan(s: Any, now: datetime, calendar: LegalCalendar, base_url: str) -> list[Outgoing]:
    """Every alert that is due now (whether already recorded or not: recording decides)."""
    base_url = base_url.rstrip("/")
    users = _users(s)
    out: list[Outgoing] = []
    # The daily digest: one per caseworker and local day, their tasks and their groups' unclaimed ones.
    limit = calendar.business_days(now, DIGEST_DAYS).due
    soon = _open_tasks(s, Task.due_at.is_not(None), Task.due_at <= limit)
    day = now.astimezone(HERMOSILLO).date().isoformat()
    for u in users:
        if u.role != "caseworker":
            continue
        groups = set((u.groups or {}).get("groups", []))
        mine = [t for t in soon if t.assignee == u.username or (t.assignee is None and t.candidate_group in groups)]
        if mine:
            body = (f"Tareas que vencen en los próximos {DIGEST_DAYS} días hábiles (o ya vencidas):\n\n"
                    + "\n".join(_line(t, base_url) for t in mine)
                    + "\n\nAbra su bandeja para atenderlas: " + f"{base_url}/bandeja\n")
            out.append(Outgoing("digest", f"{day}/{u.username}", [u.email], f"Tramita: {len(mine)} tareas por vencer",
                                body))
    # Escalation to the coordinators of the case's institution when a task is overdue.
    for t in _open_tasks(s, Task.due_at.is_not(None), Task.due_at < now):
        to = [u.email for u in users if u.role == "manager" and u.institution == t.institution]
        if to:
            out.append(Outgoing("overdue", t.id, to, f"Tramita: plazo vencido en el caso {t.reference or t.instance_id}",
                                "Una tarea venció sin atenderse:\n\n" + _line(t, base_url) + "\n"))
    # Terms in hours: the group at once when the task opens, and again in its last hour.
    for t in _open_tasks(s, Task.deadline.is_not(None), Task.due_at.is_not(None), Task.due_at > now):
        if (t.deadline or {}).get("unit") != "hours":
            continue
        to = [u.email for u in users if t.candidate_group in set((u.groups or {}).get("groups", []))]
        if not to:
            continue
        out.append(Outgoing("opened", t.id, to, f"Tramita: plazo de {t.deadline.get('count')} horas en el caso "
                            f"{t.reference or t.instance_id}", "Se abrió una tarea con plazo en horas:\n\n"
                            + _line(t, base_url) + "\n"))
        if now >= t.due_at - EXPIRING:
            out.append(Outgoing("expiring", t.id, to, f"Tramita: vence en menos de una hora, caso "
                                f"{t.reference or t.instance_id}", "La tarea está por vencer:\n\n"
                                + _line(t, base_url) + "\n"))
    return out


def message_id(kind: str, target: str, domain: str) -> str:
    """Stable: the same alert always carries the same Message-ID."""
    safe = "".join(c if c.isalnum() or c in "-." else "-" for c in target)
    return f"<{kind}.{safe}@{domain}>"


def record(db: Any, alerts: Iterable[Outgoing], now: datetime, domain: str) -> int:
    """Insert each new alert in its own transaction; one already recorded is skipped (unique)."""
    n = 0
    for a in alerts:
        try:
            with db.write() as s:
                if s.execute(select(Alert.id).where(Alert.kind == a.kind, Alert.target == a.target)).first():
                    continue
                s.add(Alert(kind=a.kind, target=a.target, recipients=", ".join(a.recipients),
                            message_id=message_id(a.kind, a.target, domain), created_at=now, attempts=0))
            n += 1
        except IntegrityError:  # another process recorded it first
            continue
    return n


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def parse(cls, url: str) -> "SmtpSettings":
        """``smtp://user:pass@host:25?from=tramita@dominio.mx`` (``smtps://`` for TLS, ``?starttls=1``)."""
        u = urlparse(url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise ValueError("TRAMITA_SMTP_URL debe ser smtp://servidor:puerto o smtps://servidor:puerto")
        q = parse_qs(u.query)
        return cls(u.hostname, u.port or (465 if u.scheme == "smtps" else 25), u.scheme == "smtps",
                   q.get("starttls", ["0"])[0] == "1", unquote(u.username) if u.username else None,
                   unquote(u.password) if u.password else None, q.get("from", [f"tramita@{u.hostname}"])[0])


def deliver(db: Any, settings: SmtpSettings, bodies: dict[tuple[str, str], Outgoing], now: datetime) -> tuple[int, int]:
    """Hand each recorded, unsent alert to SMTP; returns (sent, failed)."""
    with db.read() as s:
        pending = list(s.execute(select(Alert).where(Alert.sent_at.is_(None), Alert.attempts < MAX_ATTEMPTS)
                                 .order_by(Alert.id)).scalars())
    sent = failed = 0
    if not pending:
        return 0, 0
    for alert in pending:
        outgoing = bodies.get((alert.kind, alert.target))
        if outgoing is None:  # no longer due (the task was done meanwhile): nothing to say
            with db.write() as s:
                s.execute(update(Alert).where(Alert.id == alert.id).values(attempts=MAX_ATTEMPTS, error="ya no aplica"))
            continue
        msg = EmailMessage()
        msg["From"] = settings.sender
        msg["To"] = alert.recipients
        msg["Subject"] = outgoing.subject
        msg["Message-ID"] = alert.message_id
        msg.set_content(outgoing.body)
        try:
            smtp_cls = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
            with smtp_cls(settings.host, settings.port, timeout=10) as smtp:
                if settings.starttls:
                    smtp.starttls()
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            failed += 1
            with db.write() as s:
                s.execute(update(Alert).where(Alert.id == alert.id)
                          .values(attempts=Alert.attempts + 1, error=str(exc)[:500]))
            continue
        sent += 1
        with db.write() as s:
            s.execute(update(Alert).where(and_(Alert.id == alert.id, Alert.sent_at.is_(None)))
                      .values(sent_at=now, attempts=Alert.attempts + 1, error=None))
    return sent, failed


def send_due(db: Any, settings: SmtpSettings, base_url: str, now: datetime, calendar: LegalCalendar) -> MailResult:
    """One pass: record every alert due now (once per task and kind), then hand the unsent ones to SMTP."""
    with db.read() as s:
        due = plan(s, now, calendar, base_url)
    recorded = record(db, due, now, settings.sender.split("@")[-1])
    sent, failed = deliver(db, settings, {(a.kind, a.target): a for a in due}, now)
    return MailResult(recorded, sent, failed)
