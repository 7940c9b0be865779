#!/usr/bin/env python
"""Manager console benchmark: overview, stalled list and heatmap at 100,000 cases / 1,000,000 task rows.

The data is the web benchmark's (``bench/_data.py``): real cases of the three procedures run through the
engine, then cloned in bulk with plain SQL (open tasks due from 15 days overdue to 30 days ahead), and
copied into PostgreSQL with ``COPY``. Bulk clones bypass the transitions, so the read model they would
have kept (``step_stats``, the duration histogram) is recounted once from the finished tasks with the
same function migration 0012 uses.

Each figure is measured through the service (``Tramita().oversight``: the page and the API call the same
method), ITER times: the overview, the stalled list's first and last page of 50 as the page shows it,
and the heatmap of the most used version; as an administrator (every institution) and as one institution's manager, and
printed with its p50/p95 and as a ratio to a bare indexed query on the same data (the count of overdue
open tasks on the open-task partial index). Target: p95 <= 200 ms on SQLite and on PostgreSQL.

    .venv/bin/python bench/monitor.py [--instances N] [--tasks N] [--iterations N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _data  # noqa: E402

TARGET_MS = 200.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def timed(fn: Callable[[], Any], iterations: int) -> list[float]:
    fn()  # warm: caches, statement compilation, the spec of the version
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(url: str, backend: str, iterations: int) -> dict[str, Any]:
    from sqlalchemy import text

    from engine.oversight.hooks import rebuild_step_stats
    from engine.services import SYSTEM, Tramita, UserView
    from engine.time import clock

    t = Tramita(url)
    with t.db.engine.begin() as c:
        t0 = time.perf_counter()
        n = rebuild_step_stats(c)
        _data.log(f"{backend}: step_stats recounted ({n} rows) in {time.perf_counter() - t0:.1f} s")
    now = clock.now()
    with t.db.read() as s:
        institution = s.execute(text("SELECT institution FROM instances GROUP BY institution "
                                     "ORDER BY count(*) DESC LIMIT 1")).scalar()
        version = s.execute(text("SELECT d.key, d.version FROM instances i JOIN definitions d ON d.id = "
                                 "i.definition_id GROUP BY d.key, d.version ORDER BY count(*) DESC LIMIT 1")).first()
        rows = t.oversight.stalled_page(SYSTEM, per_page=50)[1]
    admin = UserView(id=-1, username="admin.bench", name="Admin", role="admin", institution="ISM")
    manager = UserView(id=-2, username="coord.bench", name="Coord", role="manager", institution=institution)

    def bare() -> None:
        with t.db.read() as s:
            s.execute(text("SELECT count(*) FROM tasks WHERE state = 'READY' AND due_at < :now"),
                      {"now": now if backend == "PostgreSQL" else now.replace(tzinfo=None)}).scalar()

    base = timed(bare, iterations)
    out: dict[str, Any] = {"bare_p95": pct(base, 0.95), "stalled_rows": rows, "institution": institution,
                           "version": tuple(version)}
    for who, user in (("admin", admin), ("manager", manager)):
        for name, fn in (("overview", lambda u=user: t.oversight.overview(u)),
                         ("stalled", lambda u=user: t.oversight.stalled_page(u, page=1, per_page=50)),
                         ("stalled.last", lambda u=user: t.oversight.stalled_page(
                             u, page=max(1, -(-rows // 50)), per_page=50)),
                         ("heatmap", lambda u=user: t.oversight.heatmap(u, version[0], version[1]))):
            ms = timed(fn, iterations)
            out[f"{who}.{name}"] = (pct(ms, 0.5), pct(ms, 0.95))
    t.db.dispose()
    return out


def report(backend: str, r: dict[str, Any]) -> bool:
    ok = True
    print(f"\n{backend}: {r['stalled_rows']:,} stalled rows; bare indexed query p95 {r['bare_p95']:.2f} ms; "
          f"manager of {r['institution']}; heatmap of {r['version'][0]} v{r['version'][1]}")
    print(f"  {'figure':<18} {'p50 ms':>9} {'p95 ms':>9} {'p95/bare':>9}  target p95 <= {TARGET_MS:.0f} ms")
    for key, value in r.items():
        if "." not in key:
            continue
        p50, p95 = value
        met = p95 <= TARGET_MS
        ok &= met
        print(f"  {key:<18} {p50:>9.1f} {p95:>9.1f} {p95 / r['bare_p95']:>8.0f}x  {'ok' if met else 'MISSED'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--workdir", type=Path, help="keep the data here; reused when it already holds bench.db")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tramita-monitor-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "bench.db"
    ok = True
    try:
        if db_path.exists():
            _data.log(f"reusing {db_path}")
        else:
            _data.log(f"building {args.instances:,} instances / {args.tasks:,} tasks in {db_path}")
            _data.build(db_path, args.instances, args.tasks, args.seeds)
        totals = _data.totals(db_path)
        _data.log(f"data: {totals['instances']:,} instances, {totals['tasks']:,} tasks "
                  f"({totals['open_tasks']:,} open), {totals['mb']:,.0f} MB")
        ok &= report("SQLite", measure(f"sqlite:///{db_path}", "SQLite", args.iterations))
        if not args.no_postgres:
            from tests.conftest import PostgresServer, _pg_bin

            bin_dir = _pg_bin()
            if bin_dir is None:
                _data.log("PostgreSQL binaries not found: the PostgreSQL half is skipped")
            else:
                from engine.store.db import Database

                server = PostgresServer(bin_dir)
                server.start()
                try:
                    pg_url = server.create_database("tramita_monitor")
                    db = Database(pg_url)
                    db.upgrade()
                    db.dispose()
                    _data.copy_to_postgres(db_path, pg_url)
                    ok &= report("PostgreSQL", measure(pg_url, "PostgreSQL", args.iterations))
                finally:
                    server.stop()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
