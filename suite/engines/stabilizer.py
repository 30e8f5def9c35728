"""The Clifford route: Aer's stabilizer method for samples with Clifford angles.

With angles in {0, π/2, π, 3π/2} (``angles = "clifford"``) every trainable
gate R_P(θ) = exp(−iθP/2), P ∈ {X, Y, Z, ZZ, XX, YY, ZX}, is a Clifford gate, and so is
every shifted point θ ± π/2. Aer's stabilizer method wants Clifford gate
*names* and has no parametric gates, so each evaluation point becomes its own
bound circuit in which rotation k, at q_k = round(θ_k / (π/2)) mod 4 quarter
turns, is replaced by `translation(P, q_k)`: a Pauli part, then for odd q_k
one fixed Clifford (equal to R_P(q_k·π/2) up to a global phase, which no cost
sees; tests/test_clifford.py checks each against qiskit's Operator).

Building and converting circuits is the cost at large n (Aer converts every
instruction of every circuit in Python, ≈ 10 µs each), so `plan` reads a
task's gate sequence once from its template (`record`, which also decides
whether the circuit is Clifford: every fixed gate a Clifford gate or a
rotation at a multiple of π/2, every trainable rotation an rx, ry, rz, rxx, ryy, rzz or rzx
with an integer slope and an offset on the π/2 grid), and sorts it into layers
of gates on disjoint qubits, with every instruction built in advance. Per
point a layer then adds one `pauli` instruction holding the Pauli parts of all
its rotations, the prepared Clifford part of each rotation at an odd quarter
turn, and its fixed gates: a quarter turn of 0 adds nothing, and a rotation
layer costs about n/2 + 1 instructions instead of ≈ 1.25 n gate by gate.

All B·(1 + 2K) circuits of a batch go to Aer in one `AerSimulator.run(circuits)`
call; v is read per experiment from the save instruction labelled ``"v"``.
A Pauli-sum observable is saved in blocks of `LOCAL_BLOCK` consecutive
terms (labels ``"v0"``, ``"v1"``, …) added in a fixed order: Aer's stabilizer
method evaluates a Pauli sum term by term at a cost that grows with the
width of each term (one save of Σ_j Z_j over all n = 1024 qubits takes about
3 ms per term, 3 s per circuit). No communicator here: the kernel sees
arrays and a simulator only.
"""

from __future__ import annotations

import math
import time
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
from qiskit_aer.library import SaveAmplitudesSquared, SaveExpectationValue

from suite.circuits.builders import never_clifford
from suite.circuits.description import ROTATION_GATES
from suite.circuits.observables import Observable
from suite.engines.base import Engine, Prepared, Workload, check_result
from suite.engines.template import LABEL

if TYPE_CHECKING:
    from suite.records import Task

QUARTER = math.pi / 2
# A point's angle must be a multiple of π/2 to this absolute tolerance (the
# shifted points θ ± π/2 of Clifford angles are, up to rounding of π).
ANGLE_TOLERANCE = 1e-9
# Observables are saved in blocks of this many terms, one save each (the global
# projector by Aer's stabilizer amplitude, polynomial in n): fewer instructions for
# Aer to convert, while a block stays narrow (Aer's stabilizer expectation value
# costs grow with the width of a Pauli term).
LOCAL_BLOCK = 4
# Work model (`StabilizerEngine.work`, measured): Aer converts an instruction in ≈ 8 µs,
# and the expectation values of a local cost on n qubits take ≈ 15 ns · n².
INSTRUCTION_WORK = 8000.0
TERM_WORK = 15.0


def tableau_bytes(n: int) -> int:
    """Memory of a stabilizer tableau of n qubits: about 2n² bits (docs/large-n.md)."""
    return n * n // 2


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
    "XX": ("II", "II", "XX", "XX"),
    "YY": ("II", "II", "YY", "YY"),
    "ZX": ("II", "II", "ZX", "ZX"),  # rzx: Z on operand 0, X on operand 1
}
CLIFFORD_PART: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "X": (("sx", (0,)),),
    "Y": (("h", (0,)),),
    "Z": (("s", (0,)),),
    "ZZ": (("cz", (0, 1)), ("s", (0,)), ("s", (1,))),
    # R_PQ(π/2) = W† R_ZZ(π/2) W with W mapping P, Q to Z (W = H for X, H·S† for Y)
    "XX": (
        ("h", (0,)),
        ("h", (1,)),
        ("cz", (0, 1)),
        ("s", (0,)),
        ("s", (1,)),
        ("h", (0,)),
        ("h", (1,)),
    ),
    "YY": (
        ("sdg", (0,)),
        ("h", (0,)),
        ("sdg", (1,)),
        ("h", (1,)),
        ("cz", (0, 1)),
        ("s", (0,)),
        ("s", (1,)),
        ("h", (0,)),
        ("s", (0,)),
        ("h", (1,)),
        ("s", (1,)),
    ),
    "ZX": (("h", (1,)), ("cz", (0, 1)), ("s", (0,)), ("s", (1,)), ("h", (1,))),
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


# --- recording a template's gate sequence ------------------------------------

# Rotation gates by name → their Pauli in operand order (letter i on operand i), the
# key of PAULI_PART / CLIFFORD_PART (ROTATION_GATES has qiskit's order: reversed).
_FIXED_ROTATIONS = {name: label[::-1] for name, label in ROTATION_GATES.items()}


def _turns(value: float) -> int | None:
    """Quarter turns of an angle on the π/2 grid, or None."""
    scaled = value / QUARTER
    return int(np.rint(scaled)) % 4 if abs(scaled - np.rint(scaled)) <= ANGLE_TOLERANCE else None


def record(workload: Workload) -> list[tuple]:
    """The template's gate sequence, recorded once per task (refusal and plan both need
    it): see `_record`."""
    if "stabilizer-record" not in workload.plans:
        workload.plans["stabilizer-record"] = _record(workload)
    return workload.plans["stabilizer-record"]


def _record(workload: Workload) -> list[tuple]:
    """The template's gate sequence: ("fixed", gates) and ("rot", P, slot, qubits) entries.

    Raises `NotCliffordError` naming the first gate that has no Clifford translation.
    """
    circuit = workload.circuit
    if circuit.random_axes or circuit.non_clifford:
        reason = circuit.non_clifford or "random rotation axes per sample"
        raise NotCliffordError(f"its circuits are not Clifford: {reason}")
    slot_of = {p: s for s, p in enumerate(circuit.slots)}
    index = {bit: i for i, bit in enumerate(circuit.circuit.qubits)}
    ops: list[tuple] = []
    for position, instruction in enumerate(circuit.circuit.data):
        operation = instruction.operation
        qubits = tuple(index[q] for q in instruction.qubits)
        where = f"gate {position} ({operation.name} on qubits {list(qubits)})"
        params = operation.params
        slot = slot_of.get(params[0]) if len(params) == 1 else None
        if slot is not None:
            rotation = circuit.rotations[slot]
            if operation.name not in _FIXED_ROTATIONS:  # the template's gate of this slot
                raise NotCliffordError(
                    f"{where}: a rotation about {rotation.pauli} has no Clifford translation here "
                    f"(trainable gates {', '.join(sorted(_FIXED_ROTATIONS))} only)"
                )
            slopes = [a for _, a in rotation.terms]
            if any(a != round(a) for a in slopes) or _turns(rotation.offset) is None:
                raise NotCliffordError(
                    f"{where}: angle {rotation.offset!r} + {slopes} θ leaves the π/2 grid "
                    "at Clifford angles"
                )
            ops.append(("rot", _FIXED_ROTATIONS[operation.name], slot, qubits))
            continue
        if operation.name in GATES:
            ops.append(("fixed", ((operation.name, qubits),)))
            continue
        if operation.name in _FIXED_ROTATIONS and all(isinstance(p, float | int) for p in params):
            turn = _turns(float(params[0]))
            if turn is None:
                raise NotCliffordError(
                    f"{where}: fixed gate {operation.name}({float(params[0])!r}) is not Clifford"
                )
            pauli = _FIXED_ROTATIONS[operation.name]
            gates = tuple(
                (name, tuple(qubits[i] for i in ops_)) for name, ops_ in translation(pauli, turn)
            )
            ops.append(("fixed", gates))
            continue
        raise NotCliffordError(f"{where}: gate '{operation.name}' has no Clifford translation")
    return ops


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


def plan(workload: Workload) -> CliffordPlan:
    """Record the task's structure, layer it, and pre-build every instruction it uses.

    Layers are as soon as possible: a gate goes one layer after the last gate
    on any of its qubits, so the gates of one layer act on disjoint qubits.
    """
    task = workload.task
    return layered(task, task.qubits, record(workload), workload.observable)


def layered(task: Task, n: int, ops: list[tuple], observable: Observable) -> CliffordPlan:
    """The plan of `ops` (the form of `record`) on n qubits, saving `observable`; a
    rotation's slot is its column in the points given to `CliffordPlan.circuits`."""
    empty = QuantumCircuit(n, name=task.id)
    qubits = empty.qubits

    def build(gates) -> tuple[CircuitInstruction, ...]:
        return tuple(
            CircuitInstruction(GATES[name], tuple(qubits[q] for q in operands))
            for name, operands in gates
        )

    level = [0] * n
    grouped: list[tuple[list, list]] = []  # per layer: (rotations, fixed gates)
    for op in ops:
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
    saves, labels = _saves(observable, qubits)
    return CliffordPlan(task, empty, layers, saves, labels)


def _saves(
    observable: Observable, qubits
) -> tuple[tuple[CircuitInstruction, ...], tuple[str, ...]]:
    if observable.projector:
        save = SaveAmplitudesSquared(len(qubits), [0], label=LABEL)
        return (CircuitInstruction(save, tuple(qubits)),), (LABEL,)
    terms = observable.terms
    if len(terms) == 1:
        operator, support = observable.local_operator(terms)
        save = SaveExpectationValue(operator, label=LABEL)
        return (CircuitInstruction(save, tuple(qubits[q] for q in support)),), (LABEL,)
    saves, labels = [], []
    for b, start in enumerate(range(0, len(terms), LOCAL_BLOCK)):
        operator, support = observable.local_operator(terms[start : start + LOCAL_BLOCK])
        labels.append(f"{LABEL}{b}")
        saves.append(
            CircuitInstruction(
                SaveExpectationValue(operator, label=labels[-1]),
                tuple(qubits[q] for q in support),
            )
        )
    return tuple(saves), tuple(labels)


def _scalar(value) -> float:
    return float(value[0]) if np.ndim(value) else float(value)


def evaluate(plan: CliffordPlan, simulator, points: np.ndarray) -> np.ndarray:
    """Saved value v at each row of `points`: one bound circuit each, one Aer call."""
    circuits = plan.circuits(points)
    result = simulator.run(circuits).result()
    check_result(result, f"task {plan.task.id}")
    return np.array([saved_value(result.data(i), plan.labels) for i in range(len(circuits))])


def saved_value(data: dict, labels: tuple[str, ...]) -> float:
    """v of one experiment: its saves summed in a fixed order, so the sum is the same
    whatever else is in the batch."""
    return float(sum(_scalar(data[label]) for label in labels))


class PreparedStabilizer(Prepared):
    def __init__(self, engine: Engine, workload: Workload) -> None:
        self.engine = engine
        self.workload = workload
        self.plan = plan(workload)

    @property
    def width(self) -> int:
        return self.workload.task.qubits

    def describe(self) -> str:
        return f"stabilizer (Clifford circuits of {self.width} qubits)"

    def differences(self, simulator, angles, axes):
        if axes is not None:
            raise NotCliffordError(
                f"task {self.workload.task.id}: random axes have no stabilizer route"
            )
        rule = self.workload.rule
        repeats = 1 + 2 * len(rule.slots)
        start = time.perf_counter()
        values = evaluate(self.plan, simulator, rule.points(angles)).reshape(len(angles), repeats)
        seconds = time.perf_counter() - start
        return values[:, 0], values[:, 1::2] - values[:, 2::2], seconds


class StabilizerEngine(Engine):
    """Aer's stabilizer method: Clifford circuits at Clifford angles, thousands of qubits."""

    name = "stabilizer"
    methods = ("stabilizer",)

    def refusal(self, workload: Workload):
        task = workload.task
        if task.shots:
            return (
                "shots",
                f'shots = {task.shots} with method = "stabilizer": the Clifford route computes '
                'exact expectation values only (use method = "statevector" or "auto")',
            )
        reason = never_clifford(task)  # known without building the circuit
        if reason:
            return (
                "ansatz",
                f'method = "stabilizer" cannot simulate {task.ansatz}: it has {reason}, '
                "so its circuits are not Clifford at any angles",
            )
        if task.angles != "clifford":
            return (
                "angles",
                f'method = "stabilizer" needs angles = "clifford" (got \'{task.angles}\'): other '
                "angles make the rotations non-Clifford gates",
            )
        try:
            record(workload)
        except NotCliffordError as exc:
            return ("ansatz", f'method = "stabilizer" cannot simulate {task.ansatz}: {exc}')
        return None

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        return tableau_bytes(workload.task.qubits)

    def work(self, workload: Workload) -> float:
        # Aer converts ≈ P + n instructions per circuit at ≈ 8 µs each, and a local
        # observable's n single-qubit expectation values take ≈ 15 ns · n² (measured).
        task = workload.task
        n = task.qubits
        local = (
            TERM_WORK
            * n
            * n
            * (not workload.observable.projector and len(workload.observable.terms) > 1)
        )
        rows = 1 + 2 * len(task.parameters)
        return rows * (INSTRUCTION_WORK * (task.n_params + n) + local)

    def prepare(self, workload: Workload) -> PreparedStabilizer:
        return PreparedStabilizer(self, workload)
