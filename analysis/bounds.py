"""One-sided upper bounds on a gradient's variance when the samples cannot resolve it.

At Clifford angles (and in any circuit where the derivative is usually exactly zero) a
variance sits in rare non-zero values: S samples may hold none of them, and s² = 0 says
nothing. What they do establish, with the suite's bound |∂C/∂θ_k| ≤ B (`grad_bound` in
results.h5, from the observable's coefficients and the shift rule), is

    Var(g) ≤ E[g²] ≤ B² · P(g ≠ 0) ≤ B² · p⁺,

where p⁺ is the one-sided Clopper–Pearson upper limit on P(g ≠ 0) at the analysis's
confidence c from k non-zero samples out of S: the c-quantile of Beta(k + 1, S − k)
(1 − (1 − c)^(1/S) ≈ 3/S at c = 0.95 for k = 0). The bound holds whatever the values are,
so it is exact in the frequentist sense, and loose by the factor E[g² | g ≠ 0] / B².

"Non-zero" means |g| > τ = ROUNDING · eps · B (eps of the simulator precision; max |g|
in place of B where no bound is stored): floating-point engines leave rounding residue
(1e-262 … 1e-51 seen on statevector) where a derivative is structurally zero, and values
below τ are rounding, like the precision floor's variances below 10⁴ eps². They add at
most τ² to E[g²], so the bound is B² p⁺ + τ². Exact engines (stabilizer, Pauli
propagation) give exact zeros.

A column counts as resolved when it has at least RESOLVING_NONZERO non-zero samples: with
k non-zero samples of similar size the kurtosis is about S/k, so S_eff ≈ 2k and the relative
error of s² about sqrt(2/(S_eff − 1)) ≈ 1/√k: 30 % or more below ten, with the two-sided
interval resting on a handful of values (the heavy-tail rule already keeps such points out
of the fits). An unresolved column
is kept out of the fits and reported with its one-sided bound instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import beta

RESOLVING_NONZERO = 10
# |g| ≤ ROUNDING · eps · B counts as zero (rounding residue): √FLOOR_FACTOR of
# analysis.statistics, so that a column of such values sits at the precision floor.
ROUNDING = 100.0


def nonzero_upper(nonzero: int, samples: int, confidence: float) -> float:
    """One-sided Clopper–Pearson upper limit on P(g ≠ 0) from `nonzero` of `samples`."""
    if nonzero >= samples:
        return 1.0
    return float(beta.ppf(confidence, nonzero + 1, samples - nonzero))


def rounding(column: np.ndarray, bound: float | None, precision: str) -> float:
    """τ: the largest |g| that counts as zero (module docstring)."""
    eps = float(np.finfo(np.float32 if precision == "single" else np.float64).eps)
    scale = bound if bound is not None else float(np.max(np.abs(column), initial=0.0))
    return ROUNDING * eps * scale


def bound_entry(
    column: np.ndarray, bound: float | None, confidence: float, precision: str = "double"
) -> dict[str, Any]:
    """The summary keys of one gradient column: `nonzero_samples`, `variance_resolved`,
    and, where the suite stored |∂C/∂θ| ≤ `bound`, `gradient_bound` and `variance_upper`."""
    column = np.asarray(column, dtype=np.float64)
    finite = bool(np.all(np.isfinite(column)))
    tau = rounding(column, bound, precision) if finite else 0.0
    nonzero = int(np.count_nonzero(np.abs(column) > tau)) if finite else None
    entry: dict[str, Any] = {
        "nonzero_samples": nonzero,
        "variance_resolved": nonzero is None or nonzero >= RESOLVING_NONZERO,
        "gradient_bound": None if bound is None else float(bound),
        "variance_upper": None,
    }
    if bound is not None and nonzero is not None and column.size:
        p = nonzero_upper(nonzero, column.size, confidence)
        entry["variance_upper"] = float(bound) ** 2 * p + tau**2
    return entry


def describe(entry: dict[str, Any], confidence: float) -> str:
    """The bound in words, e.g. 'Var ≤ 0.0247 (one-sided 95 %: 0 of 120 samples non-zero,
    |∂C/∂θ| ≤ 1)'; empty when there is no bound."""
    upper = entry.get("variance_upper")
    if upper is None:
        return ""
    return (
        f"Var ≤ {upper:.3g} (one-sided {100 * confidence:.0f} %: {entry['nonzero_samples']} "
        f"of {entry['samples']} samples non-zero, |∂C/∂θ| ≤ {entry['gradient_bound']:.3g})"
    )
