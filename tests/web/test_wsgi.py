"""What ``make run`` serves: gunicorn with two workers on ``web.wsgi:app`` and ``tramita scheduler`` beside it.

The two workers are two processes with a database engine each: a session signed by one is accepted by
the other only because both read the installation's key from the database (no ``TRAMITA_SECRET_KEY``
here), and nothing is written under ``var/``.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port
from tests.web.conftest import PASSWORD, make_tramita

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the process we started and its workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed in this environment")
def test_gunicorn_workers_and_the_scheduler_serve_one_installation(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "tramita.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    make_tramita(url).db.dispose()  # the test procedure and its users
    var = tmp_path / "var"
    var.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAMITA_")}
    env.update(TRAMITA_DATABASE_URL=url, TRAMITA_VAR=str(var), TRAMITA_COOKIE_SECURE="0",
               TRAMITA_ATTACHMENTS=str(var / "attachments"))
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")
    web = subprocess.Popen([str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "web.wsgi:app"],
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    scheduler = subprocess.Popen([sys.executable, "-m", "engine.cli", "scheduler"], cwd=ROOT, env=env,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert web.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    assert r.status == 200 and r.read() == b"{\"status\":\"ok\"}\n"  # up, listing nothing
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer /health within 90 s"
                time.sleep(0.3)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/entrar", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        form = urllib.parse.urlencode({"username": "ana", "password": PASSWORD, "csrf_token": token}).encode()
        assert opener.open(base + "/entrar", form, timeout=10).geturl() == base + "/bandeja"
        # Requests land on either worker; each one accepts the session the other signed.
        for _ in range(12):
            r = opener.open(base + "/bandeja", timeout=10)
            assert r.status == 200 and r.geturl() == base + "/bandeja"
        assert scheduler.poll() is None, "the timer service runs beside the web workers"
        assert list(var.iterdir()) == []
    finally:
        _stop(web)
        _stop(scheduler)
        log.close()
    assert scheduler.returncode == 0, (tmp_path / "serve.log").read_text()
