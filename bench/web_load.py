#!/usr/bin/env python
"""Web load: the caseworker's inbox and task pages under 50 signed-in users, on 100,000 cases.

Setup (see ``bench/_data.py`` for how the data is made):

* an embedded SQLite database with 100,000 instances and 1,000,000 task rows: real cases of the
  project's procedures run through the engine API, cloned in bulk with plain SQL (about 12% of
  cases running, their open tasks spread over the lanes' groups, due dates from 15 days overdue to
  30 days ahead, a quarter claimed); 50 caseworkers of four institutions, with their groups;
* gunicorn serving ``web:create_app()`` on 127.0.0.1 (gthread workers) on that database;
* 50 simulated caseworkers, one thread each, signed in through ``/entrar`` (session cookie and
  CSRF token, like a browser), each looping: an inbox page (plain, a later page, "mine", "my
  groups", by procedure, by task, by due range or a case-number search), think, a task page (one
  from that inbox page, or a task they completed earlier), think, and now and then ``/health``.
  Think time is uniform in [0.5, 1.5] x ``--think`` seconds (default 2 s: a page every 2-3 s per
  user, far busier than a person reading case files, about 30 requests/s in all). Only 127.0.0.1
  is contacted, for a bounded time (``--warmup`` + ``--duration``) and at most ``--max-requests``
  requests.

Measured and printed:

* page latency as the client sees it (p50/p95/p99) for the inbox and task pages, and its ratio
  to the p95 of ``/health`` measured at the same time under the same load;
* ``engine.inbox.inbox`` alone (the function the inbox page calls) with the same mix of filters,
  on the same data on SQLite and on a private PostgreSQL (``tests.conftest.PostgresServer``), and
  its ratio to a bare indexed ``SELECT ... LIMIT 50`` on ``tasks`` through the same session path.

Targets: pages p95 <= 150 ms; the inbox query p95 <= 20 ms on both databases.

    .venv/bin/python bench/web_load.py [--instances N] [--tasks N] [--duration S] [--check]
        [--workdir DIR --keep] [--reuse DIR] [--no-postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _data  # noqa: E402

PAGE_P95_MS = 150.0
QUERY_P95_MS = 20.0
HOST = "127.0.0.1"
TASK_LINK = re.compile(r'href="/tareas/([0-9a-f-]{36})"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)  # nearest rank
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- what users ask for ----------------------------------------------------------------------------


@dataclass
class Context:
    """What the filter mix draws from: procedures, task names, case numbers of open cases."""

    processes: list[str]
    task_names: list[str]
    references: list[str]
    history: dict[str, list[str]]  # username -> ids of tasks they completed


def load_context(sqlite_path: Path, usernames: list[str], rng: random.Random) -> Context:
    import sqlite3

    con = sqlite3.connect(sqlite_path)
    processes = [r[0] for r in con.execute("SELECT DISTINCT process_key FROM tasks WHERE state = 'READY'")]
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM tasks WHERE state = 'READY'")]
    refs = [r[0] for r in con.execute("SELECT reference FROM instances WHERE status = 'running' "
                                      "ORDER BY random() LIMIT 500")]
    history = {}
    for u in usernames:
        history[u] = [r[0] for r in con.execute(
            "SELECT id FROM tasks WHERE completed_by = ? ORDER BY random() LIMIT 50", (u,))]
    con.close()
    return Context(processes, names, refs, history)


def inbox_args(rng: random.Random, ctx: Context) -> dict[str, str]:
    """One inbox request as the page's filter form would send it."""
    from engine.time import clock
    from engine.time.hermosillo import HERMOSILLO

    x = rng.random()
    if x < 0.45:
        return {}
    if x < 0.55:
        return {"page": str(rng.randint(2, 4))}
    if x < 0.65:
        return {"vista": "mine"}
    if x < 0.70:
        return {"vista": "group"}
    if x < 0.80:
        return {"procedimiento": rng.choice(ctx.processes)}
    if x < 0.85:
        return {"tarea": rng.choice(ctx.task_names)}
    if x < 0.90:
        today = clock.now().astimezone(HERMOSILLO).date()
        return {"desde": today.isoformat(), "hasta": (today + timedelta(days=7)).isoformat()}
    ref = rng.choice(ctx.references)
    return {"q": ref if rng.random() < 0.5 else ref.rsplit("-", 1)[-1].lower()}


def to_filters(args: dict[str, str]) -> tuple[Any, int]:
    """The same arguments as ``web/inbox`` turns them into ``InboxFilters``."""
    from datetime import date

    from engine.casework.inbox import InboxFilters

    def day(name: str) -> date | None:
        return date.fromisoformat(args[name]) if args.get(name) else None

    return InboxFilters(scope=args.get("vista") or "all", process_key=args.get("procedimiento") or None,
                        task=args.get("tarea") or None, due_from=day("desde"), due_to=day("hasta"),
                        text=(args.get("q") or "").strip() or None), int(args.get("page", 1))


# --- the inbox query alone ---------------------------------------------------------------------------


@dataclass
class QueryResult:
    backend: str
    inbox_ms: list[float]
    facets_ms: list[float]
    baseline_ms: list[float]
    by_kind: dict[str, list[float]] = field(default_factory=dict)


def _kind(args: dict[str, str]) -> str:
    return next(iter(args), "plain")


def bench_query(url: str, backend: str, usernames: list[str], ctx: Context, iterations: int,
                seed: int = 7) -> QueryResult:
    from sqlalchemy import text

    from engine.casework import inbox
    from engine.casework.people import find_user
    from engine.store.db import Database

    db = Database(url)
    users = [find_user(db, u) for u in usernames]
    groups = sorted({g for u in users for g in u.groups})
    rng = random.Random(seed)
    bare = text("SELECT id, name, due_at FROM tasks WHERE state = 'READY' AND candidate_group = :g "
                "ORDER BY due_at LIMIT 50")
    # Warm up: every user once, every kind of filter a few times.
    for u in users:
        inbox.inbox(db, u)
        inbox.facets(db, u)
    for _ in range(50):
        f, page = to_filters(inbox_args(rng, ctx))
        inbox.inbox(db, rng.choice(users), f, page=page)
    res = QueryResult(backend, [], [], [])
    for i in range(iterations):
        u = users[i % len(users)]
        args = inbox_args(rng, ctx)
        f, page = to_filters(args)
        t0 = time.perf_counter()
        inbox.inbox(db, u, f, page=page)
        ms = (time.perf_counter() - t0) * 1000
        res.inbox_ms.append(ms)
        res.by_kind.setdefault(_kind(args), []).append(ms)
        if i % 4 == 0:
            t0 = time.perf_counter()
            inbox.facets(db, u)
            res.facets_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        with db.read() as s:
            s.execute(bare, {"g": groups[i % len(groups)]}).all()
        res.baseline_ms.append((time.perf_counter() - t0) * 1000)
    db.dispose()
    return res


def explain(url: str, username: str) -> None:
    """The plans of the inbox's statements for one user (printed when a target is missed)."""
    from sqlalchemy import event

    from engine.casework import inbox
    from engine.casework.people import find_user
    from engine.store.db import Database

    db = Database(url)
    user = find_user(db, username)
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    inbox.inbox(db, user)
    inbox.facets(db, user)
    event.remove(db.engine, "before_cursor_execute", capture)
    with db.engine.connect() as c:
        for sql, params in statements:
            if "FROM users" in sql:
                continue
            prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) "
            rows = c.exec_driver_sql(prefix + sql, params).all()
            print("   ", " ".join(sql.split())[:300])
            for r in rows:
                print("       ", r[-1] if db.is_sqlite else r[0])
    db.dispose()


# --- pages under load ----------------------------------------------------------------------------------


class Client:
    """One signed-in browser: the session cookie and a fresh loopback connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, float]:
        headers = {"User-Agent": "tramita-bench", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        ms = (time.perf_counter() - t0) * 1000
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, data.decode("utf-8", "replace"), ms

    def sign_in(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/entrar")
        match = CSRF.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"/entrar answered {status} without a CSRF token")
        status, _, _ = self.request("POST", "/entrar", {"username": username, "password": password,
                                                         "csrf_token": match.group(1)})
        if status != 302:
            raise RuntimeError(f"signing in {username} answered {status}")


@dataclass
class Sample:
    kind: str
    ms: float
    status: int
    at: float


class Load:
    def __init__(self, port: int, users: list[str], ctx: Context, *, think: float, warmup: float,
                 duration: float, max_requests: int) -> None:
        self.port, self.users, self.ctx = port, users, ctx
        self.think, self.warmup, self.duration = think, warmup, duration
        self.max_requests = max_requests
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.sent = 0
        self.t0 = 0.0

    def _take(self) -> bool:
        with self.lock:
            if self.sent >= self.max_requests:
                return False
            self.sent += 1
            return True

    def _record(self, kind: str, status: int, ms: float, path: str) -> None:
        with self.lock:
            self.samples.append(Sample(kind, ms, status, time.perf_counter()))
            if status != 200 and len(self.errors) < 20:
                self.errors.append(f"{status} {path}")

    def _user(self, client: Client, username: str, seed: int) -> None:
        rng = random.Random(seed)
        end = self.t0 + self.warmup + self.duration
        time.sleep(rng.uniform(0, self.think))  # users do not all start at once

        def pause() -> None:
            time.sleep(self.think * rng.uniform(0.5, 1.5))

        while time.perf_counter() < end and self._take():
            args = inbox_args(rng, self.ctx)
            path = "/bandeja" + ("?" + urlencode(args) if args else "")
            status, page, ms = client.request("GET", path)
            self._record("inbox", status, ms, path)
            pause()
            links = TASK_LINK.findall(page)
            history = self.ctx.history.get(username) or []
            if links and (rng.random() < 0.75 or not history):
                task = rng.choice(links)
            elif history:
                task = rng.choice(history)
            else:
                continue
            if time.perf_counter() >= end or not self._take():
                break
            path = f"/tareas/{task}"
            status, _, ms = client.request("GET", path)
            self._record("task", status, ms, path)
            pause()
            if rng.random() < 0.5 and self._take():
                status, _, ms = client.request("GET", "/health")
                self._record("health", status, ms, "/health")

    def run(self, clients: dict[str, Client]) -> None:
        self.t0 = time.perf_counter()
        threads = [threading.Thread(target=self._user, args=(clients[u], u, i), daemon=True)
                   for i, u in enumerate(self.users)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(self.warmup + self.duration + 120)

    def measured(self, kind: str) -> list[Sample]:
        start = self.t0 + self.warmup
        return [s for s in self.samples if s.kind == kind and s.at >= start]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_gunicorn(db_path: Path, workdir: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, TRAMITA_DATABASE_URL=f"sqlite:///{db_path}", TRAMITA_VAR=str(workdir / "var"),
               TRAMITA_ATTACHMENTS=str(workdir / "attachments"), TRAMITA_SECRET_KEY="bench-" + os.urandom(8).hex(),
               TRAMITA_COOKIE_SECURE="0", TRAMITA_WORKFLOWS=str(_data.WORKFLOWS), TRAMITA_SCHEDULER="0")
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
           "--threads", str(threads), "--worker-class", "gthread", "--backlog", "256", "--timeout", "60",
           "--log-level", "warning", "--chdir", str(ROOT), "web:create_app()"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=open(workdir / "gunicorn.log", "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {workdir / 'gunicorn.log'}")
        try:
            status, _, _ = Client(port).request("GET", "/health")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not answer /health within 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the gunicorn master we started, and its workers
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# --- report ---------------------------------------------------------------------------------------------


def row(label: str, values: list[float], base: float, target: float | None) -> dict[str, Any]:
    p95 = pct(values, 0.95)
    ok = None if target is None else p95 <= target
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<22} n={len(values):>6}  p50={pct(values, 0.5):7.2f}  p95={p95:7.2f}  "
          f"p99={pct(values, 0.99):7.2f}  max={max(values) if values else float('nan'):8.2f} ms"
          f"  p95/baseline={p95 / base if base else float('nan'):6.1f}x"
          + (f"  target {target:g} ms{mark}" if target is not None else ""))
    return {"n": len(values), "p50": pct(values, 0.5), "p95": p95, "p99": pct(values, 0.99),
            "ratio": p95 / base if base else None, "ok": ok}


def report_query(res: QueryResult) -> dict[str, Any]:
    base = pct(res.baseline_ms, 0.95)
    print(f"\n== Inbox query alone on {res.backend} (engine.inbox.inbox; baseline: bare indexed SELECT ... "
          f"LIMIT 50 on tasks, p95 {base:.3f} ms) ==")
    out = {"baseline_p95": base, "inbox": row("inbox()", res.inbox_ms, base, QUERY_P95_MS)}
    for kind, values in sorted(res.by_kind.items()):
        row(f"  filter: {kind}", values, base, None)
    out["facets"] = row("facets() (filter menus)", res.facets_ms, base, None)
    return out


# --- main ------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=40, help="real cases per procedure run through the engine")
    ap.add_argument("--duration", type=float, default=60.0, help="measured seconds of load")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--think", type=float, default=2.0, help="mean think time between a user's requests (s)")
    ap.add_argument("--max-requests", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--query-iterations", type=int, default=1000)
    ap.add_argument("--workdir", type=Path, help="where the databases go (default: a fresh temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir (and its data) afterwards")
    ap.add_argument("--reuse", type=Path, help="a workdir kept by --keep: skip building the data")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-web", action="store_true")
    ap.add_argument("--explain", action="store_true", help="print the inbox statements' plans (also printed "
                    "when the query target is missed)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    # A plain kill still stops the private PostgreSQL and gunicorn and removes the data (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    began = time.perf_counter()
    workdir = args.reuse or args.workdir or Path(tempfile.mkdtemp(prefix="tramita-webload-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.reuse is not None
    db_path = workdir / "bench.db"
    results: dict[str, Any] = {}
    try:
        if args.reuse:
            from engine.store.db import Database

            usernames = json.loads((workdir / "users.json").read_text())
            db = Database(f"sqlite:///{db_path}")
            db.upgrade()  # new migrations (indexes) apply to the kept data
            db.dispose()
            log(f"reusing {db_path}")
        else:
            for p in workdir.glob("bench.db*"):
                p.unlink()
            log(f"building {args.instances:,} instances / {args.tasks:,} tasks in {db_path}")
            users, _stats = _data.build(db_path, args.instances, args.tasks, args.seeds)
            usernames = [u.username for u in users]
            (workdir / "users.json").write_text(json.dumps(usernames))
        totals = _data.totals(db_path)
        results["data"] = totals
        log(f"data: {totals['instances']:,} instances, {totals['tasks']:,} tasks ({totals['open_tasks']:,} open), "
            f"{totals['events']:,} events, {totals['mb']:,.0f} MB  [{time.perf_counter() - began:.0f} s]")
        ctx = load_context(db_path, usernames, random.Random(1))

        sqlite_url = f"sqlite:///{db_path}"
        query = {"sqlite": bench_query(sqlite_url, "SQLite", usernames, ctx, args.query_iterations)}
        log(f"SQLite inbox query measured  [{time.perf_counter() - began:.0f} s]")
        if args.explain or pct(query["sqlite"].inbox_ms, 0.95) > QUERY_P95_MS:
            explain(sqlite_url, usernames[0])

        if not args.no_postgres:
            from tests.conftest import PostgresServer, _pg_bin

            bin_dir = _pg_bin()
            if bin_dir is None:
                log("PostgreSQL binaries not found: the PostgreSQL half is skipped")
            else:
                server = PostgresServer(bin_dir)
                server.start()
                try:
                    from engine.store.db import Database

                    pg_url = server.create_database("tramita_bench")
                    db = Database(pg_url)
                    db.upgrade()
                    db.dispose()
                    t0 = time.perf_counter()
                    _data.copy_to_postgres(db_path, pg_url)
                    log(f"PostgreSQL loaded in {time.perf_counter() - t0:.0f} s  [{time.perf_counter() - began:.0f} s]")
                    query["postgresql"] = bench_query(pg_url, "PostgreSQL", usernames, ctx, args.query_iterations)
                    log(f"PostgreSQL inbox query measured  [{time.perf_counter() - began:.0f} s]")
                    if args.explain or pct(query["postgresql"].inbox_ms, 0.95) > QUERY_P95_MS:
                        explain(pg_url, usernames[0])
                finally:
                    server.stop()

        load = None
        if not args.no_web:
            proc, port = start_gunicorn(db_path, workdir, args.workers, args.threads)
            try:
                t0 = time.perf_counter()
                clients = {}
                for u in usernames:
                    c = Client(port)
                    c.sign_in(u, _data.PASSWORD)
                    clients[u] = c
                idle = Client(port)
                idle_health = [idle.request("GET", "/health")[2] for _ in range(220)][20:]
                log(f"gunicorn on {HOST}:{port} ({args.workers} workers x {args.threads} threads); "
                    f"{len(clients)} caseworkers signed in in {time.perf_counter() - t0:.0f} s; "
                    f"load for {args.warmup:g}+{args.duration:g} s")
                load = Load(port, usernames, ctx, think=args.think, warmup=args.warmup, duration=args.duration,
                            max_requests=args.max_requests)
                load.run(clients)
                log(f"load done: {load.sent:,} requests  [{time.perf_counter() - began:.0f} s]")
            finally:
                stop(proc)

        # --- the figures ---
        print(f"\nData: {totals['instances']:,} instances, {totals['tasks']:,} tasks ({totals['open_tasks']:,} "
              f"open), {totals['events']:,} events; SQLite file {totals['mb']:,.0f} MB")
        results["query"] = {k: report_query(v) for k, v in query.items()}
        missed = [f"inbox query on {k}" for k, v in results["query"].items() if not v["inbox"]["ok"]]
        if load is not None:
            health = [s.ms for s in load.measured("health")]
            base = pct(health, 0.95)
            span = args.duration
            n = sum(1 for s in load.samples if s.at >= load.t0 + args.warmup)
            print(f"\n== Pages under load: {len(usernames)} signed-in caseworkers, think {args.think:g} s, "
                  f"{span:g} s measured, {n / span:.1f} requests/s; baseline: /health p95 under the same load "
                  f"{base:.2f} ms (idle {pct(idle_health, 0.95):.2f} ms) ==")
            results["pages"] = {"health_p95": base, "idle_health_p95": pct(idle_health, 0.95),
                                "requests_per_s": n / span}
            for kind, label in (("inbox", "inbox page /bandeja"), ("task", "task page /tareas/<id>")):
                results["pages"][kind] = row(label, [s.ms for s in load.measured(kind)], base, PAGE_P95_MS)
                if not results["pages"][kind]["ok"]:
                    missed.append(label)
            row("/health", health, base, None)
            bad = [s for s in load.samples if s.status != 200]
            if bad:
                print(f"  {len(bad)} requests did not answer 200, e.g. {load.errors[:5]}")
                missed.append("non-200 answers")
        (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
        print("json:", json.dumps({k: results[k] for k in ("query", "pages") if k in results}, default=str))
        print(f"\nTotal time {time.perf_counter() - began:.0f} s." +
              (f" Targets missed: {', '.join(missed)}." if missed else " All targets met."))
        return 1 if (missed and args.check) else 0
    finally:
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
