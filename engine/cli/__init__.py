"""The ``tramita`` command: operators' and legal designers' access to the engine.

Exit status 0 on success and 2 with a one-line reason on bad input, so scripts can
tell a refusal from a crash.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any, Sequence

from engine.cli import alerts, design, directory, simulate, timers, users, versions
from engine.errors import TramitaError
from engine.services import TaskState, TimerStatus


def _json_arg(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TramitaError(f"--{field} is not valid JSON: {exc.msg} at position {exc.pos}", field=field) from None


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)  # type: ignore[arg-type]
    return str(value)


def _print_json(value: Any) -> None:
    print(json.dumps(value, default=_default, ensure_ascii=False, indent=2))


def _tramita():  # type: ignore[no-untyped-def]
    from engine.services import Tramita

    return Tramita()


def _actor(t: Any, args: argparse.Namespace) -> Any:
    """``sistema``, or the named account (``--user`` or ``$TRAMITA_USER``): no action is anonymous."""
    from engine.services import SYSTEM

    name = getattr(args, "actor", None) or os.environ.get("TRAMITA_USER")
    if not name:
        return SYSTEM
    user = t.people.find_user(name)
    if user is None or not user.active:
        raise TramitaError(f"no active account named {name!r}: create it with `tramita users add`, "
                           "or omit --user to act as sistema", field="user")
    return user


def cmd_init_db(args: argparse.Namespace) -> None:
    t = _tramita()
    t.init_db()
    print(f"database ready: {t.db.engine.url.render_as_string(hide_password=True)}")


def cmd_deploy(args: argparse.Namespace) -> None:
    t = _tramita()
    result = t.design.deploy_paths(_actor(t, args), args.paths, note=args.note or "")
    for d in result.definitions:
        state = "deployed" if d.created else "unchanged"
        if d.older_text:
            state = (f"kept: the files hold the text of version {d.older_text}; run `tramita export {d.key} "
                     "workflows` to bring the latest into the repository")
        print(f"{d.kind} {d.key} version {d.version}: {state}")


def cmd_affected(args: argparse.Namespace) -> None:
    t = _tramita()
    latest, cases = t.migration.affected(_actor(t, args), args.key)
    if args.json:
        _print_json({"process": args.key, "latest_version": latest, "cases": cases})
        return
    print(f"{args.key}: newest version {latest}; {len(cases)} running case(s) on earlier versions can still reach "
          "what it removed")
    for c in cases:
        print(f"instance {c.instance_id} ({c.reference or '-'}) {c.status}, version {c.version}: waits at "
              f"{', '.join(c.waiting_at) or '-'}; can still reach {', '.join(c.reachable_removed)}")


def cmd_start(args: argparse.Namespace) -> None:
    data = _json_arg(args.data, "data")
    t = _tramita()
    result = t.cases.start(_actor(t, args), args.key, data, reference=args.reference)
    print(f"instance {result.instance_id} {result.status}; open tasks: {', '.join(result.open_tasks) or 'none'}")


def cmd_tasks(args: argparse.Namespace) -> None:
    groups = [g for g in (args.group or [])]
    t_ = _tramita()
    tasks = t_.monitor.tasks(_actor(t_, args), assignee=args.assignee, groups=groups, instance_id=args.instance)
    if args.json:
        _print_json([asdict(t) for t in tasks])
        return
    for t in tasks:
        due = t.due_at.isoformat() if t.due_at else "-"
        print(f"{t.id}  instance {t.instance_id}  {t.name}  [{t.candidate_group or '-'}]  due {due}  {t.title or ''}")
    if not tasks:
        print("no open tasks")


def cmd_complete(args: argparse.Namespace) -> None:
    data = _json_arg(args.data, "data")
    t = _tramita()
    result = t.cases.complete(_actor(t, args), args.task_id, data)
    print(f"instance {result.instance_id} {result.status}; open tasks: {', '.join(result.open_tasks) or 'none'}")


def cmd_instance(args: argparse.Namespace) -> None:
    t = _tramita()
    detail = t.monitor.instance(_actor(t, args), args.id)
    if args.json:
        _print_json(detail.to_dict())
        return
    i = detail.instance
    print(f"instance {i.id}: {i.process_key} v{i.version}  status {i.status}  started {i.started_at.isoformat()} "
          f"by {i.started_by}")
    print("open tasks:")
    for t in detail.tasks:
        if t.state == TaskState.READY:
            print(f"  {t.id}  {t.name}  [{t.candidate_group or '-'}]  due {t.due_at.isoformat() if t.due_at else '-'}")
    print("pending timers:")
    for tm in detail.timers:
        if tm.status == TimerStatus.PENDING:
            print(f"  {tm.task_name} ({tm.kind}) due {tm.due_at.isoformat()}")
    for inc in detail.incidents:
        if inc.resolved_at is None:
            print(f"incident: {inc.task_name}: {inc.message}")
    print("history:")
    for e in detail.events:
        print(f"  {e.at.isoformat()}  {e.actor}  {e.kind}  {json.dumps(e.detail, ensure_ascii=False, default=str)}")


def cmd_transition(args: argparse.Namespace) -> None:
    t = _tramita()
    if args.command == "retry":
        result = t.monitor.retry(_actor(t, args), args.id, _json_arg(args.data, "data") if args.data else None)
    elif args.command == "resume":
        result = t.monitor.resume(_actor(t, args), args.id)
    else:
        op = {"cancel": t.monitor.cancel, "suspend": t.monitor.suspend}[args.command]
        result = op(_actor(t, args), args.id, args.reason)
    print(f"instance {result.instance_id} {result.status}")


def cmd_message(args: argparse.Namespace) -> None:
    payload = _json_arg(args.data, "data")
    t = _tramita()
    result = t.cases.send_message(_actor(t, args), args.id, args.name, payload)
    print(f"instance {result.instance_id} {result.status}; open tasks: {', '.join(result.open_tasks) or 'none'}")


def cmd_term(args: argparse.Namespace) -> None:
    t = _tramita()
    if args.business_days is not None:
        result = t.monitor.suspend_term(_actor(t, args), args.id, args.timer, args.business_days, args.reason)
    else:
        result = t.monitor.rearm_timer(_actor(t, args), args.id, args.timer, args.due, args.reason)
    timer = next((tm for tm in t.monitor.instance(_actor(t, args), result.instance_id).timers
                  if tm.task_name == args.timer and tm.status == TimerStatus.PENDING), None)
    print(f"instance {result.instance_id}: {args.timer} now due {timer.due_at.isoformat() if timer else '-'}")


def cmd_deadline(args: argparse.Namespace) -> None:
    from engine.services.terms import deadline as compute

    deadline = compute(args.start, args.count, args.unit, calendars=args.calendar or (), citation=args.cite,
                       rule=args.rule)
    if args.json:
        _print_json(deadline.to_dict())
        return
    print(deadline.iso())
    print(deadline.explain())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tramita", description="Tramita: Sonora's legal procedures as BPMN processes")
    p.add_argument("--user", dest="actor", help="the account that acts (default: $TRAMITA_USER, else sistema)")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("init-db", help="create or upgrade the database").set_defaults(func=cmd_init_db)

    d = sub.add_parser("deploy", help="deploy .bpmn/.dmn/.json/.toml files or folders as one bundle")
    d.add_argument("paths", nargs="+")
    d.add_argument("--note", help="the change note of the new versions (the reform and its publication date)")
    d.set_defaults(func=cmd_deploy)

    af = sub.add_parser("affected", help="running cases on earlier versions that can still reach what the newest "
                                         "version removed (to migrate or handle by hand)")
    af.add_argument("key")
    af.add_argument("--json", action="store_true")
    af.set_defaults(func=cmd_affected)
    s = sub.add_parser("start", help="start an instance of a process")
    s.add_argument("key")
    s.add_argument("--data", default="{}")
    s.add_argument("--reference", help="case number")
    s.set_defaults(func=cmd_start)

    t = sub.add_parser("tasks", help="list open tasks")
    t.add_argument("--assignee", help="only tasks held by this user (and, with --group, its groups' unclaimed)")
    t.add_argument("--group", action="append", help="include unclaimed tasks of this group (repeatable)")
    t.add_argument("--instance", type=int)
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_tasks)

    c = sub.add_parser("complete", help="complete a user task")
    c.add_argument("task_id")
    c.add_argument("--data", default="{}")
    c.add_argument("--user", dest="actor", help="the account that completes it")
    c.set_defaults(func=cmd_complete)

    i = sub.add_parser("instance", help="show an instance: status, open tasks, pending timers, history")
    i.add_argument("id", type=int)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_instance)

    r = sub.add_parser("retry", help="re-run an instance in error once its cause is fixed")
    r.add_argument("id", type=int)
    r.add_argument("--data", help="JSON object correcting the case data of the tasks about to run")
    r.set_defaults(func=cmd_transition)
    r = sub.add_parser("resume", help="resume a suspended instance")
    r.add_argument("id", type=int)
    r.set_defaults(func=cmd_transition)
    for name, helptext in [("cancel", "cancel an instance"), ("suspend", "suspend an instance")]:
        r = sub.add_parser(name, help=helptext)
        r.add_argument("id", type=int)
        r.add_argument("--reason", default="")
        r.set_defaults(func=cmd_transition)

    m = sub.add_parser("message", help="deliver a BPMN message to an instance")
    m.add_argument("id", type=int)
    m.add_argument("name")
    m.add_argument("--data", default="{}")
    m.set_defaults(func=cmd_message)

    tm = sub.add_parser("term", help="suspend a running term (extend it by días hábiles) or re-arm its timer")
    tm.add_argument("id", type=int)
    tm.add_argument("timer", help="the timer event's element id")
    how = tm.add_mutually_exclusive_group(required=True)
    how.add_argument("--business-days", type=int, help="días hábiles the term was suspended")
    how.add_argument("--due", help="the new due instant, ISO 8601 with offset")
    tm.add_argument("--reason", required=True, help="the decree or prevención that suspends the term")
    tm.set_defaults(func=cmd_term)

    dl = sub.add_parser("deadline", help="compute a legal deadline and explain it")
    dl.add_argument("start", help="the starting date or instant (ISO 8601)")
    dl.add_argument("count", type=int)
    dl.add_argument("--unit", required=True, help="business | natural | hours | months (a year is 12)")
    dl.add_argument("--rule", help="for months: administrativa (LFPA art. 29) | prescripcion (Código Civil art. 1180); "
                                   "the diagrams take it from a cited parameter, e.g. sancion.prescripcion_regla")
    dl.add_argument("--calendar", action="append", help="extra TOML calendar file (repeatable)")
    dl.add_argument("--cite", help="the article that sets the term")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_deadline)

    design.add_commands(sub)
    timers.add_commands(sub)
    simulate.add_commands(sub)
    users.add_commands(sub)
    directory.add_commands(sub)
    versions.add_commands(sub)
    alerts.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from sqlalchemy.exc import DBAPIError

    try:
        status = args.func(args)
        sys.stdout.flush()  # here, so a closed pipe is seen here and not at interpreter exit
    except BrokenPipeError:
        # `tramita instance 5 | head -1`: the reader has what it wanted. Point stdout at /dev/null so
        # the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE
    except TramitaError as exc:
        print(f"tramita: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    except DBAPIError as exc:
        if not _missing_table(exc):
            return _unexpected(exc)
        print("tramita: the database has no Tramita tables yet: run `tramita init-db`", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the command line never shows a traceback
        return _unexpected(exc)
    return status if isinstance(status, int) else 0


def _unexpected(exc: Exception) -> int:
    """One line for a failure Tramita did not foresee; the traceback goes to the log (``TRAMITA_DEBUG=1``: stderr)."""
    if os.environ.get("TRAMITA_DEBUG") == "1":
        raise exc
    logging.getLogger("tramita.cli").debug("unexpected failure", exc_info=exc)
    message = str(exc).splitlines()[0] if str(exc) else ""
    print(f"tramita: unexpected error ({exc.__class__.__name__}){': ' + message if message else ''}",
          file=sys.stderr)
    return 1


def _missing_table(exc: Exception) -> bool:
    """SQLite's "no such table" or PostgreSQL's undefined_table: the schema was never created."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig)


if __name__ == "__main__":
    sys.exit(main())
