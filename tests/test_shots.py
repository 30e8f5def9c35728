"""Finite shots (docs/shots.md): the sweep key, the estimates, their invariance, the floor.

Statistical checks use Z = 4 standard errors (two-sided normal tail 6e-5 each; about 20
checks here, under 2e-3 for the file), every standard error derived below, none tuned.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.pipeline import build_summary
from helpers import (
    assert_same_numbers,
    bpsuite,
    computed_datasets,
    killed_then_resumed,
    one_line_refusal,
    run_text,
)
from suite.engines.aer import make_simulator, resolve
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import choose, prepare
from suite.spec import SimulatorSpec, SpecError, parse_spec

Z = 4.0

HEAD = 'name = "s"\nseed = 5\nsamples = 10\n[[sweep]]\nansatz = "product"\ncost = "local"\n'


def test_shots_sweep_into_tasks_with_a_suffix_only_when_finite():
    spec = parse_spec(HEAD + "qubits = 3\nshots = [0, 100]\n")
    exact, sampled = spec.tasks
    assert (exact.id, sampled.id) == ("product-local-n3-L1", "product-local-n3-L1-s100")
    assert (exact.shots, sampled.shots) == (0, 100)
    assert sampled.family == "product-local-L1-s100"
    assert '"shots"' not in exact.to_json()  # exact tasks store what they always stored
    assert '"shots": 100' in sampled.to_json()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-1", "sweep[0].shots: must be ≥ 0, got -1"),
        ("1", "sweep[0].shots: must be 0 (exact expectation values) or ≥ 2, got 1"),
        ("2.5", "sweep[0].shots: must be an integer, got 2.5"),
        ("true", "sweep[0].shots: must be an integer, got True"),
        ("[]", "sweep[0].shots: must not be an empty list"),
        (
            '100\nangles = "clifford"\n[simulator]\nmethod = "stabilizer"',
            'sweep[0].shots: shots = 100 with method = "stabilizer"',
        ),
    ],
)
def test_bad_shots_give_one_line_naming_the_key(value, fragment):
    text = HEAD + f"qubits = 3\nshots = {value}\n"
    assert fragment in one_line_refusal(SpecError, "bad.toml: ", parse_spec, text, "bad.toml")


def test_shot_tasks_take_neither_stabilizer_nor_cones():
    clifford = parse_spec(
        HEAD + 'qubits = 3\nangles = "clifford"\nshots = [0, 10]\n[simulator]\nmethod = "auto"\n'
    )
    assert [t.method for t in clifford.tasks] == ["stabilizer", "statevector"]
    wide = parse_spec(HEAD + "qubits = 20\nshots = [0, 10]\n")  # cones pay at n = 20 …
    assert [choose(Workload(t)).name for t in wide.tasks] == ["cones", "template"]


# Fixed angles of the per-sample check; each of B samples repeats them with its own shots.
THETA = np.array([0.7, 2.1, 4.0])
SHOTS = 50
B = 4000


def binomial_means(parts, shots):
    """Mean, variance and fourth cumulant of Σ_i a_i · k_i/N, k_i ~ Binomial(N, p_i)
    independent: κ2 = Σ a²pq/N and κ4 = Σ a⁴ Npq(1 − 6pq)/N⁴ (cumulants add)."""
    mean = sum(a * p for a, p in parts)
    var = sum(a * a * p * (1 - p) / shots for a, p in parts)
    k4 = sum(a**4 * shots * p * (1 - p) * (1 - 6 * p * (1 - p)) / shots**4 for a, p in parts)
    return mean, var, k4


def exact_parts(cost: str, theta: np.ndarray):
    """The estimates as Σ a_i k_i/N + constant, by hand (product ansatz, measured terms).

    local: C = 1/2 − (1/2n) Σ_j m_j, m_j = 2k_j/N − 1 with p_j = (1 + cos θ_j)/2; the
    gradient's points θ_0 ± π/2 have ⟨Z_0⟩ = ∓ sin θ_0, and g = −(v̂₊ − v̂₋)/(4n).
    global: C = 1 − k/N with p = Π_j cos²(θ_j/2); g = −(k₊ − k₋)/(2N).
    Returns ((cost constant, parts), (gradient constant, parts)).
    """
    n = len(theta)
    shifted = [theta + s * np.eye(n)[0] * math.pi / 2 for s in (1, -1)]
    if cost == "local":
        cost_parts = [(-1 / n, (1 + math.cos(t)) / 2) for t in theta]
        grad_parts = [
            (-sign / (2 * n), (1 + math.cos(t)) / 2)
            for sign, point in zip((1, -1), shifted, strict=True)
            for t in point
        ]
        return (0.5 + 0.5, cost_parts), (0.0, grad_parts)  # −(1/2n)·Σ(−1) = +1/2
    p = [float(np.prod(np.cos(point / 2) ** 2)) for point in (theta, *shifted)]
    return (1.0, [(-1.0, p[0])]), (0.0, [(-0.5, p[1]), (0.5, p[2])])


@pytest.mark.parametrize("cost", ["local", "global"])
def test_each_estimate_has_the_exact_mean_and_binomial_variance(cost):
    """B samples of the same θ: their estimates against the exact binomial law.

    For the sample mean the standard error is sqrt(κ2/B); for the sample variance s² of
    B draws Var(s²) = 2κ2²/(B − 1) + κ4/B exactly; the mean of the stored per-sample
    shot-variance estimates has standard error sd/√B (central limit theorem).
    """
    spec = parse_spec(HEAD.replace("local", cost) + f"qubits = 3\nshots = {SHOTS}\n")
    task = spec.tasks[0]
    prepared = prepare(task)
    simulator = make_simulator(resolve(SimulatorSpec(), threads=1), task.qubits)
    theta = np.tile(THETA, (B, 1))
    result = gradient_batch(prepared, simulator, theta, None, spec.seed, np.arange(B))
    for (constant, parts), got, shot_var in (
        (exact_parts(cost, THETA)[0], result.cost, result.cost_shot_variance),
        (exact_parts(cost, THETA)[1], result.grad[:, 0], result.grad_shot_variance[:, 0]),
    ):
        mean, var, k4 = binomial_means(parts, SHOTS)
        assert abs(got.mean() - (constant + mean)) <= Z * math.sqrt(var / B)
        spread = math.sqrt(2 * var**2 / (B - 1) + k4 / B)
        assert abs(got.var(ddof=1) - var) <= Z * spread, (got.var(ddof=1), var, spread)
        assert abs(shot_var.mean() - var) <= Z * shot_var.std(ddof=1) / math.sqrt(B)


def test_shots_compose_with_noise():
    """A noisy task (density matrix) draws its shots from the noisy per-term values: the
    mean of B estimates at one θ is the exact noisy value, within Z standard errors
    sqrt(σ²/B), σ² estimated without bias by the mean stored shot variance."""
    noisy = "qubits = 2\nshots = [0, 50]\nnoise = { depolarizing = 0.05 }\n"
    spec = parse_spec(HEAD + noisy)
    exact_task, shot_task = spec.tasks
    assert shot_task.method == "density_matrix"
    resolved = resolve(spec.simulator, threads=1).for_task(shot_task)
    simulator = make_simulator(resolved, shot_task.qubits)
    theta = THETA[None, :2]
    exact = gradient_batch(prepare(exact_task), simulator, theta)
    got = gradient_batch(
        prepare(shot_task), simulator, np.repeat(theta, B, axis=0), None, 7, np.arange(B)
    )
    for want, values, shot_var in (
        (exact.cost[0], got.cost, got.cost_shot_variance),
        (exact.grad[0, 0], got.grad[:, 0], got.grad_shot_variance[:, 0]),
    ):
        assert abs(values.mean() - want) <= Z * math.sqrt(shot_var.mean() / B)
        assert values.std() > 0  # the shots, not the exact value, were stored


JOB = """
name = "shots-invariance"
seed = 99
samples = 48
batch = 8
[[sweep]]
ansatz = "product"
cost = ["local", "global"]
qubits = 3
shots = 16
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 3
depth = 2
shots = 16
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("shots-ref")
    run_text(JOB, root)
    return root


@pytest.mark.mpi
def test_two_ranks_and_a_resumed_run_give_the_same_shots(reference, tmp_path):
    want = computed_datasets(reference / "run" / "results.h5")
    assert sum(name.endswith("shot_variance") for _, name in want) == 6  # checked too
    job = reference / "job.toml"
    bpsuite("run", str(job), "--out", str(tmp_path / "mpi"), ranks=2)
    assert_same_numbers(tmp_path / "mpi" / "results.h5", reference / "run" / "results.h5")
    resumed = killed_then_resumed(
        job,
        tmp_path / "resumed",
        "kill@0:3",
        reference / "run" / "results.h5",
        resume_ranks=2,
        env={"BPSUITE_NO_MPI": "1"},
    )
    assert "24 already done" in resumed


N_QUBITS, N_SHOTS, WARMUP_SAMPLES = 4, 8, 4000
WARMUP = f"""
name = "shots-warmup"
seed = 2021
samples = {WARMUP_SAMPLES}
batch = 1000
[[sweep]]
ansatz = "product"
cost = "local"
qubits = {N_QUBITS}
shots = {N_SHOTS}
[[sweep]]                     # d⟨Z_1⟩/dθ_0 = 0: a true variance of exactly zero
ansatz = "product"
observable = [["Z", [1], 1.0]]
qubits = 2
parameters = [0]
shots = 4
samples = 400
batch = 400
"""
# The summary's intervals at 99.9 %: a task of true variance 0 then escapes the flag
# with probability below 5e-4.
CONFIDENCE = 0.999


@pytest.fixture(scope="module")
def warmup(tmp_path_factory):
    run_dir = run_text(WARMUP, tmp_path_factory.mktemp("shots-warmup"))
    summary = build_summary([run_dir], confidence=CONFIDENCE)
    return {t["task"]: t for t in summary["tasks"]}, summary["fits"]


def test_warmup_with_shots_measures_exact_variance_plus_floor(warmup):
    """Local cost, g = sin θ_1/(2n) + shot noise: Var g = 1/(8n²) + floor, and the floor
    is exact too: E[σ²_shot] = (1/4n)² Σ_± Σ_j E[1 − ⟨Z_j⟩²]/N = (1/4n)²·2n·½/N = 1/(16nN)
    (at θ_1 ± π/2, 1 − ⟨Z_1⟩² = cos²θ_1; elsewhere sin²θ_j; both average ½).
    The loss likewise: Var C = 1/(8n) + (1/2n)²·n·½/N = 1/(8n) + 1/(8nN).
    Standard errors: s² by the central limit theorem, sqrt((m₄ − s⁴)/S) with the sample's
    fourth central moment; the floor as sd(w)/√S (both reported in summary.json as the
    ingredients of the intervals)."""
    tasks, _ = warmup
    n, shots, s = N_QUBITS, N_SHOTS, WARMUP_SAMPLES
    t = tasks[f"product-local-n{n}-L1-s{shots}"]
    assert t["shots"] == shots and t["samples"] == s and t["at_shot_floor"] is False
    for prefix, true, floor in (
        ("", 1 / (8 * n * n), 1 / (16 * n * shots)),
        ("loss_", 1 / (8 * n), 1 / (8 * n * shots)),
    ):
        variance, kurtosis = t[prefix + "variance"], t[prefix + "kurtosis"]
        se_variance = variance * math.sqrt((kurtosis - 1) / s)  # (m₄ − s⁴)/S, m₄ = κ s⁴
        se_floor = t[prefix + "shot_floor_se"]
        assert abs(t[prefix + "shot_floor"] - floor) <= Z * se_floor
        assert abs(variance - (true + floor)) <= Z * se_variance, (prefix, variance, true + floor)
        corrected = t[prefix + "variance_corrected"]
        assert abs(corrected - true) <= Z * (se_variance + se_floor)
        lo, hi = t[prefix + "variance_corrected_ci"]
        assert lo <= true <= hi and lo > 0
    # Without the correction the measured variance would miss the exact one:
    assert t["variance"] - 1 / (8 * n * n) > Z * t["variance"] * math.sqrt((t["kurtosis"] - 1) / s)


def test_fits_take_the_corrected_variance(warmup):
    """The fit's ln Var estimates the true variance's logarithm: ln(1/(8n²)) within Z of
    its error bar, while the measured ln s² lies far above (its floor is 1/(16nN))."""
    tasks, _ = warmup
    n = N_QUBITS
    t = tasks[f"product-local-n{n}-L1-s{N_SHOTS}"]
    true = math.log(1 / (8 * n * n))
    assert abs(t["fit_ln_variance"] - true) <= Z * t["fit_ln_se"]
    assert math.log(t["variance"]) - true > Z * t["fit_ln_se"]


def test_true_variance_below_the_floor_is_flagged_and_gets_no_verdict(warmup):
    tasks, fits = warmup
    (task_id,) = [k for k in tasks if k.startswith("product-obs")]
    t = tasks[task_id]
    assert t["at_shot_floor"] is True and t["variance_corrected_ci"][0] == 0.0
    assert abs(t["shot_floor"] - 1 / (4 * 4)) <= Z * t["shot_floor_se"]  # (¼)(2·½/N), N = 4
    assert t["loss_at_shot_floor"] is False  # ⟨Z_1⟩ = cos θ_1 itself varies: Var ½
    (verdict,) = [f for f in fits if f["kind"] == "verdict" and f["family"] == t["family"]]
    assert verdict["verdict"] == "inconclusive"
    assert verdict["excluded"] == [
        {"task": task_id, "qubits": 2, "reason": "at the shot-noise floor"}
    ]
