"""Finite shots: separate the shot-noise floor from the true variance (docs/shots.md).

A stored gradient with shots is g = g_true(θ) + ε with E[ε | θ] = 0, so

    Var(g) = Var(g_true) + E[σ²_shot(θ)],

and each sample carries an unbiased estimate w_k of σ²_shot(θ_k) (datasets
`grad_shot_variance`, `cost_shot_variance`). The floor F = mean_k w_k is unbiased for
E[σ²_shot] with standard error sd(w)/√S; the corrected variance is s² − F.

Its interval is the measured variance's interval [lo, hi] shifted by the floor's
interval [F − z·se, F + z·se]: [lo − F − z·se, hi − F + z·se]. Adding the half-widths
covers at least `confidence` whatever the correlation of s² and F, because
sd(s² − F) ≤ sd(s²) + sd(F); the lower end is clipped at 0. A task whose corrected
interval reaches 0 (lo ≤ F + z·se) cannot be told apart from pure shot noise: it is
flagged `at_shot_floor` and left out of the fits (no plateau verdict from its variance).

The fits of the other tasks take the corrected variance, the true one's estimate:
ln(s² − F) with the standard error (sd(s²) + sd(F))/(s² − F) (the same conservative
sum), sd(s²) = s²·fit_ln_se from the measured column, and the same second-order bias
correction as the exact tasks (+ se²/2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

from analysis.formatting import interval, num
from analysis.load import TaskData


def floor(per_sample: np.ndarray) -> tuple[float, float]:
    """(F, its standard error) from per-sample shot-variance estimates (S,)."""
    w = np.asarray(per_sample, dtype=np.float64)
    se = float(np.std(w, ddof=1) / np.sqrt(w.size)) if w.size > 1 else float("nan")
    return float(np.mean(w)), se


def corrected(
    column: dict[str, Any], per_sample: np.ndarray, confidence: float, prefix: str = ""
) -> dict[str, Any]:
    """Summary keys (with `prefix`) of one measured variance (`column`: its `variance`,
    `variance_ci` and `fit_ln_se` under `prefix`) against its shot floor."""
    variance = column.get(prefix + "variance")
    variance_ci = column.get(prefix + "variance_ci")
    f, se = floor(per_sample)
    out: dict[str, Any] = {
        f"{prefix}shot_floor": f,
        f"{prefix}shot_floor_se": se,
        f"{prefix}variance_corrected": None if variance is None else variance - f,
        f"{prefix}variance_corrected_ci": None,
        f"{prefix}at_shot_floor": None,
    }
    if variance_ci is None or not np.isfinite(se):
        return out
    margin = float(ndtri(0.5 + confidence / 2.0)) * se
    lo, hi = variance_ci[0] - f - margin, variance_ci[1] - f + margin
    out[f"{prefix}variance_corrected_ci"] = [max(0.0, lo), max(0.0, hi)]
    out[f"{prefix}at_shot_floor"] = bool(lo <= 0.0)
    relative = column.get(prefix + "fit_ln_se")
    if lo > 0.0 and variance is not None and relative is not None:
        true = variance - f
        ln_se = (variance * relative + se) / true
        out[f"{prefix}fit_ln_variance"] = float(np.log(true) + 0.5 * ln_se * ln_se)
        out[f"{prefix}fit_ln_se"] = float(ln_se)
    return out


def shot_entry(task: TaskData, entry: dict[str, Any], confidence: float) -> dict[str, Any]:
    """The shot keys of a summary task entry ({} for exact tasks): `shots`, the gradient's
    `shot_floor`, `variance_corrected(_ci)`, `at_shot_floor`, and the same with `loss_`
    for the cost. Per-parameter columns (`entry["parameters"]`) are completed in place."""
    if task.grad_shot_variance is None:
        return {}
    out: dict[str, Any] = {"shots": int(task.spec.get("shots", 0))}
    grad = task.grad_shot_variance
    out.update(corrected(entry, grad[:, 0], confidence))
    for j, column in enumerate(entry.get("parameters", [])):
        column.update(corrected(column, grad[:, j], confidence))
    if task.cost_shot_variance is not None and "loss_variance" in entry:
        out.update(corrected(entry, task.cost_shot_variance, confidence, prefix="loss_"))
    return out


def report_flags(task: dict[str, Any]) -> list[str]:
    """The report's flags of a task with shots: its floor and corrected variance."""
    if not task.get("shots"):
        return []
    flags = [
        f"{task['shots']} shots: floor {num(task.get('shot_floor'))}, corrected Var "
        f"{num(task.get('variance_corrected'))} {interval(task.get('variance_corrected_ci'))}"
    ]
    if task.get("at_shot_floor"):
        flags.append("at the shot-noise floor")
    if task.get("loss_at_shot_floor"):
        flags.append("loss at the shot-noise floor")
    return flags
