"""A Plazo (count, unit, from, before/after, repeats, move, month rule, article) written as the timer expression.

The studio's Plazo group and this module write the same text, so a designer never types Python
for a deadline, and the lint can tell when a timer no longer matches its Plazo.
"""

from __future__ import annotations

import ast
import json
import re

from engine.deploy.lint.model import Plazo
from engine.time.months import RULES

UNITS = {"dias_habiles": "plazo_habil", "dias_naturales": "plazo_natural", "horas": "plazo_horas",
         "meses": "plazo_meses"}
UNIT_LABELS = {"dias_habiles": "días hábiles", "dias_naturales": "días naturales", "horas": "horas",
               "meses": "meses"}
RULE_LABELS = {"administrativa": "administrativa (LFPA art. 29)",
               "prescripcion": "de la prescripción (Código Civil art. 1180)"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM = re.compile(r"^parametros(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class PlazoError(ValueError):
    """A Plazo that cannot be written as a timer; the message is Spanish and says what to fix."""


def _factor(t: str) -> str:
    if t.isdigit():
        return str(int(t))
    if _PARAM.match(t):
        return "parametros" + "".join(f'["{p}"]' for p in t.split(".")[1:])
    if _IDENT.match(t):
        return t
    raise PlazoError(f"«{t}» no es un número, un parámetro (parametros.…) ni un dato del caso")


def count_expression(cantidad: str) -> str:
    """``5``, ``parametros.agravio.prevencion_dias_habiles``, ``vigencia_dias + dias_prorroga``, or products
    such as ``contacto_numero * parametros.orden_proteccion.seguimiento_intervalo_horas`` (the n-th 24-hour
    period of LGAMVLV art. 34 Bis): sums of products of numbers, parameters and case fields, nothing else."""
    terms = [t.strip() for t in cantidad.split("+")]
    if not cantidad.strip() or not all(terms):
        raise PlazoError("falta la cantidad del plazo: escriba un número, un parámetro legal o un dato del caso")
    out = []
    for t in terms:
        factors = [f.strip() for f in t.split("*")]
        if not all(factors):
            raise PlazoError(f"«{t}» no es un producto completo: escriba un número, parámetro o dato a cada lado de *")
        out.append(" * ".join(_factor(f) for f in factors))
    return " + ".join(out)


def rule_expression(regla: str) -> str:
    """The month rule: a parameter that cites it (``parametros.sancion.prescripcion_regla``) or its name.

    Which rule governs a term in months is a legal judgement (engine/time/months.py): the
    administrative rule of LFPA art. 29 or the prescription rule of Código Civil art. 1180.
    """
    regla = (regla or "").strip()
    if regla in RULES:
        return json.dumps(regla)
    if _PARAM.match(regla):
        return _factor(regla)
    if not regla:
        raise PlazoError("falta la regla de los meses: elija «administrativa» (LFPA art. 29), «prescripcion» "
                         "(Código Civil art. 1180) o el parámetro legal que la cita (parametros.…)")
    raise PlazoError(f"la regla de meses «{regla}» no existe: elija «administrativa», «prescripcion» o un "
                     "parámetro legal (parametros.…)")


def expression(p: Plazo) -> str:
    if p.unidad not in UNITS:
        raise PlazoError(f"la unidad «{p.unidad}» no existe: elija días hábiles, días naturales, horas o meses")
    if not _IDENT.match(p.desde or ""):
        raise PlazoError("falta la fecha del caso desde la que corre el plazo: elija el dato (p. ej. fecha_emision)")
    n = count_expression(p.cantidad)
    if p.sentido == "antes":
        n = f"-({n})"
    args = [p.desde, n]
    if p.unidad == "meses":
        args.append(rule_expression(p.regla))
    args.append(json.dumps(p.articulo, ensure_ascii=False))
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
    if p.unidad == "meses" and p.regla:
        text += f", regla {RULE_LABELS.get(p.regla, p.regla.replace('parametros.', 'del parámetro '))}"
    return text + (f" ({p.articulo})" if p.articulo else "")
