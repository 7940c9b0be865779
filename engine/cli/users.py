"""``tramita users``: add, list, disable, enable, password, token, groups, email."""

from __future__ import annotations

from engine.services import ROLES, SYSTEM, Tramita


def add_commands(sub: "object") -> None:
    import argparse

    u = sub.add_parser("users", help="manage users: add, list, disable, enable, password, token, "
                                                          "groups, email")  # type: ignore[attr-defined]
    usub = u.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="create a user (the password is read from --password, "
                                    "$TRAMITA_NEW_PASSWORD or asked for)")
    a.add_argument("username")
    a.add_argument("--name", default="")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--institution", required=True)
    a.add_argument("--group", action="append", default=[], help="user group (repeatable); lanes map to groups")
    a.add_argument("--password")
    a.set_defaults(func=_cmd_add)
    ls = usub.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_list)
    for name, active in (("disable", False), ("enable", True)):
        d = usub.add_parser(name, help=f"{name} a user")
        d.add_argument("username")
        d.set_defaults(func=_cmd_active, active=active)
    p = usub.add_parser("password", help="set a user's password (and unlock the account)")
    p.add_argument("username")
    p.add_argument("--password")
    p.set_defaults(func=_cmd_password)
    t = usub.add_parser("token", help="create an API token for a user (printed once)")
    t.add_argument("username")
    t.add_argument("--label", default="")
    t.set_defaults(func=_cmd_token)
    g = usub.add_parser("groups", help="set a user's groups (replaces them; none clears them)")
    g.add_argument("username")
    g.add_argument("group", nargs="*")
    g.set_defaults(func=_cmd_groups)
    e = usub.add_parser("email", help="set where a user's deadline e-mails go (empty clears it)")
    e.add_argument("username")
    e.add_argument("address", nargs="?", default="")
    e.set_defaults(func=_cmd_email)
    _ = argparse


def _password(args: "object") -> str:
    import getpass
    import os

    pw = getattr(args, "password", None) or os.environ.get("TRAMITA_NEW_PASSWORD")
    if not pw:
        pw = getpass.getpass("Contraseña: ")
    return pw


def _service():  # type: ignore[no-untyped-def]
    """The people service and the actor: an operator's command acts as sistema."""
    return Tramita().people


def _cmd_add(args) -> None:  # type: ignore[no-untyped-def]
    u = _service().add_user(SYSTEM, args.username, _password(args), name=args.name or args.username, role=args.role,
                            institution=args.institution, groups=args.group)
    print(f"user {u.username} created: {u.role} at {u.institution}; groups: {', '.join(u.groups) or '-'}")


def _cmd_list(args) -> None:  # type: ignore[no-untyped-def]
    import json

    users = _service().users(SYSTEM)
    if args.json:
        print(json.dumps([{"username": u.username, "name": u.name, "role": u.role, "institution": u.institution,
                           "groups": list(u.groups), "active": u.active} for u in users], ensure_ascii=False,
                         indent=2))
        return
    for u in users:
        state = "active" if u.active else "disabled"
        print(f"{u.username:<24} {u.role:<15} {u.institution:<12} {state:<9} {','.join(u.groups)}")
    if not users:
        print("no users")


def _cmd_active(args) -> None:  # type: ignore[no-untyped-def]
    u = _service().set_user_active(SYSTEM, args.username, args.active)
    print(f"user {u.username} {'enabled' if u.active else 'disabled'}")


def _cmd_password(args) -> None:  # type: ignore[no-untyped-def]
    _service().set_password(SYSTEM, args.username, _password(args))
    print(f"password of {args.username} changed")


def _cmd_token(args) -> None:  # type: ignore[no-untyped-def]
    print(_service().create_token(SYSTEM, args.username, args.label))


def _cmd_groups(args) -> None:  # type: ignore[no-untyped-def]
    _service().set_user_groups(SYSTEM, args.username, args.group)
    print(f"groups of {args.username}: {', '.join(sorted(set(args.group))) or '-'}")


def _cmd_email(args) -> None:  # type: ignore[no-untyped-def]
    u = _service().set_email(SYSTEM, args.username, args.address)
    print(f"e-mail of {u.username}: {u.email or '-'}")
