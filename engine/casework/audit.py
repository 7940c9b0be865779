"""The access report an administrator reads: who opened which case file, when and through what, and every
refused access and list or search view (the breach log of the data protection law: Ley de Protección de
Datos Personales en Posesión de Sujetos Obligados del Estado de Sonora; see ../shared/legal/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.store.accounts import AccessLog
from engine.store.db import Database
from engine.store.models import Event, Instance
from engine.store.states import EventKind

# The events of a case that are someone looking at it (the rest are what was done to it).
OPENING_KINDS = (EventKind.CASE_OPENED, EventKind.ATTACHMENT_OPENED, EventKind.DOCUMENT_GENERATED)


@dataclass(frozen=True)
class Opening:
    at: datetime
    actor: str
    role: str | None
    institution: str | None
    instance_id: int
    reference: str | None
    kind: str
    via: str  # web (the case page) | tarea (from a task) | api | —
    what: str | None  # the file (by number) or document opened


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    actor: str
    role: str
    institution: str
    action: str
    outcome: str
    via: str
    instance_id: int | None
    target: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class AccessReport:
    openings: list[Opening]
    refusals: list[AccessEntry]
    views: list[AccessEntry]
    totals: dict[str, int]


def _entry(r: AccessLog) -> AccessEntry:
    return AccessEntry(r.at, r.actor, r.role, r.institution, r.action, r.outcome, r.via, r.instance_id, r.target,
                       r.detail)


def report(db: Database, *, actor: str | None = None, instance_id: int | None = None,
           limit: int = 200) -> AccessReport:
    """The latest ``limit`` openings, refusals and list views, newest first, optionally of one person or case."""
    limit = max(1, min(limit, 1000))
    with db.read() as s:
        q = (select(Event, Instance.reference).join(Instance, Instance.id == Event.instance_id)
             .where(Event.kind.in_(OPENING_KINDS)))
        a = select(AccessLog)
        if actor:
            q, a = q.where(Event.actor == actor), a.where(AccessLog.actor == actor)
        if instance_id is not None:
            q, a = q.where(Event.instance_id == instance_id), a.where(AccessLog.instance_id == instance_id)
        openings = []
        for e, reference in s.execute(q.order_by(Event.id.desc()).limit(limit)).all():
            d = e.detail or {}
            openings.append(Opening(e.at, e.actor, d.get("role"), d.get("institution"), int(e.instance_id),
                                    reference, e.kind, str(d.get("via") or "web"),
                                    # the file by its number: its name may name the victim
                                    f"archivo {d['attachment']}" if d.get("attachment") else d.get("document")))
        refused = [_entry(r) for r in s.execute(a.where(AccessLog.outcome == "refused")
                                                .order_by(AccessLog.id.desc()).limit(limit)).scalars()]
        views = [_entry(r) for r in s.execute(a.where(AccessLog.outcome == "viewed")
                                              .order_by(AccessLog.id.desc()).limit(limit)).scalars()]
        totals = {"refused": int(s.execute(select(func.count()).select_from(a.where(AccessLog.outcome == "refused")
                                                                            .subquery())).scalar_one())}
    return AccessReport(openings, refused, views, totals)
