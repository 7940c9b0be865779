"""``tramita directory``: the organisation's directory of groups (list, set, disable, enable).

The directory is data the administrator edits (``PeopleService``), as the page ``/admin/directorio``
does; each change is audited under the acting account (``--user`` or ``$TRAMITA_USER``, else sistema).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    d = sub.add_parser("directory", help="the directory of institutions and groups: list, set, disable, enable")
    dsub = d.add_subparsers(dest="directory_command", required=True)
    ls = dsub.add_parser("list", help="list the groups")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_list)
    s = dsub.add_parser("set", help="add a group or edit its name, institution and notes")
    s.add_argument("code", help="lower-case letters, digits and underscores (e.g. ism_atencion)")
    s.add_argument("--name", required=True)
    s.add_argument("--institution", required=True)
    s.add_argument("--notes", default="")
    s.set_defaults(func=_cmd_set)
    for name, active in (("disable", False), ("enable", True)):
        a = dsub.add_parser(name, help=f"{name} a group")
        a.add_argument("code")
        a.set_defaults(func=_cmd_active, active=active)
    for p in (ls, s, *(dsub.choices[n] for n in ("disable", "enable"))):
        p.add_argument("--user", dest="actor", help="the account that acts (default: $TRAMITA_USER, else sistema)")


def _service_and_actor(args: argparse.Namespace) -> tuple[Any, Any]:
    from engine.cli import _actor, _tramita

    t = _tramita()
    return t.people, _actor(t, args)


def _cmd_list(args: argparse.Namespace) -> None:
    import json

    people, actor = _service_and_actor(args)
    groups = people.directory(actor)
    if args.json:
        print(json.dumps([{"code": g.group, "name": g.name, "institution": g.institution, "notes": g.notes,
                           "active": g.active} for g in groups], ensure_ascii=False, indent=2))
        return
    for g in groups:
        print(f"{g.group:<28} {'active' if g.active else 'disabled':<9} {g.institution:<16} {g.name}")
    if not groups:
        print("no groups")


def _cmd_set(args: argparse.Namespace) -> None:
    people, actor = _service_and_actor(args)
    g = people.save_group(actor, args.code, args.name, args.institution, args.notes)
    print(f"group {g.group} saved: {g.name} ({g.institution})")


def _cmd_active(args: argparse.Namespace) -> None:
    people, actor = _service_and_actor(args)
    g = people.set_group_active(actor, args.code, args.active)
    print(f"group {g.group} {'enabled' if g.active else 'disabled'}")
