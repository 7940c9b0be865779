"""A calendar draft's changes and the recount its approval sets going (migration 0011_calendar_drafts).

The draft itself is a row of ``design_drafts`` (its key ``calendario``, its file ``calendar/...toml``):
it belongs to its author and is approved by another legal designer like any procedure draft. What a
procedure draft does not need is kept here: each change with its reason and published source, and,
once approved, one row per running deadline the new calendar moves, so the recount runs case by case
(each in its own audited transaction) and can be resumed and shown in progress.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class CalendarChange(Base):
    __tablename__ = "calendar_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("design_drafts.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # agregar | quitar
    kind: Mapped[str] = mapped_column(String(16))  # dia | periodo | vacaciones
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CalendarRecount(Base):
    """One running deadline an approved calendar version moves: pending until its case is recounted."""

    __tablename__ = "calendar_recounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("design_drafts.id"), index=True)
    calendar_version: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    element: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # timer | task
    old_due: Mapped[datetime]
    new_due: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)  # pendiente | movido | sin_cambio | error
    detail: Mapped[str] = mapped_column(Text, default="")
    claimed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
