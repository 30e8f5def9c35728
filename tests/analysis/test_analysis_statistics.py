"""Per-task statistics: moments, effective sample size, bootstrap intervals, flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import warmup_global

from analysis.statistics import (
    ColumnStats,
    bootstrap_ln_variance,
    column_stats,
    effective_sample_size,
    heavy_tail_check,
    moments,
    precision_floor_check,
    task_rng,
)


def binomial_tolerance(p: float, trials: int, z: float = 3.0) -> float:
    """Half-width of the acceptance band for an observed coverage.

    If the interval has exactly nominal coverage p, the number of covering trials is
    Binomial(trials, p), so the observed fraction has standard deviation
    sqrt(p(1 − p)/trials). A band of z = 3 standard deviations fails a correct interval
    with probability ≈ 0.3 % (the seeds are fixed, so the test itself is deterministic).
    """
    return z * math.sqrt(p * (1.0 - p) / trials)


def test_moments_of_known_data() -> None:
    x = np.array([-1.0, 1.0, -1.0, 1.0])
    mean, var, kurt, share = moments(x)
    assert mean == 0.0
    assert var == pytest.approx(4.0 / 3.0)  # unbiased: Σd²/(S−1)
    assert kurt == pytest.approx(1.0)  # two-point distribution: plain kurtosis 1
    assert share == pytest.approx(0.25)


def test_effective_sample_size_formula() -> None:
    # Gaussian kurtosis 3 gives back S exactly.
    assert effective_sample_size(1000, 3.0) == pytest.approx(1000.0)
    # Large S: ≈ 2S/(κ − 1).
    assert effective_sample_size(100_000, 11.0) == pytest.approx(2 * 100_000 / 10, rel=1e-3)


def test_effective_sample_size_matches_variance_of_variance() -> None:
    """S_eff reproduces the spread of s² for a heavy-tailed (Laplace, κ = 6) law."""
    rng = np.random.default_rng(5)
    s, trials = 200, 4000
    x = rng.laplace(size=(trials, s))
    rel_var = np.var(np.var(x, axis=1, ddof=1)) / 2.0**2  # Laplace(1): σ² = 2
    s_eff = effective_sample_size(s, 6.0)
    assert rel_var == pytest.approx(2.0 / (s_eff - 1), rel=0.1)


def test_bootstrap_is_deterministic_per_task_key() -> None:
    x = np.random.default_rng(0).normal(size=300)
    a = bootstrap_ln_variance(x, task_rng(7, "t"))[0]
    b = bootstrap_ln_variance(x, task_rng(7, "t"))[0]
    c = bootstrap_ln_variance(x, task_rng(8, "t"))[0]
    assert a == b
    assert a.ln_ci != c.ln_ci
    assert a.method == "bca"
    assert a.ln_ci[0] < a.ln_variance < a.ln_ci[1]


def test_bootstrap_ci_coverage_gaussian() -> None:
    """95 % BCa intervals on ln Var cover the true variance at the nominal rate."""
    trials, s, true_var = 400, 300, 2.5
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(trials):
        x = rng.normal(0.0, math.sqrt(true_var), size=s)
        ci = bootstrap_ln_variance(x, rng, confidence=0.95)[0]
        covered += ci.ln_ci[0] <= math.log(true_var) <= ci.ln_ci[1]
    coverage = covered / trials
    assert abs(coverage - 0.95) <= binomial_tolerance(0.95, trials), coverage


def test_column_stats_multi_parameter_and_short_input() -> None:
    rng = np.random.default_rng(1)
    g = rng.normal(size=(500, 3)) * np.array([1.0, 2.0, 0.5])
    cols = column_stats(g, task_rng(0, "x"))
    assert len(cols) == 3
    for col, sd in zip(cols, (1.0, 2.0, 0.5), strict=True):
        lo, hi = col.variance_ci
        assert lo < sd**2 < hi
    short = column_stats(np.array([[1.0]]), task_rng(0, "x"))
    assert short[0].variance is None and short[0].ci is None


def test_heavy_tail_flag_on_warmup_global_not_on_gaussian() -> None:
    rng = np.random.default_rng(3)
    heavy = column_stats(warmup_global(rng, 12, 2000)[:, None], task_rng(0, "h"))[0]
    flag, reason = heavy_tail_check(heavy)
    assert flag and reason
    gauss = column_stats(rng.normal(size=(2000, 1)), task_rng(0, "g"))[0]
    assert heavy_tail_check(gauss) == (False, None)
    # Few samples are not heavy tails.
    few = column_stats(rng.normal(size=(20, 1)), task_rng(0, "f"))[0]
    assert heavy_tail_check(few)[0] is False


def test_heavy_tail_single_sample_share() -> None:
    st = ColumnStats(1000, 0.0, 1.0, 3.2, 950.0, 0.5, None)
    flag, reason = heavy_tail_check(st)
    assert flag and "50%" in reason


def test_precision_floor() -> None:
    assert precision_floor_check(1e-30, "double")
    assert not precision_floor_check(1e-20, "double")
    assert precision_floor_check(1e-11, "single")
    assert not precision_floor_check(1e-8, "single")
    assert not precision_floor_check(None, "double")
