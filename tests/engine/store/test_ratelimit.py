"""The ``limits`` storage in our database (Flask-Limiter's counts for sign-in), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from engine.store.db import Database
from engine.store.ratelimit import DatabaseStorage, account_key, clear_account


def _storage(url: str) -> DatabaseStorage:
    db = Database(url)
    storage = storage_from_string("tramita-db://", database=db)
    assert isinstance(storage, DatabaseStorage) and storage.check()
    return storage


def test_moving_window_locks_until_the_oldest_failure_is_old(db_url: str, frozen_clock: Any) -> None:
    storage = _storage(db_url)
    limiter, five = MovingWindowRateLimiter(storage), parse("5 per 15 minutes")
    for minute in range(5):
        assert limiter.hit(five, "k")
        frozen_clock.advance(timedelta(minutes=1))
    assert not limiter.test(five, "k") and not limiter.hit(five, "k")
    # At 15 min after the first (now + 10 min), one place frees; the window's start is the first hit.
    start, counted = storage.get_moving_window(five.key_for("k"), 5, 900)
    assert counted == 5
    frozen_clock.advance(timedelta(minutes=10, seconds=1))
    assert limiter.test(five, "k") and limiter.hit(five, "k") and not limiter.hit(five, "k")
    assert limiter.test(five, "other")
    storage.db.dispose()


def test_fixed_window_clear_and_reset(db_url: str, frozen_clock: Any) -> None:
    storage = _storage(db_url)
    limiter, two = FixedWindowRateLimiter(storage), parse("2 per minute")
    assert limiter.hit(two, "a") and limiter.hit(two, "a") and not limiter.hit(two, "a")
    assert storage.get(two.key_for("a")) == 3
    frozen_clock.advance(timedelta(seconds=61))
    assert storage.get(two.key_for("a")) == 0 and limiter.hit(two, "a")
    storage.clear(two.key_for("a"))
    assert storage.get(two.key_for("a")) == 0
    limiter.hit(two, "b")
    assert storage.reset() == 1
    storage.db.dispose()


def test_a_new_password_clears_the_names_count(db_url: str) -> None:
    storage = _storage(db_url)
    limiter, five = MovingWindowRateLimiter(storage), parse("5 per 15 minutes")
    key = f"LIMITER/{account_key(' Ana ')}/auth.login"
    for _ in range(5):
        limiter.hit(five, key)
    assert not limiter.test(five, key)
    assert account_key("ana") == account_key(" ANA ") and "ana" not in account_key("ana")
    clear_account(storage.db, "ana")
    assert limiter.test(five, key)
    storage.db.dispose()
