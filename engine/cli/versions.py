"""``tramita versions KEY`` and ``tramita show KEY``: what each deployed version of a procedure holds.

``show --part NAME`` prints that part exactly as it was deployed (``parameters`` is the version's
``parameters.toml``), so it can be compared with the files on disk or saved and edited.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.errors import TramitaError


def _service(args: argparse.Namespace) -> tuple[Any, Any]:
    from engine import cli

    t = cli._tramita()
    return t, cli._actor(t, args)


def _version_number(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise TramitaError(f"--version must be a version number (1, 2, ...), not {text!r}", field="version")
    return number


def cmd_versions(args: argparse.Namespace) -> None:
    t, user = _service(args)
    found = t.design.version_list(user, args.key)
    if args.json:
        print(json.dumps([{"version": v.version, "deployed_at": v.deployed_at.isoformat(),
                           "deployed_by": v.deployed_by, "sha256": v.sha256, "parts": list(v.parts)}
                          for v in found], ensure_ascii=False, indent=2))
        return
    name = found[-1].name if found else None
    print(f"{args.key}{f' ({name})' if name and name != args.key else ''}: {len(found)} version{'s' if len(found) != 1 else ''}")
    print(f"{'version':>7}  {'deployed at':<25}  {'by':<16}  sha256")
    for v in found:
        print(f"{v.version:>7}  {v.deployed_at.isoformat(timespec='seconds'):<25}  {v.deployed_by:<16}  {v.sha256}")


def cmd_show(args: argparse.Namespace) -> None:
    number = _version_number(args.version)
    t, user = _service(args)
    found = t.design.version(user, args.key, number, args.part)
    if args.part is not None:
        text = found.texts[args.part]
        print(text, end="" if text.endswith("\n") else "\n")
        return
    info = found.info
    print(f"{info.key} version {info.version}{f' ({info.name})' if info.name and info.name != info.key else ''}")
    print(f"deployed {info.deployed_at.isoformat(timespec='seconds')} by {info.deployed_by}")
    print(f"sha256 {info.sha256}")
    print("parts:")
    for part in sorted(found.texts):
        print(f"  {part:<12} {found.files.get(part) or '-'}")


def add_commands(sub: Any) -> None:
    v = sub.add_parser("versions", help="list the deployed versions of a procedure: number, when, who, sha256")
    v.add_argument("key", help="the process key (or calendario, the legal calendar)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_versions)
    s = sub.add_parser("show", help="what a deployed version holds, or one part of it")
    s.add_argument("key", help="the process key (or calendario, the legal calendar)")
    s.add_argument("--version", help="the version number (default: the newest)")
    s.add_argument("--part", help="bpmn | forms | lanes | messages | parameters | datos | ...: print that part")
    s.set_defaults(func=cmd_show)
