"""Pauli propagation: the stabilizer method's values without a tableau (Heisenberg picture).

For a Clifford circuit U(φ) and a Pauli sum O = Σ_j c_j P_j,

    v(φ) = Σ_j c_j ⟨0…0| U(φ)† P_j U(φ) |0…0⟩,

and U†P_jU is ± one Pauli string, whose expectation value in |0…0⟩ is its sign if every
letter is I or Z and 0 otherwise. So each term is carried backwards through the task's
recorded gates (`stabilizer.record`, last gate first: O ← G† O G), for all evaluation
points of a batch at once: a (qubits, terms, points) uint8 array of letter codes, each gate
rewriting only its one or two qubits' rows through a lookup table indexed by the gate's
kind, the point's quarter turns q of its rotation and the letters. A code holds the letter
(0 = I, 1 = X, 2 = Y, 3 = Z) in bits 0–1 and a sign parity in bit 2; a gate's sign goes to
the parity of its first operand, and a string's sign is the parity of all its codes.

The tables are derived at import from the gates' matrices (qiskit's `to_matrix()` for the
fixed gates of `stabilizer.GATES`, exp(−iqπP/4) for each rotation Pauli of
`stabilizer.PAULI_PART` at q = 0…3), and the import fails if a conjugate is not ± a Pauli.
Only the gates in the backward light cone of the observable's qubits are kept (the others
act on I). Values are exact: ±c_j per term, summed in the observable's order, so a
single-term cost gives the `stabilizer` engine's numbers bit for bit. No Aer here: the
kernel is numpy on one thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from suite.circuits.observables import Observable
from suite.circuits.sampling import counter_drawn
from suite.engines import stabilizer
from suite.engines.base import Engine, Prepared, Workload
from suite.errors import CircuitError

NAME = "pauli-propagation"
LETTERS = "IXYZ"
_SIGMA = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
# A batch is propagated in chunks of samples whose codes and quarter turns take at most
# this many bytes: small enough to stay in cache (measured at qcnn n = 1024 and 4096: 2 MB
# beat 0.5, 1, 4, 16 and 64 MB, by 1.2–2.8× over 64 MB).
CHUNK_BYTES = 1 << 21
# Work model (`PauliPropagationEngine.work`, units of base.experiment_work ≈ 5 ns), measured
# on this project's shared 2-core machine (numpy 2.4, one thread, 2026-12) on qcnn zout at
# n = 1024 and 4096 (13 249 and 53 175 gates, 77 and 93 layer groups) and product local at
# n = 256 and 1024: propagating costs ≈ 50–80 ns per gate per call (the gate's share of
# its layer group's numpy calls, paid once per chunk of points: amortised over the batch)
# plus 3–5 ns per gate and row (term × point); reading off the values ≈ 2 ns per qubit
# and row; turning a sample's slot angles into its points' quarter turns ≈ 6–19 ns per
# slot (memory-bound: (B, S) float64).
GATE_WORK = 12.0
GATE_ROW_WORK = 0.8
QUBIT_ROW_WORK = 0.4
SLOT_WORK = 3.0


def pauli_matrix(letters: str) -> np.ndarray:
    """The matrix of a Pauli string with letter i on operand i (qiskit's little-endian
    order: operand 0 is the least significant bit, the rightmost Kronecker factor)."""
    matrix = np.eye(1, dtype=complex)
    for letter in letters:
        matrix = np.kron(_SIGMA[letter], matrix)
    return matrix


def strings(width: int) -> list[str]:
    """Every Pauli string on `width` operands, in table order: letter code of operand 0
    most significant (index Σ_i code_i · 4^(width − 1 − i))."""
    out = [""]
    for _ in range(width):
        out = [s + letter for s in out for letter in LETTERS]
    return out


def conjugation(unitary: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """U† P U = ±P' for every Pauli string P, in `strings` order: (index of P' in that
    order, sign bit: 1 for −).

    Raises RuntimeError naming `what` when a conjugate is not ± a Pauli string (U is not
    Clifford, or not unitary)."""
    width = round(np.log2(unitary.shape[0]))
    paulis = np.array([pauli_matrix(s) for s in strings(width)])  # (m, d, d)
    conjugates = unitary.conj().T @ paulis @ unitary
    overlaps = np.einsum("aij,bji->ba", paulis, conjugates).real / 2**width  # tr(P_a U†P_bU)/d
    images = np.argmax(np.abs(overlaps), axis=1)
    signs = np.rint(overlaps[np.arange(len(paulis)), images])
    if np.any(np.abs(signs) != 1) or not np.allclose(
        conjugates, signs[:, None, None] * paulis[images], rtol=0, atol=1e-12
    ):
        raise RuntimeError(f"{what}: a Pauli string's conjugate is not ± a Pauli string")
    return images, (signs < 0).astype(np.uint8)


def rotation_matrix(pauli: str, turns: int) -> np.ndarray:
    """exp(−iθP/2) at θ = turns·π/2, P with letter i on operand i."""
    angle = turns * np.pi / 4
    identity = np.eye(2 ** len(pauli), dtype=complex)
    return np.cos(angle) * identity - 1j * np.sin(angle) * pauli_matrix(pauli)


def _kinds() -> dict[int, list[tuple[str, list[np.ndarray]]]]:
    """Per width, every gate kind: (key, its matrix at q = 0…3); fixed gates by name,
    rotations as "R" + P."""
    kinds: dict[int, list[tuple[str, list[np.ndarray]]]] = {1: [], 2: []}
    for name, gate in stabilizer.GATES.items():
        kinds[gate.num_qubits].append((name, [gate.to_matrix()] * 4))
    for pauli in stabilizer.PAULI_PART:
        kinds[len(pauli)].append(("R" + pauli, [rotation_matrix(pauli, q) for q in range(4)]))
    return kinds


@dataclass(frozen=True)
class Tables:
    """The lookup table of one gate width: at ((kind · 4 + q) · 8 + c_0) · 8 + c_1 … the new
    codes c' of the operands, packed c'_0 | c'_1 << 3 (code: letter | parity << 2)."""

    width: int
    kind: dict[str, int]  # kind key → position
    new: np.ndarray  # uint8

    def offset(self, key: str) -> int:
        return self.kind[key] * 4 * 8**self.width

    def conjugate(self, key: str, turns: int, label: str) -> tuple[str, int]:
        """The table's G† P G = (−1)^sign P' for a gate kind at `turns`: (P', sign)."""
        code = 0
        for letter in label:
            code = code << 3 | LETTERS.index(letter)
        packed = int(self.new[self.offset(key) + turns * 8**self.width + code])
        codes = [(packed >> 3 * i) & 7 for i in range(self.width)]
        return "".join(LETTERS[c & 3] for c in codes), sum(c >> 2 for c in codes) % 2


def _tables(width: int, kinds: list[tuple[str, list[np.ndarray]]]) -> Tables:
    size = 8**width
    codes = np.arange(size)
    digits = [(codes >> 3 * (width - 1 - i)) & 7 for i in range(width)]  # per operand
    label = sum((d & 3) << 2 * (width - 1 - i) for i, d in enumerate(digits))  # `strings` index
    new = np.zeros(len(kinds) * 4 * size, dtype=np.uint8)
    for k, (key, matrices) in enumerate(kinds):
        for q, unitary in enumerate(matrices):
            images, signs = conjugation(unitary, f"gate {key} at {q} quarter turn(s)")
            image = images[label]
            packed = 0
            for i, d in enumerate(digits):
                parity = (d >> 2) ^ (signs[label] if i == 0 else 0)
                packed = packed | ((image >> 2 * (width - 1 - i)) & 3 | parity << 2) << 3 * i
            new[(k * 4 + q) * size : (k * 4 + q + 1) * size] = packed
    return Tables(width, {key: k for k, (key, _) in enumerate(kinds)}, new)


TABLES = {width: _tables(width, kinds) for width, kinds in _kinds().items()}


# --- the plan: the observable's backward light cone, in layers -------------------------


@dataclass
class Group:
    """Gates of one width and one layer (disjoint qubits), as arrays over the gates."""

    columns: tuple[np.ndarray, ...]  # per operand: the row of each gate's qubit (k,)
    base: np.ndarray  # (k, 1, 1) table offset of each gate's kind, uint16
    slots: np.ndarray  # (k,) slot of each rotation (the zero row for fixed gates)


@dataclass
class Propagation:
    """A task's gates on the observable's backward light cone, in the order applied."""

    qubits: tuple[int, ...]  # the cone's qubits, ascending: row i is qubits[i]
    groups: list[Group]
    start: np.ndarray  # (cone qubits, terms) the terms' codes, row i on qubits[i]
    coefficients: tuple[float, ...]
    slots: int  # S: the zero row of the turns is row S
    gates: int  # gates on the cone
    total: int  # gates of the circuit

    @property
    def width(self) -> int:
        return len(self.qubits)


def _gates(ops: list[tuple]) -> list[tuple[str, tuple[int, ...], int | None]]:
    """`record` entries as single gates in circuit order: (kind key, qubits, slot or None)."""
    out = []
    for op in ops:
        if op[0] == "rot":
            out.append(("R" + op[1], op[3], op[2]))
        else:
            out.extend((name, qubits, None) for name, qubits in op[1])
    return out


def propagation(ops: list[tuple], observable: Observable, slots: int) -> Propagation:
    """The plan of `ops` (`record` form) for `observable` (a Pauli sum), S = `slots`."""
    gates = _gates(ops)
    active = set(observable.support)
    kept = []
    for gate in reversed(gates):  # backward light cone: a gate joins when it touches it
        if active.intersection(gate[1]):
            kept.append(gate)
            active.update(gate[1])
    qubits = tuple(sorted(active))
    row = {q: i for i, q in enumerate(qubits)}
    level = dict.fromkeys(qubits, 0)
    layers: list[dict[int, list]] = []
    for gate in kept:  # as soon as possible in the backward order: disjoint qubits per layer
        depth = max(level[q] for q in gate[1])
        for q in gate[1]:
            level[q] = depth + 1
        while len(layers) <= depth:
            layers.append({1: [], 2: []})
        layers[depth][len(gate[1])].append(gate)
    groups = []
    for layer in layers:
        for width, members in layer.items():
            if not members:
                continue
            tables = TABLES[width]
            groups.append(
                Group(
                    columns=tuple(
                        np.array([row[g[1][i]] for g in members], dtype=np.intp)
                        for i in range(width)
                    ),
                    base=np.array([tables.offset(g[0]) for g in members], dtype=np.uint16)[
                        :, None, None
                    ],
                    slots=np.array(
                        [slots if g[2] is None else g[2] for g in members], dtype=np.intp
                    ),
                )
            )
    start = np.zeros((len(qubits), len(observable.terms)), dtype=np.uint8)
    for t, (label, term_qubits, _) in enumerate(observable.terms):
        for letter, q in zip(label, term_qubits, strict=True):
            start[row[q], t] = LETTERS.index(letter)
    coefficients = tuple(float(c) for _, _, c in observable.terms)
    return Propagation(qubits, groups, start, coefficients, slots, len(kept), len(gates))


def propagate(plan: Propagation, turns: np.ndarray) -> np.ndarray:
    """v at each point: `turns` (S + 1, N) quarter turns per slot and point, row S zero."""
    codes = np.repeat(plan.start[:, :, None], turns.shape[1], axis=2)  # (qubits, T, N)
    for group in plan.groups:
        shift = (turns[group.slots] << (3 * len(group.columns)))[:, None, :]  # (k, 1, N)
        if len(group.columns) == 1:
            (a,) = group.columns
            codes[a] = TABLES[1].new[group.base + shift + codes[a]]
        else:
            a, b = group.columns
            new = TABLES[2].new[group.base + shift + (codes[a].astype(np.uint16) << 3) + codes[b]]
            codes[a] = new & 7
            codes[b] = new >> 3
    letters = codes & 3
    off_diagonal = np.logical_or.reduce((letters == 1) | (letters == 2), axis=0)  # (T, N)
    parity = np.bitwise_xor.reduce(codes >> 2, axis=0)
    values = np.where(off_diagonal, 0.0, 1.0 - 2.0 * parity)
    total = np.zeros(turns.shape[1])
    for c, value in zip(plan.coefficients, values, strict=True):  # in the observable's order
        total += c * value
    return total


def point_turns(angles: np.ndarray, slots: tuple[int, ...]) -> np.ndarray:
    """Quarter turns (S + 1, B·(1 + 2R)) at the points of `ShiftRule.points` of the slot
    angles (B, S): per sample φ, φ + π/2 e_r0, φ − π/2 e_r0, …; row S is zero.

    The rounding and grid check of `stabilizer.quarter_turns`, with & 3 for its np.mod
    (at n = 4096 these (B, S) passes cost as much as the propagation); an angle off the
    π/2 grid still raises its NotCliffordError."""
    scaled = angles / stabilizer.QUARTER
    turns = np.rint(scaled)
    off = np.abs(np.subtract(scaled, turns, out=scaled), out=scaled)
    if off.size and np.max(off) > stabilizer.ANGLE_TOLERANCE:
        stabilizer.quarter_turns(angles)  # raises NotCliffordError naming the angle
    batch, width = angles.shape
    repeats = 1 + 2 * len(slots)
    out = np.zeros((width + 1, batch, repeats), dtype=np.uint8)
    out[:width] = (turns.astype(np.int64) & 3).astype(np.uint8).T[:, :, None]
    for r, slot in enumerate(slots):
        out[slot, :, 1 + 2 * r] += 1
        out[slot, :, 2 + 2 * r] += 3  # − 1 mod 4
    out &= 3
    return out.reshape(width + 1, batch * repeats)


class PreparedPauliPropagation(Prepared):
    def __init__(self, engine: Engine, workload: Workload) -> None:
        self.engine = engine
        self.workload = workload
        self.plan = engine.propagation(workload)

    @property
    def width(self) -> int:
        return self.plan.width

    def simulator(self, resolved, local_rank: int = 0):
        return None  # numpy only

    def parallelism(self, resolved) -> str:
        return "numpy on 1 thread"

    def describe(self) -> str:
        p, n = self.plan, self.workload.task.qubits
        return (
            f"{NAME} (stabilizer by Pauli propagation: {len(p.coefficients)} term(s) through "
            f"{p.gates} of {p.total} gates, on {p.width} of {n} qubits)"
        )

    def differences(self, simulator, angles, axes):
        if axes is not None:
            raise stabilizer.NotCliffordError(
                f"task {self.workload.task.id}: random axes have no stabilizer route"
            )
        slots = self.workload.rule.slots
        repeats = 1 + 2 * len(slots)
        chunk = chunk_samples(self.plan, repeats)
        start = time.perf_counter()
        values = np.concatenate(
            [
                propagate(self.plan, point_turns(part, slots))
                for part in (angles[i : i + chunk] for i in range(0, len(angles), chunk))
            ]
        ).reshape(len(angles), repeats)
        seconds = time.perf_counter() - start
        return values[:, 0], values[:, 1::2] - values[:, 2::2], seconds


def chunk_samples(plan: Propagation, repeats: int) -> int:
    """Samples per propagation call: letters and turns of a chunk within CHUNK_BYTES."""
    per_point = plan.width * len(plan.coefficients) + plan.slots + 1
    return max(1, CHUNK_BYTES // (per_point * repeats))


class PauliPropagationEngine(Engine):
    """Exact values of Pauli sums through Clifford circuits by Pauli propagation (numpy):
    the stabilizer method's tasks except the global projector, at any width."""

    name = NAME
    methods = ("stabilizer",)

    def refusal(self, workload: Workload):
        task = workload.task
        if task.shots:
            return ("shots", "Pauli propagation computes exact expectation values only")
        if task.noise:
            return ("noise", "Pauli propagation simulates noiseless Clifford circuits only")
        if counter_drawn(task):  # before recording a circuit of millions of gates
            return (
                "qubits",
                f"Pauli propagation records the whole circuit: {task.n_params} parameters are "
                "too many (at most 2^16)",
            )
        try:
            if workload.observable.projector:
                return ("cost", "Pauli propagation needs a Pauli sum, not the global projector")
            return stabilizer.StabilizerEngine().refusal(workload)  # the same rules
        except CircuitError as exc:  # a bad circuit or observable: the spec names it later
            return ("ansatz", str(exc))

    def propagation(self, workload: Workload) -> Propagation:
        if NAME not in workload.plans:
            workload.plans[NAME] = propagation(
                stabilizer.record(workload), workload.observable, len(workload.circuit.slots)
            )
        return workload.plans[NAME]

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        task = workload.task  # one point: a code per qubit and term, a turn per slot
        return task.qubits * len(workload.observable.terms) + len(workload.circuit.slots) + 1

    def work(self, workload: Workload) -> float:
        plan = self.propagation(workload)
        repeats = 1 + 2 * len(workload.rule.slots)
        rows = repeats * len(plan.coefficients)  # terms × points of one sample
        batch = min(workload.task.batch, chunk_samples(plan, repeats))  # the task's own
        return (
            plan.gates * (GATE_WORK / batch + GATE_ROW_WORK * rows)
            + QUBIT_ROW_WORK * plan.width * rows
            + SLOT_WORK * plan.slots
        )

    def prepare(self, workload: Workload) -> PreparedPauliPropagation:
        return PreparedPauliPropagation(self, workload)
