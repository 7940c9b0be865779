"""What the deploy lint can see in diagram code without running it.

A literal that could never run within the budget (``10**10**10``, ``'a' * (3 * 10**9)``) and a
``while True`` with no ``break`` are refused when the diagram is deployed, not found when a case
reaches them. Constant parts are folded with the same guards the running code uses, so the
lint and the run time agree on what is too big.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

from engine.script.budget import Budget, BudgetExceeded, Limits

_PLAIN = {ast.Sub: operator.sub, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
          ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
          ast.BitXor: operator.xor}
_GUARDED = {ast.Mult: Budget.mul, ast.Pow: Budget.pow, ast.LShift: Budget.lshift, ast.Add: Budget.add,
            ast.Mod: Budget.mod}


class _NotConstant(Exception):
    pass


def fold(node: ast.AST, budget: Budget) -> Any:
    """The value of a constant expression, computed under ``budget``; :class:`_NotConstant` otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = fold(node.operand, budget)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [fold(e, budget) for e in node.elts]
    if isinstance(node, ast.BinOp):
        left, right = fold(node.left, budget), fold(node.right, budget)
        try:
            guarded = _GUARDED.get(type(node.op))
            if guarded is not None:
                return guarded(budget, left, right)
            plain = _PLAIN.get(type(node.op))
            if plain is not None:
                return plain(left, right)
        except BudgetExceeded:
            raise
        except Exception:  # noqa: BLE001 - 1/0 and friends fail when run, not here
            raise _NotConstant() from None
    raise _NotConstant()


def _breaks(loop: ast.While) -> bool:
    """Whether a ``break`` (or ``return``) of this loop itself, not of a nested loop, can end it."""
    pending = list(loop.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Break, ast.Return)):
            return True
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            pending.extend(node.orelse)
            continue
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return False


def static_problem(tree: ast.AST, limits: Limits) -> str | None:
    """Why this code could never run within ``limits``, or None."""
    budget = Budget(limits)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            try:
                fold(node, budget)
            except _NotConstant:
                pass
            except BudgetExceeded as exc:
                return f"a literal too large to compute: {exc}"
            budget = Budget(limits)  # each literal on its own
        elif isinstance(node, ast.While):
            try:
                forever = bool(fold(node.test, budget))
            except (_NotConstant, BudgetExceeded):
                forever = isinstance(node.test, ast.Constant) and bool(node.test.value)
            if forever and not _breaks(node):
                return "a 'while' loop whose condition is always true and that has no 'break' never ends"
    return None


def literal_int(source: str, limits: Limits) -> int | None:
    """The integer a constant expression denotes (e.g. a ``loopCardinality``), or None if it is not constant."""
    try:
        value = fold(ast.parse(source, mode="eval").body, Budget(limits))
    except (_NotConstant, BudgetExceeded, SyntaxError):
        return None
    return value if isinstance(value, int) else None
