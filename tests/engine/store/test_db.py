"""Transactions: SQLite's single write lock (a waiting writer gets it as soon as it is free, and gives
up with SQLite's own error once the busy timeout has passed) and the sessions each thread reuses."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.store import db as dbmod
from engine.store.db import Database

HOLD = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    con.execute("COMMIT")
""")


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process takes the write lock and keeps it ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Database:
    path = tmp_path / "lock.db"
    path.write_bytes(sqlite_template.read_bytes())
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def test_a_waiting_writer_gets_the_lock_soon_after_it_is_released(database: Database) -> None:
    path = Path(database.engine.url.database)
    proc = _hold_lock(path, 0.3)
    started = time.monotonic()
    with database.write() as s:
        waited = time.monotonic() - started
        s.connection().exec_driver_sql("UPDATE deployments SET deployed_by = deployed_by")
    proc.wait(timeout=10)
    # Released after 0.3 s (less the start-up already spent); SQLite's own handler, sleeping up to
    # 100 ms between tries, would add tens of milliseconds; polling adds at most one millisecond.
    assert 0.1 < waited < 0.3 + 0.05
    with database.read() as s:  # the connection's busy timeout is back for everything else
        assert s.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == dbmod.BUSY_TIMEOUT_MS


def test_a_writer_gives_up_with_database_is_locked_after_the_busy_timeout(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    proc = _hold_lock(Path(database.engine.url.database), 2)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        with database.write():
            pass
    assert 0.2 <= time.monotonic() - started < 1.5
    proc.wait(timeout=10)


def test_errors_other_than_busy_are_not_retried(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    con.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        dbmod._begin_immediate(con)


def test_a_thread_reuses_its_idle_session_clean_and_nested_transactions_get_their_own(database: Database) -> None:
    from engine.store.statements import statements

    with database.write() as first:
        statements(first, database)  # cached in session.info, tied to this transaction's connection
        with database.read() as nested:
            assert nested is not first
            assert nested.connection().exec_driver_sql("SELECT count(*) FROM deployments").scalar() == 0
    with database.read() as again:
        assert again in (first, nested) and again.info == {}
        assert again.connection().exec_driver_sql("SELECT count(*) FROM deployments").scalar() == 0
    seen: list[Session] = []
    thread = threading.Thread(target=lambda: seen.append(_session_of(database)))
    thread.start()
    thread.join()
    assert seen and seen[0] not in (first, nested)


def _session_of(database: Database) -> Session:
    with database.read() as s:
        return s
