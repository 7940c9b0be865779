"""The web benchmark's data: real cases run through the engine, then cloned in bulk with plain SQL.

How the data is made (``build``):

1. **Real rows.** A fresh SQLite database is migrated (``Tramita.init_db``), the project's
   procedures (``workflows/``) are deployed, and the benchmark's caseworkers are created through
   ``Tramita.add_user`` (each with all the groups ``workflows/lanes.toml`` gives their institution,
   as ``web.demo`` reads them). Then ``seeds_per_process``
   cases of each procedure are started and walked through ``Tramita.start``/``Tramita.complete``
   with the ``examples`` of each task's own JSON-Schema form (a random valid one per step), some
   to the end, some stopped after a few steps. Every instance, task, event and timer row of these
   cases is exactly what the engine wrote.
2. **Bulk clones.** Each further case copies one of those real cases of the wanted procedure and
   status (running, completed or cancelled): the instance row (its serialized workflow state
   unchanged), its task rows (new UUIDs), its audit events and its timers, inserted with
   ``executemany`` on the DB-API connection while the secondary indexes are dropped (they are
   recreated afterwards from their own ``CREATE INDEX`` text, so the schema is the migrated one).
   What changes per clone: ids, the case number and title, the institution, who started it and
   who completed each task, and the times (spread over the last four years; open tasks get due
   dates from 15 days overdue to 30 days ahead, a quarter of them claimed by someone). A real case
   has fewer user tasks than the 10 per case the target asks for (1,000,000 tasks / 100,000
   cases), so each clone also gets extra completed tasks copied from the completed tasks of its
   procedure, spread over the case's lifetime, until the totals are exact.
3. **PostgreSQL** gets the very same rows: every table is copied from the SQLite file with
   ``COPY ... FROM STDIN`` (secondary indexes dropped meanwhile and foreign-key triggers off, as
   a restore would), then ``VACUUM (ANALYZE)`` (what autovacuum does shortly after a load anyway:
   statistics and the visibility map). SQLite is not analyzed: the application never runs
   ``ANALYZE``, so its plans must be good without statistics.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKFLOWS = ROOT / "workflows"
PASSWORD = "Bench-Carga-2026"

# Share of new cases per procedure, and the institutions that open them.
PROCESS_MIX = {"orden_proteccion": 0.5, "sancion": 0.25, "agravio": 0.25}
INSTITUTIONS = {
    "orden_proteccion": (("FGJE", 0.8), ("DIF", 0.1), ("ISM", 0.1)),
    "sancion": (("AUTORIDAD-SANCIONADORA", 0.85), ("DIF", 0.15)),
    "agravio": (("ISM", 1.0),),
}
PREFIX = {"orden_proteccion": "OP", "sancion": "SAN", "agravio": "AGR"}
CASE_TITLES = {"orden_proteccion": "Orden de protección", "sancion": "Procedimiento sancionador",
               "agravio": "Investigación de agravio"}
# The 50 simulated caseworkers, by institution (codes as web.demo derives them from lanes.toml).
CASEWORKERS = {"FGJE": 16, "ISM": 12, "AUTORIDAD-SANCIONADORA": 10, "POLICIA": 4, "SEGOB": 3, "DIF": 3,
               "RECURRENTE": 2}
HISTORIC_PER_INSTITUTION = 80  # former staff who completed tasks (no account any more)
RUNNING_SHARE = 0.12
CANCELLED_SHARE = 0.03
CLAIMED_SHARE = 0.25

NAMES = ("María", "Ana", "Rosa", "Lucía", "Carmen", "Elena", "Patricia", "Laura", "Sofía", "Guadalupe",
         "Verónica", "Alejandra", "Teresa", "Isabel", "Daniela", "Fernanda", "Claudia", "Martha")
SURNAMES = ("López", "García", "Hernández", "Martínez", "Valenzuela", "Moreno", "Romero", "Félix", "Soto",
            "Ruiz", "Castro", "Acosta", "Ochoa", "Quintero", "Durazo", "Encinas", "Yocupicio", "Bojórquez")

CLONED_TABLES = ("instances", "tasks", "events", "timers")
COPY_ORDER = ("deployments", "deployed_files", "definitions", "users", "api_tokens", "instances", "tasks",
              "events", "incidents", "timers", "attachments", "attachment_contents", "settings")


def log(msg: str) -> None:
    print(f"[data] {msg}", flush=True)


# --- who -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caseworker:
    username: str
    institution: str
    groups: tuple[str, ...]


def institution_groups() -> dict[str, tuple[str, ...]]:
    """Institution code -> its groups, from ``workflows/lanes.toml`` as the demo reads it."""
    from web import demo

    return {i.code: tuple(i.groups) for i in demo.institutions(WORKFLOWS)}


def caseworkers() -> list[Caseworker]:
    groups = institution_groups()
    out = []
    for inst, n in CASEWORKERS.items():
        for k in range(1, n + 1):  # an institution lanes.toml no longer names keeps its users, groupless
            out.append(Caseworker(f"cw.{inst.lower()}.{k:02d}", inst, groups.get(inst, ())))
    return out


# --- step 1: real cases through the engine ---------------------------------------------------------


def _examples(schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [dict(e) for e in (schema or {}).get("examples") or [{}]]


def seed(t: Any, rng: random.Random, per_process: int) -> dict[str, int]:
    """Start and walk real cases of every deployed procedure; returns how many per procedure."""
    from engine.errors import TramitaError

    made: dict[str, int] = {}
    for proc in [p["key"] for p in t.processes()]:
        start_examples = _examples(t.start_form(proc).schema)
        for n in range(per_process):
            result = None
            for data in rng.sample(start_examples, len(start_examples)):
                try:
                    result = t.start(proc, data, "semilla", reference=f"SEM-{PREFIX.get(proc, 'X')}-{n:03d}",
                                     title=f"Caso semilla {n}", institution="ISM")
                    break
                except TramitaError:
                    continue
            if result is None:
                continue
            made[proc] = made.get(proc, 0) + 1
            # Half run as far as user tasks take them, half stop early (open tasks to clone).
            steps = 60 if rng.random() < 0.5 else rng.randint(0, 6)
            for _ in range(steps):
                open_tasks = t.tasks(instance_id=result.instance_id)
                if not open_tasks:
                    break
                task = rng.choice(open_tasks)
                examples = _examples(t.task_form(task.id).schema)
                for data in rng.sample(examples, len(examples)):
                    try:
                        t.complete(task.id, data, "semilla")
                        break
                    except TramitaError:
                        continue
                else:
                    break
    return made


# --- step 2: bulk clones -----------------------------------------------------------------------------


def _p(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _f(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime writes (microseconds always present, naive UTC).
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def _rows(con: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cur = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


@dataclass
class Template:
    instance: dict[str, Any]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    timers: list[dict[str, Any]]
    start: datetime
    end: datetime

    def span(self) -> float:
        return max((self.end - self.start).total_seconds(), 1.0)


@dataclass
class CloneStats:
    instances: int = 0
    tasks: int = 0
    open_tasks: int = 0
    claimed: int = 0
    events: int = 0
    timers: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)


def _weighted(rng: random.Random, pairs: Iterable[tuple[str, float]]) -> str:
    items = list(pairs)
    x = rng.random() * sum(w for _, w in items)
    for value, w in items:
        x -= w
        if x <= 0:
            return value
    return items[-1][0]


def _templates(con: sqlite3.Connection) -> dict[tuple[str, str], list[Template]]:
    instances = _rows(con, "instances")
    by_instance: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for table in ("tasks", "events", "timers"):
        group: dict[int, list[dict[str, Any]]] = {}
        for row in _rows(con, table):
            group.setdefault(row["instance_id"], []).append(row)
        by_instance[table] = group
    out: dict[tuple[str, str], list[Template]] = {}
    for inst in instances:
        tasks = sorted(by_instance["tasks"].get(inst["id"], []), key=lambda r: r["created_at"])
        events = sorted(by_instance["events"].get(inst["id"], []), key=lambda r: r["id"])
        timers = by_instance["timers"].get(inst["id"], [])
        stamps = [_p(inst["started_at"]), _p(inst["updated_at"])] + [_p(inst["ended_at"])] * bool(inst["ended_at"])
        stamps += [_p(e["at"]) for e in events]
        start = _p(inst["started_at"])
        tpl = Template(inst, tasks, events, timers, start, max(s for s in stamps if s is not None))
        if inst["status"] == "completed":
            out.setdefault((inst["process_key"], "completed"), []).append(tpl)
        elif inst["status"] == "running" and any(t["state"] == "READY" for t in tasks):
            out.setdefault((inst["process_key"], "running"), []).append(tpl)
    return out


def _index_sql(con: sqlite3.Connection, tables: Iterable[str]) -> list[tuple[str, str]]:
    marks = ",".join("?" for _ in tables)
    return list(con.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                            f"AND tbl_name IN ({marks})", tuple(tables)))


def clone(path: Path, n_instances: int, n_tasks: int, users: list[Caseworker], rng: random.Random,
          now: datetime) -> CloneStats:
    """Add clones of the real cases until the database holds ``n_instances`` and ``n_tasks``."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    con.execute("PRAGMA foreign_keys=OFF")
    templates = _templates(con)
    have_instances = con.execute("SELECT count(*) FROM instances").fetchone()[0]
    have_tasks = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    want = n_instances - have_instances
    if want <= 0:
        raise SystemExit(f"asked for {n_instances} instances but the real cases alone are {have_instances}")
    procs = [p for p in PROCESS_MIX if (p, "completed") in templates and (p, "running") in templates]
    log(f"  real cases to clone (procedure, status): {({k: len(v) for k, v in sorted(templates.items())})}")
    if not procs:
        raise SystemExit(f"no procedure has both running and completed real cases: {sorted(templates)}")
    now_naive = now.astimezone(timezone.utc).replace(tzinfo=None)

    # Who: bench caseworkers (who sign in) and former staff, per institution; claimants per group. A
    # task is done by someone of the institution its group belongs to (the police, the appellant's
    # office...), else of the case's institution.
    actors: dict[str, list[str]] = {}
    bench_by_inst: dict[str, list[str]] = {}
    by_group: dict[str, list[str]] = {}
    for u in users:
        bench_by_inst.setdefault(u.institution, []).append(u.username)
        for g in u.groups:
            by_group.setdefault(g, []).append(u.username)
    group_inst = {g: code for code, groups in institution_groups().items() for g in groups}

    def actor(inst: str, group: str | None = None) -> str:
        inst = group_inst.get(group or "", inst)
        bench = bench_by_inst.get(inst)
        if bench and rng.random() < 0.3:
            return rng.choice(bench)
        pool = actors.get(inst)
        if pool is None:
            pool = actors[inst] = [f"ant.{inst.lower()}.{k:03d}" for k in range(HISTORIC_PER_INSTITUTION)]
        return rng.choice(pool)

    # Plan every clone first, so the extra completed tasks can make the total exact.
    plan: list[tuple[str, str, Template]] = []
    natural = 0
    for _ in range(want):
        proc = _weighted(rng, ((p, PROCESS_MIX[p]) for p in procs))
        x = rng.random()
        status = "running" if x < RUNNING_SHARE else "cancelled" if x < RUNNING_SHARE + CANCELLED_SHARE \
            else "completed"
        tpl = rng.choice(templates[(proc, "running" if status != "completed" else "completed")])
        plan.append((proc, status, tpl))
        natural += len(tpl.tasks)
    extra_total = n_tasks - have_tasks - natural
    if extra_total < 0:
        raise SystemExit(f"the cloned cases alone make {have_tasks + natural} tasks, more than {n_tasks}")
    extras = [0] * want
    for _ in range(extra_total):
        extras[rng.randrange(want)] += 1
    completed_pool = {p: [t for tpl in templates[(p, "completed")] for t in tpl.tasks if t["state"] == "COMPLETED"]
                      for p in procs}

    cols = {t: _columns(con, t) for t in CLONED_TABLES}
    inserts = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' for _ in c)})" for t, c in cols.items()}
    indexes = _index_sql(con, CLONED_TABLES)
    for name, _sql in indexes:
        con.execute(f"DROP INDEX {name}")
    next_id = {t: (con.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] + 1)
               for t in ("instances", "events", "timers")}
    stats = CloneStats()
    buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in CLONED_TABLES}
    randbits = rng.getrandbits

    def flush() -> None:
        con.execute("BEGIN")
        for table, rows in buffers.items():
            if rows:
                con.executemany(inserts[table], rows)
                rows.clear()
        con.execute("COMMIT")

    started = time.perf_counter()
    for i, (proc, status, tpl) in enumerate(plan):
        iid = next_id["instances"]
        next_id["instances"] += 1
        inst_name = _weighted(rng, INSTITUTIONS[proc])
        if status == "completed":
            start = now_naive - timedelta(days=rng.uniform(20, 4 * 365))
            end = start + timedelta(days=rng.uniform(3, 180))
            if end > now_naive:
                end = now_naive - timedelta(hours=rng.uniform(1, 48))
        else:
            start = now_naive - timedelta(days=rng.uniform(0.2, 150))
            end = now_naive - timedelta(minutes=rng.uniform(1, 600))
            if end < start:
                end = start + (now_naive - start) / 2
        span = (end - start).total_seconds()
        scale = span / tpl.span()

        def when(value: str | None) -> datetime | None:
            v = _p(value)
            return None if v is None else start + timedelta(seconds=(v - tpl.start).total_seconds() * scale)

        started_by = actor(inst_name)
        row = dict(tpl.instance)
        row.update(id=iid, reference=f"{PREFIX[proc]}-{start:%Y%m%d}-{iid:06X}",
                   title=f"{CASE_TITLES[proc]}: {rng.choice(NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}",
                   institution=inst_name, started_at=_f(start), updated_at=_f(end), started_by=started_by,
                   status=status, ended_at=_f(end) if status != "running" else None)
        buffers["instances"].append(tuple(row[c] for c in cols["instances"]))
        stats.instances += 1
        stats.by_status[status] = stats.by_status.get(status, 0) + 1

        task_ids: dict[str, str] = {}
        completed_by: dict[str, str] = {}
        for t in tpl.tasks:
            new = dict(t)
            new_id = str(uuid.UUID(int=randbits(128), version=4))
            task_ids[t["id"]] = new_id
            created = when(t["created_at"])
            new.update(id=new_id, instance_id=iid, created_at=_f(created))
            if t["state"] == "READY" and status == "running":
                due = None
                if t["due_at"] is not None:
                    due = now_naive + timedelta(days=rng.uniform(-15, 30))
                    created = min(max(due - timedelta(days=rng.uniform(1, 10)), start), now_naive)
                    new["created_at"] = _f(created)
                new.update(due_at=_f(due), overdue=int(due is not None and due < now_naive and rng.random() < 0.5))
                if rng.random() < CLAIMED_SHARE:
                    group = t["candidate_group"]
                    pool = by_group.get(group) if group else None
                    new["assignee"] = rng.choice(pool) if pool and rng.random() < 0.6 else actor(inst_name, group)
                    stats.claimed += 1
                stats.open_tasks += 1
                stats.by_group[t["candidate_group"] or "-"] = stats.by_group.get(t["candidate_group"] or "-", 0) + 1
            else:
                if t["due_at"] is not None:
                    offset = _p(t["due_at"]) - _p(t["created_at"])
                    new["due_at"] = _f(created + offset)
                if t["state"] == "READY":  # a cancelled case's open task
                    new.update(state="CANCELLED", completed_at=_f(end))
                else:
                    new["completed_at"] = _f(when(t["completed_at"]))
                    if t["state"] == "COMPLETED":
                        new["completed_by"] = completed_by[t["id"]] = actor(inst_name, t["candidate_group"])
            buffers["tasks"].append(tuple(new[c] for c in cols["tasks"]))
        pool = completed_pool[proc]
        for _ in range(extras[i]):
            t = rng.choice(pool)
            new = dict(t)
            created = start + timedelta(seconds=rng.uniform(0, span))
            done = min(created + timedelta(hours=rng.uniform(1, 240)), end)
            due = None
            if t["due_at"] is not None:
                due = created + (_p(t["due_at"]) - _p(t["created_at"]))
            new.update(id=str(uuid.UUID(int=randbits(128), version=4)), instance_id=iid, created_at=_f(created),
                       due_at=_f(due), completed_at=_f(done), completed_by=actor(inst_name, t["candidate_group"]),
                       assignee=None)
            buffers["tasks"].append(tuple(new[c] for c in cols["tasks"]))
        stats.tasks += len(tpl.tasks) + extras[i]

        for e in tpl.events:
            new = dict(e)
            who = completed_by.get(e["task_id"] or "", started_by) if e["actor"] == "semilla" else e["actor"]
            new.update(id=next_id["events"], instance_id=iid, at=_f(when(e["at"])), actor=who,
                       task_id=task_ids.get(e["task_id"], e["task_id"]))
            next_id["events"] += 1
            buffers["events"].append(tuple(new[c] for c in cols["events"]))
            stats.events += 1
        for tm in tpl.timers:
            new = dict(tm)
            due = start + (_p(tm["due_at"]) - tpl.start)
            state = tm["status"]
            if state == "pending" and status != "running":
                state = "cancelled"
            new.update(id=next_id["timers"], instance_id=iid, task_id=task_ids.get(tm["task_id"], tm["task_id"]),
                       due_at=_f(due), status=state, fired_at=_f(when(tm["fired_at"])) if tm["fired_at"] else None,
                       claimed_by=None, claimed_until=None)
            next_id["timers"] += 1
            buffers["timers"].append(tuple(new[c] for c in cols["timers"]))
            stats.timers += 1
        if len(buffers["tasks"]) >= 50_000:
            flush()
        if (i + 1) % 20_000 == 0:
            log(f"  {i + 1:,} cases cloned ({time.perf_counter() - started:.0f} s)")
    flush()
    log(f"  rows written in {time.perf_counter() - started:.0f} s; recreating {len(indexes)} indexes")
    t0 = time.perf_counter()
    for _name, sql in indexes:
        con.execute(sql)
    log(f"  indexes built in {time.perf_counter() - t0:.0f} s")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return stats


# --- step 3: the same rows in PostgreSQL -------------------------------------------------------------


def copy_to_postgres(sqlite_path: Path, pg_url: str) -> None:
    """Copy every table of the SQLite benchmark database into a migrated, empty PostgreSQL database."""
    import psycopg

    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    src = sqlite3.connect(sqlite_path)
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC text
        pg.execute("SET session_replication_role = replica")  # no FK triggers during the load
        pg.execute("SET maintenance_work_mem = '512MB'")
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
        for name, _ in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        for table in COPY_ORDER:
            cols = _columns(src, table)
            t0 = time.perf_counter()
            n = 0
            with pg.cursor() as cur:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                    for row in src.execute(f"SELECT {', '.join(cols)} FROM {table}"):
                        cp.write_row(row)
                        n += 1
            if n > 10_000:
                log(f"  {table}: {n:,} rows in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        for _name, sql in indexes:
            pg.execute(sql)
        log(f"  {len(indexes)} indexes built in {time.perf_counter() - t0:.0f} s")
        for table in COPY_ORDER:
            if "id" in _columns(src, table) and table != "tasks":
                pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        pg.execute("SET session_replication_role = DEFAULT")
        t0 = time.perf_counter()
        pg.execute("VACUUM (ANALYZE)")  # what autovacuum does after a bulk insert (statistics, visibility map)
        log(f"  VACUUM (ANALYZE) in {time.perf_counter() - t0:.0f} s")
    src.close()


# --- all of it -------------------------------------------------------------------------------------------


def build(sqlite_path: Path, n_instances: int, n_tasks: int, seeds_per_process: int, rng_seed: int = 2026,
          ) -> tuple[list[Caseworker], CloneStats]:
    from argon2 import PasswordHasher

    from engine.casework import people as accounts
    from engine.time import clock
    from tests.driver import Driver as Tramita  # the run layer with bare actor names

    rng = random.Random(rng_seed)
    t0 = time.perf_counter()
    # Sign-in is not what is measured: hash the benchmark users' passwords at the lowest cost.
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    t = Tramita(f"sqlite:///{sqlite_path}")
    t.init_db()
    t.deploy_paths([WORKFLOWS], "instalacion")
    users = caseworkers()
    for u in users:
        t.add_user(u.username, PASSWORD, name=u.username, role="caseworker", institution=u.institution,
                   groups=u.groups)
    made = seed(t, rng, seeds_per_process)
    t.db.dispose()
    log(f"real cases through the engine: {made} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    stats = clone(sqlite_path, n_instances, n_tasks, users, rng, clock.now())
    log(f"cloned {stats.instances:,} cases, {stats.tasks:,} tasks ({stats.open_tasks:,} open, {stats.claimed:,} "
        f"claimed), {stats.events:,} events, {stats.timers:,} timers in {time.perf_counter() - t0:.0f} s")
    log(f"  cases by status {stats.by_status}; open tasks by group {stats.by_group}")
    return users, stats


def totals(sqlite_path: Path) -> dict[str, Any]:
    con = sqlite3.connect(sqlite_path)
    out = {"instances": con.execute("SELECT count(*) FROM instances").fetchone()[0],
           "tasks": con.execute("SELECT count(*) FROM tasks").fetchone()[0],
           "open_tasks": con.execute("SELECT count(*) FROM tasks WHERE state = 'READY'").fetchone()[0],
           "events": con.execute("SELECT count(*) FROM events").fetchone()[0],
           "mb": sqlite_path.stat().st_size / 1e6}
    con.close()
    return out
