"""Pauli propagation (suite/engines/pauli_propagation.py): the stabilizer route without a tableau.

Its lookup tables against qiskit's gate matrices; its value at every evaluation point, its
costs and gradients against the tableau engine (`stabilizer`) on the same samples: bit for
bit for one Pauli term (both give ±c exactly), to 1e-12 for sums (rounding of the sum);
its refusals and the registry's choice. Runs on 1 and 2 ranks and a killed-then-resumed
run: test_clifford.py's rank test and test_sparse_cones.py's MPI test hold tasks on it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from qiskit.circuit.library import TGate, get_standard_gate_name_mapping
from qiskit.quantum_info import Pauli
from test_clifford import STABILIZER, job, small_tasks, sweep
from test_user_circuits import STABILIZER_TASKS as USER_TASKS

from suite.circuits.description import ROTATION_GATES
from suite.circuits.sampling import draw_samples
from suite.engines import pauli_propagation, stabilizer
from suite.engines.aer import make_simulator
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES, choose
from suite.spec import parse_spec

PAULI = ENGINES["pauli-propagation"]

# --- the tables --------------------------------------------------------------------------


def qiskit_pauli(label: str) -> np.ndarray:
    """The matrix of a string with letter i on operand i (qiskit's labels read right to left)."""
    return Pauli(label[::-1]).to_matrix()


def table_entries() -> list[tuple[str, str, int, int, np.ndarray]]:
    """(gate name, table key, width, quarter turns, qiskit's matrix) of every table entry:
    the fixed gates, and every rotation gate `record` accepts (p and u1 are RZ up to a
    global phase) at q·π/2."""
    entries = []
    for name, gate in stabilizer.GATES.items():
        entries += [(name, name, gate.num_qubits, q, gate.to_matrix()) for q in range(4)]
    mapping = get_standard_gate_name_mapping()
    for name, label in ROTATION_GATES.items():
        gate = type(mapping[name])
        for q in range(4):
            matrix = gate(q * math.pi / 2).to_matrix()
            entries.append((name, "R" + label[::-1], len(label), q, matrix))
    return entries


@pytest.mark.parametrize(
    ("name", "key", "width", "turns", "matrix"),
    table_entries(),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_conjugation_tables_equal_qiskits_gate_matrices(name, key, width, turns, matrix):
    tables = pauli_propagation.TABLES[width]
    for label in pauli_propagation.strings(width):
        image, sign = tables.conjugate(key, turns, label)
        conjugate = matrix.conj().T @ qiskit_pauli(label) @ matrix
        expected = (-1) ** sign * qiskit_pauli(image)
        np.testing.assert_allclose(conjugate, expected, rtol=0, atol=1e-12, err_msg=label)


@pytest.mark.parametrize("width", [1, 2])
def test_a_strings_sign_parity_passes_through_every_gate(width):
    """Codes carry a parity bit (bit 2) per operand; a gate adds its sign to operand 0."""
    tables = pauli_propagation.TABLES[width]
    size = 8**width
    entries = tables.new.reshape(-1, size).astype(int)  # per (kind, q): codes → packed codes
    codes = np.arange(size)
    parity_in = sum((codes >> 3 * i + 2) & 1 for i in range(width)) % 2
    parity_out = sum((entries >> 3 * i + 2) & 1 for i in range(width)) % 2
    letters_in = codes & ~sum(4 << 3 * i for i in range(width))  # the same letters, parity 0
    assert np.array_equal(parity_out, (parity_out[:, letters_in] + parity_in) % 2)
    unsigned = entries & ~sum(4 << 3 * i for i in range(width))
    assert np.array_equal(unsigned, unsigned[:, letters_in])


def test_a_gate_that_is_not_clifford_fails_loudly():
    with pytest.raises(RuntimeError, match=r"^gate t: a Pauli string's conjugate is not ± a Pauli"):
        pauli_propagation.conjugation(TGate().to_matrix(), "gate t")


# --- values against the tableau ------------------------------------------------------------

MORE = job(
    sweep(ansatz="qcnn", cost="zout", qubits=[8, 16], angles="clifford", parameters=[0, 1, "last"])
    + sweep(
        ansatz="alternating",
        cost=["local", "zz", "zout"],
        qubits=16,
        depth=4,
        angles="clifford",
        parameters=[0, 9, "middle", "last"],
    )
    + sweep(ansatz="product", cost=["local", "zout"], qubits=16, angles="clifford")
)
TASKS = [
    t
    for t in small_tasks() + parse_spec(MORE, "more.toml").tasks + USER_TASKS
    if t.cost != "global"
]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_every_point_equals_the_tableau_engine(task):
    # ⟨Z_out⟩ of the qcnn is rarely non-zero at Clifford angles: more samples from n = 8
    samples = 128 if task.ansatz == "qcnn" and task.qubits >= 8 else 24
    theta, _ = draw_samples(7, task, np.arange(samples), False)
    tableau, pauli = Workload(task), Workload(task)
    assert PAULI.refusal(pauli) is None
    simulator = make_simulator(STABILIZER, task.qubits)
    points = tableau.rule.points(tableau.circuit.angles(theta))
    want = stabilizer.evaluate(stabilizer.plan(tableau), simulator, points)
    prepared = PAULI.prepare(pauli)
    turns = pauli_propagation.point_turns(pauli.circuit.angles(theta), pauli.rule.slots)
    got = pauli_propagation.propagate(prepared.plan, turns)
    whole = gradient_batch(ENGINES["stabilizer"].prepare(tableau), simulator, theta)
    mine = gradient_batch(prepared, None, theta)
    if len(pauli.observable.terms) == 1:  # ±c exactly, on both routes
        assert np.array_equal(got, want)
        assert np.array_equal(mine.grad, whole.grad) and np.array_equal(mine.cost, whole.cost)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mine.grad, whole.grad, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mine.cost, whole.cost, rtol=0, atol=1e-12)
    assert np.any(want != 0), "every value 0: nothing compared"


def test_points_beyond_a_chunk_give_the_same_values(monkeypatch):
    """A batch is propagated in chunks of samples (CHUNK_BYTES): the split changes nothing."""
    task = parse_spec(MORE, "more.toml").task("alternating-local-n16-L4-m2-clifford")
    theta, _ = draw_samples(7, task, np.arange(16), False)
    whole = gradient_batch(PAULI.prepare(Workload(task)), None, theta)
    prepared = PAULI.prepare(Workload(task))
    one_sample = (prepared.plan.width * 16 + prepared.plan.slots + 1) * 9
    monkeypatch.setattr(pauli_propagation, "CHUNK_BYTES", 3 * one_sample)  # chunks of 3
    assert pauli_propagation.chunk_samples(prepared.plan, 9) == 3
    parts = gradient_batch(prepared, None, theta)
    assert np.array_equal(parts.grad, whole.grad) and np.array_equal(parts.cost, whole.cost)


def test_angles_off_the_grid_are_refused_like_the_tableau_does():
    task = parse_spec(MORE, "more.toml").task("product-zout-n16-L1-clifford")
    theta = np.full((1, task.n_params), math.pi / 2)
    theta[0, 3] = 0.3
    with pytest.raises(stabilizer.NotCliffordError, match=r"angle 0\.3 is not a multiple of π/2"):
        gradient_batch(PAULI.prepare(Workload(task)), None, theta)


# --- refusals and the registry's choice -----------------------------------------------------


def test_the_registry_takes_it_for_qcnn_zout_at_1024_and_not_for_the_global_cost():
    spec = parse_spec(
        job(
            sweep(ansatz="qcnn", cost="zout", qubits=1024, angles="clifford", parameters=[0])
            + sweep(ansatz="product", cost="global", qubits=1024, angles="clifford")
        ),
        "choice.toml",
    )
    qcnn, product = (Workload(t) for t in spec.tasks)
    assert choose(qcnn).name == "pauli-propagation"
    assert PAULI.work(qcnn) < ENGINES["stabilizer"].work(qcnn) / 1000
    key, problem = PAULI.refusal(product)
    assert key == "cost" and "global projector" in problem and "\n" not in problem
    assert choose(product).name == "stabilizer"


def test_it_refuses_what_the_tableau_refuses_and_shots():
    qcnn = parse_spec(MORE, "more.toml").task("qcnn-zout-n8-L3-clifford")
    mcclean = parse_spec(
        job(sweep(ansatz="mcclean", cost="zz", qubits=4, depth=2), method="statevector"), "m.toml"
    ).tasks[0]
    for task in (mcclean, dataclasses.replace(qcnn, angles="uniform")):
        refusal = PAULI.refusal(Workload(task))
        assert refusal is not None and refusal == ENGINES["stabilizer"].refusal(Workload(task))
    key, problem = PAULI.refusal(Workload(dataclasses.replace(qcnn, shots=100)))
    assert key == "shots" and "\n" not in problem


def test_a_task_of_counter_drawn_angles_is_refused_before_its_circuit_is_built():
    """n = 2^17: more than 2^16 parameters, left to the light cones."""
    task = parse_spec(
        job(sweep(ansatz="product", cost="zout", qubits=2**17, angles="clifford")), "big.toml"
    ).tasks[0]
    workload = Workload(task)
    key, _ = PAULI.refusal(workload)
    assert key == "qubits" and "circuit" not in workload.__dict__
    assert choose(workload).name == "cones-stabilizer"
