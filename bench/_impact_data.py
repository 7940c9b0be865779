"""The impact benchmark's data: 100,000 pending legal terms in the timer mirror, made in bulk.

How the data is made (``build``):

1. **Real rows.** A fresh SQLite database gets the schema and the project's procedures
   (``workflows/``) deployed, exactly as ``tramita init-db`` + ``tramita deploy workflows`` would.
2. **Bulk terms.** ``cases`` running sanción cases are inserted with SQLAlchemy Core ``executemany``
   (the serialized state is not read by the impact preview, so it is a stub), each with one pending
   timer: the art. 54 recurso term (5 días hábiles from the day after notification, boundary timer
   ``plazo_recurso_vencido``) for most, the art. 57 resolution term (30 días hábiles) for a tenth and a
   prescription counted in months (which no calendar moves) for another tenth. Notification days are
   spread over 1 November 2026 – 28 February 2027, so that the winter vacation the benchmark
   declares (21 December 2026 – 1 January 2027) moves some terms and leaves most alone. Every term's
   explanation is the one the engine itself writes (``LegalCalendar.business_days(...).to_dict()``),
   its ``due_at`` the instant that explanation gives.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from engine.deploy import versions  # noqa: E402
from engine.store import accounts as _accounts  # noqa: E402,F401  (its tables belong to the schema)
from engine.store.db import Database  # noqa: E402
from engine.store.models import Base, Definition, Instance, Timer  # noqa: E402
from engine.time.calendar import HERMOSILLO, default_calendar  # noqa: E402

ART_54 = "Ley de Prevención y Atención de la Violencia Familiar art. 54"
ART_57 = "Ley de Prevención y Atención de la Violencia Familiar art. 57"
FIRST, DAYS = date(2026, 11, 1), 120
UTC = timezone.utc


def build(path: Path, cases: int, seed: int = 13) -> Database:
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    versions.deploy(db, versions.collect_files([ROOT / "workflows"]), "bench")
    with db.read() as s:
        definition = s.execute(select(Definition.id).where(Definition.key == "sancion")).scalar()
    cal, rnd = default_calendar(), random.Random(seed)
    terms: dict[tuple[date, str], dict] = {}
    for offset in range(DAYS):  # one explanation per notification day and term, as the engine computes it
        day = FIRST + timedelta(days=offset)
        notified = datetime.combine(day, time(12), HERMOSILLO)
        terms[(day, "54")] = cal.business_days(notified, 5, citation=ART_54).to_dict()
        terms[(day, "57")] = cal.business_days(notified, 30, citation=ART_57).to_dict()
        due = datetime.combine(day.replace(year=day.year + 1), time(0), HERMOSILLO)
        terms[(day, "53")] = {"start": notified.isoformat(), "unit": "months", "count": 12, "rule": "Código Civil",
                              "due": due.isoformat(), "skipped": [], "citation": "art. 53"}
    now = datetime(2026, 11, 1, tzinfo=UTC)
    instances, timers = [], []
    for n in range(1, cases + 1):
        day = FIRST + timedelta(days=rnd.randrange(DAYS))
        kind = rnd.choices(("54", "57", "53"), (8, 1, 1))[0]
        term = terms[(day, kind)]
        element = {"54": "plazo_recurso_vencido", "57": "plazo_resolver_recurso", "53": "prescripcion"}[kind]
        instances.append({"id": n, "definition_id": definition, "process_key": "sancion", "reference": f"SAN-{n:06d}",
                          "title": "Procedimiento sancionador", "status": "running", "state": "{}", "revision": 1,
                          "started_at": now, "started_by": "bench", "updated_at": now, "institution": "DIF"})
        timers.append({"instance_id": n, "task_id": f"{n:08d}-0000-4000-8000-000000000000", "task_name": element,
                       "kind": "date", "interrupting": True, "attached_to": None, "status": "pending",
                       "due_at": datetime.fromisoformat(term["due"]).astimezone(UTC), "deadline": term})
    with db.engine.begin() as c:
        for i in range(0, cases, 10_000):
            c.execute(insert(Instance), instances[i:i + 10_000])
            c.execute(insert(Timer), timers[i:i + 10_000])
    with db.engine.connect() as c:  # as a running server's database is: the write-ahead log checkpointed
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return db
