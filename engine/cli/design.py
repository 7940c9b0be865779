"""``tramita lint``, ``tramita diff`` and ``tramita export``: the studio's checks and versions at the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any



def _tramita():  # type: ignore[no-untyped-def]
    from engine.services import Tramita

    return Tramita()


def _actor(t: Any, args: argparse.Namespace) -> Any:
    from engine.cli import _actor as actor

    return actor(t, args)


def cmd_lint(args: argparse.Namespace) -> int:
    """Exit 0 with warnings only, 2 with errors (every finding printed either way)."""
    from engine.services import SYSTEM
    from engine.services.design import lint_paths

    findings = lint_paths(SYSTEM, args.paths)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(f.line())
    errors = sum(f.severity == "error" for f in findings)
    print(f"{errors} error(es), {len(findings) - errors} advertencia(s)", file=sys.stderr)
    return 2 if errors else 0


def cmd_diff(args: argparse.Namespace) -> None:
    t = _tramita()
    d = t.design.diff(_actor(t, args), args.key, args.a, args.b)
    if args.json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2))
        return
    print(f"{args.key}: versión {args.a} → versión {args.b}")
    lines = d.lines()
    for line in lines:
        print(f"- {line}")
    if not lines:
        print("(sin cambios)")


def cmd_export(args: argparse.Namespace) -> None:
    t = _tramita()
    for path in t.design.export(_actor(t, args), args.key, args.version, Path(args.dir)):
        print(f"written {path}")


def add_commands(sub: Any) -> None:
    lt = sub.add_parser("lint", help="check .bpmn/.dmn files: one finding a line; exit 2 when there are errors")
    lt.add_argument("paths", nargs="+")
    lt.add_argument("--json", action="store_true")
    lt.set_defaults(func=cmd_lint)

    df = sub.add_parser("diff", help="what changed between two versions of a procedure, in words")
    df.add_argument("key")
    df.add_argument("a", type=int)
    df.add_argument("b", type=int)
    df.add_argument("--json", action="store_true")
    df.set_defaults(func=cmd_diff)

    ex = sub.add_parser("export", help="write a deployed version back as workflows/ files")
    ex.add_argument("key")
    ex.add_argument("dir")
    ex.add_argument("--version", type=int)
    ex.set_defaults(func=cmd_export)
