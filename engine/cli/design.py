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


def _positive(text: str, what: str, field: str) -> int:
    from engine.errors import InvalidInput

    if not text.strip().isdigit() or int(text) < 1:
        raise InvalidInput(f"{what} must be a positive whole number, not {text!r}", field=field)
    return int(text)


def cmd_move(args: argparse.Namespace) -> int:
    """Move running cases to version --to, each in its own transaction: exit 0 when every case moved,
    3 when some were refused (each refusal printed with its reason), 2 on bad input."""
    from engine.errors import InvalidInput

    to = _positive(args.to, "--to", "to_version") if args.to is not None else None
    if bool(args.case) == bool(args.all):
        raise InvalidInput("name the cases with --case NUM... or move every open case with --all (one of them)",
                           field="instances")
    cases = [_positive(c, "--case", "instances") for c in args.case] if args.case else None
    if not args.reason or not args.reason.strip():
        raise InvalidInput("say why the cases move with --reason TEXT (kept in each case's audit trail)",
                           field="reason")
    t = _tramita()
    results = t.migration.move(_actor(t, args), args.key, to, cases, args.reason)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2, default=list))
    else:
        for r in results:
            name = f"instance {r.instance_id}" + (f" ({r.reference})" if r.reference else "")
            if r.moved:
                print(f"{name}: moved from version {r.from_version} to {r.to_version}")
            else:
                print(f"{name}: refused: {r.reason}")
        if not results:
            print("no open case on another version")
    moved = sum(r.moved for r in results)
    print(f"{moved} moved, {len(results) - moved} refused", file=sys.stderr)
    return 0 if moved == len(results) else 3


def add_commands(sub: Any) -> None:
    mv = sub.add_parser("move", help="move running cases to another version of their procedure (legal designers): "
                                     "exit 0 when all moved, 3 when some were refused")
    mv.add_argument("key")
    mv.add_argument("--to", help="the version to move to (default: the latest)")
    mv.add_argument("--case", nargs="+", metavar="NUM", help="the cases (instance numbers) to move")
    mv.add_argument("--all", action="store_true", help="every open case on another version")
    mv.add_argument("--reason", help="why they move (required; kept in each case's audit trail)")
    mv.add_argument("--json", action="store_true")
    mv.set_defaults(func=cmd_move)

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
