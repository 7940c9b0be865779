"""Demo users for ``make run``: one per role and institution, with passwords printed for the demo only.

Idempotent: existing demo users get their demo password back (and are unlocked
and enabled). Caseworkers are put in the groups that ``workflows/lanes.toml``
maps their institution's lanes to, so every task of every procedure has someone
in the demo who can take it.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from engine import config
from engine.services import Tramita

PASSWORD = "Tramita-Demo-2026"

INSTITUTIONS = {
    "ISM": "Instituto Sonorense de la Mujer",
    "FGJE": "Ministerio Público (Fiscalía General de Justicia del Estado)",
    "DIF": "DIF Sonora",
    "PJE": "Poder Judicial del Estado",
}
# Which groups (lanes.toml values) belong to each institution, by a word in the group name.
_KEYWORDS = {
    "FGJE": ("ministerio", "fiscal", "mp_", "policia", "policía", "emisora", "seguridad"),
    "DIF": ("dif", "procuraduria", "procuraduría"),
    "PJE": ("juez", "juzgado", "judicial", "tribunal", "sancion", "sanción", "recurso"),
}
BASE_GROUPS = {"ISM": ["instituto"], "FGJE": ["ministerio_publico"], "DIF": ["dif"], "PJE": ["juzgado"]}


def lane_groups(workflows: Path) -> list[str]:
    """Every group a task can be offered to: lanes.toml's values, and the lanes of the diagrams mapped by it."""
    import re

    mapping: dict[str, str] = {}
    path = workflows / "lanes.toml"
    if path.exists():
        with path.open("rb") as f:
            mapping = {str(k): str(v) for k, v in tomllib.load(f).get("lanes", {}).items()}
    groups = set(mapping.values())
    for bpmn in (workflows / "bpmn").glob("*.bpmn") if (workflows / "bpmn").exists() else []:
        for lane in re.findall(r'<(?:bpmn:)?lane\b[^>]*\bname="([^"]+)"', bpmn.read_text(encoding="utf-8")):
            groups.add(mapping.get(lane, lane))
    return sorted(groups)


def groups_by_institution(groups: list[str]) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in BASE_GROUPS.items()}
    for group in groups:
        low = group.lower()
        home = next((inst for inst, words in _KEYWORDS.items() if any(w in low for w in words)), "ISM")
        if group not in out[home]:
            out[home].append(group)
    return out


def demo_users(groups: dict[str, list[str]]) -> list[tuple[str, str, str, str, list[str]]]:
    users = []
    for inst in INSTITUTIONS:
        low = inst.lower()
        users.append((f"operativo.{low}", f"Personal operativo {inst}", "caseworker", inst, groups[inst]))
        users.append((f"coordinacion.{low}", f"Coordinación {inst}", "manager", inst, groups[inst]))
    users.append(("diseno.ism", "Diseño jurídico ISM", "legal_designer", "ISM", []))
    users.append(("admin.ism", "Administración ISM", "admin", "ISM", []))
    return users


def ensure(t: Tramita, workflows: Path | None = None) -> list[tuple[str, str, str, str, list[str]]]:
    users = demo_users(groups_by_institution(lane_groups(workflows or config.WORKFLOWS_DIR)))
    existing = {u.username for u in t.users()}
    for username, name, role, inst, groups in users:
        if username in existing:
            t.set_password(username, PASSWORD)
            t.set_user_active(username, True)
            t.set_user_groups(username, groups)  # lanes.toml may have changed since the last run
        else:
            t.add_user(username, PASSWORD, name=name, role=role, institution=inst, groups=groups)
    return users


def main() -> int:
    t = Tramita()
    users = ensure(t)
    print("\nDemo users (for the demo only; password for all: %s):" % PASSWORD)
    for username, _name, role, inst, groups in users:
        print(f"  {username:<22} {role:<15} {inst:<5} {', '.join(groups)}")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
