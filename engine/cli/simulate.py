"""``tramita simulate FILE…``: run legal scenarios and print their timelines; exit 2 if one fails."""

from __future__ import annotations

import argparse
from datetime import timedelta, timezone
from typing import Any

from engine.errors import TramitaError
from engine.services import SYSTEM, Tramita
from engine.services.simulator import folder_files

_HMO = timezone(timedelta(hours=-7))  # Hermosillo: UTC−7 all year


def cmd_simulate(args: argparse.Namespace) -> None:
    t = Tramita()
    files = folder_files(args.files) if args.files else None
    failed = []
    for path in args.scenarios:
        view = t.simulator.run(SYSTEM, path, version=args.version, files=files, draft_id=args.draft)
        print(f"== {view.title} ({view.procedure} {view.version}) — {path}")
        for e in view.timeline:
            print(f"  {e.at.astimezone(_HMO).strftime('%Y-%m-%d %H:%M:%S')}  {e.kind:<12} {e.text}")
        for f in view.failures:
            print(f"  FALLA: {f}")
        print("  resultado: " + ("cumple" if view.passed else f"{len(view.failures)} expectativa(s) no se cumplen"))
        if not view.passed:
            failed.append(f"{path}: {view.failures[0]}")
    if failed:
        raise TramitaError(f"{len(failed)} escenario(s) no se cumplen; el primero: {failed[0]}", field="scenario")


def add_commands(sub: Any) -> None:
    s = sub.add_parser("simulate", help="run legal scenarios on a throwaway engine (exit 2 if one fails)")
    s.add_argument("scenarios", nargs="+", help="scenario files (workflows/scenarios/<procedimiento>/*.toml)")
    how = s.add_mutually_exclusive_group()
    how.add_argument("--version", type=int, help="the deployed version of the procedure (default: the latest)")
    how.add_argument("--draft", type=int, help="a draft of the studio (its diagram, forms, parameters, scenarios)")
    how.add_argument("--files", nargs="+", help="run on these procedure files or folders instead (a draft)")
    s.set_defaults(func=cmd_simulate)

