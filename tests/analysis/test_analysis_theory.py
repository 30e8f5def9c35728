"""The theorem table, exact values and depth-rule parsing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import warmup_global, warmup_local

from analysis import theory


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_warmup_exact_values_match_monte_carlo(n: int) -> None:
    rng = np.random.default_rng(n)
    g = warmup_global(rng, n, 400_000)
    loc = warmup_local(rng, n, 400_000)
    assert np.var(g) == pytest.approx(theory.exact_variance("product", "global", n, 1, 0), rel=0.03)
    assert np.var(loc) == pytest.approx(
        theory.exact_variance("product", "local", n, 1, 0), rel=0.02
    )


def test_theorem_table() -> None:
    assert theory.theorem_for("product", "global").exact_rate == pytest.approx(math.log(8 / 3))
    assert theory.theorem_for("product", "local").model == "polynomial"
    assert theory.theorem_for("qcnn", "zout").model == "polynomial"
    assert theory.theorem_for("alternating", "local").needs_log_depth
    assert theory.theorem_for("mcclean", "zz").needs_deep
    assert theory.theorem_for("product", "zz") is None


def test_mcclean_exact_only_when_deep_and_first_layer() -> None:
    limit = theory.mcclean_deep_limit(4)
    assert limit == pytest.approx(16 / (3 * 255))
    assert theory.exact_variance("mcclean", "zz", 4, 40, 0) == pytest.approx(limit)
    assert theory.exact_variance("mcclean", "zz", 4, 39, 0) is None
    assert theory.deep_limit("mcclean", "zz", 4, 3) == pytest.approx(limit)
    assert theory.deep_limit("mcclean", "zz", 4, 4) is None


@pytest.mark.parametrize(
    ("rule", "growth"),
    [
        ("1", "constant"),
        ("3", "constant"),
        ("ceil(log2(n))", "logarithmic"),
        ("2*ceil(log2(n))+1", "logarithmic"),
        ("n", "faster"),
        ("10*n", "faster"),
        ("n**2", "faster"),
        ("sqrt(n)", "faster"),
        ("__import__('os')", "unknown"),
        ("9**9**9**9", "unknown"),
        ("n +", "unknown"),
    ],
)
def test_depth_growth(rule: str, growth: str) -> None:
    assert theory.depth_growth(rule) == growth


def test_spec_modifiers() -> None:
    assert theory.spec_modifiers({"noise": {"p": 0.01}, "shots": 0}) == ["noise"]
    assert theory.spec_modifiers({"noise": "none", "shots": 1000}) == ["shots"]
    assert theory.spec_modifiers({"block": 2}) == []
