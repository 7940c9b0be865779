"""``/metrics``: Prometheus text for an administrator's API token only; and prometheus-client's
multiprocess mode under a real gunicorn with two workers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.time import clock
from tests.web.conftest import REAL_REQUEST, REAL_WORKFLOWS, build_app

HMO = timezone(timedelta(hours=-7))


def test_metrics_need_an_admins_token_and_count_overdue_and_errors(real: Any) -> None:
    real.add_user("raiz", "contrasena-de-prueba", name="Raíz", role="admin", institution="ISM")
    with clock.frozen_at(datetime(2026, 3, 2, 10, 0, tzinfo=HMO)):
        real.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-M-1", institution="FGJE")
    client = build_app(real).test_client()
    assert client.get("/metrics").status_code == 401
    manager = real.create_token("gerente_fgje")
    r = client.get("/metrics", headers={"Authorization": f"Bearer {manager}"})
    assert r.status_code == 403 and r.json["field"] == "Authorization"
    admin = real.create_token("raiz")
    with clock.frozen_at(datetime(2026, 3, 2, 14, 1, tzinfo=HMO)):
        text = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).get_data(as_text=True)
    assert 'tramita_overdue_tasks{procedure="orden_proteccion",step="valorar_riesgo"} 1.0' in text
    assert 'tramita_transitions_total{kind="instance_started"} 1.0' in text
    assert "tramita_timer_lateness_seconds_bucket" in text and "tramita_emails_sent_total 0.0" in text
    assert "María" not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_multiprocess_mode_under_gunicorn_sums_the_workers(tmp_path: Path, sqlite_template: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.skip("gunicorn is missing (the bench extra)")
    from tests.web.conftest import make_tramita

    db = tmp_path / "tramita.db"
    shutil.copy(sqlite_template, db)
    t = make_tramita(f"sqlite:///{db}", REAL_WORKFLOWS, [("raiz", "admin", "ISM", [])])
    token = t.create_token("raiz")
    t.db.dispose()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    port = _free_port()
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, TRAMITA_DATABASE_URL=f"sqlite:///{db}", TRAMITA_VAR=str(tmp_path / "var"),
               TRAMITA_SECRET_KEY="metricas", TRAMITA_COOKIE_SECURE="0", TRAMITA_WORKFLOWS=str(REAL_WORKFLOWS),
               PROMETHEUS_MULTIPROC_DIR=str(multiproc))
    proc = subprocess.Popen([str(gunicorn), "-c", str(root / "web" / "gunicorn_conf.py"), "--bind",
                             f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning", "web:create_app()"],
                            env=env, cwd=root, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if _get(base + "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        for _ in range(20):
            assert _get(base + "/health")[0] == 200
        status, text = _get(base + "/metrics", token)
        assert status == 200
        # At least the 20 answers above plus the first /health, whichever worker answered each.
        [line] = [x for x in text.splitlines() if x.startswith('tramita_http_requests_total{method="GET",status="200"}')]
        assert float(line.rsplit(" ", 1)[1]) >= 21
        assert len(list(multiproc.glob("counter_*.db"))) >= 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
