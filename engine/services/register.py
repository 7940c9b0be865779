"""The register of protection orders and the annual evaluation (Reglamento arts. 23 III–IV, 28): who may read what.

The register names the person each order is issued against, as art. 28 requires, so only the roles
and groups that ``[policies.registro]`` of ``workflows/lanes.toml`` names may read or export it, and
every read and export is written to the audit trail. The annual evaluation holds counts only; the
roles in ``evaluacion_roles`` may read and export it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.casework import register, register_export
from engine.casework.register_export import Export
from engine.errors import Forbidden, InvalidInput
from engine.run.runtime import Runtime
from engine.services.principal import Principal, is_system
from engine.store.states import EventKind

STATUS_LABELS = {"vigente": "Vigente", "prorrogada": "Prorrogada", "levantada": "Levantada", "negada": "Negada",
                 "sin_efectos": "Sin efectos (sustituida)", "vencida": "Vencida",
                 "violacion": "Violación de orden vigente", "reporte_orden_no_vigente": "Reporte sobre orden no vigente"}


@dataclass(frozen=True)
class Policy:
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    evaluation_roles: tuple[str, ...]
    citation: str


class RegisterService:
    """Reads and exports of the register of orders and of the annual evaluation."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    @property
    def policy(self) -> Policy:
        """``[policies.registro]`` of the ``lanes`` part of the newest protection-order version."""
        raw: dict[str, Any] = self.rt.policies("orden_proteccion", table="registro") or {}
        return Policy(tuple(raw.get("roles", ())), tuple(raw.get("groups", ())),
                      tuple(raw.get("evaluacion_roles", ())), str(raw.get("citation", "Reglamento art. 28")))

    def may_read(self, user: Principal) -> bool:
        p = self.policy
        return is_system(user) or user.role in p.roles or (
            user.role == "caseworker" and bool(set(user.groups) & set(p.groups)))

    def may_evaluate(self, user: Principal) -> bool:
        return is_system(user) or user.role in self.policy.evaluation_roles or self.may_read(user)

    def _require(self, user: Principal) -> None:
        if not self.may_read(user):
            raise Forbidden("Su rol no permite consultar el registro de órdenes de protección: contiene datos de "
                            "las personas sujetas a ellas (Reglamento art. 28).", field="registro")

    @staticmethod
    def _year(year: Any) -> int | None:
        if year in (None, ""):
            return None
        try:
            value = int(year)
        except (TypeError, ValueError):
            raise InvalidInput("Escriba el año con cuatro cifras, por ejemplo 2026.", field="anio") from None
        if not 2000 <= value <= 2100:
            raise InvalidInput("Escriba un año entre 2000 y 2100.", field="anio")
        return value

    @staticmethod
    def _status(status: Any) -> str | None:
        if status in (None, ""):
            return None
        if status not in register.STATUSES:
            raise InvalidInput("Elija un estado del registro: " + ", ".join(register.STATUSES) + ".", field="estado")
        return str(status)

    def orders(self, user: Principal, *, year: Any = None, status: Any = None,
               via: str = "web") -> list[dict[str, Any]]:
        """The register's orders with their violations; the read is audited."""
        self._require(user)
        y, st = self._year(year), self._status(status)
        rows = register_export.orders(self.db, year=y, status=st)
        register.audit(self.db, user.username, EventKind.REGISTER_READ, {"anio": y, "estado": st, "via": via,
                                                                  "ordenes": len(rows)})
        return rows

    def export(self, user: Principal, fmt: str, *, year: Any = None, status: Any = None, content: str = "ordenes",
               via: str = "web") -> Export:
        """The register as JSON (``workflows/registro.schema.json``) or CSV; the export is audited."""
        self._require(user)
        if fmt not in register_export.FORMATS:
            raise InvalidInput("Elija el formato json o csv.", field="formato")
        if content not in ("ordenes", "violaciones"):
            raise InvalidInput("Elija el contenido: ordenes o violaciones.", field="contenido")
        y, st = self._year(year), self._status(status)
        out = register_export.export(register_export.orders(self.db, year=y, status=st), fmt, content)
        register.audit(self.db, user.username, EventKind.REGISTER_EXPORTED,
                       {"formato": fmt, "contenido": content, "anio": y, "estado": st, "via": via,
                        "registros": out.count})
        return out

    def evaluation(self, user: Principal, year: Any) -> dict[str, Any]:
        """Art. 23 III and IV: the year's counts (no identifying data)."""
        if not self.may_evaluate(user):
            raise Forbidden("Su rol no permite consultar la evaluación anual.", field="evaluacion")
        y = self._year(year)
        if y is None:
            raise InvalidInput("Escriba el año de la evaluación, por ejemplo 2026.", field="anio")
        return register_export.evaluation(self.db, y)

    def evaluation_export(self, user: Principal, year: Any, fmt: str) -> Export:
        if fmt not in register_export.FORMATS:
            raise InvalidInput("Elija el formato json o csv.", field="formato")
        figures = self.evaluation(user, year)
        out = register_export.evaluation_export(figures, fmt)
        register.audit(self.db, user.username, EventKind.EVALUATION_EXPORTED, {"anio": figures["anio"], "formato": fmt})
        return out

    def years(self, user: Principal) -> list[int]:
        if not self.may_evaluate(user):
            return []
        return register_export.years(self.db)
