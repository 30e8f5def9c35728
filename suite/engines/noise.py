"""Noise after every gate: Aer channels in the template, simulated exactly on density matrices.

A sweep's `noise = { depolarizing = p, amplitude_damping = g }` puts, after every gate of
the source circuit (`ParametrizedCircuit.gates`: a rotation, a Pauli evolution, a `unitary`
or a gate Aer runs by its definition is one gate), the channel on the gate's k qubits:

* depolarizing: Aer's `depolarizing_error(p, k)`, ρ → (1 − p) ρ + p Tr_k(ρ) ⊗ I/2^k, which
  multiplies every non-identity Pauli string on those qubits by q = 1 − p;
* amplitude damping: Aer's `amplitude_damping_error(g)` on each of the k qubits, which maps
  X, Y → √(1 − g) X, Y and Z → (1 − g) Z + g I;
* both: amplitude damping first, then depolarizing.

The channels are instructions of the circuit itself, not a NoiseModel keyed by gate
names, so a gate that the template spells as several instructions still gets one channel,
and no channel ever follows a save instruction. Aer's `density_matrix` method applies them
exactly (no sampled trajectories), so expectation values and the shift rule stay exact:
the channels do not depend on the angles.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from qiskit import QuantumCircuit

if TYPE_CHECKING:
    from suite.circuits.description import ParametrizedCircuit

CHANNELS = ("depolarizing", "amplitude_damping")
# A k-qubit depolarizing channel is a mixture of 4^k Pauli strings (Aer converts it to a
# 4^k × 4^k superoperator): gates wider than this are refused with noise.
MAX_GATE_QUBITS = 3


def parse(text: str) -> dict[str, float]:
    """The task's `noise` field (canonical JSON, "" for none) as {channel: parameter}."""
    return json.loads(text) if text else {}


def channel(noise: dict[str, float], k: int):
    """The Aer QuantumError that follows a gate on k qubits."""
    from qiskit_aer.noise import amplitude_damping_error, depolarizing_error

    error = None
    if "amplitude_damping" in noise:
        one = amplitude_damping_error(noise["amplitude_damping"])
        error = one
        for _ in range(k - 1):
            error = error.tensor(one)
    if "depolarizing" in noise:
        dep = depolarizing_error(noise["depolarizing"], k)
        error = dep if error is None else error.compose(dep)
    if error is None:
        raise ValueError("no channel in the noise")
    return error


def widest_gate(circuit: ParametrizedCircuit) -> int:
    """Qubits of the widest gate of a circuit (what its channels act on)."""
    return max((len(qubits) for _, qubits in circuit.gates), default=0)


def noisy_template(circuit: ParametrizedCircuit, noise: dict[str, float]) -> QuantumCircuit:
    """A copy of the template with the noise channel after every gate."""
    after: dict[int, list[tuple[int, ...]]] = {}
    for end, qubits in circuit.gates:
        after.setdefault(end, []).append(qubits)
    instructions = {
        k: channel(noise, k).to_instruction() for k in {len(q) for _, q in circuit.gates}
    }
    template = circuit.circuit
    noisy = template.copy_empty_like()
    for index, instruction in enumerate(template.data):
        noisy.append(instruction)
        for qubits in after.get(index, ()):
            noisy.append(instructions[len(qubits)], [template.qubits[q] for q in qubits])
    return noisy
