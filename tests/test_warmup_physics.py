"""The Cerezo et al. warm-up: measured variances against the exact ones.

For the product ansatz RX(θ_j)|0⟩ with θ_j ~ U[0, 2π):

  global  g = ∂C_G/∂θ_1 = ½ sin θ_1 ∏_{j>1} cos²(θ_j/2)
          E[g²] = (1/8)(3/8)^(n−1),   E[g⁴] = (1/16)(3/8)(35/128)^(n−1)
  local   g = ∂C_L/∂θ_1 = sin θ_1 / (2n)
          E[g²] = 1/(8n²),            E[g⁴] = (3/8)/(16 n⁴)

(E[sin²] = ½, E[sin⁴] = 3/8, E[cos⁴(θ/2)] = 3/8, E[cos⁸(θ/2)] = 35/128, and
E[g] = 0.) The unbiased sample variance s² of S samples then has standard
error σ_s² = sqrt((E[g⁴] − E[g²]²)/S) up to O(1/S²). With 14 checks we allow
Z = 4 standard errors: a two-sided normal tail of 6e-5 each, 1e-3 for the
family — not a tolerance tuned to pass. (The global gradient is heavy-tailed,
kurtosis 1.5·(35/18)^(n−1), which the exact E[g⁴] already accounts for.)
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from helpers import assert_variance_matches, run_text, warmup_moments

SAMPLES = 4000
QUBITS = range(2, 9)
Z = 4.0

JOB = f"""
name = "warmup-exact"
seed = 20210317
samples = {SAMPLES}
batch = 1000
[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = {list(QUBITS)}
"""


def test_moments_are_the_papers():
    """The general law at q = 1 is Cerezo et al.'s: (1/8)(3/8)^(n−1) and 1/(8n²), with
    fourth moments (3/128)(35/128)^(n−1) and 3/(128 n⁴)."""
    for n in QUBITS:
        assert warmup_moments("global", n) == pytest.approx(
            ((1 / 8) * (3 / 8) ** (n - 1), (3 / 128) * (35 / 128) ** (n - 1))
        )
        assert warmup_moments("local", n) == pytest.approx((1 / (8 * n**2), 3 / (128 * n**4)))


@pytest.fixture(scope="module")
def warmup_results(tmp_path_factory):
    return run_text(JOB, tmp_path_factory.mktemp("warmup"))


@pytest.mark.parametrize("cost", ["global", "local"])
@pytest.mark.parametrize("n", QUBITS)
def test_warmup_variance_matches_exact(warmup_results, cost, n):
    with h5py.File(warmup_results / "results.h5") as f:
        grad = f["tasks"][f"product-{cost}-n{n}-L1"]["grad"][:, 0]
    assert grad.shape == (SAMPLES,)
    assert_variance_matches(grad, *warmup_moments(cost, n), Z)


def test_local_gradient_is_exactly_sin_over_2n(warmup_results):
    """Beyond statistics: each local-cost sample equals sin θ_1 / (2n) to rounding."""
    with h5py.File(warmup_results / "results.h5") as f:
        for n in QUBITS:
            group = f["tasks"][f"product-local-n{n}-L1"]
            theta, grad = group["theta"][:], group["grad"][:, 0]
            np.testing.assert_allclose(grad, np.sin(theta[:, 0]) / (2 * n), rtol=0, atol=1e-14)
            group = f["tasks"][f"product-global-n{n}-L1"]
            theta, grad = group["theta"][:], group["grad"][:, 0]
            expected = 0.5 * np.sin(theta[:, 0]) * np.prod(np.cos(theta[:, 1:] / 2) ** 2, axis=1)
            np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-14)


def test_angles_are_uniform_on_the_full_period(warmup_results):
    with h5py.File(warmup_results / "results.h5") as f:
        theta = f["tasks"]["product-global-n8-L1"]["theta"][:].ravel()
    assert theta.min() >= 0 and theta.max() < 2 * np.pi
    # Kolmogorov–Smirnov against U[0, 2π): critical value 1.95/sqrt(N) at α = 0.001
    x = np.sort(theta) / (2 * np.pi)
    ecdf = np.arange(1, len(x) + 1) / len(x)
    assert np.max(np.abs(ecdf - x)) < 1.95 / np.sqrt(len(x))
