"""Dry runs and the impact preview of a calendar change, timed (issue 13's benchmark).

1. **A 40-act scenario** (target ≤ 1 s): the sanción of ``workflows/scenarios/sancion/sin_recurso_cobro.toml``
   (8 acts that complete tasks, the art. 54 recurso timer firing on its own) with 32 more acts that let
   time pass, one every ten days, run by ``engine.simulate.runner`` on its throwaway engine. The first run
   deploys the bundle into the simulator's template database (once per process, as the server would);
   the figure is the median of the runs after it. Baseline, same run: the same 8 transitions and the
   timer firing on the engine alone (a copy of the same template database, ``transitions`` and
   ``firing`` called directly, no timeline, no expectations), so the ratio is the simulator's own cost.
2. **The impact preview over 100,000 pending timers** (target ≤ 2 s): ``engine.simulate.impact.impact``
   of a winter vacation (21 December 2026 – 1 January 2027) over the terms ``_impact_data.build`` makes.
   Baseline, same run: the bare indexed query that reads the id and due instant of every pending timer
   due on or after the first changed day (``ix_timers_status_due``), the least any preview must read.
   (Before the preview was set-based it took 13.5 s here: every candidate's explanation decoded in
   Python and every term counted once per case.)

Run: ``python bench/simulate.py [--cases 100000]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tomllib  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench._impact_data import build  # noqa: E402
from engine.deploy.versions import collect_files  # noqa: E402
from engine.run import firing, transitions  # noqa: E402
from engine.run.runtime import Runtime  # noqa: E402
from engine.simulate import runner, scenario  # noqa: E402
from engine.simulate.impact import impact  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import Task, Timer  # noqa: E402
from engine.store.states import TaskState, TimerStatus  # noqa: E402
from engine.time import clock  # noqa: E402
from engine.time.calendar import HERMOSILLO, default_calendar, with_days  # noqa: E402

SCENARIO = ROOT / "workflows" / "scenarios" / "sancion" / "sin_recurso_cobro.toml"
VACATION = {date(2026, 12, 21) + timedelta(days=n): "Vacaciones de invierno (acuerdo hipotético)" for n in range(12)}
TARGET_SCENARIO, TARGET_IMPACT = 1.0, 2.0


def forty_acts() -> scenario.Scenario:
    raw = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    acts = list(raw["actos"])
    first = datetime.fromisoformat(raw["inicio"])
    waits = [{"en": (first + timedelta(days=10 * n, hours=1)).isoformat()} for n in range(1, 33)]
    raw["actos"] = sorted(acts + waits, key=lambda a: a["en"])
    assert len(raw["actos"]) == 40
    return scenario.parse(raw, "bench-40-actos")


def engine_alone(sc: scenario.Scenario, files: list, forms: dict) -> float:
    """The same transitions on the engine alone, on a copy of the simulator's template."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(runner._deployed_template(files), Path(tmp) / "e.db")
        db = Database(f"sqlite:///{Path(tmp) / 'e.db'}")
        frozen = clock.FrozenClock(sc.start_at)
        rt = Runtime(db, clock=frozen)
        began = time.perf_counter()
        with clock.using(frozen):
            iid = transitions.start(rt, sc.procedure, scenario.resolve_data(sc.start_data, forms, "i"), "b").instance_id
            for act in sc.acts:
                frozen.set(act.at)
                firing.fire_due(rt, as_of=act.at, worker="b")
                if act.complete:
                    with db.read() as s:
                        tid = s.execute(select(Task.id).where(Task.instance_id == iid, Task.name == act.complete,
                                                              Task.state == TaskState.READY)).scalar()
                    transitions.complete_task(rt, tid, scenario.resolve_data(act.data, forms, "a"), "b")
        spent = time.perf_counter() - began
        db.dispose()
    return spent


def bench_scenario(runs: int) -> None:
    files = collect_files([ROOT / "workflows"])
    forms = {f.name.removesuffix(".json").removesuffix(".schema"): json.loads(f.content)
             for f in files if f.name.endswith(".json")}
    sc = forty_acts()
    began = time.perf_counter()
    first = runner.run(sc, files)
    cold = time.perf_counter() - began
    assert first.passed, first.failures
    times, bases = [], []
    for _ in range(runs):
        began = time.perf_counter()
        assert runner.run(sc, files).passed
        times.append(time.perf_counter() - began)
        bases.append(engine_alone(sc, files, forms))
    t, b = statistics.median(times), statistics.median(bases)
    print(f"scenario: 40 acts in {t:.3f} s (median of {runs}; first run with the template deploy {cold:.2f} s); "
          f"engine alone {b:.3f} s; ratio {t / b:.2f}x; target <= {TARGET_SCENARIO} s: "
          f"{'ok' if t <= TARGET_SCENARIO else 'MISSED'}")


def bench_impact(cases: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        db = build(Path(tmp) / "impact.db", cases)
        print(f"impact data: {cases} pending timers built in {time.perf_counter() - began:.1f} s")
        new = with_days(default_calendar(), VACATION)
        now = datetime(2026, 12, 1, 9, tzinfo=HERMOSILLO)
        floor = datetime(2026, 12, 21, tzinfo=HERMOSILLO)
        bases, times, found = [], [], []
        for _ in range(3):
            began = time.perf_counter()
            with db.read() as s:
                rows = s.execute(select(Timer.id, Timer.due_at)
                                 .where(Timer.status == TimerStatus.PENDING, Timer.due_at >= floor)).all()
            bases.append(time.perf_counter() - began)
            began = time.perf_counter()
            found = impact(db, new, VACATION, now=now, reasons=VACATION)
            times.append(time.perf_counter() - began)
        with db.read() as s:
            pending = s.execute(select(func.count()).select_from(Timer)).scalar()
        db.dispose()
    t, b = min(times), min(bases)
    print(f"impact: {len(found)} of {pending} pending terms move, answered in {t:.3f} s (best of 3); bare indexed "
          f"query of the {len(rows)} timers due from the first changed day {b:.3f} s; ratio {t / b:.2f}x; "
          f"target <= {TARGET_IMPACT} s: {'ok' if t <= TARGET_IMPACT else 'MISSED'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    bench_scenario(args.runs)
    bench_impact(args.cases)


if __name__ == "__main__":
    main()
