"""The |∂C/∂θ| bound each run stores (`grad_bound`) and the one-sided variance bound the
analysis makes of it when the samples are all zero (docs/analysis.md)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from analysis.bounds import nonzero_upper
from analysis.pipeline import analyze_runs
from helpers import run_text
from suite.engines.base import Workload
from suite.engines.registry import ENGINES, gradient_bounds
from suite.spec import parse_spec

WARMUP_CLIFFORD = """
name = "bound"
seed = 5
samples = 64
batch = 32

[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = [8, 24]
angles = "clifford"

[simulator]
method = "stabilizer"
"""


def test_warmup_bounds_are_attained_at_clifford_angles(tmp_path):
    """Local: |∂C_L/∂θ₁| = |sin θ₁|/(2n) reaches 1/(2n) (only Z₁'s cone holds θ₁);
    global: ½ sin θ₁ Π cos²(θ_j/2) stays below the projector's 1/2."""
    run_dir = run_text(WARMUP_CLIFFORD, tmp_path)
    with h5py.File(run_dir / "results.h5", "r") as f:
        for n in (8, 24):
            local = f[f"tasks/product-local-n{n}-L1-clifford"]
            assert local["grad_bound"][()].tolist() == [1 / (2 * n)]
            assert np.max(np.abs(local["grad"][()])) == 1 / (2 * n)
            glob = f[f"tasks/product-global-n{n}-L1-clifford"]
            assert glob["grad_bound"][()].tolist() == [0.5]
            assert np.max(np.abs(glob["grad"][()])) <= 0.5


def test_unresolved_variance_gets_a_one_sided_bound_and_no_fit(tmp_path):
    """The warm-up global gradient at n = 24 is non-zero with probability ½(3/4)^23 ≈ 6e-4,
    so 64 samples hold fewer than ten non-zero ones: the analysis reports B²·p⁺ instead."""
    run_dir = run_text(WARMUP_CLIFFORD, tmp_path)
    summary = analyze_runs([run_dir])
    (task,) = [t for t in summary["tasks"] if t["task"] == "product-global-n24-L1-clifford"]
    k = task["nonzero_samples"]
    assert k < 10 and task["variance_resolved"] is False
    assert task["variance_upper"] == pytest.approx(0.25 * nonzero_upper(k, 64, 0.95), rel=1e-12)
    exact = (1 / 8) * (3 / 8) ** 23
    assert exact <= task["variance_upper"]
    assert any("one-sided 95 %" in note for note in task["notes"])
    verdicts = [
        f
        for f in summary["fits"]
        if f["family"] == "product-global-L1-clifford" and f["kind"] == "verdict"
    ]
    why = "too few non-zero samples (one-sided bound only)"
    assert verdicts and all(
        {"task": task["task"], "qubits": 24, "reason": why} in f["excluded"] for f in verdicts
    )
    report = (run_dir / "analysis" / "report.md").read_text()
    assert f"| ≤ {task['variance_upper']:.3g} |" in report
    resolved = [t for t in summary["tasks"] if t["task"] == "product-local-n24-L1-clifford"]
    assert resolved[0]["variance_resolved"] is True
    json.dumps(summary)


@pytest.mark.parametrize("n", [16, 64])
def test_light_cone_engine_and_whole_tableau_give_the_same_bound(n):
    text = f"""
name = "cones"
seed = 1
samples = 4
[[sweep]]
ansatz = "alternating"
cost = ["local", "zz"]
qubits = {n}
depth = 2
angles = "clifford"
parameters = [0, 5, 17]
[simulator]
method = "stabilizer"
"""
    spec = parse_spec(text, "cones.toml")
    for task in spec.tasks:
        workload = Workload(task)
        whole = ENGINES["stabilizer"].gradient_bound(workload)
        cones = ENGINES["cones-stabilizer"].gradient_bound(workload)
        np.testing.assert_allclose(cones, whole, rtol=1e-15)
        if task.cost == "local":  # every parameter reaches some Z_j
            assert np.all(whole > 0)
    assert set(gradient_bounds(spec.tasks)) == {t.id for t in spec.tasks}


def test_shot_estimates_stay_within_the_bound(tmp_path):
    """With shots every term is drawn again at both shifted points, so terms outside the
    light cone do not cancel: the bound counts them all (½ for the local cost, not
    1/(2n)); the light-cone bound was exceeded by 7 of 40 such samples."""
    run_dir = run_text(
        """
name = "shots-bound"
seed = 3
samples = 200
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 4
shots = 2
""",
        tmp_path,
    )
    with h5py.File(run_dir / "results.h5", "r") as f:
        group = f["tasks/product-local-n4-L1-s2"]
        bound = group["grad_bound"][()]
        assert bound.tolist() == [0.5]
        grad = np.abs(group["grad"][()])
        assert np.all(grad <= bound) and np.max(grad) > 1 / 8  # beyond the cone's 1/(2n)
