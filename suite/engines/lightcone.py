"""Backward light cones: only the gates that can change an observable.

An observable on qubits Q measured at the end of a circuit depends only on
the gates in the backward light cone of Q: walking the circuit from the end,
a gate belongs to the cone if it touches a qubit already in it, and then all
of its qubits join the cone. Everything else cancels in ⟨ψ|O|ψ⟩. For local
observables on shallow circuits the cone is a few qubits wide whatever n
is, which turns an impossible 2^n statevector into many small ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def terms_reaching(
    circuit: QuantumCircuit, slots: Sequence[Parameter], supports: Sequence[Iterable[int]]
) -> list[int]:
    """Per slot, the terms whose backward light cone holds the slot's gate, as a bit set
    (bit j: term j on qubits `supports[j]`). Only those terms' values depend on the slot's
    angle. One backward pass with a bit set of terms per qubit: O(gates · terms / 64)."""
    index = {bit: i for i, bit in enumerate(circuit.qubits)}
    slot_of = {p: s for s, p in enumerate(slots)}
    reach = [0] * circuit.num_qubits
    for j, qubits in enumerate(supports):
        for q in qubits:
            reach[q] |= 1 << j
    found = [0] * len(slots)
    for instruction in reversed(circuit.data):
        qubits = [index[q] for q in instruction.qubits]
        merged = 0
        for q in qubits:
            merged |= reach[q]
        for q in qubits:
            reach[q] = merged
        for value in instruction.operation.params:
            slot = slot_of.get(value) if isinstance(value, Parameter) else None
            if slot is not None:
                found[slot] |= merged
    return found
