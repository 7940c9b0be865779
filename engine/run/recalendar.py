"""The recount an approved calendar version sets going: its moved deadlines, case by case.

Approving a calendar draft writes one ``calendar_recounts`` row per running deadline the new calendar
moves (``engine.simulate.impact`` found them). Each row is then recounted in a transition of its own
(one transaction, one audit event ``term_recalendared`` in the case's history), so a recount of
thousands of cases never holds the database: whoever runs a batch (the page that shows the progress,
the timer service) claims a few rows with a short lease, moves their terms and marks them done.
A row whose term ended meanwhile, or whose case no longer waits on it, is marked with the reason:
nothing moves silently, and nothing is left unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotFound, TramitaError
from engine.run import terms
from engine.run import transitions as instances
from engine.run.runtime import Runtime
from engine.run.transitions import TransitionResult
from engine.store.calendar_drafts import CalendarRecount
from engine.store.models import Task
from engine.store.states import EventKind, TaskState
from engine.time import clock
from engine.time.calendar import LegalCalendar
from engine.time.hermosillo import HERMOSILLO
from engine.time.recount import recompute

PENDING, MOVED, UNCHANGED, FAILED, WORKING = "pendiente", "movido", "sin_cambio", "error", "en_curso"
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    moved: int
    unchanged: int
    failed: int

    @property
    def done(self) -> bool:
        return self.pending == 0


def progress(session: Session, draft_id: int) -> Progress:
    rows = session.execute(select(CalendarRecount.status).where(CalendarRecount.draft_id == draft_id)).scalars().all()
    count = {s: 0 for s in (PENDING, MOVED, UNCHANGED, FAILED, WORKING)}
    for s in rows:
        count[s] = count.get(s, 0) + 1
    return Progress(len(rows), count[PENDING] + count[WORKING], count[MOVED], count[UNCHANGED], count[FAILED])


def run_batch(rt: Runtime, draft_id: int | None, calendar: LegalCalendar, change: str, user: str,
              limit: int = 20) -> int:
    """Recount up to ``limit`` pending rows (of one draft, or of any with ``None``), each in its own
    transaction; the number of rows handled."""
    handled = 0
    for _ in range(limit):
        row = _claim(rt, draft_id)
        if row is None:
            break
        status, detail = _recount(rt, row, calendar, change, user)
        with rt.db.write() as s:
            s.execute(update(CalendarRecount).where(CalendarRecount.id == row.id)
                      .values(status=status, detail=detail, done_at=clock.now(), claimed_until=None))
        handled += 1
    return handled


def run_draft(rt: Runtime, draft_id: int, user: str, limit: int = 20) -> int:
    """Recount up to ``limit`` pending rows of an approved calendar draft, on the version it deployed."""
    from engine.deploy import calendar_drafts

    with rt.db.read() as s:
        draft = calendar_drafts.get(s, draft_id)
        if draft.deployed_version is None:
            return 0
        calendar = calendar_drafts.calendar_of_version(s, draft.deployed_version)
        change = calendar_drafts.change_label(s, draft)
        approver = draft.reviewed_by or user  # the approval moves the terms, whoever runs the batch
    return run_batch(rt, draft_id, calendar, change, approver, limit)


def run_pending(rt: Runtime, user: str = "sistema", limit: int = 20) -> int:
    """The timer service's share: the pending rows of every approved draft, a few per pass, so a recount
    finishes even when nobody keeps its page open."""
    now = clock.now()
    with rt.db.read() as s:
        drafts = sorted(set(s.execute(select(CalendarRecount.draft_id).where(
            or_(CalendarRecount.status == PENDING,
                (CalendarRecount.status == WORKING) & (CalendarRecount.claimed_until < now)))).scalars()))
    handled = 0
    for draft_id in drafts:
        handled += run_draft(rt, draft_id, user, limit - handled)
        if handled >= limit:
            break
    return handled


def _claim(rt: Runtime, draft_id: int | None) -> CalendarRecount | None:
    now = clock.now()
    with rt.db.write() as s:
        q = select(CalendarRecount).where(or_(CalendarRecount.status == PENDING,
                                              (CalendarRecount.status == WORKING)
                                              & (CalendarRecount.claimed_until < now)))
        if draft_id is not None:
            q = q.where(CalendarRecount.draft_id == draft_id)
        row = s.execute(q.order_by(CalendarRecount.id).limit(1)).scalar()
        if row is None:
            return None
        claimed = s.execute(update(CalendarRecount).where(CalendarRecount.id == row.id,
                                                          CalendarRecount.status == row.status)
                            .values(status=WORKING, claimed_until=now + LEASE)).rowcount
        if not claimed:
            return None
        s.expunge(row)
        return row


def _recount(rt: Runtime, row: CalendarRecount, calendar: LegalCalendar, change: str,
             user: str) -> tuple[str, str]:
    try:
        if row.kind == "timer":
            result = terms.recalendar(rt, row.instance_id, row.element, calendar, user, change,
                                      calendar_version=row.calendar_version)
        else:
            result = recalendar_task(rt, row.instance_id, row.element, calendar, user, change,
                                     row.calendar_version)
    except TramitaError as exc:
        if "does not move" in exc.message or "already ended" in exc.message or "no waiting timer" in exc.message:
            return UNCHANGED, _why_unchanged(exc.message)
        if exc.field == "instance" and " needs it " in exc.message:
            return FAILED, ("El caso no está en trámite (suspendido, con error o terminado): su plazo no se movió; "
                            "recompútelo cuando vuelva a estar en trámite.")
        if exc.field == "due":
            return FAILED, ("Con el calendario nuevo el plazo ya habría vencido: no se movió; revíselo con quien "
                            "lleva el caso.")
        return FAILED, f"No se pudo mover el plazo ({exc.message})."
    return MOVED, f"revisión {result.revision} del caso"


def _why_unchanged(message: str) -> str:
    if "already ended" in message:
        return "El plazo ya había vencido: no se mueve."
    if "no waiting timer" in message:
        return "El caso ya no espera este plazo (avanzó o terminó): no se mueve."
    return "El plazo ya no cambia con este calendario (ya se había recomputado)."


def recalendar_task(rt: Runtime, instance_id: int, task_name: str, calendar: LegalCalendar, user: str,
                    change: str, calendar_version: int | None = None) -> TransitionResult:
    """Count an open task's own due date (its ``dueDate``, no timer carries it) again on ``calendar``."""

    def apply(wf: Any, s: Session) -> dict[str, Any]:
        conn = s.connection()
        t = Task.__table__
        found = conn.execute(select(t.c.id, t.c.due_at, t.c.deadline).where(
            t.c.instance_id == instance_id, t.c.name == task_name, t.c.state == TaskState.READY)).first()
        if found is None or found.deadline is None:
            raise NotFound(f"instance {instance_id} has no waiting timer or open task {task_name!r}",
                                 field="task")
        old_due = found.due_at
        if old_due <= clock.now():
            raise InvalidState(f"the term of {task_name!r} already ended; it does not move", field="task")
        again = recompute(found.deadline, calendar)
        if again is None or again.due == old_due:
            raise InvalidState(f"the term of {task_name!r} does not move with this calendar", field="task")
        previous = old_due.astimezone(HERMOSILLO).isoformat()
        explanation = again.to_dict()
        if calendar_version is not None:
            explanation["calendar_version"] = calendar_version
        explanation["rule"] = (f"Plazo recomputado por el cambio de calendario ({change}); vencía el "
                               f"{terms.people_instant(old_due)}. " + explanation["rule"])
        explanation["recalendared"] = {"previous_due": previous, "change": change, "by": user,
                                       "at": clock.now().astimezone(HERMOSILLO).isoformat()}
        explanation["previous"] = found.deadline
        conn.execute(update(t).where(t.c.id == found.id).values(due_at=again.due, deadline=explanation))
        return {"task": task_name, "old_due": previous, "new_due": again.iso(), "change": change}

    return instances.transition(rt, instance_id, user, EventKind.TERM_RECALENDARED, apply, step=False,
                                writes=True)


def local(instant: datetime) -> str:
    return instant.astimezone(HERMOSILLO).isoformat()
