"""Formulas of n in job specs: depths ("10*n", "ceil(log2(n))"), observable indices and factors.

One evaluator for all of them: a whitelist of arithmetic and a few functions, no names
but n.
"""

from __future__ import annotations

import ast
import math

FUNCTIONS = {
    "ceil": math.ceil,
    "floor": math.floor,
    "log2": math.log2,
    "log": math.log,
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
    "round": round,
}
_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Pow,
    ast.Mod,
    ast.USub,
    ast.UAdd,
)


def evaluate(rule: str, n: int) -> float:
    """The value of a formula of n such as ``"10*n"``, ``"n-1"`` or ``"1/n"``."""
    try:
        tree = ast.parse(rule, mode="eval")
    except SyntaxError:
        raise ValueError(f"'{rule}' is not a formula of n") from None
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ValueError(
                f"'{rule}': only numbers, n, + - * / // ** % and {', '.join(FUNCTIONS)} are allowed"
            )
        if isinstance(node, ast.Name) and node.id != "n" and node.id not in FUNCTIONS:
            raise ValueError(f"'{rule}': unknown name '{node.id}' (the only variable is n)")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"'{rule}': only numbers are allowed as constants")
    try:
        code = compile(tree, "<formula>", "eval")
        value = eval(code, {"__builtins__": {}}, {"n": n, **FUNCTIONS})
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValueError(f"'{rule}' cannot be evaluated at n={n}: {exc}") from None
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"'{rule}' gives {value!r} at n={n}, not a finite real number")
    return value


def evaluate_integer(rule: str, n: int, what: str = "layers") -> int:
    """A formula that must give a whole number at n (a depth, a qubit index)."""
    value = evaluate(rule, n)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"'{rule}' gives {value} at n={n}, not a whole number of {what}")
        value = int(value)
    return int(value)


def evaluate_depth(rule: str, n: int) -> int:
    """Evaluate a depth formula such as ``"10*n"`` or ``"ceil(log2(n))"`` at n."""
    return evaluate_integer(rule, n)
