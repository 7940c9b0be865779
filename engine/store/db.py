"""Database connections and transactions.

SQLite runs in WAL mode so readers never block the single writer, and every
write transaction starts with ``BEGIN IMMEDIATE``: a transaction that read and then
tries to write would otherwise fail with SQLITE_BUSY instead of waiting its turn.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine import config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Database:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or config.database_url()
        self.engine = _create_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer = self.engine.execution_options(tramita_write=True) if self.is_sqlite else self.engine
        self._idle = threading.local()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that may write: committed on success, rolled back on any error."""
        with self._transaction(self._writer) as session:
            outer = getattr(self._idle, "writing", None)
            self._idle.writing = session
            try:
                yield session
            finally:
                self._idle.writing = outer

    def current_writer(self) -> Session | None:
        """The session of the write transaction this thread has open, if any.

        A helper that must write while a transition already holds the write transaction (SQLite's single
        writer lock) uses it instead of waiting for a lock its own thread holds (e.g. the folio counter).
        """
        return getattr(self._idle, "writing", None)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._transaction(self.engine) as session:
            yield session

    @contextmanager
    def _transaction(self, engine: Engine) -> Iterator[Session]:
        """A session inside a Core transaction.

        A transition opens two of these, and building a Session costs about as much as
        SQLite's commit, so each thread keeps an idle one and binds it to the connection of
        its next transaction (a nested transaction gets a fresh one).
        """
        with engine.connect() as connection, connection.begin():
            session = getattr(self._idle, "session", None)
            if session is None:
                session = Session(expire_on_commit=False)
            else:
                self._idle.session = None
            session.bind = connection
            try:
                yield session
                session.flush()
            finally:
                session.close()
                session.info.clear()
                session.bind = None
                self._idle.session = session

    def upgrade(self) -> None:
        """Create or migrate the schema in place to the newest revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("instances")

    def dispose(self) -> None:
        self.engine.dispose()


BUSY_TIMEOUT_MS = 30_000


def _begin_immediate(raw: sqlite3.Connection) -> None:
    """Take SQLite's single write lock, polling every 50 µs to 1 ms while another writer holds it.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, while a transition
    holds the lock for about a tenth of a millisecond: with several processes writing
    (web workers, the scheduler) most of the waiting would be oversleeping.
    """
    raw.execute("PRAGMA busy_timeout=0")
    try:
        delay, deadline = 0.00005, time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        synchronous = os.environ.get("TRAMITA_SQLITE_SYNCHRONOUS", "FULL").upper()
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"TRAMITA_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {synchronous!r}")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            immediate = connection.get_execution_options().get("tramita_write", False)
            # Straight to the DB-API connection: the same statement without SQLAlchemy's execution
            # context, which costs more than SQLite's own BEGIN on every transaction.
            statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
            raw = connection.connection.driver_connection
            try:
                if immediate:
                    _begin_immediate(raw)
                else:
                    raw.execute(statement)
            except sqlite3.Error as exc:  # raised as exec_driver_sql would (e.g. "database is locked")
                raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
