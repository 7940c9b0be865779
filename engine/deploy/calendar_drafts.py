"""Drafts of the legal calendar: a ``design_drafts`` row whose key is ``calendario``.

The draft belongs to its author, is kept on the server and resumable; its text is always the base
version's text with its changes applied (``engine.deploy.calendar_text``). Submitting, approving by
another legal designer and rejecting follow the procedure drafts (``engine.deploy.drafts``); approval
deploys the calendar as its next version and, in the same transaction, writes one recount row per
running deadline the new calendar moves (``engine.run.recalendar`` recounts them case by case).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import delete, select

from engine.deploy import bundle, calendar_text, drafts, parts, versions
from engine.deploy.calendar_text import Change
from engine.errors import Conflict, InvalidInput, InvalidState, NotFound
from engine.store.calendar_drafts import CalendarChange, CalendarRecount
from engine.store.drafts import Draft, VersionNote
from engine.time import clock
from engine.time.calendar import SHIPPED_CALENDAR

KEY = parts.CALENDAR_KEY
MAIN_FILE = parts.CALENDAR + SHIPPED_CALENDAR.name  # calendar/sonora.toml


def is_calendar(draft: Draft) -> bool:
    return draft.process_key == KEY


def base_texts(session: Any, version: int | None = None) -> tuple[int | None, dict[str, str]]:
    """The files of calendar ``version`` (the newest by default) by name; the shipped file before any deploy."""
    from engine.store.models import Definition

    q = select(Definition).where(Definition.kind == "calendar", Definition.key == KEY)
    q = q.where(Definition.version == version) if version is not None else q.order_by(Definition.version.desc())
    found = session.execute(q.limit(1)).scalar()
    if found is None:
        if version is not None:
            raise NotFound(f"No existe la versión {version} del calendario.", field="version")
        return None, {MAIN_FILE: SHIPPED_CALENDAR.read_text(encoding="utf-8")}
    return found.version, dict(parts.load_parts(session, found.id).texts)


def latest_version(session: Any) -> int | None:
    found = bundle.latest_standalone(session, "calendar")
    return found.version if found is not None else None


def get(session: Any, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None or not is_calendar(draft):
        raise NotFound(f"El borrador de calendario {draft_id} no existe.", field="draft")
    return draft


def listing(session: Any) -> list[Draft]:
    return list(session.execute(select(Draft).where(Draft.process_key == KEY)
                                .order_by(Draft.updated_at.desc())).scalars())


def create(session: Any, author: str) -> Draft:
    """The author's open calendar draft (resumed), or a new one from the calendar in force."""
    existing = session.execute(
        select(Draft).where(Draft.process_key == KEY, Draft.author == author,
                            Draft.status.in_(drafts.EDITABLE + ("submitted",)))
        .order_by(Draft.id.desc()).limit(1)).scalar()
    if existing is not None:
        latest = latest_version(session)
        if existing.status in drafts.EDITABLE and existing.base_version != latest:
            _rebase(session, existing, latest, author)
        return existing
    version, texts = base_texts(session)
    name = MAIN_FILE if MAIN_FILE in texts else sorted(texts)[0]
    now = clock.now()
    draft = Draft(process_key=KEY, filename=name, base_version=version, author=author, content=texts[name],
                  status="draft", change_note="", created_at=now, updated_at=now, review_comment="", forms={})
    session.add(draft)
    session.flush()
    drafts._audit(session, draft, author, "created", f"desde la versión {version} del calendario"
                  if version is not None else "desde el calendario del repositorio")
    return draft


def _rebase(session: Any, draft: Draft, latest: int | None, author: str) -> None:
    """Resume a draft whose base is no longer in force on the newest version: its changes again on it."""
    old = draft.base_version
    draft.base_version = latest
    try:
        _rebuild(session, draft, [c for _, c in changes(session, draft.id)])
    except InvalidInput:  # a change no longer applies (what it removed is gone): the author sees it and undoes it
        draft.base_version = old
        return
    drafts._audit(session, draft, author, "rebased", f"sobre la versión {latest} del calendario")


def changes(session: Any, draft_id: int) -> list[tuple[int, Change]]:
    rows = session.execute(select(CalendarChange).where(CalendarChange.draft_id == draft_id)
                           .order_by(CalendarChange.id)).scalars()
    return [(r.id, Change(r.action, r.kind, r.first_day, r.last_day, r.reason, r.source)) for r in rows]


def _editable(draft: Draft, user: str) -> None:
    drafts._own(draft, user)
    if draft.status not in drafts.EDITABLE:
        raise InvalidState("El borrador ya se envió a aprobación: espere la revisión para modificarlo.",
                           field="draft")


def _rebuild(session: Any, draft: Draft, wanted: Sequence[Change]) -> None:
    _, texts = base_texts(session, draft.base_version)
    draft.content = calendar_text.apply(texts[draft.filename], draft.filename, wanted)
    draft.status = "draft"
    draft.updated_at = clock.now()


def add_change(session: Any, draft: Draft, user: str, change: Change) -> CalendarChange:
    _editable(draft, user)
    _rebuild(session, draft, [c for _, c in changes(session, draft.id)] + [change])
    row = CalendarChange(draft_id=draft.id, action=change.action, kind=change.kind, first_day=change.first,
                         last_day=change.last, reason=change.reason, source=change.source, created_at=clock.now())
    session.add(row)
    session.flush()
    drafts._audit(session, draft, user, "calendar_change",
                  f"{change.action} {change.first.isoformat()}–{change.last.isoformat()}: {change.reason} "
                  f"({change.source})")
    return row


def drop_change(session: Any, draft: Draft, user: str, change_id: int) -> None:
    _editable(draft, user)
    kept = [c for cid, c in changes(session, draft.id) if cid != change_id]
    if len(kept) == len(changes(session, draft.id)):
        raise NotFound(f"El cambio {change_id} no está en este borrador.", field="change")
    _rebuild(session, draft, kept)
    session.execute(delete(CalendarChange).where(CalendarChange.id == change_id))
    drafts._audit(session, draft, user, "calendar_undo", str(change_id))


def submit(session: Any, draft: Draft, user: str, note: str) -> Draft:
    if not changes(session, draft.id):
        raise InvalidInput("El borrador no tiene cambios: agregue o quite un día antes de enviarlo.", field="changes")
    return drafts.submit(session, draft, user, note, [])


def files_of(session: Any, draft: Draft) -> list[versions.BundleFile]:
    """The whole calendar the draft would deploy: its base version's files with the edited one replaced."""
    _, texts = base_texts(session, draft.base_version)
    texts[draft.filename] = draft.content
    return [versions.BundleFile(name, text.encode("utf-8")) for name, text in sorted(texts.items())]


def approve(session: Any, draft: Draft, user: str, comment: str, moved: Iterable[Any]) -> int:
    """Deploy the draft as the next calendar version and queue the recount of the deadlines it moves."""
    drafts._reviewable(session, draft, user)
    latest = latest_version(session)
    if latest != draft.base_version:
        raise Conflict(f"El borrador parte de la versión {draft.base_version} del calendario, pero ya existe la "
                       f"versión {latest}: quien lo escribió debe rehacerlo sobre la vigente.", field="base_version")
    result = versions.deploy_in(session, files_of(session, draft), draft.author)
    mine = [d for d in result.definitions if d.kind == "calendar"]
    if result.deployment_id is None or not mine or not mine[0].created:
        raise InvalidState("El borrador no cambia el calendario vigente: no hay qué desplegar.", field="content")
    version = mine[0].version
    now = clock.now()
    session.add(VersionNote(deployment_id=result.deployment_id, note=draft.change_note, approved_by=user,
                            draft_id=draft.id, effective_from=None))
    count = 0
    for m in moved:
        session.add(CalendarRecount(draft_id=draft.id, calendar_version=version, instance_id=m.instance_id,
                                    element=m.element, kind=m.kind, old_due=m.old_due, new_due=m.new_due,
                                    status="pendiente", detail="", claimed_until=None, done_at=None))
        count += 1
    draft.status = "approved"
    draft.reviewed_by, draft.reviewed_at, draft.review_comment = user, now, comment.strip()
    draft.deployed_version = version
    draft.updated_at = now
    drafts._audit(session, draft, user, "approved", f"calendario versión {version}; {count} plazo(s) por "
                  f"recomputar; {comment.strip()}")
    return version


def recounts(session: Any, draft_id: int) -> list[CalendarRecount]:
    return list(session.execute(select(CalendarRecount).where(CalendarRecount.draft_id == draft_id)
                                .order_by(CalendarRecount.id)).scalars())


def describe(c: Change) -> str:
    """A change as the explanations name it: «Vacaciones de invierno, del 21/12/2026 al 01/01/2027 (acuerdo)»."""
    span = c.first.strftime("%d/%m/%Y") if c.first == c.last else \
        f"del {c.first.strftime('%d/%m/%Y')} al {c.last.strftime('%d/%m/%Y')}"
    verb = "" if c.action == calendar_text.ADD else "se quita "
    return f"{verb}{c.reason}, {span} ({c.source})"


def change_label(session: Any, draft: Draft) -> str:
    """What a recomputed deadline's explanation says moved it: the version and the draft's changes."""
    return f"calendario versión {draft.deployed_version}: " + "; ".join(
        describe(c) for _, c in changes(session, draft.id))


def calendar_of_version(session: Any, version: int) -> Any:
    _, texts = base_texts(session, version)
    return calendar_text.calendar_of(texts)
