"""Per-task statistics of the sampled derivatives.

* `variance`: the unbiased sample variance s² (ddof = 1).
* `kurtosis`: the plain (Pearson) sample kurtosis m4 / m2² with central moments
  (3 for a Gaussian); `excess_kurtosis` = kurtosis − 3. The warm-up global cost has
  kurtosis (3/2)(35/18)^(n−1) in this convention.
* `effective_sample_size`: the number of Gaussian samples whose s² would have the same
  relative variance. Var(s²)/σ⁴ = (κ − (S−3)/(S−1))/S for any distribution and
  2/(S−1) for a Gaussian, so S_eff = 1 + 2S / (κ − (S−3)/(S−1)) (≈ 2S/(κ−1) for large S;
  = S for κ = 3). κ is the plug-in sample kurtosis, which underestimates the kurtosis of
  heavy-tailed data, so S_eff is optimistic there.
* A BCa bootstrap interval on ln s² (bias-corrected and accelerated; the acceleration
  comes from the closed-form jackknife). The interval on s² is its exponential.
* The fit's inputs (`fit_ln_variance`, `fit_ln_se`): ln s² is biased low,
  E[ln s²] ≈ ln σ² − Var(s²)/(2σ⁴) = ln σ² − 1/(S_eff − 1) (second-order delta method), by
  far more for heavy-tailed data; the fit uses ln s² + 1/(S_eff − 1) with the delta-method
  standard error sqrt(2/(S_eff − 1)) = sqrt((κ − (S−3)/(S−1))/S), which is what the standard
  deviation of the bootstrap replicates estimates, without its Monte Carlo noise.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

DEFAULT_RESAMPLES = 2000
# Resampling is done in chunks of at most this many drawn values (memory bound).
_CHUNK_ELEMENTS = 2_000_000
# Heavy-tail thresholds (see docs/analysis.md). The effective-sample-size rule fires when
# S_eff < min(100, S/2): few effective samples *because of the tails*, not because S is
# small. Why 100 and not less: below it the plug-in kurtosis misses the rare large values,
# so a point that happens to lack them has a low ln s², a small error bar *and* passes the
# rule, while its luckier twin is excluded; fits then lean towards faster decay. A coverage
# simulation of the warm-up global cost (sampled directly, S = 2000 and 4000, n = 2…11;
# docs/analysis.md) gave 95 % rate intervals covering ln(8/3) in 92 % of families with a
# threshold of 30, 94 % with 50 and 95–96 % with 100 (the nominal rate, the Birge factor
# making it slightly conservative). The single-sample rule is only applied from 100
# samples on: for Gaussian data the largest of S squared deviations carries about
# 2 ln(S)/S of the sum.
MIN_EFFECTIVE_SAMPLES = 100.0
MAX_SINGLE_SHARE = 0.2
MIN_SAMPLES_FOR_SHARE = 100
# A variance within this factor of eps² of the simulator precision is flagged.
FLOOR_FACTOR = 1e4
_TINY = np.finfo(np.float64).tiny


def task_rng(seed: int, key: str) -> np.random.Generator:
    """An RNG that depends on (seed, key) only, so adding tasks changes no other result."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


@dataclass
class BootstrapCI:
    """Bootstrap results for ln s² of one column."""

    ln_variance: float
    ln_ci: tuple[float, float]
    ln_se: float  # standard deviation of the bootstrap replicates of ln s²
    method: str  # "bca" or "percentile" (fallback when BCa is undefined)


@dataclass
class ColumnStats:
    """Everything the summary reports about one differentiated parameter."""

    samples: int
    mean: float | None
    variance: float | None
    kurtosis: float | None
    effective_sample_size: float | None
    max_share: float | None  # largest single squared deviation / sum of squares
    ci: BootstrapCI | None

    @property
    def variance_ci(self) -> tuple[float, float] | None:
        if self.ci is None:
            return None
        return (float(np.exp(self.ci.ln_ci[0])), float(np.exp(self.ci.ln_ci[1])))

    @property
    def fit_ln_variance(self) -> float | None:
        """ln s² + 1/(S_eff − 1): ln s² corrected for its second-order bias (the fit's y)."""
        return fit_ln_variance(self.variance, self.samples, self.kurtosis)

    @property
    def fit_ln_se(self) -> float | None:
        """Delta-method standard error of ln s² (the fit's error bar)."""
        return ln_variance_se(self.samples, self.kurtosis)


def moments(x: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, unbiased variance, plain kurtosis, largest share of the sum of squares)."""
    x = np.asarray(x, dtype=np.float64)
    s = x.shape[0]
    mean = float(np.mean(x))
    d = x - mean
    d2 = d * d
    ss = float(np.sum(d2))
    var = ss / (s - 1)
    if ss <= 0.0:
        return mean, 0.0, float("nan"), float("nan")
    m2 = ss / s
    m4 = float(np.mean(d2 * d2))
    return mean, var, m4 / (m2 * m2), float(np.max(d2)) / ss


def effective_sample_size(samples: int, kurtosis: float) -> float:
    """Gaussian-equivalent sample size of the variance estimator (see module docstring)."""
    s = samples
    denom = kurtosis - (s - 3) / (s - 1)
    if not np.isfinite(denom) or denom <= 0:
        return float("nan")
    return 1.0 + 2.0 * s / denom


def relative_variance_of_variance(samples: int, kurtosis: float | None) -> float | None:
    """Var(s²)/σ⁴ = (κ − (S−3)/(S−1))/S with the plug-in kurtosis (None if undefined,
    and for S < 3, where the analysis makes no variance estimate)."""
    if kurtosis is None or samples < 3:
        return None
    r = (kurtosis - (samples - 3) / (samples - 1)) / samples
    if not np.isfinite(r) or r <= 0:
        return None
    return float(r)


def ln_variance_se(samples: int, kurtosis: float | None) -> float | None:
    """Delta-method standard error of ln s²: sqrt(Var(s²)/σ⁴) = sqrt(2/(S_eff − 1))."""
    r = relative_variance_of_variance(samples, kurtosis)
    return None if r is None else float(np.sqrt(r))


def fit_ln_variance(variance: float | None, samples: int, kurtosis: float | None) -> float | None:
    """ln s² + Var(s²)/(2σ⁴): removes the −1/(S_eff − 1) bias of ln s² (delta method)."""
    r = relative_variance_of_variance(samples, kurtosis)
    if variance is None or not variance > 0 or r is None:
        return None
    return float(np.log(variance) + 0.5 * r)


def _bootstrap_ln_var(d: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ln s² of resamples; d is centred data (S, K), idx (B, S) → (B, K)."""
    s = idx.shape[1]
    out = np.empty((idx.shape[0], d.shape[1]))
    for j in range(d.shape[1]):
        r = d[:, j][idx]  # (B, S)
        s1 = r.sum(axis=1)
        s2 = np.einsum("bs,bs->b", r, r)
        out[:, j] = (s2 - s1 * s1 / s) / (s - 1)
    return np.log(np.maximum(out, _TINY))


def _jackknife_acceleration(d: np.ndarray) -> np.ndarray:
    """BCa acceleration from the leave-one-out ln s² (closed form); d centred (S, K)."""
    s = d.shape[0]
    d2 = d * d
    ss = d2.sum(axis=0)
    # Leaving out row i of centred data: SS_i = SS − d_i² · S/(S−1).
    loo = np.log(np.maximum((ss - d2 * s / (s - 1)) / (s - 2), _TINY))
    u = loo.mean(axis=0) - loo
    num = np.sum(u**3, axis=0)
    den = 6.0 * np.sum(u**2, axis=0) ** 1.5
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(den > 0, num / den, 0.0)
    return a


def bootstrap_ln_variance(
    x: np.ndarray,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> list[BootstrapCI]:
    """BCa bootstrap intervals on ln s² for each column of x (S,) or (S, K).

    All columns share the same resamples (joint resampling of a sample's gradients).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    s, k = x.shape
    if s < 3:
        raise ValueError("the bootstrap needs at least 3 samples")
    d = x - x.mean(axis=0)
    theta_hat = np.log(np.maximum((d * d).sum(axis=0) / (s - 1), _TINY))
    chunk = max(1, _CHUNK_ELEMENTS // s)
    reps = np.empty((n_resamples, k))
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        idx = rng.integers(0, s, size=(b, s))
        reps[start : start + b] = _bootstrap_ln_var(d, idx)
    accel = _jackknife_acceleration(d)
    alpha = (1.0 - confidence) / 2.0
    z_lo, z_hi = ndtri(alpha), ndtri(1.0 - alpha)
    out = []
    for j in range(k):
        r = reps[:, j]
        below = (np.sum(r < theta_hat[j]) + 0.5 * np.sum(r == theta_hat[j])) / n_resamples
        z0 = ndtri(below)
        a = accel[j]
        method = "bca"
        q = []
        for z in (z_lo, z_hi):
            t = z0 + z
            denom = 1.0 - a * t
            q.append(ndtr(z0 + t / denom) if denom > 0 else np.nan)
        if not (np.isfinite(z0) and np.all(np.isfinite(q))):
            q, method = [alpha, 1.0 - alpha], "percentile"
        lo, hi = np.quantile(r, q)
        out.append(
            BootstrapCI(
                ln_variance=float(theta_hat[j]),
                ln_ci=(float(lo), float(hi)),
                ln_se=float(np.std(r, ddof=1)),
                method=method,
            )
        )
    return out


def column_stats(
    grad: np.ndarray,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> list[ColumnStats]:
    """Statistics of each column of grad (S, K); n_resamples = 0 skips the bootstrap."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.ndim == 1:
        grad = grad[:, None]
    s, k = grad.shape
    if s < 2:
        return [ColumnStats(s, None, None, None, None, None, None) for _ in range(k)]
    cis: list[BootstrapCI | None] = [None] * k
    finite = bool(np.all(np.isfinite(grad)))
    if s >= 3 and finite and n_resamples > 0:
        cis = list(bootstrap_ln_variance(grad, rng, confidence, n_resamples))
    out = []
    for j in range(k):
        if not finite:
            out.append(ColumnStats(s, None, None, None, None, None, None))
            continue
        mean, var, kurt, share = moments(grad[:, j])
        ci = cis[j] if var > 0 else None
        ess = effective_sample_size(s, kurt) if var > 0 else None
        out.append(
            ColumnStats(
                samples=s,
                mean=mean,
                variance=var,
                kurtosis=kurt if var > 0 else None,
                effective_sample_size=ess,
                max_share=share if var > 0 else None,
                ci=ci,
            )
        )
    return out


def heavy_tail_check(stats: ColumnStats) -> tuple[bool, str | None]:
    """Flag variance estimates dominated by rare large derivatives."""
    reasons = []
    ess = stats.effective_sample_size
    limit = min(MIN_EFFECTIVE_SAMPLES, stats.samples / 2.0)
    if ess is not None and np.isfinite(ess) and ess < limit:
        reasons.append(
            f"effective sample size {ess:.1f} < {limit:.0f} "
            f"(kurtosis {stats.kurtosis:.3g} with {stats.samples} samples)"
        )
    if (
        stats.max_share is not None
        and stats.samples >= MIN_SAMPLES_FOR_SHARE
        and stats.max_share > MAX_SINGLE_SHARE
    ):
        reasons.append(f"one sample carries {100 * stats.max_share:.0f}% of the sum of squares")
    if not reasons:
        return False, None
    return True, "; ".join(reasons)


def precision_floor(precision: str) -> float:
    """eps² of the simulator precision: the variance scale of pure rounding noise."""
    eps = np.finfo(np.float32 if precision == "single" else np.float64).eps
    return float(eps) ** 2


def precision_floor_check(variance: float | None, precision: str) -> bool:
    """True when the variance is within FLOOR_FACTOR of the precision floor (or zero)."""
    if variance is None:
        return False
    return variance < FLOOR_FACTOR * precision_floor(precision)
