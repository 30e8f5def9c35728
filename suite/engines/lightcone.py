"""Backward light cones: only the gates that can change an observable.

An observable on qubits Q measured at the end of a circuit depends only on
the gates in the backward light cone of Q: walking the circuit from the end,
a gate belongs to the cone if it touches a qubit already in it, and then all
of its qubits join the cone. Everything else cancels in ⟨ψ|O|ψ⟩. For local
observables on shallow circuits the cone is a few qubits wide whatever n
is, which turns an impossible 2^n statevector into many small ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter


@dataclass(frozen=True)
class LightCone:
    """The gates of a circuit that can influence observables on some qubits."""

    circuit: QuantumCircuit  # on len(qubits) qubits, in the original gate order
    qubits: tuple[int, ...]  # original index of each of the cone's qubits, ascending

    def local(self, qubit: int) -> int:
        """Index in `circuit` of original qubit `qubit`."""
        return self.qubits.index(qubit)

    @property
    def parameters(self) -> set[Parameter]:
        return set(self.circuit.parameters)


def light_cone(circuit: QuantumCircuit, observed: Iterable[int]) -> LightCone:
    """The backward light cone of the qubits `observed` (a circuit without saves)."""
    index = {bit: i for i, bit in enumerate(circuit.qubits)}
    active = set(observed)
    kept = []
    for instruction in reversed(circuit.data):
        qubits = [index[q] for q in instruction.qubits]
        if active.intersection(qubits):
            kept.append(instruction)
            active.update(qubits)
    order = tuple(sorted(active))
    position = {q: i for i, q in enumerate(order)}
    cone = QuantumCircuit(len(order), name=f"{circuit.name}-cone")
    for instruction in reversed(kept):
        cone.append(instruction.operation, [position[index[q]] for q in instruction.qubits])
    return LightCone(cone, order)
