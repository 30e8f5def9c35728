"""Measured variances against the Lie-algebraic predictions of deep circuits.

The predictions (`bpsuite lie`: Ragone et al. 2024 for the loss, Fontana et al. 2024 /
Larocca et al. 2022 for the gradient, docs/lie.md) hold for circuits deep enough to be
2-designs on their dynamical Lie group. The analysis receives them as plain data
(`predictions`: task id → entry of `bpsuite lie --json`), so this package needs
neither the suite nor Qiskit.

Per task and quantity: z = (ln s² + bias correction − ln V_pred)/se, the test the
verdicts use (agreement at |z| < 3.29, two-sided p ≥ 0.001). Whether the circuit was
deep enough is measured, not assumed: in a depth sweep (tasks that differ only in
depth) a depth is `converged` when its variance agrees, by the same test on the
difference of ln-variances, with the deepest depth's (and the deepest when it agrees
with the next shallower) — the variance has stopped changing with depth. Verdicts:
`agrees`; `not deep enough` (disagrees, and the variance is still changing with depth);
`disagrees` (disagrees although converged, or with no depth sweep to tell);
`unresolved` (no usable interval).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from analysis.sweeps import sweep_key
from analysis.verdict import Z_STRICT

AGREES, DISAGREES, SHALLOW, UNRESOLVED = "agrees", "disagrees", "not deep enough", "unresolved"


def attach(tasks: list[dict[str, Any]], predictions: dict[str, dict[str, Any]]) -> None:
    """Add `lie_*` keys to the task entries that have a prediction (in place)."""
    for t in tasks:
        p = predictions.get(t["task"])
        if not p:
            continue
        t["lie_status"] = p.get("status")
        t["lie_dimension"] = p.get("dimension")
        t["lie_loss_variance"] = p.get("loss_variance_prediction")
        notes = [n for n in (p.get("prediction_note"), p.get("gradient_note")) if n]
        if p.get("reason"):
            notes.insert(0, p["reason"])
        t["lie_note"] = "; ".join(notes) or None
        by_param = {g["param_index"]: g for g in p.get("gradient_predictions", [])}
        for column, k in _columns(t):
            g = by_param.get(k)
            if g is not None:
                column["lie_variance"] = g.get("variance")
                column["lie_position"] = g.get("position")
        first = by_param.get(t["param_index"][0]) if t.get("param_index") else None
        t["lie_gradient_variance"] = first.get("variance") if first else None
        t["lie_gradient_position"] = first.get("position") if first else None


def _columns(t: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """(entry, parameter) per differentiated parameter (the task itself for one)."""
    if t.get("parameters"):
        return [(c, c["param_index"]) for c in t["parameters"]]
    return [(t, t["param_index"][0])] if t.get("param_index") else []


def z_score(ln_variance: float | None, ln_se: float | None, predicted: float) -> float | None:
    if ln_variance is None or not ln_se or predicted <= 0:
        return None
    return (ln_variance - math.log(predicted)) / ln_se


Measure = Callable[[dict[str, Any]], tuple[float, float] | None]


def _convergence(tasks: list[dict[str, Any]], measure: Measure) -> dict[str, bool | None]:
    """Per task id: whether its depth is deep enough, measured in its depth sweep.

    `measure(task)` gives (ln Var for fits, its se) of one quantity, or None. The
    deepest usable depth is the best estimate of the deep limit: it counts as converged
    when it agrees with the next shallower usable depth; any other depth when it agrees
    with the deepest. None without a depth sweep (or a usable interval).
    """
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for t in tasks:
        groups.setdefault((t["ansatz"], t["cost"], t["qubits"], sweep_key(t)), []).append(t)
    out: dict[str, bool | None] = {t["task"]: None for t in tasks}
    for members in groups.values():
        usable = sorted(
            ((t["depth"], t["task"], m) for t in members if (m := measure(t)) is not None),
            key=lambda item: item[0],
        )
        if len({depth for depth, _, _ in usable}) < 2:
            continue
        deepest = usable[-1][2]
        out[usable[-1][1]] = _same(deepest, usable[-2][2])
        for _, task, m in usable[:-1]:
            out[task] = _same(m, deepest)
    return out


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two variances agree: |Δ ln Var| / combined se < 3.29."""
    return abs(a[0] - b[0]) / math.hypot(a[1], b[1]) < Z_STRICT


def _measure(prefix: str, column: int | None = None) -> Measure:
    """The (ln Var, se) of the loss (column None) or of the column-th derivative."""

    def measure(t: dict[str, Any]) -> tuple[float, float] | None:
        source = t
        if column is not None:
            columns = _columns(t)
            if column >= len(columns):
                return None
            source = columns[column][0]
        ln, se = source.get(prefix + "fit_ln_variance"), source.get(prefix + "fit_ln_se")
        return (ln, se) if ln is not None and se else None

    return measure


def _verdict(z: float | None, converged: bool | None) -> str:
    if z is None:
        return UNRESOLVED
    if abs(z) < Z_STRICT:
        return AGREES
    return SHALLOW if converged is False else DISAGREES


def checks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per task and quantity with a prediction (summary["lie_checks"]); also
    sets `lie_loss_verdict` / `lie_gradient_verdict` on the task entries."""
    loss_converged = _convergence(tasks, _measure("loss_"))
    width = max((len(_columns(t)) for t in tasks), default=0)
    gradient_converged = [_convergence(tasks, _measure("", j)) for j in range(width)]
    out = []
    for t in tasks:
        rows = []
        if t.get("lie_loss_variance") is not None:
            rows.append(("loss", t, None, "loss_", t["lie_loss_variance"], loss_converged))
        for j, (column, k) in enumerate(_columns(t)):
            if column.get("lie_variance") is not None:
                predicted = column["lie_variance"]
                rows.append(("gradient", column, k, "", predicted, gradient_converged[j]))
        for quantity, source, k, prefix, predicted, converged in rows:
            measured = source.get(prefix + "variance")
            z = z_score(
                source.get(prefix + "fit_ln_variance"), source.get(prefix + "fit_ln_se"), predicted
            )
            if predicted == 0.0 and measured is not None:
                # a vanishing prediction: the measurement must vanish to rounding
                z = 0.0 if source.get(prefix + "precision_floor_flag") else math.inf
            verdict = _verdict(z, converged.get(t["task"]))
            entry = {
                "task": t["task"],
                "qubits": t["qubits"],
                "depth": t["depth"],
                "quantity": quantity,
                "param_index": k,
                "position": source.get("lie_position") if quantity == "gradient" else None,
                "lie_dimension": t.get("lie_dimension"),
                "predicted": predicted,
                "measured": measured,
                "measured_ci": source.get(prefix + "variance_ci"),
                "z": z,
                "converged": converged.get(t["task"]),
                "verdict": verdict,
            }
            out.append(entry)
            if quantity == "loss":
                t["lie_loss_verdict"] = verdict
            elif k == t["param_index"][0]:
                t["lie_gradient_verdict"] = verdict
    return out
