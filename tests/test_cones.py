"""The light-cone engine: same numbers as full circuits, and local costs at large n."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import run_text
from suite.circuits import observables
from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_samples
from suite.engines import cones
from suite.engines.aer import Resolved, make_simulator
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES, choose
from suite.spec import SpecError, parse_spec

SPEC = parse_spec("""
name = "cones"
seed = 3
samples = 5
[[sweep]]
ansatz = "alternating"
cost = ["local", "zz", "zout"]
qubits = [8, 10]
depth = [1, 3]
parameters = [0, 5, 7]
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 6
parameters = "all"
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 6
depth = [1, 2]
parameters = [0, 5]
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = 8
""")


@pytest.fixture(scope="module")
def simulator():
    return make_simulator(Resolved("statevector", "CPU", "double", 1), 4)


@pytest.mark.parametrize("task", SPEC.tasks, ids=lambda t: t.id)
def test_cones_give_the_full_circuits_numbers(task, simulator):
    family = FAMILIES[task.ansatz]
    workload = Workload(task)
    theta, axes = draw_samples(SPEC.seed, task, np.arange(task.samples), family.random_axes)
    full = gradient_batch(ENGINES["template"].prepare(workload), simulator, theta, axes)
    prepared = ENGINES["cones"].prepare(workload)
    assert prepared.engine.name == "cones"
    result = gradient_batch(prepared, simulator, theta, axes)
    np.testing.assert_allclose(result.cost, full.cost, rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.grad, full.grad, rtol=0, atol=1e-14)
    # the same through the kernel itself: v at φ and the shift differences
    circuit = workload.circuit
    base, differences, _ = cones.differences(
        prepared.plan,
        simulator,
        circuit.angles(theta),
        workload.rule.slots,
        axes,
    )
    observable = workload.observable
    np.testing.assert_allclose(
        observable.offset + observable.scale * base, full.cost, rtol=0, atol=1e-14
    )
    np.testing.assert_allclose(
        workload.rule.gradient(differences, observable.scale), full.grad, rtol=0, atol=1e-14
    )


def test_global_cost_has_no_cones():
    assert observables.named("global", 5).projector
    task = parse_spec(
        'name = "g"\nseed = 1\nsamples = 1\n[[sweep]]\nansatz = "product"\n'
        'cost = "global"\nqubits = 5\n'
    ).tasks[0]
    workload = Workload(task)
    assert ENGINES["cones"].refusal(workload) is not None
    assert choose(workload).name == "template"


def test_work_model_prefers_cones_only_where_they_pay():
    spec = parse_spec(
        'name = "w"\nseed = 1\nsamples = 1\n'
        '[[sweep]]\nansatz = "product"\ncost = "local"\nqubits = [4, 20]\n'
        '[[sweep]]\nansatz = "qcnn"\ncost = "zout"\nqubits = 16\n',
    )
    decisions = {}
    for task in spec.tasks:
        workload = Workload(task)
        assert ENGINES["cones"].refusal(workload) is None  # possible, but does it pay?
        decisions[task.id] = choose(workload).name == "cones"
    assert decisions == {
        "product-local-n4-L1": False,  # tiny: Aer's per-experiment overhead dominates
        "product-local-n20-L1": True,
        "qcnn-zout-n16-L4": False,  # the QCNN funnels every qubit into its output
    }


LARGE = """
name = "large-local"
seed = 1791
samples = 1500
batch = 500
[[sweep]]
ansatz = "product"
cost = "local"
qubits = [32, 128]
"""


def test_local_cost_far_beyond_a_statevector_matches_the_exact_variance(tmp_path):
    """Product ansatz, uniform angles, n = 32 and 128: only light cones are simulated.

    g = ∂C_L/∂θ_1 = sin θ_1/(2n) exactly, so every sample is checked to rounding,
    and Var = 1/(8n²) with E[g⁴] = (3/8)/(16n⁴): the sample variance of S draws
    has standard error sqrt((E[g⁴] − Var²)/S); two checks at Z = 4.
    """
    import h5py

    run_dir = run_text(LARGE, tmp_path)
    with h5py.File(run_dir / "results.h5") as f:
        for n in (32, 128):
            group = f["tasks"][f"product-local-n{n}-L1"]
            theta, grad, cost = group["theta"][:], group["grad"][:, 0], group["cost"][:]
            np.testing.assert_allclose(grad, np.sin(theta[:, 0]) / (2 * n), rtol=0, atol=1e-14)
            exact_cost = 1 - np.mean(np.cos(theta / 2) ** 2, axis=1)
            np.testing.assert_allclose(cost, exact_cost, rtol=0, atol=1e-12)
            second, fourth = 1 / (8 * n**2), (3 / 8) / (16 * n**4)
            error = np.sqrt((fourth - second**2) / len(grad))
            assert abs(np.var(grad, ddof=1) - second) <= 4 * error


def test_memory_check_counts_the_widest_light_cone():
    text = (
        'name = "m"\nseed = 1\nsamples = 1\n[[sweep]]\nansatz = "{a}"\ncost = "{c}"\n'
        "qubits = 40\ndepth = {d}\n"
    )
    memory = 24 << 30
    shallow = parse_spec(
        text.format(a="alternating", c="local", d='"ceil(log2(n))"'), memory_bytes=memory
    )
    assert shallow.tasks[0].qubits == 40
    with pytest.raises(SpecError, match=r"statevector of 40 qubits needs 32 TiB"):
        parse_spec(text.format(a="mcclean", c="zz", d=40), memory_bytes=memory)
    deep = text.replace("qubits = 40", "qubits = 60").format(a="alternating", c="local", d=20)
    with pytest.raises(SpecError, match=r"of 60 qubits \(its widest light cone has 40\) needs"):
        parse_spec(deep, memory_bytes=memory)
    with pytest.raises(SpecError, match=r"statevector of 40 qubits needs 32 TiB"):
        parse_spec(text.format(a="alternating", c="global", d=2), memory_bytes=memory)
