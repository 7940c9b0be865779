"""The manager console's service: overview, stalled cases, workload, charts, heatmap, exports, and the
actions that recover a case (reassign, release, retry, cancel, suspend, resume), single or in bulk.

Managers see their institution's cases, administrators and ``SYSTEM`` all of them. Every action takes
a reason, which the audit trail keeps. A bulk action runs each case in its own transaction: one
refusal never stops or undoes the others, and each case gets its own result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import func, select, true, update

from engine.casework.access import schema_properties
from engine.casework.people import find_user, list_users
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, TramitaError
from engine.oversight import exports, metrics, stalled, stalled_sql, stats, supervision
from engine.run.runtime import Runtime
from engine.services.monitor import MONITOR_ROLES, MonitorService
from engine.services.principal import Principal, is_system, require_role
from engine.store.models import Definition, DeployedFile, Event, Instance, Task
from engine.store.states import EventKind
from engine.time import clock

CASE_ACTIONS = ("retry", "cancel", "suspend", "resume")
ACTION_LABELS = {"retry": "Reintentar", "cancel": "Cancelar", "suspend": "Suspender", "resume": "Reanudar"}
LISTS = ("stalled", "workload", "overview", "terms", "cases", "monthly")
MAX_BULK = 500
MAX_ID = 2**63 - 1  # the databases' integers: a larger case number cannot exist


@dataclass(frozen=True)
class BulkResult:
    instance_id: int
    done: bool
    message: str
    reference: str | None = None


@dataclass(frozen=True)
class Heatmap:
    process_key: str
    version: int
    name: str | None
    xml: str
    elements: list[stats.ElementHeat]


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("Falta el motivo: toda acción de coordinación queda registrada con su motivo.",
                           field="reason")
    if len(text) > 500:
        raise InvalidInput("El motivo es demasiado largo: máximo 500 caracteres.", field="reason")
    return text


class OversightService:
    def __init__(self, rt: Runtime, monitor: MonitorService) -> None:
        self.rt = rt
        self.db = rt.db
        self.monitor = monitor

    @property
    def supervision(self) -> supervision.Supervision:
        """The stall thresholds, from the ``supervision`` part of each procedure's newest version."""
        return supervision.of_procedures(self.rt.newest_parts("supervision"))

    def _require(self, user: Principal) -> None:
        require_role(user, *MONITOR_ROLES, field="user", message="Solo la coordinación consulta esta consola.")

    def _scope(self, user: Principal) -> Any:
        self._require(user)
        if is_system(user) or user.role == "admin":
            return true()
        return Instance.institution == user.institution

    def _institution(self, user: Principal) -> str | None:
        """The one institution a manager sees; ``None`` for administrators and operators (all)."""
        return None if is_system(user) or user.role == "admin" else user.institution

    # --- figures ---
    def stalled(self, user: Principal, *, process_key: str | None = None, reason: str | None = None,
                step: str | None = None, holder: str | None = None, sort: str = "retraso",
                descending: bool = False) -> list[stalled.StalledRow]:
        """Every stalled row (exports, the API); the page reads :meth:`stalled_page`."""
        return self.stalled_page(user, process_key=process_key, reason=reason, step=step, holder=holder, sort=sort,
                                 descending=descending, per_page=None)[0]

    def stalled_page(self, user: Principal, *, process_key: str | None = None, reason: str | None = None,
                     step: str | None = None, holder: str | None = None, sort: str = "retraso",
                     descending: bool = False, page: int = 1, per_page: int | None = 50
                     ) -> tuple[list[stalled.StalledRow], int]:
        """One page of stalled rows, filtered and sorted by the database, and the total."""
        scope = self._scope(user)
        if reason and reason not in stalled.REASONS:
            raise InvalidInput(f"Motivo desconocido: {reason}.", field="motivo")
        if sort not in stalled.SORTS:
            raise InvalidInput(f"No se puede ordenar por «{sort}».", field="orden")
        if page < 1 or (per_page is not None and not 1 <= per_page <= 500):
            raise InvalidInput("Página fuera de rango.", field="page")
        f = stalled_sql.Filters(process_key, reason, step, holder, sort, descending)
        with self.db.read() as s:
            rows, total = stalled_sql.page(s, scope, clock.now(), self.rt.calendar()[1], self.supervision, f, per_page,
                                           (page - 1) * (per_page or 0))
            return self._named(s, rows), total

    def _named(self, s: Any, rows: list[stalled.StalledRow]) -> list[stalled.StalledRow]:
        """Timers and failed scripts are no user tasks: their step's name comes from the diagram."""
        from dataclasses import replace

        keys = {r.process_key for r in rows if r.step and not r.step_title}
        if not keys:
            return rows
        names: dict[tuple[str, str], str] = {}
        latest = s.execute(select(Definition.key, func.max(Definition.id)).where(
            Definition.kind == "process", Definition.key.in_(keys)).group_by(Definition.key)).all()
        for key, definition_id in latest:
            loaded = self.rt.specs.get(s, definition_id)
            for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
                for ts in spec.task_specs.values():
                    if getattr(ts, "bpmn_id", None) and getattr(ts, "bpmn_name", None):
                        names[(key, ts.bpmn_id)] = ts.bpmn_name
        return [r if r.step_title or not r.step else replace(r, step_title=names.get((r.process_key, r.step),
                                                                                     "Paso automático"))
                for r in rows]

    def overview(self, user: Principal) -> stats.Overview:
        scope = self._scope(user)
        now = clock.now()
        with self.db.read() as s:
            stalled_cases = stalled_sql.stalled_cases(s, scope, now, self.rt.calendar()[1], self.supervision)
            return stats.overview(s, scope, now, self.rt.calendar()[1], stalled_cases)

    def workload(self, user: Principal) -> list[stats.Load]:
        scope = self._scope(user)
        with self.db.read() as s:
            return stats.workload(s, scope, clock.now())

    def charts(self, user: Principal) -> dict[str, Any]:
        """The trend charts' data: weekly cases, hour terms (the 4-hour order), share within term per step."""
        scope = self._scope(user)
        with self.db.read() as s:
            mine = self._institution(user)
            return {"weekly": stats.weekly_cases(s, scope, clock.now()), "hours": stats.hour_terms(s, mine),
                    "terms": stats.terms_met(s, mine)}

    def heatmap(self, user: Principal, process_key: str, version: int | None = None) -> Heatmap:
        scope = self._scope(user)
        with self.db.read() as s:
            q = select(Definition).where(Definition.kind == "process", Definition.key == process_key)
            q = q.where(Definition.version == version) if version else q.order_by(Definition.version.desc())
            definition = s.execute(q.limit(1)).scalar()
            if definition is None:
                raise NotFound(f"No existe el procedimiento {process_key}"
                               + (f" en su versión {version}." if version else "."), field="version")
            xml = s.get(DeployedFile, definition.file_id).content
            elements = stats.heatmap(s, scope, definition.id, clock.now(), self._institution(user))
            return Heatmap(definition.key, definition.version, definition.name, xml, elements)

    def metrics(self, user: Principal) -> metrics.Snapshot:
        """What ``/metrics`` exposes: administrators (and operators) only, over every institution."""
        require_role(user, "admin", field="user", message="Solo la administración consulta las métricas.")
        with self.db.read() as s:
            return metrics.snapshot(s, clock.now())

    # --- reassigning a task ---
    def _open_task(self, user: Principal, task_id: str) -> Task:
        scope = self._scope(user)
        with self.db.read() as s:
            row = s.execute(select(Task).join(Instance, Instance.id == Task.instance_id)
                            .where(Task.id == str(task_id), scope)).scalar()
            if row is None:
                if s.get(Task, str(task_id)) is None:
                    raise NotFound(f"La tarea {task_id} no existe.", field="task")
                raise Forbidden("La tarea es de un caso de otra institución.", field="task")
            if row.state != "READY":
                raise Conflict("La tarea ya no está abierta.", field="task")
            s.expunge(row)
            return row

    def candidates(self, user: Principal, task_id: str) -> list[Principal]:
        """Active users of the task's group (its lane's), to whom it may be reassigned."""
        task = self._open_task(user, task_id)
        return [u for u in list_users(self.db) if u.active and task.candidate_group in u.groups]

    def reassign(self, user: Principal, task_id: str, to: str, reason: str) -> None:
        """Give an open task, held or not, to a user of its lane's group."""
        text = _reason(reason)
        task = self._open_task(user, task_id)
        target = find_user(self.db, to or "")
        if target is None or not target.active:
            raise InvalidInput("La persona elegida no existe o está deshabilitada.", field="to")
        if task.candidate_group not in target.groups:
            raise InvalidInput("La persona elegida no pertenece al grupo que atiende esta tarea.", field="to")
        self._set_assignee(user, task, target.username, EventKind.TASK_REASSIGNED, text)

    def release(self, user: Principal, task_id: str, reason: str) -> None:
        """Return an open task to its group's inbox, whoever held it."""
        text = _reason(reason)
        self._set_assignee(user, self._open_task(user, task_id), None, EventKind.TASK_RELEASED, text)

    def _set_assignee(self, user: Principal, task: Task, to: str | None, kind: EventKind, reason: str) -> None:
        with self.db.write() as s:
            n = s.execute(update(Task).where(Task.id == task.id, Task.state == "READY")
                          .values(assignee=to).execution_options(synchronize_session=False)).rowcount
            if n != 1:
                raise Conflict("La tarea ya no está abierta.", field="task")
            s.add(Event(instance_id=task.instance_id, task_id=task.id, at=clock.now(), actor=user.username,
                        kind=kind, detail={"task": task.name, "title": task.title, "from": task.assignee,
                                           "to": to, "reason": reason}))

    # --- case actions ---
    def act(self, user: Principal, action: str, instance_id: int, reason: str) -> None:
        """Retry, cancel, suspend or resume one case, with a reason the audit trail keeps."""
        text = _reason(reason)
        if action not in CASE_ACTIONS:
            raise InvalidInput(f"Acción desconocida: {action}.", field="action")
        operation = {"retry": lambda: self.monitor.retry(user, instance_id, reason=text),
                     "cancel": lambda: self.monitor.cancel(user, instance_id, text),
                     "suspend": lambda: self.monitor.suspend(user, instance_id, text),
                     "resume": lambda: self.monitor.resume(user, instance_id, text)}[action]
        operation()

    def bulk(self, user: Principal, action: str, instance_ids: Sequence[int], reason: str) -> list[BulkResult]:
        """The same action on many cases, each in its own transaction, with a result per case."""
        self._require(user)
        _reason(reason)
        if action not in CASE_ACTIONS:
            raise InvalidInput(f"Acción desconocida: {action}.", field="action")
        ids = list(dict.fromkeys(int(i) for i in instance_ids))
        if not ids:
            raise InvalidInput("Elija al menos un caso.", field="cases")
        if len(ids) > MAX_BULK:
            raise InvalidInput(f"Demasiados casos: máximo {MAX_BULK} por acción.", field="cases")
        real = [i for i in ids if 0 < i <= MAX_ID]  # a number no database row can have is not looked up
        with self.db.read() as s:
            refs = dict(s.execute(select(Instance.id, Instance.reference).where(Instance.id.in_(real),
                                                                                self._scope(user))).all())
        results = []
        for instance_id in ids:
            if not 0 < instance_id <= MAX_ID:
                results.append(BulkResult(instance_id, False, f"El caso {instance_id} no existe."))
                continue
            try:
                self.act(user, action, instance_id, reason)
                results.append(BulkResult(instance_id, True, "Hecho.", refs.get(instance_id)))
            except TramitaError as exc:
                results.append(BulkResult(instance_id, False, _refusal(exc), refs.get(instance_id)))
        return results

    # --- exports ---
    def export(self, user: Principal, what: str, fmt: str, **filters: Any) -> tuple[bytes, str, str]:
        """(body, mimetype, file name) of one list or statistic, with no identifying or sensitive data."""
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput("Formato desconocido: use csv o xlsx.", field="format")
        if what not in LISTS:
            raise InvalidInput(f"No hay exportación «{what}».", field="list")
        title, headers, rows = getattr(self, f"_table_{what}")(user, **filters)
        body, mimetype, ext = exports.render(fmt, title, headers, rows)
        return body, mimetype, f"tramita-{what}-{clock.now():%Y%m%d}.{ext}"

    def _table_stalled(self, user: Principal, **filters: Any) -> tuple[str, list[str], list[list[Any]]]:
        rows = self.stalled(user, **filters)
        return ("Casos detenidos", ["Caso", "Expediente", "Procedimiento", "Paso", "Responsable", "Motivo", "Desde",
                                    "Horas de retraso", "Fundamento"],
                [[r.instance_id, r.reference, r.process_name or r.process_key, r.step_title or r.step,
                  self.rt.group_names.get((r.holder or "")[6:], r.holder) if (r.holder or "").startswith("grupo:")
                  else r.holder, r.reason_label, r.since, round(r.late_seconds / 3600, 1), r.citation]
                 for r in rows])

    def _table_workload(self, user: Principal) -> tuple[str, list[str], list[list[Any]]]:
        return ("Carga de trabajo", ["Tipo", "Persona o grupo", "Tareas abiertas", "Tareas vencidas"],
                [["Persona" if x.kind == "person" else "Grupo",
                  x.who if x.kind == "person" else self.rt.group_names.get(x.who, x.who), x.open_tasks,
                  x.overdue_tasks] for x in self.workload(user)])

    def _table_overview(self, user: Principal) -> tuple[str, list[str], list[list[Any]]]:
        o = self.overview(user)
        rows: list[list[Any]] = [["Total", "", "Casos abiertos", o.open_cases], ["Total", "", "Tareas vencidas", o.overdue_tasks],
                                 ["Total", "", "Vencen en 2 días hábiles", o.due_soon_tasks],
                                 ["Total", "", "Casos con incidente", o.error_cases],
                                 ["Total", "", "Casos detenidos", o.stalled_cases]]
        for label, items in (("Casos abiertos", o.open_by_process), ("Tareas vencidas", o.overdue_by_step),
                             ("Vencen en 2 días hábiles", o.due_soon_by_step), ("Casos con incidente", o.error_by_process)):
            rows += [[b.process_name or b.process_key, b.step_title or "", label, b.count] for b in items]
        return "Resumen", ["Procedimiento", "Paso", "Indicador", "Cantidad"], rows

    def _table_terms(self, user: Principal) -> tuple[str, list[str], list[list[Any]]]:
        return ("Plazos cumplidos", ["Procedimiento", "Paso", "Completadas", "Dentro del plazo", "Proporción"],
                [[t["process_key"], t["title"], t["completed"], t["within"], t["share"]]
                 for t in self.charts(user)["terms"]])

    def _table_monthly(self, user: Principal) -> tuple[str, list[str], list[list[Any]]]:
        """The monthly statistics report: cases by month, procedure, institution and outcome, and steps by
        month with how many were completed within their legal term."""
        scope = self._scope(user)
        with self.db.read() as s:
            return "Informe mensual", *stats.monthly(s, scope)

    def _table_cases(self, user: Principal, process_key: str | None = None, limit: int = 5000
                     ) -> tuple[str, list[str], list[list[Any]]]:
        """The monthly-report rows: one per case, with only the case data its forms classify general."""
        import json

        from engine.bpmn import serializer

        scope = self._scope(user)
        with self.db.read() as s:
            q = select(Instance, Definition).join(Definition, Definition.id == Instance.definition_id).where(scope)
            if process_key:
                q = q.where(Instance.process_key == process_key)
            pairs = s.execute(q.order_by(Instance.id).limit(limit)).all()
            data_rows: list[tuple[Instance, dict[str, Any], list[str]]] = []
            fields_by_def: dict[int, list[str]] = {}
            for inst, definition in pairs:
                if definition.id not in fields_by_def:
                    schemas = [i.get("schema") for i in (definition.task_info or {}).values()]
                    fields_by_def[definition.id] = exports.general_fields(schema_properties(schemas))
                data = serializer.case_data(json.loads(inst.state))
                data_rows.append((inst, data, fields_by_def[definition.id]))
        columns = sorted({f for _i, _d, fields in data_rows for f in fields})
        headers = ["Caso", "Expediente", "Procedimiento", "Institución", "Estado", "Inicio", "Conclusión", *columns]
        rows = [[i.id, i.reference, i.process_key, i.institution, i.status, i.started_at, i.ended_at,
                 *[d.get(c) if c in fields else None for c in columns]] for i, d, fields in data_rows]
        return "Casos", headers, rows


def _refusal(exc: TramitaError) -> str:
    """A refusal as a manager reads it: the engine's English state errors get a Spanish sentence."""
    message = exc.message or ""
    if exc.code == "execution_failed":
        return "Falló de nuevo: el caso sigue con incidente (revise su causa)."
    if exc.code in ("invalid_state", "conflict") and message.startswith("instance "):
        return "El caso no está en un estado que permita esta acción."
    return message
