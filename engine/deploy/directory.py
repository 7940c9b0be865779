"""Seeding the organisation's directory from a deployed ``lanes.toml``: insert-only.

The directory of groups (code -> name, institution, notes, active) is data the administrator edits
(``directory_groups``; ``engine.services.people``), not procedure data. A deployment whose bundle holds
``lanes.toml`` inserts each ``[groups.<code>]`` the table lacks, so a fresh install and ``make run``
start with the shipped groups; a code already in the table is left exactly as it is, so redeploying
never overwrites a name, institution, note or disabling an administrator chose. The lane -> group
mapping (``[lanes]``) stays procedure data, versioned with each procedure.
"""

from __future__ import annotations

import tomllib
from typing import Any

from sqlalchemy import select

from engine.store.models import DirectoryGroup
from engine.time import clock


def seed(session: Any, lanes_toml: bytes, deployed_by: str) -> list[str]:
    """Insert the ``[groups.*]`` of ``lanes_toml`` the directory lacks; the codes inserted."""
    groups = tomllib.loads(lanes_toml.decode("utf-8")).get("groups", {})
    if not isinstance(groups, dict) or not groups:
        return []
    present = set(session.execute(select(DirectoryGroup.code).where(DirectoryGroup.code.in_(list(groups)))).scalars())
    added = []
    for code, info in groups.items():
        if code in present or not isinstance(info, dict):
            continue
        session.add(DirectoryGroup(code=str(code), name=str(info.get("name") or code),
                                   institution=str(info.get("institution") or ""), notes=str(info.get("notes") or ""),
                                   active=True, updated_at=clock.now(), updated_by=deployed_by))
        added.append(str(code))
    session.flush()
    return added
