"""Demo users for ``make run``: one per role and institution, with passwords printed for the demo only.

The institutions and their groups come from ``workflows/lanes.toml``: every
``[groups.<group>]`` table names the ``institution`` the group belongs to, and
each distinct institution gets a caseworker (``operativo.<code>``) and a manager
(``coordinacion.<code>``) holding all of that institution's groups. ``[lanes]``
maps each lane of the diagrams to a group, so every lane whose group is listed
under ``[groups]`` has a demo user who can take its tasks; :func:`coverage`
checks it and ``python -m web.demo`` prints who does which procedure's steps.

Idempotent: existing demo users get their demo password back (and are unlocked
and enabled) and their groups are set again from ``lanes.toml``.
"""

from __future__ import annotations

import re
import sys
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.services import SYSTEM, Tramita, config

PASSWORD = "Tramita-Demo-2026"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

# Short codes (user.institution and username suffix) for institutions lanes.toml names, matched on its
# `institution` text, first match wins. An institution matching none is coded by its first group's key.
SHORT_CODES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Instituto Sonorense de la Mujer", re.I), "ISM"),
    (re.compile(r"Ministerio Público|Fiscalía General", re.I), "FGJE"),
    (re.compile(r"\bDIF\b"), "DIF"),
    (re.compile(r"Poder Judicial", re.I), "PJE"),
    (re.compile(r"Seguridad Pública", re.I), "SESP"),
    (re.compile(r"Secretaría de Gobierno", re.I), "SEGOB"),
    (re.compile(r"^Polic[ií]a", re.I), "POLICIA"),
    (re.compile(r"Hacienda", re.I), "HACIENDA"),
]
STAFF_INSTITUTION = "ISM"  # where the demo's legal designer and admin work


@dataclass(frozen=True)
class DemoInstitution:
    code: str  # stored as the users' institution; lower-cased in their usernames
    name: str  # as lanes.toml names it
    groups: tuple[str, ...]


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    role: str
    institution: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Lane:
    process: str  # the procedure (process id)
    lane: str  # as named in the diagram
    group: str  # the group lanes.toml maps it to (the lane's own name when unmapped)
    steps: tuple[str, ...]  # names of the user tasks and start forms the engine offers to this lane's group
    users: tuple[str, ...]  # demo caseworkers in that group


def read_lanes_toml(workflows: Path) -> dict[str, Any]:
    path = workflows / "lanes.toml"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def institutions(workflows: Path) -> list[DemoInstitution]:
    """One demo institution per distinct ``institution`` of lanes.toml's ``[groups.*]``, in file order."""
    groups: dict[str, Any] = read_lanes_toml(workflows).get("groups", {})
    by_name: dict[str, list[str]] = {}
    for group, info in groups.items():
        name = str((info or {}).get("institution") or (info or {}).get("name") or group).strip()
        by_name.setdefault(name, []).append(str(group))
    out: list[DemoInstitution] = []
    used: set[str] = set()
    for name, members in by_name.items():
        code = next((c for pattern, c in SHORT_CODES if pattern.search(name)), None) or _code(members[0])
        base, n = code, 2
        while code in used:  # two institutions with the same short code stay apart
            code, n = f"{base}{n}", n + 1
        used.add(code)
        out.append(DemoInstitution(code, name, tuple(members)))
    return out


def _code(group: str) -> str:
    text = unicodedata.normalize("NFKD", group).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").upper() or "INST"


def demo_users(insts: list[DemoInstitution]) -> list[DemoUser]:
    users: list[DemoUser] = []
    for inst in insts:
        low = inst.code.lower()
        short = inst.name.split(" (")[0][:60]
        users.append(DemoUser(f"operativo.{low}", short, "caseworker", inst.code, inst.groups))
        users.append(DemoUser(f"coordinacion.{low}", short, "manager", inst.code, inst.groups))
    staff = next((i.code for i in insts if i.code == STAFF_INSTITUTION), insts[0].code if insts else "ISM")
    users.append(DemoUser(f"diseno.{staff.lower()}", "Diseño jurídico (demo)", "legal_designer", staff, ()))
    # a second legal designer: a draft is approved by someone other than its author
    users.append(DemoUser(f"revision.{staff.lower()}", "Revisión jurídica (demo)", "legal_designer", staff, ()))
    users.append(DemoUser(f"admin.{staff.lower()}", "Administración (demo)", "admin", staff, ()))
    return users


def diagram_lanes(workflows: Path) -> dict[str, dict[str, list[str]]]:
    """Process id -> lane name -> the ids of the user tasks and start events drawn in it."""
    out: dict[str, dict[str, list[str]]] = {}
    folder = workflows / "bpmn"
    for path in sorted(folder.glob("*.bpmn")) if folder.exists() else []:
        root = ET.parse(path).getroot()
        for process in root.iter(f"{BPMN}process"):
            kinds = {el.get("id"): el.tag for el in process.iter()}
            lanes = out.setdefault(str(process.get("id")), {})
            for lane in process.iter(f"{BPMN}lane"):
                refs = [r.text or "" for r in lane.findall(f"{BPMN}flowNodeRef")]
                lanes[str(lane.get("name"))] = [r for r in refs
                                                if kinds.get(r) in (f"{BPMN}userTask", f"{BPMN}startEvent")]
    return out


def coverage(workflows: Path, users: list[DemoUser], t: Tramita | None = None) -> list[Lane]:
    """Every lane of every diagram, its group and the demo caseworkers who can take its tasks.

    The steps are those the engine offers to the lane (from the deployed procedures when ``t`` is given,
    which is what the inbox shows; otherwise as drawn in the diagram).
    """
    mapping = {str(k): str(v) for k, v in read_lanes_toml(workflows).get("lanes", {}).items()}
    drawn = diagram_lanes(workflows)
    offered: dict[tuple[str, str], list[str]] = {}
    if t is not None:
        offered = _offered_steps(t)
    out: list[Lane] = []
    for process, lanes in drawn.items():
        for lane, elements in lanes.items():
            group = mapping.get(lane, lane)
            holders = tuple(u.username for u in users if u.role == "caseworker" and group in u.groups)
            steps = offered.get((process, lane)) if t is not None else elements
            out.append(Lane(process, lane, group, tuple(steps or ()), holders))
    return out


def _offered_steps(t: Tramita) -> dict[tuple[str, str], list[str]]:
    return t.design.offered_steps(SYSTEM)


def uncovered(lanes: list[Lane]) -> list[Lane]:
    return [lane for lane in lanes if not lane.users]


def ensure(t: Tramita, workflows: Path | None = None) -> list[DemoUser]:
    users = demo_users(institutions(workflows or config.WORKFLOWS_DIR))
    existing = {u.username: u for u in t.people.users(SYSTEM)}
    for u in users:
        if u.username in existing:
            t.people.set_password(SYSTEM, u.username, PASSWORD)
            t.people.set_user_active(SYSTEM, u.username, True)
            t.people.set_user_groups(SYSTEM, u.username, u.groups)  # lanes.toml may have changed since the last run
        else:
            t.people.add_user(SYSTEM, u.username, PASSWORD, name=u.name, role=u.role, institution=u.institution, groups=u.groups)
    return users


def main() -> int:
    workflows = config.WORKFLOWS_DIR
    t = Tramita()
    users = ensure(t, workflows)
    print("\nDemo users (for the demo only; password for all: %s):" % PASSWORD)
    for u in users:
        print(f"  {u.username:<34} {u.role:<15} {u.institution:<24} {', '.join(u.groups)}")
    print("\nWho does which procedure's steps (caseworkers; lanes.toml maps each lane to a group):")
    lanes = coverage(workflows, users, t)
    for lane in lanes:
        who = ", ".join(lane.users) or "NOBODY: add its group to [groups.*] of lanes.toml"
        steps = "; ".join(lane.steps) or "(no task offered to this lane)"
        print(f"  {lane.process:<17} {lane.lane} -> {lane.group}: {who}\n      {steps}")
    missing = uncovered(lanes)
    for lane in missing:
        print(f"WARNING: lane {lane.lane!r} of {lane.process} maps to group {lane.group!r}, which no demo user holds",
              file=sys.stderr)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
