"""The external events a case waits for, as the legal designers describe them in ``workflows/eventos.toml``.

Registering one (a reported violation, the end of the state of risk, an amended norm) sends the BPMN
message the case waits for; what the person is asked, what it sets off and its article are legal
wording, so they live with the procedures and not in the web layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import DeploymentRejected

LANGUAGES = ("es", "en")
_TEXTS = ("accion", "descripcion", "cuando", "efecto")


@dataclass(frozen=True)
class EventTexts:
    accion: str  # the form's heading and button: what the person does
    descripcion: str  # label of the description
    cuando: str  # label of the date and time
    efecto: str  # what registering it sets off, in one sentence, with its article


@dataclass(frozen=True)
class ExternalEvent:
    name: str
    fundamento: str
    claves_fecha: tuple[str, ...]
    texts: dict[str, EventTexts] = field(default_factory=dict)

    def text(self, language: str) -> EventTexts:
        """The texts in ``language`` (``es`` or ``en``); Spanish where a text has no translation."""
        return self.texts.get(language[:2], self.texts["es"])


def parse(data: dict[str, Any], where: str = "eventos.toml") -> dict[str, ExternalEvent]:
    """The event kinds of a parsed ``eventos.toml``; a missing text or a bad date key is refused, named."""
    kinds: dict[str, ExternalEvent] = {}
    for name, entry in (data.get("eventos") or {}).items():
        if not isinstance(entry, dict):
            raise DeploymentRejected(f"{where}: [eventos.{name}] debe ser una tabla", field="eventos")
        texts = {"es": _texts(entry, f"{where}: [eventos.{name}]")}
        if isinstance(entry.get("en"), dict):
            texts["en"] = _texts({**entry, **entry["en"]}, f"{where}: [eventos.{name}.en]")
        keys = tuple(entry.get("claves_fecha") or ("fecha",))
        if not keys or keys[0] != "fecha" or not all(isinstance(k, str) and k for k in keys):
            raise DeploymentRejected(f"{where}: [eventos.{name}] claves_fecha debe empezar por \"fecha\"",
                                     field="eventos")
        kinds[name] = ExternalEvent(name, str(entry.get("fundamento") or ""), keys, texts)
    return kinds


def _texts(entry: dict[str, Any], where: str) -> EventTexts:
    missing = [k for k in _TEXTS if not isinstance(entry.get(k), str) or not entry[k].strip()]
    if missing:
        raise DeploymentRejected(f"{where}: falta el texto {missing[0]!r}", field="eventos")
    return EventTexts(*(entry[k].strip() for k in _TEXTS))
