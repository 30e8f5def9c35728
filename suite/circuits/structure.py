"""Built-in circuits described by their layer structure: light cones without a circuit.

At n = 2^20 a task's QuantumCircuit (20 M gates for the alternating ansatz at depth 20)
does not fit, and walking it once per term would take O(n²). The product and alternating
families answer from index arithmetic instead: which final qubits parameter p's gate can
reach (its forward light cone), and the gates in the backward light cone of some qubits,
as ("rot", P, parameter, qubits) and ("fixed", ((name, qubits),)) entries in circuit order
(the form of `suite.engines.stabilizer.record`).

A cone here holds whole blocks of the alternating ansatz where a gate-by-gate walk could
cut one (blocks of m > 2 qubits): a gate outside an observable's light cone acts where the
Heisenberg-evolved observable is the identity, so simulating it changes no value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

import numpy as np

from suite.circuits.families import FAMILIES, Alternating, Family, Product
from suite.records import Task

_LETTERS = np.frombuffer(b"IXYZ", np.uint8)  # sorted: searchsorted gives I→0 … Z→3
Op = tuple  # ("rot", pauli, parameter, qubits) | ("fixed", ((name, qubits), ...))


class Structure(ABC):
    """A built-in circuit as layers of gates, queried by index."""

    @abstractmethod
    def forward(self, parameter: int) -> set[int]:
        """Final qubits that the gate of `parameter` can change (a superset is fine)."""

    @abstractmethod
    def backward(self, qubits: Iterable[int]) -> tuple[list[Op], tuple[int, ...]]:
        """The gates in the backward light cone of `qubits`, in circuit order, and the
        cone's qubits, ascending."""

    has_closed_form = False

    def closed_form(self, terms) -> Callable[[np.ndarray], np.ndarray]:
        """Σ_t c_t ⟨P_t⟩ of Pauli terms as a function of quarter turns (B, P), where
        `has_closed_form`."""
        raise NotImplementedError(f"{type(self).__name__} has no closed form")


class ProductStructure(Structure):
    """RX(θ_j) on qubit j of |0…0⟩: each qubit is its own cone."""

    # ⟨P⟩ of RX(qπ/2)|0⟩ per letter (rows I, X, Y, Z) and quarter turn q: the Bloch vector
    # (0, −sin θ, cos θ).
    BLOCH = np.array([(1, 1, 1, 1), (0, 0, 0, 0), (0, -1, 0, 1), (1, 0, -1, 0)], dtype=np.float64)

    has_closed_form = True

    def forward(self, parameter: int) -> set[int]:
        return {parameter}

    def backward(self, qubits):
        order = tuple(sorted(set(qubits)))
        return [("rot", "X", q, (q,)) for q in order], order

    def closed_form(self, terms):
        """Products of Bloch components: integers times the coefficients, summed in one
        order (exact for the named costs, whose coefficients are 1)."""
        groups = []
        for width in sorted({len(t[1]) for t in terms}):
            group = [t for t in terms if len(t[1]) == width]
            letters = np.frombuffer("".join(t[0] for t in group).encode(), np.uint8)
            code = (np.searchsorted(_LETTERS, letters) * 4).reshape(len(group), width)
            qubits = np.array([t[1] for t in group], dtype=np.int64)
            groups.append((code, qubits, np.array([t[2] for t in group])))
        flat = self.BLOCH.reshape(-1)

        def value(turns: np.ndarray) -> np.ndarray:
            total = np.zeros(turns.shape[0])
            for code, qubits, coefficient in groups:
                for b in range(turns.shape[0]):  # one sample at a time: n terms at n = 2^20
                    factors = flat[code + turns[b, qubits]]
                    total[b] += np.sum(coefficient * np.prod(factors, axis=1))
            return total

        return value


class AlternatingStructure(Structure):
    """Layers of m-qubit blocks (RY on each qubit, then CZ along the block), odd layers
    shifted by m/2 (`suite.circuits.families.Alternating`)."""

    def __init__(self, n: int, m: int, depth: int) -> None:
        self.n, self.m, self.depth = n, m, depth
        self.count = [Alternating.block_count(n, m, layer) for layer in range(depth)]
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64) * m

    def start(self, layer: int) -> int:
        return Alternating.layer_start(self.m, layer)

    def block(self, layer: int, qubit: int) -> int | None:
        """Index of the block of `layer` that holds `qubit`, or None."""
        shifted = qubit - self.start(layer)
        b = shifted // self.m
        return b if shifted >= 0 and b < self.count[layer] else None

    def qubits(self, layer: int, b: int) -> range:
        first = self.start(layer) + b * self.m
        return range(first, first + self.m)

    def locate(self, parameter: int) -> tuple[int, int]:
        """(layer, qubit) of the RY that holds `parameter`."""
        layer = int(np.searchsorted(self.offset, parameter, side="right")) - 1
        rest = parameter - int(self.offset[layer])
        return layer, self.start(layer) + rest

    def _spread(self, active: set[int], layers: Iterable[int]) -> dict[int, list[int]]:
        """Grow `active` by every block of `layers` (in that order) that touches it."""
        blocks = {}
        for layer in layers:
            found = sorted({b for q in active if (b := self.block(layer, q)) is not None})
            for b in found:
                active.update(self.qubits(layer, b))
            blocks[layer] = found
        return blocks

    def forward(self, parameter: int) -> set[int]:
        layer, qubit = self.locate(parameter)
        active = {qubit}
        self._spread(active, range(layer, self.depth))
        return active

    def backward(self, qubits):
        active = set(qubits)
        blocks = self._spread(active, range(self.depth - 1, -1, -1))
        ops: list[Op] = []
        for layer in range(self.depth):
            for b in blocks[layer]:
                block = self.qubits(layer, b)
                first = int(self.offset[layer]) + b * self.m
                ops.extend(("rot", "Y", first + i, (q,)) for i, q in enumerate(block))
                ops.extend(("fixed", (("cz", (q, q + 1)),)) for q in block[:-1])
        return ops, tuple(sorted(active))


# The families that have a layer structure, by class (a user's circuit has none).
STRUCTURES: dict[type[Family], Callable[[Task], Structure]] = {
    Product: lambda task: ProductStructure(),
    Alternating: lambda task: AlternatingStructure(
        task.qubits, task.block or Alternating.default_block, task.depth
    ),
}


def structure_of(task: Task) -> Structure | None:
    """The task's structure, for the built-in families that have one (qcnn has not: the
    cone of its output qubit is the whole circuit)."""
    builder = STRUCTURES.get(type(FAMILIES.get(task.ansatz)))
    return None if builder is None else builder(task)
