"""The legal designers' calendar editor: drafts of the legal calendar, the impact of a change on the
running deadlines and on the scenarios, four-eyes approval, and the recount that follows it.

Every method takes the acting user and checks the permission itself (legal designers and
administrators; ``SYSTEM`` for the timer service's recount batches), so the pages, the API and the CLI
share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from engine.deploy import calendar_drafts, calendar_text, catalog
from engine.deploy.calendar_text import Change, FileEntry
from engine.errors import TramitaError
from engine.run import recalendar
from engine.run.runtime import Runtime
from engine.services.drafts import DraftView
from engine.services.principal import Principal, require_role
from engine.simulate import impact as impact_of
from engine.store.models import Definition, Instance, Timer
from engine.store.states import TimerStatus
from engine.time import clock

CALENDAR_ROLES = ("legal_designer", "admin")


def _designer(user: Principal) -> None:
    require_role(user, *CALENDAR_ROLES, field="user", message="Su rol no permite editar el calendario legal.")


@dataclass(frozen=True)
class ChangeView:
    id: int
    change: Change

    @property
    def label(self) -> str:
        c = self.change
        span = c.first.strftime("%d/%m/%Y") if c.first == c.last else \
            f"del {c.first.strftime('%d/%m/%Y')} al {c.last.strftime('%d/%m/%Y')}"
        verb = "Se agrega" if c.action == calendar_text.ADD else "Se quita"
        return f"{verb}: {calendar_text.KINDS[c.kind].lower()} {span} — {c.reason}"


@dataclass(frozen=True)
class CalendarDraftView:
    draft: DraftView
    changes: tuple[ChangeView, ...]
    entries: tuple[FileEntry, ...]  # the file as the draft leaves it
    latest_version: int | None


@dataclass(frozen=True)
class MovedView:
    """A running deadline the draft would move: the case, its step, the old and new due instants, and why."""

    instance_id: int
    reference: str
    process_key: str
    procedure: str  # the procedure's name
    step: str  # as the diagram names it
    element: str
    kind: str
    old_due: datetime
    new_due: datetime
    because: tuple[str, ...]  # the draft's changes inside the term
    citation: str | None


@dataclass(frozen=True)
class ScenarioCheck:
    path: str
    procedure: str
    title: str
    passes_now: bool | None  # None: not run (it passes with the draft)
    passes_with_draft: bool
    failures: tuple[str, ...]


@dataclass(frozen=True)
class ImpactView:
    moved: tuple[MovedView, ...]
    scenarios: tuple[ScenarioCheck, ...]
    changed_days: int
    untouched: int = 0  # scenarios whose days the change does not reach: not run, their result stays


@dataclass(frozen=True)
class RecountRow:
    instance_id: int
    reference: str
    step: str
    old_due: datetime
    new_due: datetime
    status: str
    detail: str


@dataclass(frozen=True)
class RecountView:
    progress: recalendar.Progress
    rows: tuple[Any, ...]
    version: int | None


class CalendarService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    # --- reading ---------------------------------------------------------------------------

    def current(self, user: Principal) -> tuple[int | None, list[FileEntry]]:
        """The calendar in force: its version and its file's entries (what the editor lists)."""
        _designer(user)
        with self.db.read() as s:
            version, texts = calendar_drafts.base_texts(s)
        name = calendar_drafts.MAIN_FILE if calendar_drafts.MAIN_FILE in texts else sorted(texts)[0]
        return version, calendar_text.entries(texts[name])

    def drafts(self, user: Principal) -> list[DraftView]:
        _designer(user)
        with self.db.read() as s:
            return [DraftView.of(d) for d in calendar_drafts.listing(s)]

    def draft(self, user: Principal, draft_id: int) -> CalendarDraftView:
        _designer(user)
        with self.db.read() as s:
            d = calendar_drafts.get(s, draft_id)
            found = tuple(ChangeView(cid, c) for cid, c in calendar_drafts.changes(s, d.id))
            return CalendarDraftView(DraftView.of(d), found, tuple(calendar_text.entries(d.content)),
                                     calendar_drafts.latest_version(s))

    # --- editing ---------------------------------------------------------------------------

    def create_draft(self, user: Principal) -> DraftView:
        """The user's open calendar draft, resumed, or a new one from the calendar in force."""
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(calendar_drafts.create(s, user.username))

    def add_change(self, user: Principal, draft_id: int, *, action: str, kind: str, first: Any, last: Any = "",
                   reason: str = "", source: str = "") -> ChangeView:
        """Add or remove a día inhábil, a period or a vacation, with its reason and published source."""
        _designer(user)
        change = calendar_text.check_change(action, kind, first, last, reason, source)
        with self.db.write() as s:
            row = calendar_drafts.add_change(s, calendar_drafts.get(s, draft_id), user.username, change)
            return ChangeView(row.id, change)

    def undo_change(self, user: Principal, draft_id: int, change_id: int) -> None:
        _designer(user)
        with self.db.write() as s:
            calendar_drafts.drop_change(s, calendar_drafts.get(s, draft_id), user.username, change_id)

    def submit(self, user: Principal, draft_id: int, note: str) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(calendar_drafts.submit(s, calendar_drafts.get(s, draft_id), user.username, note))

    def reject(self, user: Principal, draft_id: int, comment: str) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            from engine.deploy import drafts

            return DraftView.of(drafts.reject(s, calendar_drafts.get(s, draft_id), user.username, comment))

    # --- impact ----------------------------------------------------------------------------

    def impact(self, user: Principal, draft_id: int, *, scenarios: bool = True) -> ImpactView:
        """Which open deadlines of running cases the draft would move (from when to when, and why), and
        which scenarios of ``workflows/scenarios`` would now fail."""
        _designer(user)
        moved, days = self._moved(draft_id)
        checks, untouched = self._scenarios(draft_id, set(days)) if scenarios else ([], 0)
        return ImpactView(tuple(moved), tuple(checks), len(days), untouched)

    def _moved(self, draft_id: int) -> tuple[list[MovedView], dict[date, str]]:
        with self.db.read() as s:
            d = calendar_drafts.get(s, draft_id)
            listed = [c for _, c in calendar_drafts.changes(s, d.id)]
            _, base = calendar_drafts.base_texts(s, d.base_version)
            draft_texts = {**base, d.filename: d.content}
        old, new = calendar_text.calendar_of(base), calendar_text.calendar_of(draft_texts)
        days = calendar_text.changed_days(old, new, listed)
        found = impact_of.impact(self.db, new, days, now=clock.now(), reasons=days)
        views = []
        ids = sorted({m.instance_id for m in found})
        with self.db.read() as s:
            versions: dict[int, int] = {}
            attached: dict[tuple[int, str], str | None] = {}
            for start in range(0, len(ids), 1000):  # a few queries for thousands of cases, not one per case
                chunk = ids[start:start + 1000]
                versions.update(s.execute(select(Instance.id, Instance.definition_id)
                                          .where(Instance.id.in_(chunk))).all())
                attached.update({(iid, name): to for iid, name, to in s.execute(
                    select(Timer.instance_id, Timer.task_name, Timer.attached_to).where(
                        Timer.instance_id.in_(chunk), Timer.status == TimerStatus.PENDING))})
            infos: dict[int, dict[str, Any]] = {}
            names: dict[int, str] = {}
            for definition in s.execute(select(Definition).where(Definition.id.in_(set(versions.values())))).scalars():
                infos[definition.id] = definition.task_info or {}
                names[definition.id] = definition.name or definition.key
            for m in found:
                definition_id = versions[m.instance_id]
                to = attached.get((m.instance_id, m.element)) if m.kind == "timer" else None
                because = tuple(calendar_drafts.describe(c) for c in listed
                                if any(c.covers(day) for day, _ in m.entries))
                views.append(MovedView(m.instance_id, m.reference or str(m.instance_id), m.process_key,
                                       names[definition_id], _step(infos[definition_id], m.element, to),
                                       m.element, m.kind, m.old_due, m.new_due, because, m.citation))
        return views, days

    def _scenarios(self, draft_id: int, days: set[date]) -> tuple[list[ScenarioCheck], int]:
        """Run, with the draft's calendar, the scenarios of each procedure's newest deployed version whose
        days (start, acts, expected due dates) include a changed day; the others cannot change and are
        only counted. A scenario that fails with the draft runs once more on the calendar in force, to
        say whether the change breaks it or it already failed."""
        from engine.services.simulator import SimulatorService
        from engine.simulate import bundles, runner, scenario

        with self.db.read() as s:
            d = calendar_drafts.get(s, draft_id)
            calendar_files = calendar_drafts.files_of(s, d)
            keys = [definition.key for definition in catalog.list_processes(s)]
        sim = SimulatorService(self.rt)
        out, untouched = [], 0
        for key in sorted(set(keys)):
            files, _ = sim._version_files(key, None)
            texts = {f.name: f.content.decode("utf-8") for f in files}
            for name, text in bundles.scenarios_of(texts, key).items():
                try:
                    sc = scenario.parse_text(text, f"scenarios/{key}/{name}")
                except TramitaError:
                    continue
                first, last = sc.span()
                if not any(first <= day <= last for day in days):
                    untouched += 1
                    continue
                procedure = [f for f in files if f.kind != "calendar"]
                with_draft = runner.run(sc, procedure + calendar_files)
                now: bool | None = None
                if with_draft.failures:
                    now = runner.run(sc, files).passed
                out.append(ScenarioCheck(f"scenarios/{key}/{name}", sc.procedure, sc.title, now, with_draft.passed,
                                         tuple(with_draft.failures)))
        return out, untouched

    # --- approval and the recount ---------------------------------------------------------

    def approve(self, user: Principal, draft_id: int, comment: str = "") -> int:
        """Deploy the draft as the next calendar version (the approver is never its author) and queue
        the recount of every running deadline it moves; the version number."""
        _designer(user)
        moved, _ = self._moved(draft_id)
        with self.db.write() as s:
            version = calendar_drafts.approve(s, calendar_drafts.get(s, draft_id), user.username, comment, moved)
        self.rt.forget_latest()
        return version

    def recount(self, user: Principal, draft_id: int, limit: int = 20) -> RecountView:
        """Recount up to ``limit`` more of the deadlines the approved draft moves, each case in its own
        audited transaction, and say how far the recount is."""
        _designer(user)
        with self.db.read() as s:
            d = calendar_drafts.get(s, draft_id)
        if d.status == "approved" and d.deployed_version is not None and limit > 0:
            recalendar.run_draft(self.rt, d.id, user.username, limit)
        return self.recount_status(user, draft_id)

    def recount_status(self, user: Principal, draft_id: int) -> RecountView:
        """How far the recount of an approved draft is, row by row (case, step, old and new due, result)."""
        _designer(user)
        with self.db.read() as s:
            d = calendar_drafts.get(s, draft_id)
            rows = []
            infos: dict[int, dict[str, Any]] = {}
            for r in calendar_drafts.recounts(s, draft_id):
                inst = s.get(Instance, r.instance_id)
                if inst.definition_id not in infos:
                    infos[inst.definition_id] = s.get(Definition, inst.definition_id).task_info or {}
                rows.append(RecountRow(r.instance_id, inst.reference or str(r.instance_id),
                                       _step(infos[inst.definition_id], r.element, _attached(s, r)),
                                       r.old_due, r.new_due, r.status, r.detail))
            return RecountView(recalendar.progress(s, draft_id), tuple(rows), d.deployed_version)


def _step(info: dict[str, Any], element: str, attached: str | None) -> str:
    """The step as the diagram names it: a boundary timer with the task it is attached to."""
    title = str(info.get(element, {}).get("title") or element)
    if attached:
        return f"{info.get(attached, {}).get('title') or attached} ({title})"
    return title


def _attached(s: Any, row: Any) -> str | None:
    """The task a recounted boundary timer is attached to (its rows, pending or not, say it)."""
    if row.kind != "timer":
        return None
    return s.execute(select(Timer.attached_to).where(Timer.instance_id == row.instance_id,
                                                     Timer.task_name == row.element)
                     .order_by(Timer.id.desc()).limit(1)).scalar()

