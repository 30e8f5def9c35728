"""The scaling theorems the measurements are checked against, keyed on (ansatz, cost).

| ansatz, cost        | expected     | exact                                  |
|---------------------|--------------|----------------------------------------|
| product, global     | exponential  | Var = (1/8)(3/8)^(n−1), rate ln(8/3)   |
| product, local      | polynomial   | Var = 1/(8 n²), exponent 2             |
| alternating, global | exponential  | bounds only                            |
| alternating, local  | polynomial   | bounds only; needs depth O(log n)      |
| mcclean, zz         | exponential  | deep limit (1/3)·2^n/(4^n − 1), L ≥ 10n |
| qcnn, zout          | polynomial   | bound only                             |

The product-ansatz values hold for any parameter and any number of layers: RX angles on
one qubit add, and a sum of i.i.d. uniform angles is uniform mod 2π, so the derivative
with respect to any of them is the derivative with respect to one uniform angle. They
also hold for angles drawn from {0, π/2, π, 3π/2}, which keep every second moment.
The McClean deep limit is for a parameter of the first rotation layer (indices < n,
parameters numbered layer by layer): the layers after it form a 2-design when L ≳ 10n,
and averaging over the first rotation gives 1 − E⟨P⟩² = 2/3 for RY(π/4)|0⟩.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

LN_8_3 = math.log(8.0 / 3.0)


@dataclass(frozen=True)
class Theorem:
    """What the literature predicts for a family's variance against n."""

    model: str  # "exponential" or "polynomial"
    exact_rate: float | None
    reference: str
    statement: str
    needs_log_depth: bool = False  # alternating + local
    needs_deep: bool = False  # mcclean: the prediction holds once L >= 10 n


THEOREMS: dict[tuple[str, str], Theorem] = {
    ("product", "global"): Theorem(
        "exponential",
        LN_8_3,
        "Cerezo et al., Nat. Commun. 12, 1791 (2021), warm-up",
        "Var = (1/8)(3/8)^(n-1): exponential with rate ln(8/3)",
    ),
    ("product", "local"): Theorem(
        "polynomial",
        2.0,
        "Cerezo et al., Nat. Commun. 12, 1791 (2021), warm-up",
        "Var = 1/(8 n^2): polynomial with exponent 2",
    ),
    ("alternating", "global"): Theorem(
        "exponential",
        None,
        "Cerezo et al., Nat. Commun. 12, 1791 (2021), Thm 1",
        "global cost: exponential decay for any depth",
    ),
    ("alternating", "local"): Theorem(
        "polynomial",
        None,
        "Cerezo et al., Nat. Commun. 12, 1791 (2021), Thm 2",
        "local cost: Var in Omega(1/poly n) for depth O(log n)",
        needs_log_depth=True,
    ),
    ("mcclean", "zz"): Theorem(
        "exponential",
        None,
        "McClean et al., Nat. Commun. 9, 4812 (2018)",
        "exponential in n once L >~ 10 n; deep limit (1/3) 2^n/(4^n - 1)",
        needs_deep=True,
    ),
    ("qcnn", "zout"): Theorem(
        "polynomial",
        None,
        "Pesah et al., PRX 11, 041011 (2021)",
        "no barren plateau: Var in Omega(1/poly n)",
    ),
}

DEEP_FACTOR = 10  # McClean: depth >= 10 n counts as converged


def theorem_for(ansatz: str, cost: str, spec: dict | None = None) -> Theorem | None:
    """The theorem for a family: the law the user named in its sweep (`theorem = …`), else
    the literature's for an (ansatz, cost) pair, or None."""
    named = (spec or {}).get("theorem")
    if named in ("exponential", "polynomial"):
        return Theorem(
            named,
            None,
            "named in the job (sweep key `theorem`)",
            f"the user expects {named} decay of the variance in n",
        )
    return THEOREMS.get((ansatz, cost))


def for_loss(theorem: Theorem) -> Theorem:
    """The same law for the cost's variance: exponential concentration of the loss and
    of its gradients go together (Arrasmith et al. 2022), but the exact gradient rates
    and deep limits are not the loss's, so only the model is kept."""
    return dataclasses.replace(
        theorem,
        exact_rate=None,
        statement=theorem.statement + " (applied to the loss: cost concentration)",
    )


def mcclean_deep_limit(n: int) -> float:
    """(1/3)·2^n/(4^n − 1): Var of a first-layer derivative once the rest is a 2-design."""
    return (2.0**n) / (3.0 * (4.0**n - 1.0))


def deep_limit(ansatz: str, cost: str, n: int, param: int) -> float | None:
    """The deep-circuit limit of Var, where one is known (McClean, first layer)."""
    if (ansatz, cost) == ("mcclean", "zz") and 0 <= param < n:
        return mcclean_deep_limit(n)
    return None


def exact_variance(ansatz: str, cost: str, n: int, depth: int, param: int) -> float | None:
    """The exact Var[∂C/∂θ_param] where a closed form applies, else None."""
    if ansatz == "product" and cost == "global":
        return 0.125 * 0.375 ** (n - 1)
    if ansatz == "product" and cost == "local":
        return 1.0 / (8.0 * n * n)
    if (ansatz, cost) == ("mcclean", "zz") and depth >= DEEP_FACTOR * n:
        return deep_limit(ansatz, cost, n, param)
    return None


def exact_law(ansatz: str, cost: str) -> Callable[[float], float] | None:
    """Var(n) as a function for plotting, where it does not depend on depth."""
    if ansatz == "product" and cost == "global":
        return lambda n: 0.125 * 0.375 ** (n - 1)
    if ansatz == "product" and cost == "local":
        return lambda n: 1.0 / (8.0 * n * n)
    return None


_FUNCS: dict[str, Callable[..., float]] = {
    "ceil": math.ceil,
    "floor": math.floor,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "round": round,
}
_BINOPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: float(a) ** b,
}


def eval_depth_rule(rule: str, n: float) -> float:
    """Evaluate a depth rule such as "10*n" or "ceil(log2(n))" at n (no Python eval)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name) and node.id == "n":
            return n
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            return _FUNCS[node.func.id](*(ev(a) for a in node.args))
        raise ValueError(f"unsupported depth rule {rule!r}")

    return float(ev(ast.parse(rule.strip(), mode="eval")))


def depth_growth(rule: str) -> str:
    """ "constant", "logarithmic", "faster" or "unknown" growth of a depth rule in n.

    Compares the rule at n = 2^10 and 2^20: a logarithm doubles, any power of n grows
    by 2^(10 p) (≥ 32 for p ≥ 1/2).
    """
    try:
        d1, d2 = eval_depth_rule(rule, 2.0**10), eval_depth_rule(rule, 2.0**20)
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError, OverflowError):
        return "unknown"
    if d1 == d2:
        return "constant"
    if d1 <= 0 or d2 <= 0:
        return "unknown"
    return "logarithmic" if d2 / d1 <= 2.5 else "faster"


_OFF_VALUES = (None, False, 0, "", "none", "None", "off", "false", [], {})


def spec_modifiers(spec: dict) -> list[str]:
    """Spec keys that put a task outside the noiseless, exact-expectation theorems."""
    found = []
    for key, value in spec.items():
        name = str(key).lower()
        if ("noise" in name or name == "shots") and value not in _OFF_VALUES:
            found.append(str(key))
    return sorted(found)
