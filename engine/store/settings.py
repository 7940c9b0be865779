"""Values every node of one installation must share, kept in the database: today the session secret key.

A web process that generated its own key (or read one from its local disk) would sign sessions
that the next node rejects; keeping the key in the database gives every node, on any machine, the
same key, and a backup of the database holds it. The first process to start creates it: an insert
that does nothing if the row exists, then a read, in one transaction, so two processes starting at
once both end up with the row the first one committed.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone

from sqlalchemy import String, Text, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from engine.errors import InvalidState
from engine.store.db import Database
from engine.store.models import Base

SECRET_KEY = "secret_key"
SECRET_KEY_ENV = "TRAMITA_SECRET_KEY"


class Setting(Base):
    """One named value of the installation, written once (migration 0005)."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def get_or_create(db: Database, name: str, make: str) -> str:
    """The stored value of ``name``; ``make`` is stored first if there is none yet (first writer wins)."""
    if not inspect(db.engine).has_table(Setting.__tablename__):
        raise InvalidState("the database has no schema yet: run `tramita init-db` first", field="database")
    dialect = sqlite if db.is_sqlite else postgresql
    insert = (dialect.insert(Setting).values(name=name, value=make, created_at=datetime.now(timezone.utc))
              .on_conflict_do_nothing(index_elements=[Setting.name]))
    with db.write() as s:
        s.execute(insert)
        return s.execute(select(Setting.value).where(Setting.name == name)).scalar_one()


def secret_key(db: Database) -> str:
    """``$TRAMITA_SECRET_KEY``, else the installation's key in the database, generated on first use."""
    configured = os.environ.get(SECRET_KEY_ENV, "").strip()
    if configured:
        return configured
    return get_or_create(db, SECRET_KEY, secrets.token_hex(32))
