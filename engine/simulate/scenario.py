"""A legal scenario as a legal designer writes it: ``workflows/scenarios/<procedimiento>/*.toml``.

Example (every instant is Hermosillo wall time, as the articles read)::

    procedimiento = "sancion"
    titulo = "Notificada el viernes 18 de diciembre: el recurso vence el lunes 28"
    inicio = "2026-03-11T09:00:00"
    datos = { ejemplo = "sancion_inicio" }

    [[actos]]
    en = "2026-12-18T12:00:00"
    completar = "notificar_resolucion"          # the element id the studio shows
    datos = { ejemplo = "sancion_notificacion" }
    abiertas = ["interponer_recurso"]            # open right after this act

    [[actos]]
    en = "2026-12-29T00:00:00"                   # let time pass: timers due by then fire

    [[esperado.plazos]]
    elemento = "interponer_recurso"
    vence = "2026-12-28T23:59:59"

    [esperado]
    fin = "fin_cobro"

``datos`` is a table of values, or ``{ ejemplo = "<form>", indice = N, cambios = {...} }`` to take a
documented example of a form (its ``examples``) with changes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.time.hermosillo import HERMOSILLO, to_local



@dataclass(frozen=True)
class Act:
    at: datetime
    complete: str | None = None
    message: str | None = None
    data: Any = None
    open_after: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExpectedDeadline:
    element: str
    due: datetime
    citation: str | None = None


@dataclass(frozen=True)
class Scenario:
    path: str
    procedure: str
    title: str
    start_at: datetime
    start_data: Any
    acts: tuple[Act, ...]
    deadlines: tuple[ExpectedDeadline, ...] = ()
    end: str | None = None
    status: str | None = None
    extra_days: dict[date, str] = field(default_factory=dict)  # días inhábiles this scenario declares

    def span(self) -> tuple[date, date]:
        """The first and last local day the scenario looks at (its start, its acts, its expected due
        dates): a calendar change outside it cannot change its result."""
        days = [self.start_at, *(a.at for a in self.acts), *(d.due for d in self.deadlines)]
        local = [to_local(d).date() for d in days]
        return min(local), max(local)


def instant(text: Any, where: str) -> datetime:
    """An instant in the scenario: Hermosillo wall time unless it carries its offset."""
    if not isinstance(text, str):
        raise InvalidInput(f"{where}: escriba la fecha y hora como texto, p. ej. \"2026-12-18T12:00:00\"",
                           field=where)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{where}: {text!r} no es una fecha y hora (AAAA-MM-DDTHH:MM:SS)", field=where) from None
    return value if value.tzinfo else value.replace(tzinfo=HERMOSILLO)


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: no se pudo leer: {exc}", field="scenario") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: TOML no válido: {exc}", field="scenario") from None
    return parse(raw, str(path))


_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_ACT = re.compile(r": acto (\d+)")


def parse_text(text: str, where: str) -> Scenario:
    """A scenario as a designer typed it in the studio: its errors in Spanish, naming the line (the
    TOML reader's own, or the line of the ``[[actos]]`` the error is about) and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _AT.search(str(exc))
        at = f" en la línea {found.group(1)}, columna {found.group(2)}" if found else ""
        raise InvalidInput(f"El escenario no es TOML válido{at}: revise las comillas, los corchetes y el signo «=» "
                           "(cada valor de texto va entre comillas).", field="scenario") from None
    try:
        return parse(raw, where)
    except InvalidInput as exc:
        act = _ACT.search(exc.message)
        if act:
            headers = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "[[actos]]"]
            number = int(act.group(1))
            if 0 < number <= len(headers):
                raise InvalidInput(f"{exc.message} (línea {headers[number - 1]})", field=exc.field) from None
        raise


def parse(raw: dict[str, Any], where: str) -> Scenario:
    unknown = set(raw) - {"procedimiento", "titulo", "inicio", "datos", "actos", "esperado", "calendario"}
    if unknown:
        raise InvalidInput(f"{where}: clave desconocida {sorted(unknown)[0]!r}", field="scenario")
    procedure = raw.get("procedimiento")
    if not isinstance(procedure, str) or not procedure:
        raise InvalidInput(f"{where}: falta «procedimiento» (la clave del procedimiento)", field="procedimiento")
    acts = []
    previous = instant(raw.get("inicio"), f"{where}: inicio")
    for i, entry in enumerate(raw.get("actos") or [], 1):
        here = f"{where}: acto {i}"
        if not isinstance(entry, dict):
            raise InvalidInput(f"{here}: debe ser una tabla [[actos]]", field="actos")
        extra = set(entry) - {"en", "completar", "mensaje", "datos", "abiertas"}
        if extra:
            raise InvalidInput(f"{here}: clave desconocida {sorted(extra)[0]!r}", field="actos")
        if entry.get("completar") and entry.get("mensaje"):
            raise InvalidInput(f"{here}: un acto completa una tarea o entrega un mensaje, no ambos", field="actos")
        at = instant(entry.get("en"), f"{here}: en")
        if at < previous:
            raise InvalidInput(f"{here}: {entry['en']} es anterior al acto previo; los actos van en orden",
                               field="actos")
        previous = at
        opened = entry.get("abiertas")
        acts.append(Act(at, entry.get("completar"), entry.get("mensaje"), entry.get("datos", {}),
                        tuple(opened) if opened is not None else None))
    expected = raw.get("esperado") or {}
    if not isinstance(expected, dict):
        raise InvalidInput(f"{where}: «esperado» debe ser una tabla [esperado]", field="esperado")
    for d in expected.get("plazos") or []:
        if not isinstance(d, dict) or not d.get("elemento"):
            raise InvalidInput(f"{where}: cada [[esperado.plazos]] lleva «elemento» (el id del paso) y «vence»",
                               field="esperado.plazos")
    deadlines = tuple(ExpectedDeadline(str(d["elemento"]), instant(d.get("vence"), f"{where}: esperado.plazos"),
                                       d.get("articulo")) for d in expected.get("plazos") or [])
    return Scenario(where, procedure, str(raw.get("titulo") or Path(where).stem),
                    instant(raw.get("inicio"), f"{where}: inicio"), raw.get("datos", {}), tuple(acts), deadlines,
                    expected.get("fin"), expected.get("estado"), _extra_days(raw.get("calendario") or {}, where))


def _extra_days(table: dict[str, Any], where: str) -> dict[date, str]:
    """``[calendario] inhabiles = [{ fecha = "2026-12-23", motivo = "...", fuente = "..." }]``: days this
    scenario declares non-working on top of the calendar in force (a "what if" the acuerdo is published)."""
    days: dict[date, str] = {}
    for entry in table.get("inhabiles") or []:
        if not isinstance(entry, dict) or not entry.get("motivo") or not entry.get("fuente"):
            raise InvalidInput(f"{where}: cada día inhábil lleva fecha, motivo y fuente", field="calendario")
        try:
            day = date.fromisoformat(str(entry.get("fecha")))
        except ValueError:
            raise InvalidInput(f"{where}: calendario: {entry.get('fecha')!r} no es una fecha", field="calendario") from None
        days[day] = f"{entry['motivo']} ({entry['fuente']})"
    return days


def resolve_data(spec: Any, forms: dict[str, dict[str, Any]], where: str) -> dict[str, Any]:
    """A table of values, or a form's documented example with changes."""
    if not isinstance(spec, dict):
        raise InvalidInput(f"{where}: «datos» debe ser una tabla", field="datos")
    if "ejemplo" not in spec:
        return dict(spec)
    form = forms.get(str(spec["ejemplo"]))
    if form is None:
        raise InvalidInput(f"{where}: no hay formulario {spec['ejemplo']!r} en el procedimiento", field="datos")
    examples = form.get("examples") or []
    index = int(spec.get("indice", 0))
    if not 0 <= index < len(examples):
        raise InvalidInput(f"{where}: el formulario {spec['ejemplo']!r} no tiene el ejemplo {index}", field="datos")
    data = dict(examples[index])
    data.update(spec.get("cambios") or {})
    for key in spec.get("quitar") or []:
        data.pop(key, None)
    return data
