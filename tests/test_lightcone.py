"""Light cones: the pruned circuit gives the same local expectation values."""

from __future__ import annotations

import pytest
from qiskit.quantum_info import SparsePauliOp, Statevector

from suite.circuits.builders import circuit_of
from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_sample
from suite.engines.lightcone import light_cone
from suite.spec import parse_spec

SPEC = parse_spec("""
name = "cones"
seed = 4
samples = 3
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = [8, 10]
depth = [1, 2, 3]
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 7
depth = [1, 2]
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = 8
""")


def bound(task, k):
    family = FAMILIES[task.ansatz]
    theta, axes = draw_sample(SPEC.seed, task, k, family.random_axes)
    return family.bound_circuit(task, theta, axes)


@pytest.mark.parametrize("task", SPEC.tasks, ids=lambda t: t.id)
def test_single_qubit_z_on_the_cone_equals_the_full_circuit(task):
    n = task.qubits
    for k in range(task.samples):
        circuit = bound(task, k)
        state = Statevector(circuit)
        for q in range(n):
            cone = light_cone(circuit, [q])
            assert q in cone.qubits and len(cone.qubits) <= n
            full = state.expectation_value(SparsePauliOp.from_sparse_list([("Z", [q], 1)], n))
            local = Statevector(cone.circuit).expectation_value(
                SparsePauliOp.from_sparse_list([("Z", [cone.local(q)], 1)], len(cone.qubits))
            )
            assert local.real == pytest.approx(full.real, abs=1e-12)


def test_cone_of_a_shallow_alternating_circuit_is_narrow():
    """Depth L with 2-qubit blocks: the cone of one qubit spans at most 2L qubits."""
    spec = parse_spec(
        'name = "w"\nseed = 1\nsamples = 1\n[[sweep]]\nansatz = "alternating"\n'
        'cost = "local"\nqubits = 40\ndepth = 3\n',
        memory_bytes=1 << 62,
    )
    task = spec.tasks[0]
    template = circuit_of(task).circuit  # what the cone engine cuts
    widths = [len(light_cone(template, [q]).qubits) for q in range(task.qubits)]
    assert max(widths) <= 2 * task.depth
    assert min(widths) >= 2


def test_cone_keeps_the_gates_of_its_parameters_only():
    spec = parse_spec(
        'name = "p"\nseed = 1\nsamples = 1\n[[sweep]]\nansatz = "product"\n'
        'cost = "local"\nqubits = 5\n'
    )
    template = circuit_of(spec.tasks[0])  # slot k is θ_k in built-in families
    cone = light_cone(template.circuit, [3])
    assert cone.qubits == (3,)
    assert cone.parameters == {template.slots[3]}
    assert cone.circuit.num_qubits == 1
