"""A Plazo (count, unit, from, before/after, repeats, move, article) written as the timer expression.

The studio's Plazo group and this module write the same text, so a designer never types Python
for a deadline, and the lint can tell when a timer no longer matches its Plazo.
"""

from __future__ import annotations

import ast
import json
import re

from engine.deploy.lint.model import Plazo

UNITS = {"dias_habiles": "plazo_habil", "dias_naturales": "plazo_natural", "horas": "plazo_horas",
         "meses": "plazo_meses"}
UNIT_LABELS = {"dias_habiles": "días hábiles", "dias_naturales": "días naturales", "horas": "horas",
               "meses": "meses"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM = re.compile(r"^parametros(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class PlazoError(ValueError):
    """A Plazo that cannot be written as a timer; the message is Spanish and says what to fix."""


def count_expression(cantidad: str) -> str:
    """``5``, ``parametros.agravio.prevencion_dias_habiles``, ``vigencia_dias + dias_prorroga``."""
    terms = [t.strip() for t in cantidad.split("+")]
    if not cantidad.strip() or not all(terms):
        raise PlazoError("falta la cantidad del plazo: escriba un número, un parámetro legal o un dato del caso")
    out = []
    for t in terms:
        if t.isdigit():
            out.append(str(int(t)))
        elif _PARAM.match(t):
            out.append("parametros" + "".join(f'["{p}"]' for p in t.split(".")[1:]))
        elif _IDENT.match(t):
            out.append(t)
        else:
            raise PlazoError(f"«{t}» no es un número, un parámetro (parametros.…) ni un dato del caso")
    return " + ".join(out)


def expression(p: Plazo) -> str:
    if p.unidad not in UNITS:
        raise PlazoError(f"la unidad «{p.unidad}» no existe: elija días hábiles, días naturales, horas o meses")
    if not _IDENT.match(p.desde or ""):
        raise PlazoError("falta la fecha del caso desde la que corre el plazo: elija el dato (p. ej. fecha_emision)")
    n = count_expression(p.cantidad)
    if p.sentido == "antes":
        n = f"-({n})"
    args = [p.desde, n, json.dumps(p.articulo, ensure_ascii=False)]
    if p.unidad == "dias_naturales" and not p.mover:
        args.append("False")
    call = f"{UNITS[p.unidad]}({', '.join(args)})"
    if not p.repeticiones:
        return call
    if p.unidad not in ("horas", "dias_naturales"):
        raise PlazoError("un plazo que se repite se cuenta en horas o días naturales")
    times = count_expression(p.repeticiones)
    step = f'"/PT" + str({n}) + "H"' if p.unidad == "horas" else f'"/P" + str({n}) + "D"'
    return f'"R" + str({times}) + "/" + {call} + {step}'


def same(a: str, b: str) -> bool:
    """Whether two expressions are the same code (whitespace and quoting aside)."""
    try:
        return ast.dump(ast.parse(a.strip(), mode="eval")) == ast.dump(ast.parse(b.strip(), mode="eval"))
    except SyntaxError:
        return False


def words(p: Plazo) -> str:
    """The Plazo as a lawyer reads it: «5 días hábiles después de fecha_notificacion (Reglamento art. 36)»."""
    count = p.cantidad.replace("parametros.", "parámetro ")
    text = f"{count} {UNIT_LABELS.get(p.unidad, p.unidad)} {'antes de' if p.sentido == 'antes' else 'desde'} {p.desde}"
    if p.repeticiones:
        text += f", repetido {p.repeticiones} veces"
    if p.unidad == "dias_naturales" and not p.mover:
        text += ", sin recorrer al día hábil siguiente"
    return text + (f" ({p.articulo})" if p.articulo else "")
