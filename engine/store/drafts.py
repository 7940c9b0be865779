"""The legal designers' drafts, the change note of each deployed version, and the audit of both.

A draft belongs to its author, is kept on the server (resumable from any browser), and moves
draft → submitted → approved (deployed as the next version) or rejected (back to its author).
"""

from __future__ import annotations

from datetime import datetime

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class Draft(Base):
    __tablename__ = "design_drafts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    base_version: Mapped[int | None] = mapped_column(Integer)  # the version it started from (None: new procedure)
    author: Mapped[str] = mapped_column(String(120), index=True)
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | submitted | approved | rejected
    change_note: Mapped[str] = mapped_column(Text, default="")
    effective_from: Mapped[datetime | None]  # the reform's entry into force
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str] = mapped_column(Text, default="")
    deployed_version: Mapped[int | None] = mapped_column(Integer)
    forms: Mapped[dict[str, Any]] = mapped_column(default=dict)  # form file name -> its edited JSON Schema text


class VersionNote(Base):
    """Why a deployment was made (the reform and its publication date) and who approved it."""

    __tablename__ = "version_notes"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(120))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("design_drafts.id"))
    effective_from: Mapped[datetime | None]


class DesignEvent(Base):
    """Every step of a draft: created, saved, submitted, approved, rejected, deployed."""

    __tablename__ = "design_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("design_drafts.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
