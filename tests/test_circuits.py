"""Circuit families: structure, template = plain circuit, and exact parameter shifts."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import Operator, Statevector

from helpers import assert_binds_plain_parameters
from suite.circuits import observables
from suite.circuits.builders import circuit_of
from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved, make_simulator
from suite.engines.base import gradient_batch
from suite.engines.registry import prepare
from suite.spec import parse_spec

SPEC = """
name = "families"
seed = 11
samples = 6
[[sweep]]
ansatz = "product"
cost = ["global", "local", "zz", "zout"]
qubits = [2, 5]
parameters = "all"
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = [2, 3]
depth = [1, 2]
parameters = [0, 1]
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 4
depth = 3
parameters = [0, 5, 11]
[[sweep]]
ansatz = "alternating"
cost = ["global", "local"]
qubits = [4, 6]
depth = 3
parameters = "all"
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 8
depth = 2
block = 4
parameters = [0, 7, 11]
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = [2, 3, 4, 7, 8]
parameters = "all"
"""
TASKS = parse_spec(SPEC).tasks
PAULI_ROTATIONS = {"rx", "ry", "rz", "rzz"}


def exact_cost(task, theta, axes):
    """C(θ) from Qiskit's Statevector of the plain circuit: independent of Aer."""
    family = FAMILIES[task.ansatz]
    c = observables.named(task.cost, task.qubits, family.output_qubit(task.qubits))
    state = Statevector(family.bound_circuit(task, theta, axes))
    return c.offset + c.scale * state.expectation_value(c.operator()).real


@pytest.fixture(scope="module")
def simulator():
    return make_simulator(Resolved("statevector", "CPU", "double", 1), 4)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_every_parameter_sits_in_one_pauli_rotation(task):
    template = FAMILIES[task.ansatz].template(task)
    uses = {p: 0 for p in template.theta}
    for instruction in template.circuit.data:
        for value in instruction.operation.params:
            for parameter in getattr(value, "parameters", ()):
                if parameter in uses:
                    random_axis = FAMILIES[task.ansatz].random_axes  # u = R_P, P per sample
                    assert instruction.operation.name in PAULI_ROTATIONS | (
                        {"u"} if random_axis else set()
                    )
                    assert value == parameter, "θ must enter as itself, not an expression"
                    uses[parameter] += 1
    assert len(uses) == task.n_params
    assert set(uses.values()) == {1}
    # as data: slot k is exactly θ_k (what keeps built-in families' numbers bit for bit)
    circuit = circuit_of(task)
    assert circuit.n_params == task.n_params
    assert [r.terms for r in circuit.rotations] == [((k, 1.0),) for k in range(task.n_params)]
    assert all(r.offset == 0.0 for r in circuit.rotations)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_parameter_shift_matches_central_difference(task, simulator):
    family = FAMILIES[task.ansatz]
    theta, axes = draw_samples(11, task, np.arange(task.samples), family.random_axes)
    result = gradient_batch(prepare(task), simulator, theta, axes)
    h = 1e-4  # truncation h²/6·|C'''| ≤ 2e-9, rounding ~1e-16/h = 1e-12
    for b in range(task.samples):
        sample_axes = None if axes is None else axes[b]
        assert result.cost[b] == pytest.approx(exact_cost(task, theta[b], sample_axes), abs=1e-12)
        for j, k in enumerate(task.parameters):
            step = np.zeros(task.n_params)
            step[k] = h
            fd = (
                exact_cost(task, theta[b] + step, sample_axes)
                - exact_cost(task, theta[b] - step, sample_axes)
            ) / (2 * h)
            assert abs(result.grad[b, j] - fd) < 1e-7


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_templates_bind_plain_parameters_only(task):
    """Aer evaluates a parameter expression in Python at every bind: templates have none."""
    template = circuit_of(task).circuit
    assert_binds_plain_parameters(template, task.id)
    assert template.num_parameters > 0


def test_mcclean_template_rotation_equals_plain_rotation():
    """One u gate per rotation, angles from (θ, axis) in numpy, is R_P(θ) for the three axes,
    at the shifted points too."""
    task = parse_spec(SPEC).task("mcclean-zz-n2-L1")
    family = FAMILIES["mcclean"]
    circuit = circuit_of(task)
    assert [r.axis.column for r in circuit.rotations] == [0, 1]
    assert {i.operation.name for i in circuit.circuit.data} == {"ry", "u", "cz"}
    rng = np.random.default_rng(3)
    for axes in ([0, 1], [2, 0], [1, 2]):
        axes = np.array([axes], dtype=np.int8)
        theta = rng.uniform(0, 2 * np.pi, (1, 2))
        for shift in (0.0, np.pi / 2, -np.pi / 2):
            phi = circuit.angles(theta) + np.array([shift, 0.0])
            binds = {p: v[0] for p, v in circuit.binds(phi, axes=axes).items()}
            got = Operator(circuit.circuit.assign_parameters(binds))
            want = Operator(family.bound_circuit(task, theta[0] + np.array([shift, 0.0]), axes[0]))
            assert got.equiv(want)


def test_parameter_counts_and_depths():
    spec = parse_spec(SPEC)
    assert spec.task("product-global-n5-L1").n_params == 5
    assert spec.task("mcclean-zz-n4-L3").n_params == 12
    # alternating n=6, m=2: even layers 6 parameters, odd layers 4
    assert spec.task("alternating-local-n6-L3-m2").n_params == 6 + 4 + 6
    # qcnn n=8: levels of 8, 4, 2 active qubits; 5 per conv pair, 2 per pooling pair
    assert spec.task("qcnn-zout-n8-L3").n_params == (5 * 7 + 2 * 4) + (5 * 3 + 2 * 2) + (5 + 2)
    assert spec.task("qcnn-zout-n7-L3").depth == 3


def test_qcnn_output_qubit_is_last_survivor():
    for n in (2, 3, 4, 7, 8):
        levels = FAMILIES["qcnn"].levels(n)
        survivors = levels[-1]
        assert len(survivors) == 2 and survivors[-1] == n - 1


def test_simulator_is_immune_to_aer_truncation_bug():
    """qiskit-aer issue 2442: with idle qubits, a subsystem save_expectation_value
    returned ⟨Z_11⟩ ≈ 0 instead of 1 under Aer's default qubit truncation."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.library import SaveExpectationValue

    circuit = QuantumCircuit(12)
    circuit.h(0)
    for target in (3, 5, 4, 8, 9, 10):
        circuit.cx(0, target)
    circuit.cx(5, 11)
    circuit.cx(10, 11)
    circuit.append(SaveExpectationValue(SparsePauliOp("Z"), label="z"), [circuit.qubits[11]])
    for method in ("statevector", "stabilizer"):
        simulator = make_simulator(Resolved(method, "CPU", "double", 1), 12)
        assert simulator.run(circuit).result().data(0)["z"] == pytest.approx(1.0, abs=1e-12)
