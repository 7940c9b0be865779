"""Legal designers' service for running cases on earlier versions: which a newer version affects, where
each would land (the preview), and the move itself (``engine.run.moving``).

Every move is its own audited transaction: one case refused or failing never stops or undoes the others,
and the answer says, per case, whether it moved or why not.
"""

from __future__ import annotations

import logging
from typing import Sequence

from sqlalchemy import select

from engine.deploy import library
from engine.deploy.affected import AffectedCase, affected
from engine.errors import InvalidInput, NotFound, TramitaError
from engine.run import moving
from engine.run.moving import MovePreview, MoveResult
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role
from engine.store.models import Definition, Instance

MOVE_ROLES = ("legal_designer", "admin")
REASON_MAX = 2000
_log = logging.getLogger(__name__)


def _mover(user: Principal) -> None:
    require_role(user, *MOVE_ROLES, field="user", message="Su rol no permite mover casos entre versiones.")


class MigrationService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def affected(self, user: Principal, key: str) -> tuple[int, list[AffectedCase]]:
        """Running cases on earlier versions that can still reach an element the newest version removed."""
        require_role(user, "legal_designer", "manager", "admin", field="user",
                     message="Su rol no permite revisar los casos en curso de versiones anteriores.")
        return affected(self.db, self.rt.specs, key)

    def move_previews(self, user: Principal, key: str, to_version: int | None = None,
                      limit: int = 50) -> list[MovePreview]:
        """For each open case on another version: where its open steps and deadlines would land in
        ``to_version`` (the latest by default), or why it cannot move. Nothing is written."""
        _mover(user)
        with self.db.read() as s:
            target = library.definition(s, key, to_version)
            rows = s.execute(select(Instance).where(
                Instance.process_key == key, Instance.status.in_(library.OPEN_STATUSES),
                Instance.definition_id != target.id).order_by(Instance.id).limit(limit)).scalars().all()
            previews = [moving.preview(self.rt, s, inst, target) for inst in rows]
        if to_version is None and previews:  # to the newest: say which cases still lack its fixes
            gone = {c.instance_id: c.reachable_removed for c in affected(self.db, self.rt.specs, key)[1]}
            for p in previews:
                p.reachable_removed = gone.get(p.instance_id, [])
        return previews

    def move(self, user: Principal, key: str, to_version: int | None, instances: Sequence[int] | None,
             reason: str) -> list[MoveResult]:
        """Move the cases named (``None``: every open case on another version) to ``to_version`` (the latest
        by default), each in its own transaction; the result of each, moved or refused and why."""
        _mover(user)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("Escriba el motivo del cambio de versión (queda en la bitácora de cada caso).",
                               field="reason")
        if len(reason) > REASON_MAX:
            raise InvalidInput(f"El motivo es demasiado largo: a lo más {REASON_MAX} caracteres.", field="reason")
        if to_version is not None and (isinstance(to_version, bool) or not isinstance(to_version, int)
                                       or to_version < 1):
            raise InvalidInput("La versión de destino debe ser un número entero positivo.", field="to_version")
        if instances is not None and (not isinstance(instances, (list, tuple)) or not instances or any(
                isinstance(i, bool) or not isinstance(i, int) or not 0 < i < 2**63 for i in instances)):
            raise InvalidInput("Elija al menos un caso (sus números).", field="instances")
        reason = reason.strip()
        with self.db.read() as s:
            target = library.definition(s, key, to_version)
            target_id, version = target.id, target.version
            if instances is None:
                ids = list(s.execute(select(Instance.id).where(
                    Instance.process_key == key, Instance.status.in_(library.OPEN_STATUSES),
                    Instance.definition_id != target.id).order_by(Instance.id)).scalars())
            else:
                ids = list(dict.fromkeys(instances))
            found = dict(s.execute(select(Instance.id, Instance.reference).where(Instance.id.in_(ids))).all())
            versions = dict(s.execute(select(Instance.id, Definition.version).join(
                Definition, Definition.id == Instance.definition_id).where(Instance.id.in_(ids))).all())
        out = []
        for iid in ids:
            if iid not in found:
                out.append(MoveResult(iid, None, False, None, version, f"El caso {iid} no existe."))
                continue
            try:
                out.append(moving.move(self.rt, iid, target_id, user.username, reason))
            except (TramitaError, NotFound) as refused:
                out.append(MoveResult(iid, found[iid], False, versions.get(iid), version, str(refused)))
            except Exception as failure:  # noqa: BLE001 - one case failing never stops the others
                _log.exception("moving case %s to version %s failed", iid, version, exc_info=failure)
                out.append(MoveResult(iid, found[iid], False, versions.get(iid), version,
                                      "No se pudo mover por una falla interna; el caso quedó como estaba."))
        return out
