"""Per-core speed of the suite's Aer path against its peers (issue 9), side by side.

Every benchmark computes gradients of ⟨Z0 Z1⟩ on the same SAMPLES[n] random samples of
the McClean circuit with L = n layers (RY(π/4) layer, random-axis rotations, CZ
ladder), on one thread, and checks them against the suite's:

* `suite`: the suite's engine (`gradient_batch`, one Aer call for the batch), K = 1
  (d/dθ0) or `parameters = "all"`;
* `qiskit-ml`: qiskit-machine-learning's ParamShiftEstimatorGradient on Aer's
  EstimatorV2 (exact expectation values), one call per sample, d/dθ0;
* `lightning`: PennyLane `lightning.qubit` with `diff_method="adjoint"`, one
  `qml.jacobian` per sample (all parameters: adjoint's cost barely depends on K).

A benchmark group per comparison holds the same work, so the ratio of the means is the
ratio per sample. Peers come from the `peers` extra and are skipped with the reason
when absent. Run: `OMP_NUM_THREADS=1 pytest tests/benchmarks --benchmark-enable`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_samples
from suite.engines.base import gradient_batch
from suite.engines.registry import prepare
from suite.spec import parse_spec

QUBITS = (8, 12, 16)
SAMPLES = {8: 32, 12: 8, 16: 2}  # per benchmark call: the same samples for every peer
# Gradients from exact double-precision simulations of the same ≤ 3n² gates differ by
# rounding only; the worst-case bound (tests/helpers.py rounding_bound) is ≈ 2e-12 at
# n = 16, far looser than what happens. 1e-12 is an empirical tolerance that has held in
# every run; a wrong circuit or sign differs by ~0.1.
AGREE = 1e-12
PEERS_MISSING = "peer benchmarks need the peers extra: pip install -e '.[peers]'"


@dataclass(frozen=True)
class Case:
    n: int
    task: object
    theta: np.ndarray  # (B, n²)
    axes: np.ndarray  # (B, n²): 0, 1, 2 = X, Y, Z


@functools.cache
def case(n: int, parameters: str = "[0]") -> Case:
    spec = parse_spec(
        f'name = "peers"\nseed = 5\nsamples = {SAMPLES[n]}\n[[sweep]]\nansatz = "mcclean"\n'
        f'cost = "zz"\nqubits = {n}\ndepth = {n}\nparameters = {parameters}\n'
    )
    task = spec.tasks[0]
    theta, axes = draw_samples(spec.seed, task, np.arange(task.samples), True)
    return Case(n, task, theta, axes)


@functools.cache
def suite_reference(n: int) -> np.ndarray:
    """d⟨Z0Z1⟩/dθ0 per sample by the exact parameter shift on the readable bound circuits
    (rx/ry/rz gates, one Aer experiment each): independent of the template and its binds."""
    c = case(n)
    family = FAMILIES["mcclean"]
    zz = SparsePauliOp.from_sparse_list([("ZZ", [0, 1], 1.0)], n)
    shift = np.zeros(n * n)
    shift[0] = math.pi / 2
    circuits = []
    for theta, axes in zip(c.theta, c.axes, strict=True):
        for sign in (1, -1):
            qc = family.bound_circuit(c.task, theta + sign * shift, axes)
            qc.save_expectation_value(zz, qc.qubits, label="v")
            circuits.append(qc)
    result = AerSimulator(method="statevector", max_parallel_threads=1).run(circuits).result()
    values = np.array([result.data(i)["v"] for i in range(len(circuits))]).reshape(-1, 2)
    return (values[:, 0] - values[:, 1]) / 2


def mcclean_gates(n: int, axes: np.ndarray):
    """The McClean circuit for the peers: (gate, qubits, fixed angle, parameter index)."""
    for q in range(n):
        yield "ry", (q,), math.pi / 4, None
    for layer in range(n):
        for q in range(n):
            k = layer * n + q
            yield "r" + "xyz"[axes[k]], (q,), None, k
        for q in range(n - 1):
            yield "cz", (q, q + 1), None, None


@pytest.mark.parametrize("n", QUBITS)
def test_suite_k1(benchmark, per_core_simulator, n):
    benchmark.group = f"mcclean K=1 n={n}"
    c = case(n)
    prepared, simulator = prepare(c.task), per_core_simulator(n)
    result = benchmark(gradient_batch, prepared, simulator, c.theta, c.axes)
    np.testing.assert_allclose(result.grad[:, 0], suite_reference(n), rtol=0, atol=AGREE)


def test_suite_all_parameters(benchmark, per_core_simulator):
    benchmark.group = "mcclean all parameters n=8"
    c = case(8, '"all"')
    prepared, simulator = prepare(c.task), per_core_simulator(8)
    result = benchmark(gradient_batch, prepared, simulator, c.theta, c.axes)
    assert result.grad.shape == (SAMPLES[8], 64)
    np.testing.assert_allclose(result.grad[:, 0], suite_reference(8), rtol=0, atol=AGREE)


@pytest.mark.parametrize("n", QUBITS)
def test_qiskit_machine_learning_k1(benchmark, n):
    gradients = pytest.importorskip("qiskit_machine_learning.gradients", reason=PEERS_MISSING)
    from qiskit_aer.primitives import EstimatorV2

    benchmark.group = f"mcclean K=1 n={n}"
    c = case(n)
    options = {"backend_options": {"method": "statevector", "max_parallel_threads": 1}}
    gradient = gradients.ParamShiftEstimatorGradient(EstimatorV2(options=options))
    zz = SparsePauliOp.from_sparse_list([("ZZ", [0, 1], 1.0)], n)
    circuits = []
    for axes in c.axes:  # one circuit per sample (its axes); built outside the timing
        p = ParameterVector("theta", n * n)
        qc = QuantumCircuit(n)
        for name, qubits, angle, k in mcclean_gates(n, axes):
            angles = () if name == "cz" else (angle if k is None else p[k],)
            getattr(qc, name)(*angles, *qubits)
        circuits.append((qc, p[0]))

    def per_sample() -> np.ndarray:
        return np.array(
            [
                gradient.run([qc], [zz], [theta], [[first]]).result().gradients[0][0]
                for (qc, first), theta in zip(circuits, c.theta, strict=True)
            ]
        )

    np.testing.assert_allclose(benchmark(per_sample), suite_reference(n), rtol=0, atol=AGREE)


def _lightning_gradients(n: int, c: Case):
    qml = pytest.importorskip("pennylane", reason=PEERS_MISSING)
    pytest.importorskip("pennylane_lightning", reason=PEERS_MISSING)
    from pennylane import numpy as pnp

    device = qml.device("lightning.qubit", wires=n)
    gates = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ, "cz": qml.CZ}

    def qnode(axes):
        @qml.qnode(device, diff_method="adjoint")
        def cost(theta):
            for name, qubits, angle, k in mcclean_gates(n, axes):
                angles = () if name == "cz" else (angle if k is None else theta[k],)
                gates[name](*angles, wires=list(qubits))
            return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

        return qml.jacobian(cost)

    jacobians = [qnode(axes) for axes in c.axes]
    thetas = [pnp.array(theta, requires_grad=True) for theta in c.theta]

    def per_sample() -> np.ndarray:
        return np.array(
            [jacobian(theta) for jacobian, theta in zip(jacobians, thetas, strict=True)]
        )

    return per_sample


@pytest.mark.parametrize("n", QUBITS)
def test_lightning_adjoint(benchmark, n):
    benchmark.group = f"mcclean K=1 n={n}"
    per_sample = _lightning_gradients(n, case(n))
    grad = benchmark(per_sample)
    np.testing.assert_allclose(grad[:, 0], suite_reference(n), rtol=0, atol=AGREE)


def test_lightning_adjoint_all_parameters(benchmark, per_core_simulator):
    benchmark.group = "mcclean all parameters n=8"
    c = case(8, '"all"')
    grad = benchmark(_lightning_gradients(8, c))
    suite = gradient_batch(prepare(c.task), per_core_simulator(8), c.theta, c.axes).grad
    np.testing.assert_allclose(grad, suite, rtol=0, atol=AGREE)
