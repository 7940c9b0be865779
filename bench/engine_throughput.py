#!/usr/bin/env python
"""Engine throughput: how many reference cases per second Tramita runs to completion on SQLite.

Workload: a reference process (start -> 5 user tasks that each set two fields ->
exclusive gateway -> end), written inline below and deployed through the engine.
Each instance is started and its five tasks completed through the public API
(``engine.services.Tramita``): six transitions, each one database transaction that
writes the workflow state, the task rows, the timer rows and an audit event.

Output: instances per second, the p50 and p95 of one task completion, and the
ratio to a raw-SQLite ceiling measured in the same run: the same number of
transactions, writing rows of the same sizes as the engine wrote (measured from
its database), with the same PRAGMAs as ``engine/store/db.py`` and no engine at all.
Engine and ceiling run in alternating chunks, so a busy disk or neighbour slows both
alike and the ratio stays meaningful. The measurement runs with one engine process and
with one per core at once on the same database (``--workers``), and is repeated with
``TRAMITA_SQLITE_SYNCHRONOUS=NORMAL`` to show what the default ``FULL`` durability costs.
A last line measures SpiffWorkflow alone, in memory: the bound any engine built on it has.

    .venv/bin/python bench/engine_throughput.py [--instances N] [--workers W] [--chunks K] [--check] [--profile FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATE = 1000.0  # instances per second
TARGET_RATIO = 0.25  # of the raw-SQLite ceiling
TARGET_P95_MS = 5.0  # one task completion
TASKS = 5

REFERENCE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs_bench" targetNamespace="http://tramita.bench">
  <bpmn:process id="bench_reference" name="Bench reference" isExecutable="true">
    <bpmn:startEvent id="inicio"/>
    <bpmn:userTask id="paso1" name="Paso 1"/>
    <bpmn:userTask id="paso2" name="Paso 2"/>
    <bpmn:userTask id="paso3" name="Paso 3"/>
    <bpmn:userTask id="paso4" name="Paso 4"/>
    <bpmn:userTask id="paso5" name="Paso 5"/>
    <bpmn:exclusiveGateway id="decision" default="f_otro"/>
    <bpmn:endEvent id="fin_procedente"/>
    <bpmn:endEvent id="fin_otro"/>
    <bpmn:sequenceFlow id="f0" sourceRef="inicio" targetRef="paso1"/>
    <bpmn:sequenceFlow id="f1" sourceRef="paso1" targetRef="paso2"/>
    <bpmn:sequenceFlow id="f2" sourceRef="paso2" targetRef="paso3"/>
    <bpmn:sequenceFlow id="f3" sourceRef="paso3" targetRef="paso4"/>
    <bpmn:sequenceFlow id="f4" sourceRef="paso4" targetRef="paso5"/>
    <bpmn:sequenceFlow id="f5" sourceRef="paso5" targetRef="decision"/>
    <bpmn:sequenceFlow id="f_procedente" sourceRef="decision" targetRef="fin_procedente">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">monto_5 &gt; 100 and folio_1 != ""</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_otro" sourceRef="decision" targetRef="fin_otro"/>
  </bpmn:process>
</bpmn:definitions>
"""


def task_data(instance: int, step: int) -> dict[str, Any]:
    """Two fields per task, as a form would send them."""
    return {f"folio_{step}": f"ISM-{instance:06d}-{step}", f"monto_{step}": 50 * step + instance % 7}


# --- the engine run ------------------------------------------------------------------------------


@dataclass
class EngineRun:
    synchronous: str
    workers: int = 1
    instances: int = 0
    seconds: float = 0.0
    raw_instances: int = 0
    raw_seconds: float = 0.0
    completions_ms: list[float] = field(default_factory=list)
    # Sizes of what one instance wrote, per transaction (start, then each completion).
    payload: list[dict[str, int]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.synchronous} x{self.workers}" + (" (default)" if self.synchronous == "FULL" and self.workers == 1 else "")

    @property
    def rate(self) -> float:
        return self.instances / self.seconds

    @property
    def raw_rate(self) -> float:
        return self.raw_instances / self.raw_seconds

    @property
    def transactions(self) -> int:
        return self.instances * (TASKS + 1)

    def pct(self, q: float) -> float:
        ordered = sorted(self.completions_ms)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class EngineBench:
    """The reference process through ``engine.services.Tramita`` on its own SQLite file."""

    def __init__(self, tmp: Path, synchronous: str, warmup: int) -> None:
        os.environ["TRAMITA_SQLITE_SYNCHRONOUS"] = synchronous  # read when the engine is created
        from engine.deploy.versions import BundleFile
        from tests.driver import Driver as Tramita  # the run layer with bare actor names

        self.t = Tramita(f"sqlite:///{tmp / f'engine-{synchronous.lower()}-{uuid.uuid4().hex[:6]}.db'}")
        self.t.init_db()
        self.t.deploy([BundleFile("bench_reference.bpmn", REFERENCE.encode())], "bench")
        self.done = 0
        self.payload = _measure_payload(self.t, self.one)
        self.done += 1
        for i in range(warmup):
            self.one(10**6 + i, None)
        self.done += warmup

    @classmethod
    def attach(cls, url: str) -> "EngineBench":
        """Another process's view of an engine database already set up by ``__init__``."""
        from tests.driver import Driver as Tramita  # the run layer with bare actor names

        bench = cls.__new__(cls)
        bench.t, bench.done, bench.payload = Tramita(url), 0, []
        return bench

    def one(self, i: int, latencies: list[float] | None) -> None:
        t = self.t
        r = t.start("bench_reference", {"expediente": f"ISM-{i:06d}"}, "bench", reference=f"ISM-{i:06d}")
        for step in range(1, TASKS + 1):
            started = time.perf_counter()
            r = t.complete(r.open_tasks[0], task_data(i, step), "bench")
            if latencies is not None:
                latencies.append((time.perf_counter() - started) * 1000)
        assert r.status == "completed", r

    def run(self, first: int, count: int, latencies: list[float]) -> float:
        started = time.perf_counter()
        for i in range(first, first + count):
            self.one(i, latencies)
        seconds = time.perf_counter() - started
        self.done += count
        return seconds

    def finish(self) -> None:
        _verify(self.t, self.done)
        self.t.db.dispose()


def _measure_payload(t: Any, one: Any) -> list[dict[str, int]]:
    """Run one instance, reading back after each transaction the sizes of what it wrote."""
    from sqlalchemy import select

    from engine.store.models import Event, Instance

    sizes: list[dict[str, int]] = []
    original_start, original_complete = t.start, t.complete

    def record(result: Any) -> Any:
        with t.db.read() as s:
            inst = s.get(Instance, result.instance_id)
            event = s.execute(select(Event).where(Event.instance_id == inst.id).order_by(Event.id.desc())
                              .limit(1)).scalar_one()
            sizes.append({"state": len(inst.state.encode()),
                          "event": len(json.dumps(event.detail, separators=(",", ":")).encode())})
        return result

    t.start = lambda *a, **k: record(original_start(*a, **k))  # type: ignore[method-assign]
    t.complete = lambda *a, **k: record(original_complete(*a, **k))  # type: ignore[method-assign]
    try:
        one(10**7, None)
    finally:
        del t.start, t.complete
    return sizes


def _verify(t: Any, expected: int) -> None:
    """Full bookkeeping happened: every case completed, every task row closed, every event written."""
    from sqlalchemy import func, select

    from engine.store.models import Event, Task

    assert t.count_instances("completed") == expected, "not every instance completed"
    with t.db.read() as s:
        events = s.execute(select(func.count()).select_from(Event)).scalar_one()
        done = s.execute(select(func.count()).select_from(Task).where(Task.state == "COMPLETED")).scalar_one()
        open_ = s.execute(select(func.count()).select_from(Task).where(Task.state == "READY")).scalar_one()
    assert events == expected * (TASKS + 1), f"{events} events for {expected} instances"
    assert done == expected * TASKS and open_ == 0, (done, open_)


# --- the raw-SQLite ceiling ----------------------------------------------------------------------


class RawBench:
    """The same transactions and row sizes written with sqlite3 alone, no engine.

    The schema (tables and indexes) is the engine's own, created by its migrations beforehand, so the
    ceiling pays for the same index maintenance, and the connection gets the PRAGMAs of
    ``engine/store/db.py``. Per instance: a start transaction (insert the instance with its state, insert
    the first task, insert the event) and five completions (update the state under the revision check,
    close the task, open the next, insert the event), each ``BEGIN IMMEDIATE`` ... ``COMMIT``.
    """

    def __init__(self, tmp: Path, synchronous: str, payload: list[dict[str, int]]) -> None:
        from engine.store.db import Database

        path = tmp / f"raw-{synchronous.lower()}-{uuid.uuid4().hex[:6]}.db"
        schema = Database(f"sqlite:///{path}")
        schema.upgrade()
        schema.dispose()
        con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON", "busy_timeout=30000"):
            con.execute(f"PRAGMA {pragma}")
        self.now = now = "2026-12-01 16:00:00.000000"
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO deployments (id, deployed_at, deployed_by, sha256) VALUES (1, ?, 'bench', ?)",
                    (now, "0" * 64))
        con.execute("INSERT INTO deployed_files (id, deployment_id, name, kind, sha256, content) "
                    "VALUES (1, 1, 'b.bpmn', 'bpmn', ?, ?)", ("0" * 64, REFERENCE))
        con.execute("INSERT INTO definitions (id, kind, key, version, name, sha256, executable, deployment_id, "
                    "file_id, deployed_at, deployed_by, spec, task_info) VALUES (1, 'process', 'bench_reference', "
                    "1, 'B', ?, 1, 1, 1, ?, 'bench', '{}', '{}')", ("0" * 64, now))
        con.execute("COMMIT")
        self.con = con
        self.states = ["x" * p["state"] for p in payload]
        self.events = ['{"d":"' + "y" * max(0, p["event"] - 8) + '"}' for p in payload]

    def run(self, first: int, count: int) -> float:
        con, now, states, events = self.con, self.now, self.states, self.events
        started = time.perf_counter()
        for i in range(first, first + count):
            task_ids = [str(uuid.uuid4()) for _ in range(TASKS)]
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(
                "INSERT INTO instances (definition_id, process_key, reference, status, state, revision, "
                "started_at, started_by, updated_at) VALUES (1, 'bench_reference', ?, 'running', ?, 1, ?, 'bench', ?)",
                (f"ISM-{i:06d}", states[0], now, now))
            instance_id = cur.lastrowid
            con.execute("INSERT INTO tasks (id, instance_id, process_key, name, title, state, created_at, overdue) "
                        "VALUES (?, ?, 'bench_reference', 'paso1', 'Paso 1', 'READY', ?, 0)",
                        (task_ids[0], instance_id, now))
            con.execute("INSERT INTO events (instance_id, at, actor, kind, detail) VALUES (?, ?, 'bench', "
                        "'instance_started', ?)", (instance_id, now, events[0]))
            con.execute("COMMIT")
            for step in range(1, TASKS + 1):
                con.execute("BEGIN IMMEDIATE")
                cur = con.execute("UPDATE instances SET state = ?, revision = ?, status = ?, updated_at = ? "
                                  "WHERE id = ? AND revision = ?",
                                  (states[step], step + 1, "completed" if step == TASKS else "running", now,
                                   instance_id, step))
                assert cur.rowcount == 1
                con.execute("UPDATE tasks SET state = 'COMPLETED', completed_at = ?, completed_by = 'bench' "
                            "WHERE id = ?", (now, task_ids[step - 1]))
                if step < TASKS:
                    con.execute("INSERT INTO tasks (id, instance_id, process_key, name, title, state, created_at, "
                                "overdue) VALUES (?, ?, 'bench_reference', ?, ?, 'READY', ?, 0)",
                                (task_ids[step], instance_id, f"paso{step + 1}", f"Paso {step + 1}", now))
                con.execute("INSERT INTO events (instance_id, task_id, at, actor, kind, detail) VALUES (?, ?, ?, "
                            "'bench', 'task_completed', ?)", (instance_id, task_ids[step - 1], now, events[step]))
                con.execute("COMMIT")
        return time.perf_counter() - started

    def close(self) -> None:
        self.con.close()


def measure(tmp: Path, n: int, synchronous: str, warmup: int, chunks: int, budget: float, workers: int = 1,
            profile: str | None = None) -> EngineRun:
    """Engine and raw ceiling in alternating chunks, so both see the same disk and the same neighbours.

    With ``workers`` > 1 the engine's chunks run in that many processes at once on the one
    database (as web workers and the scheduler do), each on its own instances; the raw ceiling
    stays one connection. Stops early (with fewer instances, reported) once ``budget`` seconds
    are spent, so a slow disk cannot make the benchmark overrun its time."""
    engine = EngineBench(tmp, synchronous, warmup)
    raw = RawBench(tmp, synchronous, engine.payload)
    run = EngineRun(synchronous, workers, payload=engine.payload)
    size = -(-n // chunks)
    if workers > 1:
        _measure_parallel(engine, raw, run, n, size, warmup, budget)
        raw.close()
        return run
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    gc.collect()
    began = time.perf_counter()
    for first in range(0, n, size):
        if time.perf_counter() - began > budget:
            break
        count = min(size, n - first)
        if profiler is not None:
            profiler.enable()
        run.seconds += engine.run(first, count, run.completions_ms)
        if profiler is not None:
            profiler.disable()
        run.instances += count
        run.raw_seconds += raw.run(first, count)
        run.raw_instances += count
    if profiler is not None:
        profiler.dump_stats(profile)
    engine.finish()
    raw.close()
    return run


def _measure_parallel(engine: EngineBench, raw: RawBench, run: EngineRun, n: int, size: int, warmup: int,
                      budget: float) -> None:
    """Rounds of: every worker runs ``size / workers`` instances at once (timed from the first start to
    the last end), then the raw ceiling runs as many instances alone."""
    import multiprocessing

    url, workers = engine.t.db.url, run.workers
    engine.t.db.dispose()  # no SQLite connection crosses the fork
    ctx = multiprocessing.get_context("fork")
    barrier, stop, out = ctx.Barrier(workers + 1), ctx.Value("b", 0), ctx.Queue()
    per_worker = max(1, size // workers)
    procs = [ctx.Process(target=_worker, args=(url, k, per_worker, warmup, barrier, stop, out))
             for k in range(workers)]
    for proc in procs:
        proc.start()
    barrier.wait()  # every worker warmed up
    began, first = time.perf_counter(), 0
    while True:
        if run.instances >= n or time.perf_counter() - began > budget:
            stop.value = 1
        barrier.wait()
        if stop.value:
            break
        started = time.perf_counter()
        barrier.wait()
        run.seconds += time.perf_counter() - started
        run.instances += per_worker * workers
        run.raw_seconds += raw.run(first, per_worker * workers)
        run.raw_instances += per_worker * workers
        first += per_worker * workers
    done = 0
    for _ in procs:
        latencies, count = out.get()
        run.completions_ms.extend(latencies)
        done += count
    for proc in procs:
        proc.join()
    engine.t = EngineBench.attach(url).t
    engine.done += done
    engine.finish()


def _worker(url: str, k: int, per_round: int, warmup: int, barrier: Any, stop: Any, out: Any) -> None:
    bench = EngineBench.attach(url)
    base = (k + 1) * 10**7
    for i in range(warmup):
        bench.one(base + 9 * 10**6 + i, None)
    latencies: list[float] = []
    gc.collect()
    barrier.wait()
    first = base
    while True:
        barrier.wait()
        if stop.value:
            break
        bench.run(first, per_round, latencies)
        first += per_round
        barrier.wait()
    out.put((latencies, bench.done + warmup))
    bench.t.db.dispose()


def spiff_alone(n: int) -> tuple[float, float]:
    """Instances/s of the reference process in SpiffWorkflow alone, in memory, with no database:
    stepping only, and stepping plus serializing the state after each step as every transition must."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine.bpmn import safe_xml, serializer
    from engine.script.helpers import script_engine

    parser = safe_xml.new_parser()
    parser.add_bpmn_str(REFERENCE.encode(), "bench_reference.bpmn")
    spec, subprocesses = parser.get_spec("bench_reference"), parser.get_subprocess_specs("bench_reference")
    engine = script_engine()

    def one(i: int, dump: bool) -> None:
        wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        wf.task_tree.data.update({"expediente": f"ISM-{i:06d}"})
        wf.refresh_timers()
        wf.do_engine_steps()
        if dump:
            serializer.dump_state(wf)
        for step in range(1, TASKS + 1):
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update(task_data(i, step))
            task.run()
            wf.refresh_timers()
            wf.do_engine_steps()
            if dump:
                serializer.dump_state(wf)
        assert wf.is_completed()

    rates = []
    for dump in (False, True):
        for i in range(100):
            one(i, dump)
        started = time.perf_counter()
        for i in range(n):
            one(i, dump)
        rates.append(n / (time.perf_counter() - started))
    return rates[0], rates[1]


# --- report --------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=3000, help="instances per measured run (default 3000)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--chunks", type=int, default=20, help="alternate engine and raw runs in this many chunks")
    p.add_argument("--budget", type=float, default=45.0,
                   help="seconds per measured run; on a slow disk fewer instances are measured (default 45)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                   help="also measure this many engine processes at once (default: one per core; 1 skips it)")
    p.add_argument("--check", action="store_true", help="exit 1 if no measured configuration meets every target")
    p.add_argument("--profile", help="write a cProfile of the FULL single-process engine run to this file")
    p.add_argument("--only-full", action="store_true", help="skip the synchronous=NORMAL runs")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="tramita-bench-"))
    runs: list[EngineRun] = []
    try:
        for mode in ["FULL"] if args.only_full else ["FULL", "NORMAL"]:
            for workers in sorted({1, args.workers}):
                runs.append(measure(tmp, args.instances, mode, args.warmup, args.chunks, args.budget, workers,
                                    args.profile if (mode, workers) == ("FULL", 1) else None))
    finally:
        os.environ.pop("TRAMITA_SQLITE_SYNCHRONOUS", None)
        shutil.rmtree(tmp, ignore_errors=True)
    alone, alone_serialized = spiff_alone(max(500, args.instances // 3))

    sizes = runs[0].payload
    print("Tramita engine throughput (SQLite, WAL)")
    print(f"  workload: start -> {TASKS} user tasks (two fields each) -> exclusive gateway -> end; "
          f"one transaction per transition ({TASKS + 1} per instance) writing state, task rows and an event")
    print(f"  payload per instance (bytes): state {min(x['state'] for x in sizes)}..{max(x['state'] for x in sizes)}, "
          f"event {min(x['event'] for x in sizes)}..{max(x['event'] for x in sizes)}")
    print("  xN = N engine processes at once on one database; the raw ceiling is one connection, same run")
    print()
    print(f"  {'synchronous':<20}{'instances':>10}{'inst/s':>9}{'tx/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'raw inst/s':>12}{'of raw':>9}")
    for run in runs:
        print(f"  {run.label:<20}{run.instances:>10}{run.rate:>9.0f}{run.rate * (TASKS + 1):>8.0f}"
              f"{run.pct(0.50):>9.2f}{run.pct(0.95):>9.2f}{run.raw_rate:>12.0f}{run.rate / run.raw_rate:>9.1%}")
    print()
    print(f"  SpiffWorkflow alone, in memory, no database: {alone:.0f} inst/s stepping only; "
          f"{alone_serialized:.0f} inst/s also serializing the state after each step")
    print()

    def verdicts(run: EngineRun) -> list[tuple[str, bool, str]]:
        return [
            (f"instances/s >= {TARGET_RATE:.0f}", run.rate >= TARGET_RATE, f"{run.rate:.0f}"),
            (f"share of raw ceiling >= {TARGET_RATIO:.0%}", run.rate / run.raw_rate >= TARGET_RATIO,
             f"{run.rate / run.raw_rate:.1%}"),
            (f"p95 completion <= {TARGET_P95_MS:.0f} ms", run.pct(0.95) <= TARGET_P95_MS, f"{run.pct(0.95):.2f} ms"),
        ]

    met = False
    for run in runs:
        checks = verdicts(run)
        met = met or all(ok for _, ok, _ in checks)
        print(f"  targets, {run.label}: " + "; ".join(f"{label} {value} {_verdict(ok)}" for label, ok, value in checks))
    best = max(runs, key=lambda r: r.rate)
    if best.rate < TARGET_RATE:
        raw_best = max(r.raw_rate for r in runs)
        floor = 1 / (1 / alone_serialized + 1 / raw_best)
        print(f"  bound: every transition must run SpiffWorkflow, serialize the state and commit it; those alone "
              f"(no bookkeeping at all) give 1/(1/{alone_serialized:.0f} + 1/{raw_best:.0f}) = {floor:.0f} "
              f"instances/s per process, and {best.workers} processes scaled {best.rate / max(r.rate for r in runs if r.synchronous == best.synchronous and r.workers == 1):.2f}x "
              f"here: {TARGET_RATE:.0f}/s is out of reach on this machine")
    summary = {run.label: {"instances_per_s": round(run.rate, 1), "p50_ms": round(run.pct(0.5), 3),
                           "p95_ms": round(run.pct(0.95), 3), "raw_instances_per_s": round(run.raw_rate, 1),
                           "ratio": round(run.rate / run.raw_rate, 4),
                           "mean_ms": round(statistics.fmean(run.completions_ms), 3)} for run in runs}
    summary["spiff_alone"] = {"instances_per_s": round(alone, 1), "serialized_instances_per_s": round(alone_serialized, 1)}
    print("  json: " + json.dumps(summary, separators=(",", ":")))
    if args.check and not met:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
