"""Fit a family (tasks differing only in n) with both models and judge the theorem.

Rules, in order (docs/analysis.md has the rationale):

1. No theorem for (ansatz, cost) → inconclusive "no theorem for this family".
2. Noise or shots in the spec → inconclusive (the noiseless theorems do not apply).
3. alternating + local whose depth rule grows faster than log n → inconclusive.
4. Points without a usable ln Var (fewer than 3 samples, zero variance), at the precision
   floor, or with heavy tails are left out of the fit; fewer than 3 sizes left →
   inconclusive "too few sizes".
5. The alternative model strongly preferred (ΔAIC ≥ 6) → contradicted.
6. An exact rate outside the expected model's rate interval → contradicted.
7. Relative width of that interval (width / reference rate) > 1 → inconclusive
   "intervals too wide"; the reference is the exact rate where known, else |rate|.
8. A decay predicted but the whole interval below zero (variance grows) → contradicted.
9. Confirmed if the expected model is preferred with ΔAIC ≥ 2, or preferred at all and
   the exact rate is inside the interval, or the expected model fits (p ≥ 0.05) while the
   alternative does not (p < 0.01).
10. Otherwise inconclusive "models not distinguished".
McClean families with some depth < 10n: a verdict other than confirmed becomes
inconclusive "depth too small to have converged".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis import fits as fitmod
from analysis.theory import DEEP_FACTOR, Theorem, depth_growth

MIN_SIZES = 3
STRONG_DELTA = 6.0
PREFERRED_DELTA = 2.0
MAX_RELATIVE_WIDTH = 1.0
GOOD_P = 0.05
BAD_P = 0.01


@dataclass
class FamilyPoint:
    """One task of a family as the fit sees it."""

    task: str
    qubits: int
    depth: int
    ln_variance: float | None
    ln_se: float | None
    heavy_tail: bool
    at_floor: bool


def _other(model: str) -> str:
    return "polynomial" if model == "exponential" else "exponential"


def _exclusion(p: FamilyPoint) -> str | None:
    if p.ln_variance is None or p.ln_se is None:
        return "no variance estimate"
    if not (math.isfinite(p.ln_variance) and math.isfinite(p.ln_se)) or p.ln_se <= 0:
        return "no variance estimate"
    if p.at_floor:
        return "at the simulator precision floor"
    if p.heavy_tail:
        return "heavy tails"
    return None


def _fit_entry(
    family: str, model: str, fit: fitmod.Fit | None, weight: float | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"family": family, "kind": "fit", "model": model}
    if fit is None:
        entry.update({"rate": None, "rate_ci": None, "points": 0})
        return entry
    entry.update(
        {
            "rate": fit.rate,
            "rate_ci": list(fit.rate_ci),
            "rate_se": fit.rate_se,
            "intercept": fit.intercept,
            "intercept_se": fit.intercept_se,
            "chi2": fit.chi2,
            "dof": fit.dof,
            "chi2_per_dof": fit.chi2_per_dof,
            "p_value": fit.p_value,
            "aic": fit.aic,
            "akaike_weight": weight,
            "scale_factor": fit.scale_factor,
            "points": fit.points,
        }
    )
    return entry


def evaluate_family(
    family: str,
    ansatz: str,
    cost: str,
    depth_rule: str,
    points: list[FamilyPoint],
    theorem: Theorem | None,
    modifiers: list[str],
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Fit entries for both models plus one family-level verdict entry."""
    points = sorted(points, key=lambda p: p.qubits)
    excluded = []
    used = []
    for p in points:
        why = _exclusion(p)
        if why is None:
            used.append(p)
        else:
            excluded.append({"task": p.task, "qubits": p.qubits, "reason": why})
    sizes_used = sorted({p.qubits for p in used})
    fitted: dict[str, fitmod.Fit] = {}
    if len(sizes_used) >= 2:
        n = np.array([p.qubits for p in used], dtype=float)
        y = np.array([p.ln_variance for p in used], dtype=float)
        se = np.array([p.ln_se for p in used], dtype=float)
        fitted = fitmod.fit_all(n, y, se, confidence)
    weights = fitmod.akaike_weights(fitted) if fitted else {}

    preferred = None
    delta_pref = None
    if fitted and len(sizes_used) >= MIN_SIZES:  # two points fit both models exactly
        preferred = min(fitted, key=lambda m: fitted[m].aic)
        delta_pref = fitted[_other(preferred)].aic - fitted[preferred].aic

    expected = theorem.model if theorem is not None else None
    exact_rate = theorem.exact_rate if theorem is not None else None
    growth = depth_growth(depth_rule)
    depths = sorted({p.depth for p in points})
    shallow = [p.qubits for p in points if p.depth < DEEP_FACTOR * p.qubits]

    verdict, reason = _decide(theorem, modifiers, growth, depth_rule, sizes_used, excluded, fitted)
    exp_fit = fitted.get(expected) if expected else None
    exact_in = None
    rel_width = None
    if exp_fit is not None:
        lo, hi = exp_fit.rate_ci
        if exact_rate is not None:
            exact_in = bool(lo <= exact_rate <= hi)
        ref = exact_rate if exact_rate is not None else abs(exp_fit.rate)
        rel_width = (hi - lo) / ref if ref > 0 else math.inf
    if (
        theorem is not None
        and theorem.needs_deep
        and shallow
        and verdict != "confirmed"
        and not modifiers
        and len(sizes_used) >= MIN_SIZES
    ):
        verdict = "inconclusive"
        reason = (
            f"depth too small to have converged (L < {DEEP_FACTOR}n for n = "
            f"{', '.join(map(str, shallow))}); data: {reason}"
        )

    model_for_entry = expected or preferred
    main_fit = fitted.get(model_for_entry) if model_for_entry else None
    entries = [_fit_entry(family, m, fitted.get(m), weights.get(m)) for m in fitmod.MODELS]
    for e in entries:
        e["expected"] = e["model"] == expected
        e["preferred"] = e["model"] == preferred
        e["verdict"] = verdict
        e["reason"] = reason
    delta_expected = None
    if expected and fitted:
        delta_expected = fitted[_other(expected)].aic - fitted[expected].aic
    entries.append(
        {
            "family": family,
            "kind": "verdict",
            "model": model_for_entry,
            "rate": main_fit.rate if main_fit else None,
            "rate_ci": list(main_fit.rate_ci) if main_fit else None,
            "verdict": verdict,
            "reason": reason,
            "ansatz": ansatz,
            "cost": cost,
            "depth_rule": depth_rule,
            "depth_growth": growth,
            "depths": depths,
            "expected_model": expected,
            "preferred_model": preferred,
            "delta_aic": delta_pref,
            "delta_aic_expected": delta_expected,
            "strength": fitmod.aic_strength(delta_pref) if delta_pref is not None else None,
            "exact_rate": exact_rate,
            "exact_rate_within_ci": exact_in,
            "relative_width": rel_width,
            "sizes": sorted({p.qubits for p in points}),
            "sizes_used": sizes_used,
            "excluded": excluded,
            "theorem": theorem.statement if theorem else None,
            "reference": theorem.reference if theorem else None,
            "modifiers": modifiers,
            "confidence": confidence,
        }
    )
    return entries


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _decide(
    theorem: Theorem | None,
    modifiers: list[str],
    growth: str,
    depth_rule: str,
    sizes_used: list[int],
    excluded: list[dict[str, Any]],
    fitted: dict[str, fitmod.Fit],
) -> tuple[str, str]:
    if theorem is None:
        return "inconclusive", "no theorem for this family"
    if modifiers:
        return (
            "inconclusive",
            f"{', '.join(modifiers)} set: the noiseless, exact-expectation theorem does not apply",
        )
    if theorem.needs_log_depth and growth not in ("constant", "logarithmic"):
        return (
            "inconclusive",
            f"depth rule {depth_rule!r} grows faster than log n ({growth}): the local-cost "
            "theorem needs depth O(log n), and deeper circuits drift to the exponential regime",
        )
    if len(sizes_used) < MIN_SIZES:
        reason = f"too few sizes ({len(sizes_used)} usable, {MIN_SIZES} needed)"
        if excluded:
            why = sorted({e["reason"] for e in excluded})
            reason += f"; excluded {len(excluded)} task(s): {', '.join(why)}"
            if "heavy tails" in why:
                reason += " (tails too heavy)"
        return "inconclusive", reason
    expected = theorem.model
    alt = _other(expected)
    e, a = fitted[expected], fitted[alt]
    delta = a.aic - e.aic  # > 0 favours the theorem's model
    lo, hi = e.rate_ci
    exact = theorem.exact_rate
    if delta <= -STRONG_DELTA:
        return (
            "contradicted",
            f"the {alt} model is strongly preferred (ΔAIC = {_fmt(-delta)}, "
            f"chi2/dof {_fmt(a.chi2_per_dof or 0)} vs {_fmt(e.chi2_per_dof or 0)})",
        )
    if exact is not None and not lo <= exact <= hi:
        return (
            "contradicted",
            f"exact {expected} rate {_fmt(exact)} outside the fitted interval "
            f"[{_fmt(lo)}, {_fmt(hi)}]",
        )
    ref = exact if exact is not None else abs(e.rate)
    width = (hi - lo) / ref if ref > 0 else math.inf
    if width > MAX_RELATIVE_WIDTH:
        return (
            "inconclusive",
            f"intervals too wide (relative width {_fmt(width)} > {MAX_RELATIVE_WIDTH:g})",
        )
    if hi < 0:
        return "contradicted", f"variance grows with n ({expected} rate interval below zero)"
    if delta >= PREFERRED_DELTA:
        return "confirmed", f"{expected} preferred (ΔAIC = {_fmt(delta)})"
    if exact is not None and delta >= 0:
        return (
            "confirmed",
            f"{expected} preferred (ΔAIC = {_fmt(delta)}) and exact rate {_fmt(exact)} "
            f"inside [{_fmt(lo)}, {_fmt(hi)}]",
        )
    if (e.p_value or 0) >= GOOD_P and a.p_value is not None and a.p_value < BAD_P:
        return (
            "confirmed",
            f"{expected} fits (p = {_fmt(e.p_value or 0)}), {alt} does not (p = {_fmt(a.p_value)})",
        )
    return "inconclusive", f"models not distinguished (ΔAIC = {_fmt(delta)} for {expected})"
