"""Noise-induced barren plateaus: noisy depth sweeps against Wang et al.'s bound.

Wang et al., Nat. Commun. 12, 6961 (2021), Thm 1: with local Pauli noise of parameter q on
every qubit in every layer, |∂C| ≤ F(n)·q^(L+1) at every θ, so Var[∂C] ≤ F(n)²·q^(2L+2) and

    ln Var ≤ const + 2L·ln q:   the slope of ln Var against the depth L is at most 2 ln q.

q is the largest factor by which one channel multiplies a traceless single-qubit Pauli
(the task's `noise` as the suite applies it, docs/noise.md):

* depolarizing p, ρ → (1 − p)ρ + p·I/2^k: every non-identity Pauli × (1 − p), q = 1 − p;
* amplitude damping g: X, Y × √(1 − g), Z × (1 − g) (plus g·I: not unital), q = √(1 − g),
  the larger factor;
* both (damping, then depolarizing): q = (1 − p)·√(1 − g).

More channels per layer (two-qubit gates, several gates per qubit) only contract further,
so the bound holds whenever every unit of depth puts at least one channel on every qubit
(mcclean, matchgate and the layered qiskit ansätze do; alternating does over two layers).
The proof covers unital (Pauli) noise; with amplitude damping the same slope is checked
and the entry says `unital: false`.

The slope and its interval are the depth-sweep fit of `analysis.sweeps` (weighted least
squares on the bias-corrected ln Var, Birge-inflated). Verdicts, for the interval [lo, hi]
and the bound b: "satisfied" (hi ≤ b), "consistent" (lo ≤ b < hi: not resolved from the
bound), "violated" (lo > b: the variance decays more slowly than any such circuit can),
"inconclusive" (fewer than three usable depths).
"""

from __future__ import annotations

import json
import math
from typing import Any


def noise_of(task: dict[str, Any]) -> dict[str, float]:
    """The channels of a summary task entry ({} for a noiseless task)."""
    value = task.get("noise") or {}
    return dict(json.loads(value) if isinstance(value, str) else value)


def contraction(noise: dict[str, float]) -> float:
    """Wang et al.'s q of one channel (see the module docstring)."""
    return (1.0 - noise.get("depolarizing", 0.0)) * math.sqrt(
        1.0 - noise.get("amplitude_damping", 0.0)
    )


def verdict(slope_ci: list[float] | None, bound: float | None) -> str:
    if not slope_ci or bound is None:
        return "inconclusive"
    lo, hi = slope_ci
    if hi <= bound:
        return "satisfied"
    if lo <= bound:
        return "consistent"
    return "violated"


def noise_fits(tasks: list[dict[str, Any]], sweeps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per depth sweep of noisy tasks (one noise level each): the fitted slope of
    ln Var against L, the bound 2 ln q and the verdict."""
    by_id = {t["task"]: t for t in tasks}
    out = []
    for sweep in sweeps:
        levels = {json.dumps(noise_of(by_id[i]), sort_keys=True) for i in sweep["tasks"]}
        if len(levels) != 1:
            continue
        noise = json.loads(levels.pop())
        if not noise:
            continue
        q = contraction(noise)
        bound = 2.0 * math.log(q) if q > 0 else None
        fit = sweep.get("slope_per_layer") or {}
        slope_ci = fit.get("slope_ci")
        out.append(
            {
                "family": sweep["sweep"],
                "ansatz": sweep["ansatz"],
                "cost": sweep["cost"],
                "n": sweep["qubits"],
                "noise": noise,
                "q": q,
                "unital": not noise.get("amplitude_damping"),
                "depths": sweep["depths"],
                "slope": fit.get("slope"),
                "slope_ci": slope_ci,
                "bound": bound,
                "verdict": verdict(slope_ci, bound),
            }
        )
    return out
