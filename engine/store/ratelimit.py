"""Flask-Limiter's counts in Tramita's own database, so that every web process shares them.

Flask-Limiter counts through the ``limits`` library, whose storages for several processes are Redis,
Memcached or MongoDB. Tramita keeps ``make run`` one command and one database instead: this module
registers a ``limits`` storage under the scheme ``tramita-db://`` backed by the ``rate_limit_hits``
table (migration 0007), and supports the moving window (a lock lasts until the oldest counted failure
is ``LOCKOUT`` old, with no window edge to game) as well as the fixed window. Times are on the engine's
clock, so the lockout can be tested with a frozen clock. The storage gets the ``Database`` through
Flask-Limiter's ``storage_options``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.accounts import RateLimitHit
from engine.store.db import Database
from engine.time import clock

SCHEME = "tramita-db"


def account_key(username: str | None) -> str:
    """The throttle's key for an account name as typed (normalized as sign-in does, and hashed: the table
    never holds the names people typed, which may be a password typed in the wrong box)."""
    name = (username or "").strip().lower()
    return "cuenta:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


def clear_account(db: Database, username: str) -> None:
    """Forget an account name's counted failures (an administrator set a new password)."""
    with db.write() as s:
        s.execute(delete(RateLimitHit).where(RateLimitHit.key.like(f"%/{account_key(username)}/%")))


class DatabaseStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, database: Database | None = None,
                 **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if database is None:
            raise ValueError("tramita-db:// needs storage_options={'database': Database}")
        self.db = database

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @staticmethod
    def _now() -> float:
        return clock.now().timestamp()

    def _live(self, key: str, now: float) -> Any:
        return (RateLimitHit.key == key) & (RateLimitHit.expires_at > now)

    # --- fixed window: every hit of a window expires with the window's first ---
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._now()
        with self.db.write() as s:
            s.execute(delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.expires_at <= now))
            ends = s.execute(select(func.min(RateLimitHit.expires_at)).where(RateLimitHit.key == key)).scalar()
            s.add_all([RateLimitHit(key=key, at=now, expires_at=ends or now + expiry) for _ in range(amount)])
            s.flush()
            return int(s.execute(select(func.count()).where(RateLimitHit.key == key)).scalar_one())

    def get(self, key: str) -> int:
        with self.db.read() as s:
            return int(s.execute(select(func.count()).where(self._live(key, self._now()))).scalar_one())

    def get_expiry(self, key: str) -> float:
        now = self._now()
        with self.db.read() as s:
            ends = s.execute(select(func.min(RateLimitHit.expires_at)).where(self._live(key, now))).scalar()
        return float(ends) if ends is not None else now

    def check(self) -> bool:
        try:
            with self.db.read() as s:
                s.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.db.write() as s:
            return int(s.execute(delete(RateLimitHit)).rowcount or 0)

    def clear(self, key: str) -> None:
        with self.db.write() as s:
            s.execute(delete(RateLimitHit).where(RateLimitHit.key == key))

    # --- moving window ---
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self._now()
        with self.db.write() as s:
            if not self.db.is_sqlite:  # SQLite's writes are already serialized (BEGIN IMMEDIATE)
                # Count and add as one step across web processes: two attempts never both take the last place.
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            s.execute(delete(RateLimitHit).where(RateLimitHit.expires_at <= now))  # sweep every key's past
            counted = int(s.execute(select(func.count()).where(RateLimitHit.key == key,
                                                              RateLimitHit.at > now - expiry)).scalar_one())
            if counted + amount > limit:
                return False
            s.add_all([RateLimitHit(key=key, at=now, expires_at=now + expiry) for _ in range(amount)])
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._now()
        with self.db.read() as s:
            oldest, counted = s.execute(select(func.min(RateLimitHit.at), func.count())
                                        .where(RateLimitHit.key == key, RateLimitHit.at > now - expiry)).one()
        return (float(oldest), int(counted)) if counted else (now, 0)
