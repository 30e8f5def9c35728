"""Lie-algebraic predictions of deep circuits: closed forms, and measured runs against them.

The predictions (suite/lie_gradient.py, suite/lie_command.py) must reproduce the
references of the literature exactly; measured variances of deep circuits must agree
with them by the analysis's own test (analysis/lie_check.py: |z| < 3.29 on the
bias-corrected ln-variance, two-sided p ≥ 0.001 per check, so the 15 checks of the run
below fail by chance with probability below 1.5 %, and the seed is fixed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from analysis import lie_check
from suite.cli import main
from suite.lie_command import lie_report

DATA = Path(__file__).parent / "data"


def _job(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "job.toml"
    path.write_text(f'name = "lie"\nseed = 1\nsamples = 4\n{body}')
    return path


def _by_position(entry: dict) -> dict[str, float]:
    return {g["position"]: g["variance"] for g in entry["gradient_predictions"]}


@pytest.mark.parametrize("n", [2, 3, 4, 6, 7, 8, 10])
def test_universal_references(tmp_path, n):
    """McClean's circuit generates su(2ⁿ): Var C = 1/(2ⁿ + 1) for ⟨Z0Z1⟩ on a pure state,
    and McClean et al.'s deep limits for the first and a middle parameter. n ≤ 7 goes
    through the closure, n ≥ 8 through the theory path; both must give the closed forms."""
    job = _job(
        tmp_path,
        "[[sweep]]\nansatz = 'mcclean'\ncost = 'zz'\n"
        f"qubits = {n}\ndepth = '10*n'\nparameters = ['first', 'middle']\n",
    )
    (entry,) = lie_report(job)["tasks"]
    assert entry["dimension"] == 4**n - 1
    assert entry["loss_variance_prediction"] == pytest.approx(1 / (2**n + 1), rel=1e-12)
    gradient = _by_position(entry)
    assert gradient["first"] == pytest.approx(2**n / (3 * (4**n - 1)), rel=1e-12)
    middle = 2 ** (2 * n - 1) / ((2**n + 1) * (4**n - 1))
    assert gradient["middle"] == pytest.approx(middle, rel=1e-12)


def test_gates_that_commute_with_everything_before_them_count_as_first(tmp_path):
    """Every first-layer rotation of McClean's circuit acts on its own qubit after only
    gates on other qubits: it can move to the start, and its deep limit is the first
    parameter's. The gate on qubit 0 in layer 2 has two non-commuting gates before it."""
    n = 4
    job = _job(
        tmp_path,
        "[[sweep]]\nansatz = 'mcclean'\ncost = 'zz'\n"
        f"qubits = {n}\ndepth = '10*n'\nparameters = [1, 3, 4]\n",
    )
    (entry,) = lie_report(job)["tasks"]
    first, last_of_layer, second_layer = entry["gradient_predictions"]
    for g in (first, last_of_layer):
        assert (g["position"], g["rotations_before"]) == ("first", 0)
        assert g["variance"] == pytest.approx(2**n / (3 * (4**n - 1)), rel=1e-12)
    assert (second_layer["position"], second_layer["rotations_before"]) == ("middle", 2)


@pytest.mark.parametrize("n", [3, 4, 5, 6, 8])
def test_free_fermion_formulas(tmp_path, n):
    """Matchgate circuits: g = so(2n), dim n(2n − 1). For |0…0⟩ and O = Z_k the Z_j are the
    only Z-type strings of g, so P_g(ρ) = n/2ⁿ, P_g(O) = 2ⁿ and Var C = 1/(2n − 1). Every
    generator is a Majorana bilinear c_a c_b, which anticommutes with the 4(n − 1)
    bilinears sharing one index with it: Var ∂_middle = 4(n − 1)/(n(2n − 1)²). The first
    gate, RZ on |0⟩, has a vanishing derivative. Both fall polynomially: no plateau."""
    job = _job(
        tmp_path,
        "[[sweep]]\nansatz = 'matchgate'\ncost = 'zout'\n"
        f"qubits = {n}\ndepth = '4*n'\nparameters = ['first', 'middle']\n",
    )
    (entry,) = lie_report(job)["tasks"]
    assert entry["dimension"] == n * (2 * n - 1)
    assert entry["loss_variance_prediction"] == pytest.approx(1 / (2 * n - 1), rel=1e-12)
    gradient = _by_position(entry)
    assert gradient["first"] == 0.0
    assert gradient["middle"] == pytest.approx(4 * (n - 1) / (n * (2 * n - 1) ** 2), rel=1e-12)


def test_tied_parameter_has_no_single_gate_formula(tmp_path):
    """QAOA's γ drives every cost gate: the single-gate formulas do not apply, said so."""
    job = _job(
        tmp_path,
        "[[sweep]]\nansatz = 'qiskit:qaoa_ansatz'\nqubits = 3\ndepth = 2\n"
        "options = { cost_operator = [['ZZ', [0, 1], 1.0], ['ZZ', [1, 2], 1.0]] }\n"
        "observable = [['ZZ', [0, 1], 1.0]]\nparameters = [0]\n",
    )
    (entry,) = lie_report(job)["tasks"]
    (gradient,) = entry["gradient_predictions"]
    assert gradient["variance"] is None
    assert "drives" in gradient["note"]


def _check(task: str, verdict: str, converged: bool | None, **kw) -> dict:
    return {"task": task, "verdict": verdict, "converged": converged, **kw}


def test_verdicts_from_depth_sweeps():
    """A disagreement while the variance still changes with depth is `not deep enough`;
    the same disagreement once it stopped changing is `disagrees`."""
    se = 0.05

    def task(depth: int, ln_var: float, predicted: float) -> dict:
        return {
            "task": f"f-c-n4-L{depth}",
            "ansatz": "f",
            "cost": "c",
            "qubits": 4,
            "depth": depth,
            "param_index": [0],
            "fit_ln_variance": ln_var,
            "fit_ln_se": se,
            "lie_variance": predicted,
            "precision_floor": 0.0,
        }

    v = 0.1
    # still changing: L=4 is far from L=16, and L=16 agrees with the prediction
    shallow = [task(4, math.log(2 * v), v), task(16, math.log(v), v)]
    verdicts = {c["task"]: c["verdict"] for c in lie_check.checks(shallow)}
    assert verdicts == {"f-c-n4-L4": "not deep enough", "f-c-n4-L16": "agrees"}
    # converged (L=8 and L=16 agree) but both far from the prediction
    stuck = [task(8, math.log(2 * v), v), task(16, math.log(2 * v) + 0.01, v)]
    verdicts = {c["task"]: c["verdict"] for c in lie_check.checks(stuck)}
    assert verdicts == {"f-c-n4-L8": "disagrees", "f-c-n4-L16": "disagrees"}
    assert lie_check.checks([task(8, math.log(v), v)])[0]["converged"] is None


@pytest.mark.slow
def test_deep_runs_agree_with_the_predictions(tmp_path, capsys):
    """Measured loss and gradient variances of deep free-fermion (n = 3, 4) and universal
    (n = 3) circuits agree with the predictions; at depth 2n the free-fermion gradient of a
    middle parameter does not, and the analysis says the circuit is not deep enough."""
    out = tmp_path / "run"
    assert main(["run", str(DATA / "lie-deep.toml"), "--out", str(out)]) == 0
    assert main(["analyze", str(out)]) == 0
    summary = json.loads((out / "analysis" / "summary.json").read_text())
    tasks = {t["task"]: t for t in summary["tasks"]}
    assert tasks["matchgate-zout-n4-L64"]["lie_dimension"] == 28
    assert tasks["mcclean-zz-n3-L30"]["lie_loss_variance"] == pytest.approx(1 / 9)
    deep = [c for c in summary["lie_checks"] if c["depth"] >= 10 * c["qubits"]]
    assert len(deep) == 9
    assert {c["verdict"] for c in deep} == {"agrees"}, deep
    shallow = {
        (c["task"], c["position"]): c["verdict"]
        for c in summary["lie_checks"]
        if c["depth"] == 2 * c["qubits"]
    }
    assert shallow[("matchgate-zout-n3-L6", "middle")] == "not deep enough"
    assert shallow[("matchgate-zout-n4-L8", "middle")] == "not deep enough"
    report = (out / "analysis" / "report.md").read_text()
    assert "## Lie-algebraic predictions" in report
