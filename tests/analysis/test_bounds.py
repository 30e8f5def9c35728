"""The one-sided variance bound of analysis/bounds.py: its closed form and its coverage."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.bounds import RESOLVING_NONZERO, bound_entry, nonzero_upper


@pytest.mark.parametrize("samples", [1, 120, 4000])
def test_no_nonzero_sample_gives_the_rule_of_three(samples):
    assert nonzero_upper(0, samples, 0.95) == pytest.approx(1 - 0.05 ** (1 / samples), rel=1e-12)


@pytest.mark.parametrize("p", [3e-4, 3e-3, 1e-2, 3e-2])
def test_bound_covers_the_true_variance_at_its_confidence(p):
    """Sparse gradients g = B·u·1[g ≠ 0], u uniform on [−1, 1]: Var = B²p/3. Clopper–Pearson
    covers at ≥ 95 % for every p, so over R = 4000 repetitions the covered fraction must not
    fall below 0.95 − 3·sqrt(0.95·0.05/R) = 0.9397 (a point estimate k/S in place of p⁺ would
    cover about half the time for small p)."""
    rng = np.random.default_rng(20261203)
    repetitions, samples, bound = 4000, 300, 0.25
    covered = p_covered = 0
    for _ in range(repetitions):
        hit = rng.random(samples) < p
        g = np.where(hit, bound * rng.uniform(-1.0, 1.0, samples), 0.0)
        entry = bound_entry(g, bound, 0.95)
        covered += bound**2 * p / 3 <= entry["variance_upper"]
        # the limit on P(g ≠ 0) itself: a 50 % limit would cover only about half the time
        p_covered += p <= nonzero_upper(entry["nonzero_samples"], samples, 0.95)
    band = 0.95 - 3 * np.sqrt(0.95 * 0.05 / repetitions)
    assert covered / repetitions >= band
    assert p_covered / repetitions >= band


def test_entry_counts_nonzero_samples_and_needs_a_bound_for_the_upper_limit():
    g = np.zeros(50)
    g[: RESOLVING_NONZERO - 1] = 0.5
    entry = bound_entry(g, None, 0.95)
    assert entry["nonzero_samples"] == RESOLVING_NONZERO - 1
    assert entry["variance_resolved"] is False and entry["variance_upper"] is None
    g[RESOLVING_NONZERO - 1] = -0.5
    entry = bound_entry(g, 1.0, 0.95)
    assert entry["variance_resolved"] is True
    assert entry["variance_upper"] == pytest.approx(nonzero_upper(RESOLVING_NONZERO, 50, 0.95))
    with np.errstate(invalid="ignore"):
        assert bound_entry(np.array([np.nan, 0.0]), 1.0, 0.95)["variance_upper"] is None


def test_rounding_residue_counts_as_zero():
    """A structurally zero derivative on a floating-point engine leaves residue (1e-262 …
    1e-51 seen on statevector): it is not a non-zero sample, and it adds at most τ²."""
    g = np.zeros(64)
    g[0] = 0.125
    g[1:46] = np.logspace(-262, -51, 45)
    g[46] = 90 * np.finfo(float).eps * 0.5  # just below τ = 100·eps·B with B = ½
    entry = bound_entry(g, 0.5, 0.95)
    assert entry["nonzero_samples"] == 1 and entry["variance_resolved"] is False
    tau = 100 * np.finfo(float).eps * 0.5
    assert entry["variance_upper"] == pytest.approx(0.25 * nonzero_upper(1, 64, 0.95) + tau**2)
    single = bound_entry(g.astype(np.float32).astype(float), 0.5, 0.95, "single")
    assert single["nonzero_samples"] == 1
