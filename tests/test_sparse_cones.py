"""Light cones on the stabilizer method (suite/engines/sparse_cones.py, docs/large-n.md).

At Clifford angles every value is an exact integer, so the cone engine must give the whole
tableau engine's numbers bit for bit; at n > 2^16 parameters the angles are drawn per
parameter and only the differentiated parameters' theta columns are stored.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from helpers import assert_same_numbers, bpsuite, killed_then_resumed, run_text
from suite.circuits.sampling import COUNTER_DRAWS_ABOVE, draw_columns, draw_sample, draw_samples
from suite.engines.aer import resolve
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES, choose
from suite.spec import parse_spec

SMALL = """
name = "cones-small"
seed = 5
samples = 12
[[sweep]]
ansatz = "alternating"
cost = ["local", "zz", "zout"]
qubits = [16, 64]
depth = "ceil(log2(n))"
angles = "clifford"
parameters = [0, 7, "middle", "last"]
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 24
depth = 3
block = 4
angles = "clifford"
parameters = [2, "middle"]
[[sweep]]
ansatz = "product"
cost = ["local", "zz", "zout"]
qubits = [16, 64]
angles = "clifford"
parameters = [0, 1, 5]
[[sweep]]                      # users' Pauli sums too (dyadic coefficients: exact sums)
ansatz = "product"
observable = [["ZZ", [0, 1], 0.5], ["X", [3], -0.25], ["Y", ["n-1"], 1.5], ["XY", [2, 5], 2.0]]
qubits = 16
angles = "clifford"
parameters = [0, 1, 3, "last"]
[[sweep]]
ansatz = "alternating"
observable = [["ZZ", [0, 1], 0.5], ["X", [3], -0.25], ["Y", ["n-1"], 1.5], ["XY", [2, 5], 2.0]]
qubits = 16
depth = 2
angles = "clifford"
parameters = [0, 1, 3, "last"]
[simulator]
method = "stabilizer"
"""


def test_gradients_and_costs_equal_the_whole_tableau_bit_for_bit():
    spec = parse_spec(SMALL)
    resolved = resolve(spec.simulator, 1)
    samples = np.arange(spec.tasks[0].samples)
    for task in spec.tasks:
        whole = ENGINES["stabilizer"].prepare(Workload(task))
        cones = ENGINES["cones-stabilizer"].prepare(Workload(task))
        theta, _ = draw_samples(spec.seed, task, samples, False)
        want = gradient_batch(whole, whole.simulator(resolved.for_task(task)), theta)
        stored, _, got = cones.sample_batch(cones.simulator(resolved.for_task(task)), 5, samples)
        assert np.array_equal(stored, theta), task.id
        assert np.array_equal(got.grad, want.grad), task.id
        assert np.array_equal(got.cost, want.cost), task.id
        if task.cost != "zz" and task.cost != "zout":  # some non-zero derivative compared
            assert np.any(got.grad != 0), task.id


def test_a_million_qubits_validate_without_a_circuit_on_small_cones():
    text = SMALL.replace("qubits = [16, 64]", "qubits = 1048576", 1).replace(
        'parameters = [0, 7, "middle", "last"]', 'parameters = "middle"'
    )
    spec = parse_spec(text)  # validated without building a circuit of 20 M gates
    task = spec.task("alternating-local-n1048576-L20-m2-clifford")
    assert choose(Workload(task)).name == "cones-stabilizer"
    prepared = ENGINES["cones-stabilizer"].prepare(Workload(task))
    assert prepared.width <= 4 * task.depth * 2 + 2  # forward cone ≤ 2L, its backward cone
    assert "cost not computed (NaN)" in prepared.describe()


def test_too_large_tableau_is_still_refused_in_one_line():
    from suite.errors import SpecError

    text = SMALL.split("[[sweep]]")[0] + (
        '[[sweep]]\nansatz = "qcnn"\ncost = "zout"\nqubits = 1048576\nangles = "clifford"\n'
        '[simulator]\nmethod = "stabilizer"\n'
    )
    with pytest.raises(SpecError, match=r"sweep\[0\].qubits: a stabilizer tableau of 1048576"):
        parse_spec(text, memory_bytes=16 * 2**30)


WARMUP_N = 2**17  # n parameters > 2^16: angles drawn per parameter, theta stored in part
WARMUP = f"""
name = "warmup-large"
seed = 11
samples = 400
batch = 100
[[sweep]]
ansatz = "product"
cost = "local"
qubits = {WARMUP_N}
angles = "clifford"
[simulator]
method = "auto"
"""


def test_warmup_local_variance_is_one_over_8n2_at_large_n(tmp_path):
    run_dir = run_text(WARMUP, tmp_path)
    with h5py.File(run_dir / "results.h5") as f:
        group = f["tasks"][f"product-local-n{WARMUP_N}-L1-clifford"]
        theta, grad, cost = group["theta"][:], group["grad"][:, 0], group["cost"][:]
        assert group["theta_columns"][:].tolist() == [0] == group["param_index"][:].tolist()
    n = WARMUP_N
    assert n > COUNTER_DRAWS_ABOVE and theta.shape == (400, 1)
    # sample by sample: ∂C/∂θ₀ = sin θ₀ / (2n), exactly at Clifford angles
    turns = np.rint(theta[:, 0] / (np.pi / 2)).astype(int) % 4
    assert np.array_equal(grad, np.array([0, 1, 0, -1])[turns] / (2 * n))
    # and C = 1/2 − Σ_j cos θ_j / (2n) from every angle of a few samples
    task = parse_spec(WARMUP).tasks[0]
    for k in (0, 399):
        full, _ = draw_sample(11, task, k, False)
        assert full[0] == theta[k, 0]
        q = np.rint(full / (np.pi / 2)).astype(int) % 4
        assert cost[k] == 0.5 - 0.5 / n * np.sum(np.array([1, 0, -1, 0])[q])
    # Var = 1/(8n²): g ∈ {0, ±1/(2n)} gives E[g⁴] = 1/(32n⁴), so the sample variance has
    # standard error √((E[g⁴] − E[g²]²)/S) = 1/(8n²√S); 5 of them: a false alarm < 1e-6.
    second, fourth = 1 / (8 * n**2), 1 / (32 * n**4)
    assert abs(np.var(grad, ddof=1) - second) <= 5 * np.sqrt((fourth - second**2) / len(grad))


def test_counter_draws_take_any_subset_and_keep_small_tasks_draws():
    task = parse_spec(WARMUP).tasks[0]
    columns = np.array([5, 0, 131071, 77])
    subset, _ = draw_columns(11, task, 3, columns)
    full, _ = draw_sample(11, task, 3, False)
    assert np.array_equal(subset, full[columns])
    counts = np.bincount(np.rint(full / (np.pi / 2)).astype(int), minlength=4)
    # each quarter turn with probability 1/4: 6 binomial standard deviations
    assert np.all(np.abs(counts - WARMUP_N / 4) <= 6 * np.sqrt(WARMUP_N * 3 / 16))
    small = parse_spec(SMALL).tasks[0]  # ≤ 2^16 parameters: the generator of before
    rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(_key(small.id), 2)))
    assert np.array_equal(
        draw_sample(5, small, 2, False)[0], rng.integers(0, 4, small.n_params) * (np.pi / 2)
    )


def _key(task_id: str) -> int:
    from suite.circuits.sampling import task_key

    return task_key(task_id)


LARGE = """
name = "cones-mpi"
seed = 3
samples = 24
batch = 6
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 131072
angles = "clifford"
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 131072
depth = "ceil(log2(n))"
angles = "clifford"
parameters = ["first", "middle"]
[[sweep]]                      # the whole circuit by Pauli propagation (test_pauli_propagation.py)
ansatz = "matchgate"
cost = "local"
qubits = 32
depth = 4
angles = "clifford"
parameters = ["first", "middle"]
[simulator]
method = "stabilizer"
"""


@pytest.mark.mpi
def test_two_ranks_and_a_resume_give_the_same_bits(tmp_path):
    (tmp_path / "one").mkdir()
    reference = run_text(LARGE, tmp_path / "one")
    job = tmp_path / "one" / "job.toml"
    two = tmp_path / "two"
    bpsuite("run", str(job), "--out", str(two), ranks=2)
    engines = [choose(Workload(task)).name for task in parse_spec(LARGE).tasks]
    assert engines == ["cones-stabilizer", "cones-stabilizer", "pauli-propagation"]
    assert_same_numbers(two / "results.h5", reference / "results.h5")
    killed = tmp_path / "killed"
    resumed = killed_then_resumed(
        job,
        killed,
        "kill@1:1",
        reference / "results.h5",
        ranks=2,
        resume_job=killed / "job.toml",
    )
    assert "attempt 1" in resumed
    verified = bpsuite("verify", str(killed))
    assert "DIFFERS" not in verified.stdout


def test_circuit_export_refuses_a_task_of_counter_drawn_angles_in_one_line(tmp_path):
    from suite.errors import SpecError
    from suite.export import circuit_qasm

    job = tmp_path / "job.toml"
    job.write_text(WARMUP)
    with pytest.raises(SpecError, match=r"has 131072 parameters: `bpsuite circuit` writes circ"):
        circuit_qasm(job, f"product-local-n{WARMUP_N}-L1-clifford", 0)
