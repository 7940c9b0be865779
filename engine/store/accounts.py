"""Who may use Tramita: users, their API tokens, and the files attached to cases.

Kept apart from ``engine.store.models`` (the engine's own tables) so the web's
concerns (people, credentials, uploads) can change without touching the engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Double, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId, Task


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))  # caseworker | legal_designer | manager | admin
    institution: Mapped[str] = mapped_column(String(120), index=True)
    groups: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"groups": [...]} (JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    email: Mapped[str | None] = mapped_column(String(255))  # deadline e-mails (migration 0012)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Attachment(Base):
    """A file uploaded to a case; its bytes are in ``attachment_contents`` (the database, not the web root)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    field: Mapped[str | None] = mapped_column(String(120))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime]


class AttachmentContent(Base):
    """The bytes of one attachment, in the database so every web node serves them and a backup holds them.

    A table of its own, so listing a case's files never reads the bytes (migration 0005).
    """

    __tablename__ = "attachment_contents"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


# Access control asks "did this user hold or complete a task of the case?"; migration 0002 creates these.
Index("ix_tasks_completed_by", Task.completed_by)
Index("ix_tasks_assignee", Task.assignee)


class UserSession(Base):
    """A signed-in browser session, so that signing out (or disabling the user, or changing the password)
    ends it on the server: the cookie carries a random id whose SHA-256 must still be here (migration 0007)."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the id in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class AccessLog(Base):
    """Who was refused what, and who looked at which list or search (the breach log the data protection law
    asks for). Openings of a case file are in ``events`` (``case_opened``), with the case."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str] = mapped_column(String(32))
    institution: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))  # case_list | inbox_search | case | task | attachment...
    outcome: Mapped[str] = mapped_column(String(16))  # refused | viewed
    via: Mapped[str] = mapped_column(String(16))  # web | api | tarea | cli
    instance_id: Mapped[int | None] = mapped_column(BigId)  # no foreign key: a refused number may not exist
    target: Mapped[str | None] = mapped_column(String(120))  # task or attachment id
    detail: Mapped[dict[str, Any] | None]


class RateLimitHit(Base):
    """One counted attempt for Flask-Limiter's moving window (``engine.store.ratelimit``), shared by every
    web process through the database."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Double)  # seconds since the epoch, on the engine's clock
    expires_at: Mapped[float] = mapped_column(Double, index=True)
