"""The session secret key is the installation's, not a node's: from ``TRAMITA_SECRET_KEY``, else generated once
into the database by whichever process starts first, and never written to a file under ``var/``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine import config
from engine.errors import InvalidState
from engine.services import Tramita
from engine.store.db import Database
from engine.store.settings import Setting


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key in the environment, and an empty ``var/`` that must stay empty."""
    monkeypatch.delenv("TRAMITA_SECRET_KEY", raising=False)
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setattr(config, "VAR_DIR", var)
    return var


def test_two_processes_on_one_database_share_the_key_it_holds(db_url: str, no_env_key: Path) -> None:
    one, two = Tramita(db_url), Tramita(db_url)  # two engines: as two web nodes would open it
    try:
        key = one.secret_key()
        assert len(key) == 64 and int(key, 16) >= 0
        assert two.secret_key() == key and one.secret_key() == key
        with one.db.read() as s:
            assert [(r.name, r.value) for r in s.query(Setting)] == [("secret_key", key)]
        assert list(no_env_key.iterdir()) == []
    finally:
        one.db.dispose()
        two.db.dispose()


def test_processes_starting_at_once_all_get_the_first_key(db_url: str, no_env_key: Path) -> None:
    """Insert-if-absent, then read: eight starts racing on an empty table end with one key."""
    nodes = [Tramita(db_url) for _ in range(8)]
    barrier, keys = threading.Barrier(len(nodes)), []

    def start(t: Tramita) -> None:
        barrier.wait()
        keys.append(t.secret_key())

    threads = [threading.Thread(target=start, args=(t,)) for t in nodes]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert len(keys) == len(nodes) and len(set(keys)) == 1
        with nodes[0].db.read() as s:
            assert s.query(Setting).count() == 1
    finally:
        for t in nodes:
            t.db.dispose()


def test_the_environment_wins_and_writes_nothing(db_url: str, no_env_key: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAMITA_SECRET_KEY", "  clave-compartida-de-los-nodos  ")
    t = Tramita(db_url)
    try:
        assert t.secret_key() == "clave-compartida-de-los-nodos"
        with t.db.read() as s:
            assert s.query(Setting).count() == 0
    finally:
        t.db.dispose()


def test_a_database_without_schema_says_to_initialise_it(tmp_path: Path, no_env_key: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(InvalidState, match="tramita init-db"):
            Tramita(db).secret_key()
    finally:
        db.dispose()
