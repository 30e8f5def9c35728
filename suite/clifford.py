"""The Clifford route: Aer's stabilizer method for samples with Clifford angles.

With angles in {0, π/2, π, 3π/2} (``angles = "clifford"``) every trainable
gate R_P(θ) = exp(−iθP/2), P ∈ {X, Y, Z, ZZ}, is a Clifford gate, and so is
every shifted point θ ± π/2. Aer's stabilizer method wants Clifford gate
*names* and has no parametric gates, so each evaluation point becomes its own
bound circuit in which rotation k, at q_k = round(θ_k / (π/2)) mod 4 quarter
turns, is replaced by `translation(P, q_k)`: a Pauli part, then for odd q_k
one fixed Clifford (equal to R_P(q_k·π/2) up to a global phase, which no cost
sees; tests/test_clifford.py checks each against qiskit's Operator).

Building and converting circuits is the cost at large n (Aer converts every
instruction of every circuit in Python, ≈ 10 µs each), so `plan` records a
task's gate sequence once, by running the family's own builder on a recorder,
and sorts it into layers of gates on disjoint qubits, with every instruction
built in advance. Per point a layer then adds one `pauli` instruction holding
the Pauli parts of all its rotations, the prepared Clifford part of each
rotation at an odd quarter turn, and its fixed gates: a quarter turn of 0 adds
nothing, and a rotation layer costs about n/2 + 1 instructions instead of
≈ 1.25 n gate by gate.

All B·(1 + 2K) circuits of a batch go to Aer in one `AerSimulator.run(circuits)`
call; v is read per experiment from the save instruction labelled ``"v"``.
The local cost saves Σ Z_j in blocks of `LOCAL_BLOCK` qubits (labels
``"v0"``, ``"v1"``, …) and adds them in a fixed order: Aer's stabilizer
method evaluates a Pauli sum term by term at a cost that grows with the
width of each term (one save of Σ_j Z_j over all n = 1024 qubits takes about
3 ms per term, 3 s per circuit). No communicator here: the kernel sees
arrays and a simulator only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction
from qiskit.circuit.library import (
    CXGate,
    CYGate,
    CZGate,
    HGate,
    PauliGate,
    SdgGate,
    SGate,
    SwapGate,
    SXdgGate,
    SXGate,
    XGate,
    YGate,
    ZGate,
)
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.library import SaveAmplitudesSquared, SaveExpectationValue

from suite.ansatz import FAMILIES, _plain_rotation
from suite.cost import LABEL
from suite.spec import STABILIZER_COSTS

if TYPE_CHECKING:
    from suite.spec import Task

QUARTER = math.pi / 2
# A point's angle must be a multiple of π/2 to this absolute tolerance (the
# shifted points θ ± π/2 of Clifford angles are, up to rounding of π).
ANGLE_TOLERANCE = 1e-9
# Costs the stabilizer route computes, and how (docs/large-n.md): global
# |⟨0…0|ψ⟩|² by Aer's stabilizer amplitude (polynomial in n), local, zz and
# zout by Pauli expectation values.
COSTS = STABILIZER_COSTS
# The local cost saves Σ_j Z_j in blocks of this many qubits, one save each:
# fewer instructions for Aer to convert, while a block stays narrow (Aer's
# stabilizer expectation value costs grow with the width of a Pauli term).
LOCAL_BLOCK = 4

GATES = {
    "h": HGate(),
    "s": SGate(),
    "sdg": SdgGate(),
    "sx": SXGate(),
    "sxdg": SXdgGate(),
    "x": XGate(),
    "y": YGate(),
    "z": ZGate(),
    "cx": CXGate(),
    "cy": CYGate(),
    "cz": CZGate(),
    "swap": SwapGate(),
}

# R_P(q·π/2), q = 0…3 quarter turns, as Clifford gates up to a global phase:
# first a Pauli part PAULI_PART[P][q] (one letter per operand of the rotation,
# operand 0 first), then, for odd q, the gates CLIFFORD_PART[P] (in circuit
# order; operands index the rotation's qubits, (0, 1) the pair of RZZ):
#   RX(π/2) ∝ SX     RX(π) ∝ X       RX(3π/2) ∝ SX·X
#   RY(π/2) ∝ H·Z    RY(π) ∝ Y       RY(3π/2) ∝ H·X
#   RZ(π/2) ∝ S      RZ(π) ∝ Z       RZ(3π/2) ∝ S·Z
#   RZZ(π/2) ∝ CZ·(S⊗S)   RZZ(π) ∝ Z⊗Z   RZZ(3π/2) ∝ CZ·(S⊗S)·(Z⊗Z)
# (matrix products: the rightmost acts first). Splitting off the Pauli part
# lets a circuit apply the Pauli parts of a whole layer as one `pauli`
# instruction; `translation` gives the plain gate list of one rotation.
PAULI_PART: dict[str, tuple[str, str, str, str]] = {
    "X": ("I", "I", "X", "X"),
    "Y": ("I", "Z", "Y", "X"),
    "Z": ("I", "I", "Z", "Z"),
    "ZZ": ("II", "II", "ZZ", "ZZ"),
}
CLIFFORD_PART: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "X": (("sx", (0,)),),
    "Y": (("h", (0,)),),
    "Z": (("s", (0,)),),
    "ZZ": (("cz", (0, 1)), ("s", (0,)), ("s", (1,))),
}


def translation(pauli: str, turns: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """R_P(turns·π/2) as (gate name, operand indices) in circuit order, up to phase."""
    letters = PAULI_PART[pauli][turns % 4]
    gates = tuple((letter.lower(), (i,)) for i, letter in enumerate(letters) if letter != "I")
    return gates + (CLIFFORD_PART[pauli] if turns % 2 else ())


class NotCliffordError(ValueError):
    """A circuit or a point that the stabilizer method cannot simulate."""


def quarter_turns(points: np.ndarray) -> np.ndarray:
    """round(θ / (π/2)) mod 4 of every angle; refuses angles off the π/2 grid."""
    scaled = np.asarray(points, dtype=np.float64) / QUARTER
    turns = np.rint(scaled)
    if turns.size and np.max(np.abs(scaled - turns)) > ANGLE_TOLERANCE:
        worst = float(np.ravel(points)[np.argmax(np.abs(scaled - turns))])
        raise NotCliffordError(
            f"angle {worst!r} is not a multiple of π/2: the stabilizer method needs "
            'angles = "clifford"'
        )
    return np.mod(turns.astype(np.int64), 4)


# --- recording a family's gate sequence --------------------------------------


@dataclass(frozen=True)
class _Slot:
    """Stands for θ_k while a family's builder runs on the recorder."""

    k: int


class _Recorder:
    """Duck-types the few QuantumCircuit methods the families' builders call.

    Records ("fixed", translation-like gates) and ("rot", P, k, qubits); a fixed
    rotation at a Clifford angle is recorded as its translation, any other
    fixed angle raises `NotCliffordError`.
    """

    def __init__(self) -> None:
        self.ops: list[tuple] = []

    def _rotation(self, pauli: str, angle, qubits: tuple[int, ...]) -> None:
        if isinstance(angle, _Slot):
            self.ops.append(("rot", pauli, angle.k, qubits))
            return
        try:
            turn = int(quarter_turns(np.array([float(angle)]))[0])
        except NotCliffordError:
            raise NotCliffordError(
                f"fixed gate r{pauli.lower()}({float(angle)!r}) is not Clifford"
            ) from None
        gates = tuple(
            (name, tuple(qubits[i] for i in ops)) for name, ops in translation(pauli, turn)
        )
        self.ops.append(("fixed", gates))

    def rx(self, angle, qubit: int) -> None:
        self._rotation("X", angle, (qubit,))

    def ry(self, angle, qubit: int) -> None:
        self._rotation("Y", angle, (qubit,))

    def rz(self, angle, qubit: int) -> None:
        self._rotation("Z", angle, (qubit,))

    def rzz(self, angle, a: int, b: int) -> None:
        self._rotation("ZZ", angle, (a, b))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in GATES:
            raise NotCliffordError(f"gate '{name}' has no Clifford translation")

        def gate(*qubits: int) -> None:
            self.ops.append(("fixed", ((name, tuple(qubits)),)))

        return gate


def record(task: Task) -> list[tuple]:
    """The task's gate sequence: ("fixed", gates) and ("rot", P, k, qubits) entries."""
    family = FAMILIES[task.ansatz]
    if family.random_axes or family.non_clifford:
        reason = family.non_clifford or "random rotation axes per sample"
        raise NotCliffordError(f"{family.name} circuits are not Clifford: {reason}")
    recorder = _Recorder()
    slots = [_Slot(k) for k in range(task.n_params)]
    family._build(recorder, task, slots, _plain_rotation)
    return recorder.ops


# --- the plan: instructions built once per task --------------------------------


@dataclass
class _Layer:
    """Gates on disjoint qubits: rotations (Pauli parts merged per point) and fixed gates."""

    params: np.ndarray  # (r,) parameter index of each rotation
    letters: np.ndarray  # (4, r, 2) Pauli letter codes per quarter turn, operand (0: I)
    qubits: np.ndarray  # (r, 2) qubit of each operand (−1: none)
    odd: tuple[tuple[CircuitInstruction, ...], ...]  # per rotation: its gates at odd turns
    fixed: tuple[CircuitInstruction, ...]


_LETTER = {"I": 0, "X": 1, "Y": 2, "Z": 3}
_LABEL_CHARS = np.frombuffer(b"IXYZ", dtype=np.uint8)


@dataclass
class CliffordPlan:
    """A task's circuit as layers of gates on disjoint qubits, instructions pre-built.

    Per point and layer: one `pauli` instruction with the Pauli parts of all the
    layer's rotations (none if they are all I), the Clifford part of each
    rotation at an odd quarter turn, and the layer's fixed gates. Reordering
    gates on disjoint qubits changes nothing, so each circuit equals the
    family's circuit up to a global phase.
    """

    task: Task
    empty: QuantumCircuit
    layers: list[_Layer]
    saves: tuple[CircuitInstruction, ...]
    labels: tuple[str, ...]

    def circuits(self, points: np.ndarray) -> list[QuantumCircuit]:
        """One bound Clifford circuit per row of `points` (N, P)."""
        turns = quarter_turns(points)
        qubits = self.empty.qubits
        per_layer = []
        for layer in self.layers:
            t = turns[:, layer.params]  # (N, r)
            letters = layer.letters[t, np.arange(len(layer.params))]  # (N, r, 2)
            paulis: list[CircuitInstruction | None] = []
            for row in letters.reshape(len(t), 2 * len(layer.params)):
                if not row.any():
                    paulis.append(None)
                    continue
                used = np.flatnonzero(row)
                # Pauli labels read right to left: the last character is operand 0
                label = _LABEL_CHARS[row[used[::-1]]].tobytes().decode()
                operands = tuple(qubits[q] for q in layer.qubits.reshape(-1)[used])
                paulis.append(CircuitInstruction(PauliGate(label), operands))
            per_layer.append((paulis, (t % 2).tolist()))
        result = []
        for i in range(len(turns)):
            qc = self.empty.copy_empty_like()
            append = qc._append
            for layer, (paulis, odd) in zip(self.layers, per_layer, strict=True):
                if paulis[i] is not None:
                    append(paulis[i])
                for gates, is_odd in zip(layer.odd, odd[i], strict=True):
                    if is_odd:
                        for instruction in gates:
                            append(instruction)
                for instruction in layer.fixed:
                    append(instruction)
            for instruction in self.saves:
                append(instruction)
            result.append(qc)
        return result


def plan(task: Task) -> CliffordPlan:
    """Record the task's structure, layer it, and pre-build every instruction it uses.

    Layers are as soon as possible: a gate goes one layer after the last gate
    on any of its qubits, so the gates of one layer act on disjoint qubits.
    """
    if task.cost not in COSTS:
        raise NotCliffordError(f"cost '{task.cost}' is not supported by the stabilizer route")
    n = task.qubits
    empty = QuantumCircuit(n, name=task.id)
    qubits = empty.qubits

    def build(gates) -> tuple[CircuitInstruction, ...]:
        return tuple(
            CircuitInstruction(GATES[name], tuple(qubits[q] for q in operands))
            for name, operands in gates
        )

    level = [0] * n
    grouped: list[tuple[list, list]] = []  # per layer: (rotations, fixed gates)
    for op in record(task):
        gates = op[1] if op[0] == "fixed" else ((None, op[3]),)
        for gate in gates:
            operands = gate[1]
            depth = max(level[q] for q in operands)
            for q in operands:
                level[q] = depth + 1
            while len(grouped) <= depth:
                grouped.append(([], []))
            if gate[0] is None:
                grouped[depth][0].append(op)
            else:
                grouped[depth][1].append(gate)
    layers = []
    for rotations, fixed in grouped:
        letters = np.zeros((4, len(rotations), 2), dtype=np.uint8)
        operand_qubits = np.full((len(rotations), 2), -1, dtype=np.int64)
        odd = []
        for j, (_, pauli, _k, operands) in enumerate(rotations):
            for q in range(4):
                for i, letter in enumerate(PAULI_PART[pauli][q]):
                    letters[q, j, i] = _LETTER[letter]
            operand_qubits[j, : len(operands)] = operands
            odd.append(
                build((name, tuple(operands[i] for i in ops)) for name, ops in CLIFFORD_PART[pauli])
            )
        layers.append(
            _Layer(
                params=np.array([op[2] for op in rotations], dtype=np.int64),
                letters=letters,
                qubits=operand_qubits,
                odd=tuple(odd),
                fixed=build(fixed),
            )
        )
    saves, labels = _saves(task, qubits)
    return CliffordPlan(task, empty, layers, saves, labels)


def _saves(task: Task, qubits) -> tuple[tuple[CircuitInstruction, ...], tuple[str, ...]]:
    n = task.qubits
    if task.cost == "global":
        save = SaveAmplitudesSquared(n, [0], label=LABEL)
        return (CircuitInstruction(save, tuple(qubits)),), (LABEL,)
    z = SparsePauliOp("Z")
    if task.cost == "local":
        saves, labels = [], []
        for b, start in enumerate(range(0, n, LOCAL_BLOCK)):
            block = range(start, min(start + LOCAL_BLOCK, n))
            operator = SparsePauliOp.from_sparse_list(
                [("Z", [i], 1.0) for i in range(len(block))], len(block)
            )
            labels.append(f"{LABEL}{b}")
            saves.append(
                CircuitInstruction(
                    SaveExpectationValue(operator, label=labels[-1]),
                    tuple(qubits[q] for q in block),
                )
            )
        return tuple(saves), tuple(labels)
    if task.cost == "zz":
        save = SaveExpectationValue(SparsePauliOp("ZZ"), label=LABEL)
        return (CircuitInstruction(save, (qubits[0], qubits[1])),), (LABEL,)
    output = FAMILIES[task.ansatz].output_qubit(n)
    return (CircuitInstruction(SaveExpectationValue(z, label=LABEL), (qubits[output],)),), (LABEL,)


def _scalar(value) -> float:
    return float(value[0]) if np.ndim(value) else float(value)


def evaluate(plan: CliffordPlan, simulator, points: np.ndarray) -> np.ndarray:
    """Saved value v at each row of `points`: one bound circuit each, one Aer call."""
    circuits = plan.circuits(points)
    result = simulator.run(circuits).result()
    if not result.success:
        status = " ".join(str(result.status).split())
        short = status if len(status) <= 300 else status[:300] + " …"
        raise RuntimeError(f"Aer failed on task {plan.task.id}: {short}")
    values = np.empty(len(circuits))
    labels = plan.labels
    for i in range(len(circuits)):
        data = result.data(i)
        # fixed order, so the sum is the same whatever else is in the batch
        values[i] = sum(_scalar(data[label]) for label in labels)
    return values
