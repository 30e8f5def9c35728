"""Fit a family (tasks differing only in n) with both models and judge the theorem.

"Contradicted" needs strong evidence: every route to it has a false-contradiction
probability of at most CONTRADICTION_P = 0.001 when the theorem's law is true (and the
points' error bars are right); evidence at the ordinary `confidence` level only is
reported as `tension` and never flips a verdict. Rules, in order (docs/analysis.md has the
rationale and the derivation of the false-contradiction rate, ≤ 0.002 per family):

1. No theorem for (ansatz, cost) and none named in the sweep (`theorem = …`) →
   "measured": the preferred model with its ΔAIC (inconclusive below MIN_SIZES sizes).
2. Noise or shots in the spec → inconclusive (the noiseless theorems do not apply).
3. alternating + local whose depth rule grows faster than log n → inconclusive.
4. Points without a usable ln Var (fewer than 3 samples, zero variance, fewer than ten
   non-zero samples: analysis/bounds.py), at the precision or shot-noise floor, or with
   heavy tails are left out of the fit; a family of one size (a depth
   sweep's) → inconclusive "one size only"; fewer than 3 sizes left → inconclusive
   "too few sizes".
5. The alternative model fits better by Δχ² = χ²_E − χ²_A with P(χ²_1 ≥ Δχ²/ĉ) < 0.001
   (ĉ = max(1, χ²/dof of the three-parameter model containing both)) → contradicted.
6. An exact rate excluded by the expected model's fit at two-sided p < 0.001
   (|r − r_exact| > 3.29 se) → contradicted.
7. Relative width of the rate interval (width / reference rate) > 1 → inconclusive
   "intervals too wide"; the reference is the exact rate where known, else |rate|.
8. An exponential decay predicted but r + 3.29 se < 0 (the variance grows, one-sided
   p < 0.0005) → contradicted.
9. Confirmed if the expected model is preferred with ΔAIC/ĉ ≥ 2 (QAIC: the AIC difference
   scaled by the same overdispersion ĉ), or preferred at all and the exact rate is inside
   the interval, or the expected model fits (p ≥ 0.05) while the alternative does not
   (p < 0.01).
10. Otherwise inconclusive "models not distinguished".
McClean families with some depth < 10n: a verdict other than confirmed becomes
inconclusive "depth too small to have converged".

Tension (reported in `tension` and appended to the reason, verdict unchanged): the exact
rate outside the `confidence` interval, the alternative fitting better at p < 1 −
confidence, the exact law (where every point has one) failing a joint χ² test at
p < 1 − confidence, an exponential rate interval entirely below zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis import fits as fitmod
from analysis.theory import DEEP_FACTOR, Theorem, depth_growth

MIN_SIZES = 3
# "Contradicted" needs two-sided p < CONTRADICTION_P under the theorem (see the docstring).
CONTRADICTION_P = 1e-3
Z_STRICT = float(stats.norm.isf(CONTRADICTION_P / 2.0))  # 3.29
CHI2_STRICT = float(stats.chi2.isf(CONTRADICTION_P, 1))  # 10.83
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
    exact: float | None = None  # exact Var where the theory gives one
    at_shot_floor: bool = False  # indistinguishable from pure shot noise (analysis/shots.py)
    unresolved: bool = False  # too few non-zero samples: a one-sided bound only (bounds.py)


def _other(model: str) -> str:
    return "polynomial" if model == "exponential" else "exponential"


def _exclusion(p: FamilyPoint) -> str | None:
    if p.unresolved:
        return "too few non-zero samples (one-sided bound only)"
    if p.ln_variance is None or p.ln_se is None:
        return "no variance estimate"
    if not (math.isfinite(p.ln_variance) and math.isfinite(p.ln_se)) or p.ln_se <= 0:
        return "no variance estimate"
    if p.at_floor:
        return "at the simulator precision floor"
    if p.at_shot_floor:
        return "at the shot-noise floor"
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


@dataclass
class Evidence:
    """Test statistics of a family against its theorem (None where not applicable)."""

    delta: float | None = None  # AIC_A − AIC_E = χ²_A − χ²_E; > 0 favours the theorem
    scale: float = 1.0  # ĉ = max(1, χ²/dof of the combined three-parameter fit)
    alternative_p: float | None = None  # P(χ²_1 ≥ (χ²_E − χ²_A)/ĉ) when A fits better
    exact_z: float | None = None
    exact_p: float | None = None  # two-sided p of rate = exact rate
    law_chi2: float | None = None  # joint χ² of the exact law against every used point
    law_points: int | None = None
    law_p: float | None = None


def _evidence(
    theorem: Theorem | None, used: list[FamilyPoint], fitted: dict[str, fitmod.Fit]
) -> Evidence:
    ev = Evidence()
    if theorem is None or len({p.qubits for p in used}) < MIN_SIZES:
        return ev
    n = np.array([p.qubits for p in used], dtype=float)
    y = np.array([p.ln_variance for p in used], dtype=float)
    se = np.array([p.ln_se for p in used], dtype=float)
    e, a = fitted[theorem.model], fitted[_other(theorem.model)]
    ev.delta = a.aic - e.aic
    chi2_c, dof_c = fitmod.combined_fit(n, y, se)
    ev.scale = max(1.0, chi2_c / dof_c) if dof_c > 0 else 1.0
    if ev.delta < 0:
        ev.alternative_p = float(stats.chi2.sf(-ev.delta / ev.scale, 1))
    if theorem.exact_rate is not None:
        ev.exact_z, ev.exact_p = fitmod.rate_test(e, theorem.exact_rate)
    if all(p.exact is not None and p.exact > 0 for p in used):
        resid = (y - np.log([float(p.exact) for p in used])) / se  # type: ignore[arg-type]
        ev.law_chi2 = float(resid @ resid)
        ev.law_points = len(used)
        ev.law_p = float(stats.chi2.sf(ev.law_chi2, len(used)))
    return ev


def _tension(
    theorem: Theorem | None, fitted: dict[str, fitmod.Fit], ev: Evidence, confidence: float
) -> list[str]:
    """Evidence against the theorem at the `confidence` level that is not strong enough
    (p ≥ CONTRADICTION_P) to call it contradicted; strong evidence is listed as well."""
    if theorem is None or ev.delta is None:
        return []
    level = 1.0 - confidence
    expected, alt = theorem.model, _other(theorem.model)
    e = fitted[expected]
    out = []
    if ev.exact_p is not None and ev.exact_p < level:
        lo, hi = e.rate_ci
        out.append(
            f"exact {expected} rate {_fmt(theorem.exact_rate or 0.0)} outside the "
            f"{confidence:.0%} interval [{_fmt(lo)}, {_fmt(hi)}] "
            f"(z = {ev.exact_z:.2f}, p = {_fmt(ev.exact_p)})"
        )
    if ev.alternative_p is not None and ev.alternative_p < level:
        out.append(
            f"the {alt} model fits better (Δχ² = {_fmt(-(ev.delta or 0.0))}, "
            f"p ≤ {_fmt(ev.alternative_p)})"
        )
    if ev.law_p is not None and ev.law_p < level:
        law = "the deep limit" if theorem.needs_deep else "the exact law"
        out.append(
            f"{law} misses the points jointly (χ² = {_fmt(ev.law_chi2 or 0.0)} "
            f"for {ev.law_points} points, p = {_fmt(ev.law_p)})"
        )
    if expected == "exponential" and e.rate_ci[1] < 0:
        out.append(f"the variance grows with n ({confidence:.0%} rate interval below zero)")
    return out


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

    ev = _evidence(theorem, used, fitted) if not modifiers else Evidence()
    sizes = sorted({p.qubits for p in points})
    verdict, reason = _decide(
        theorem, modifiers, growth, depth_rule, sizes, sizes_used, excluded, fitted, ev
    )
    tension = _tension(theorem, fitted, ev, confidence) if not modifiers else []
    if tension and verdict != "contradicted":
        reason += "; tension: " + "; ".join(tension)
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
            "exact_rate_z": ev.exact_z,
            "exact_rate_p": ev.exact_p,
            "alternative_p": ev.alternative_p,
            "combined_scale": ev.scale if ev.delta is not None else None,
            "delta_qaic_expected": ev.delta / ev.scale if ev.delta is not None else None,
            "exact_law_chi2": ev.law_chi2,
            "exact_law_points": ev.law_points,
            "exact_law_p": ev.law_p,
            "tension": tension,
            "contradiction_p": CONTRADICTION_P,
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


def _measured(sizes_used: list[int], fitted: dict[str, fitmod.Fit]) -> tuple[str, str]:
    """No theorem to test: say which model the data prefer, and how strongly."""
    if len(sizes_used) < MIN_SIZES or not fitted:
        return (
            "inconclusive",
            f"no theorem for this family, and too few sizes ({len(sizes_used)} usable, "
            f"{MIN_SIZES} needed) to prefer a model",
        )
    preferred = min(fitted, key=lambda m: fitted[m].aic)
    fit = fitted[preferred]
    delta = fitted[_other(preferred)].aic - fit.aic
    lo, hi = fit.rate_ci
    what = "rate" if preferred == "exponential" else "exponent"
    strength = "preferred" if delta >= PREFERRED_DELTA else "slightly ahead, not distinguished"
    return (
        "measured",
        f"no theorem for this family: {preferred} {strength} (ΔAIC = {_fmt(delta)}), "
        f"{what} {_fmt(fit.rate)} [{_fmt(lo)}, {_fmt(hi)}]",
    )


def _decide(
    theorem: Theorem | None,
    modifiers: list[str],
    growth: str,
    depth_rule: str,
    sizes: list[int],
    sizes_used: list[int],
    excluded: list[dict[str, Any]],
    fitted: dict[str, fitmod.Fit],
    ev: Evidence,
) -> tuple[str, str]:
    if theorem is None:
        return _measured(sizes_used, fitted)
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
    if len(sizes_used) < MIN_SIZES and len(sizes) == 1:
        return "inconclusive", f"one size only (n = {sizes[0]}): no scaling in n to fit"
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
    delta = ev.delta if ev.delta is not None else a.aic - e.aic  # > 0 favours the theorem
    lo, hi = e.rate_ci
    exact = theorem.exact_rate
    if ev.alternative_p is not None and ev.alternative_p < CONTRADICTION_P:
        return (
            "contradicted",
            f"the {alt} model fits far better (Δχ² = {_fmt(-delta)}, p ≤ "
            f"{_fmt(ev.alternative_p)} < {CONTRADICTION_P:g}; chi2/dof "
            f"{_fmt(a.chi2_per_dof or 0)} vs {_fmt(e.chi2_per_dof or 0)})",
        )
    if exact is not None and ev.exact_p is not None and ev.exact_p < CONTRADICTION_P:
        return (
            "contradicted",
            f"exact {expected} rate {_fmt(exact)} excluded: fitted {_fmt(e.rate)} ± "
            f"{_fmt(e.rate_se)} (z = {ev.exact_z:.2f}, p = {_fmt(ev.exact_p)} < "
            f"{CONTRADICTION_P:g}); outside the {_fmt(100 * (1 - CONTRADICTION_P))} % interval "
            f"[{_fmt(e.rate - Z_STRICT * e.rate_se)}, {_fmt(e.rate + Z_STRICT * e.rate_se)}]",
        )
    ref = exact if exact is not None else abs(e.rate)
    width = (hi - lo) / ref if ref > 0 else math.inf
    if width > MAX_RELATIVE_WIDTH:
        return (
            "inconclusive",
            f"intervals too wide (relative width {_fmt(width)} > {MAX_RELATIVE_WIDTH:g})",
        )
    if expected == "exponential" and e.rate + Z_STRICT * e.rate_se < 0:
        return (
            "contradicted",
            f"variance grows with n (exponential rate {_fmt(e.rate)} ± {_fmt(e.rate_se)}, "
            f"below zero at p < {CONTRADICTION_P / 2:g})",
        )
    exact_in = exact is not None and lo <= exact <= hi
    # Overdispersion: when even the combined model misses the points (ĉ > 1), the AIC
    # difference is divided by ĉ (QAIC), as the contradiction test does.
    qdelta = delta / ev.scale
    pref = f"{expected} preferred (ΔAIC = {_fmt(delta)}"
    if ev.scale > 1.05:  # mentioned where it changes the number visibly
        pref += f"; {_fmt(qdelta)} after dividing by the overdispersion ĉ = {_fmt(ev.scale)}"
    pref += ")"
    if qdelta >= PREFERRED_DELTA:
        return "confirmed", pref
    if exact_in and qdelta >= 0:
        return (
            "confirmed",
            f"{pref} and exact rate {_fmt(exact or 0.0)} inside [{_fmt(lo)}, {_fmt(hi)}]",
        )
    if (e.p_value or 0) >= GOOD_P and a.p_value is not None and a.p_value < BAD_P:
        return (
            "confirmed",
            f"{expected} fits (p = {_fmt(e.p_value or 0)}), {alt} does not (p = {_fmt(a.p_value)})",
        )
    return "inconclusive", f"models not distinguished (ΔAIC = {_fmt(delta)} for {expected}" + (
        f", {_fmt(qdelta)} after dividing by ĉ = {_fmt(ev.scale)})" if ev.scale > 1.05 else ")"
    )
