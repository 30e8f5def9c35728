"""Scaling fits: recovery of known rates and coverage of the rate intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.fits import aic_strength, akaike_weights, fit_all, fit_model
from analysis.statistics import bootstrap_ln_variance

SIZES = np.array([4, 6, 8, 10, 12])


def _points(rng: np.random.Generator, variance: np.ndarray, samples: int, resamples: int):
    x = rng.normal(size=(samples, variance.size)) * np.sqrt(variance)
    cis = bootstrap_ln_variance(x, rng, n_resamples=resamples)
    return np.array([c.ln_variance for c in cis]), np.array([c.ln_se for c in cis])


def test_exact_points_recover_rates() -> None:
    n = SIZES.astype(float)
    se = np.full(n.size, 0.05)
    f = fit_model("exponential", n, math.log(0.3) - 0.7 * n, se)
    assert f.rate == pytest.approx(0.7)
    assert f.chi2 == pytest.approx(0.0, abs=1e-20)
    assert f.rate_ci[0] < 0.7 < f.rate_ci[1]
    g = fit_model("polynomial", n, math.log(2.0) - 1.5 * np.log(n), se)
    assert g.rate == pytest.approx(1.5)
    assert g.intercept == pytest.approx(math.log(2.0))


def test_synthetic_rates_recovered_and_model_chosen() -> None:
    rng = np.random.default_rng(11)
    y, se = _points(rng, 0.5 * np.exp(-0.9 * SIZES), 4000, 1000)
    fits = fit_all(SIZES, y, se)
    assert fits["exponential"].rate == pytest.approx(0.9, abs=0.05)
    assert fits["exponential"].aic < fits["polynomial"].aic
    y, se = _points(rng, 0.5 * SIZES**-2.0, 4000, 1000)
    fits = fit_all(SIZES, y, se)
    assert fits["polynomial"].rate == pytest.approx(2.0, abs=0.15)
    assert fits["polynomial"].aic < fits["exponential"].aic
    w = akaike_weights(fits)
    assert w["polynomial"] > 0.9 and sum(w.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(("model", "rate"), [("exponential", 0.9), ("polynomial", 2.0)])
def test_rate_interval_coverage(model: str, rate: float) -> None:
    """95 % rate intervals cover the true rate at close to the nominal rate.

    Tolerance: with T trials and true coverage 0.95 the number of covering trials is
    Binomial(T, 0.95); its fraction has sd sqrt(0.95·0.05/T) = 0.0154 for T = 200, and
    we accept 3 sd (0.046) either side, a 0.3 % false-failure rate for a correct
    interval. (The Birge-ratio inflation makes the interval slightly conservative, which
    the band allows.)
    """
    trials = 200
    tol = 3.0 * math.sqrt(0.95 * 0.05 / trials)
    rng = np.random.default_rng(99 if model == "exponential" else 100)
    variance = np.exp(-rate * SIZES) if model == "exponential" else SIZES**-rate
    covered = 0
    for _ in range(trials):
        y, se = _points(rng, variance, 300, 500)
        lo, hi = fit_model(model, SIZES, y, se).rate_ci
        covered += lo <= rate <= hi
    assert abs(covered / trials - 0.95) <= tol, covered / trials


def test_birge_ratio_inflates_bad_fits() -> None:
    n = SIZES.astype(float)
    y = -0.5 * n + np.array([0.3, -0.3, 0.3, -0.3, 0.3])
    f = fit_model("exponential", n, y, np.full(n.size, 0.01))
    assert f.scale_factor > 10
    assert f.p_value < 1e-6


def test_aic_strength_words() -> None:
    assert aic_strength(1.0) == "weak"
    assert aic_strength(-4.0) == "positive"
    assert aic_strength(8.0) == "strong"
    assert aic_strength(50.0) == "very strong"
