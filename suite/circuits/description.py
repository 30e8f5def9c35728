"""A parametrized circuit as data: its trainable Pauli rotations and their shift rules.

Every builder (the built-in families, Qiskit's circuit library, a user's Python
function, an OpenQASM file) ends here: `describe` reads a QuantumCircuit whose
trainable angles are Parameters and returns a `ParametrizedCircuit`:

* `circuit`, the *template*: the same gates, with every trainable gate rewritten as
  a Pauli rotation exp(−iφ_s P/2) whose angle is a plain parameter, its *slot* φ_s;
* per slot a `Rotation`: the Pauli string P, its qubits, and the affine map
  φ_s = offset + Σ_k a_k θ_k from the trainable parameters θ.

Slot angles are computed in numpy (`angles`), so Aer only ever binds plain numbers
(it evaluates parameter expressions in Python at every bind): `binds` turns slot values
into the template's parameter values. A random-axis rotation R_P(φ) (McClean's, P ∈ {X,
Y, Z} drawn per sample) is one `u(a, b, c)` gate whose three angles come from (φ, P) in
numpy (`u_angles`), at the shifted points too. A parameter used in
several gates (QAOA's shared γ, a user's tied angles) has several slots, and the chain
rule sums their two-term shifts (`suite.circuits.shift`). A trainable angle that is
not linear, or that sits in a gate that is not exp(−iφP/2) for a Pauli string P
(a `u` gate, a controlled rotation), is refused with one line naming gate and
parameter: the two-term shift rule would not be exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterExpression
from qiskit.circuit.library import (
    PauliEvolutionGate,
    PauliGate,
    UnitaryGate,
    get_standard_gate_name_mapping,
)
from qiskit.quantum_info import SparsePauliOp

from suite.errors import CircuitError

# Gates exp(−iφP/2) (up to a global phase, which no cost sees): name → Pauli label over
# the gate's operands in qiskit's order (the rightmost letter acts on operand 0).
ROTATION_GATES = {
    "rx": "X",
    "ry": "Y",
    "rz": "Z",
    "p": "Z",  # P(λ) = e^{iλ/2} RZ(λ)
    "u1": "Z",
    "rxx": "XX",
    "ryy": "YY",
    "rzz": "ZZ",
    "rzx": "XZ",  # RZX(θ) = exp(−iθ Z⊗X/2), Z on operand 0
}
# The gate that stands for a rotation in the template, by label over its qubits.
_NATIVE = {"X": "rx", "Y": "ry", "Z": "rz", "XX": "rxx", "YY": "ryy", "ZZ": "rzz", "XZ": "rzx"}
_STANDARD = get_standard_gate_name_mapping()
_DROPPED = {"barrier", "delay", "id", "global_phase"}
# Standard gates that Aer's statevector or matrix_product_state method does not run by
# name (`basis_gates` of qiskit-aer 0.18): fixed ones enter the template by definition.
_NOT_IN_AER = {
    "c3sx",
    "ccz",
    "ch",
    "crx",
    "cry",
    "crz",
    "cs",
    "csdg",
    "cu",
    "cu1",
    "cu3",
    "dcx",
    "iswap",
    "rcccx",
    "rccx",
    "xx_minus_yy",
    "xx_plus_yy",
}
_CLASSICAL = {"measure", "reset", "if_else", "for_loop", "while_loop", "switch_case"}
# Gates given by a matrix or a Pauli string: one gate (one noise channel,
# `ParametrizedCircuit.gates`) however many gates qiskit synthesizes them into; they enter
# the template by their definitions.
_MATRIX_GATES = (UnitaryGate, PauliGate)
ROTATION_NAMES = ", ".join(sorted(ROTATION_GATES)) + " or a Pauli evolution of commuting strings"


@dataclass(frozen=True)
class RandomAxis:
    """The axis of a random-axis rotation: P = X, Y, Z for axes[:, column] = 0, 1, 2 of a
    sample; the template holds it as u(slot, *companions)."""

    column: int
    companions: tuple[Parameter, Parameter]


@dataclass(frozen=True)
class Rotation:
    """One trainable gate exp(−iφP/2), φ = offset + Σ a_k θ_k."""

    pauli: str  # qiskit label over `qubits`: the rightmost letter acts on qubits[0]
    qubits: tuple[int, ...]
    terms: tuple[tuple[int, float], ...]  # (trainable index k, a_k)
    offset: float = 0.0
    axis: RandomAxis | None = None  # set for a random-axis rotation (then `pauli` is "")


def u_angles(phi: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles (θ, φ, λ) of the `u` gate equal to R_P(phi) up to a global phase, P = X, Y, Z
    for axis = 0, 1, 2: R_X(t) = U(t, −π/2, π/2), R_Y(t) = U(t, 0, 0), R_Z(t) = U(0, 0, t)."""
    x, z = axis == 0, axis == 2
    half = np.pi / 2
    return np.where(z, 0.0, phi), np.where(x, -half, 0.0), np.where(x, half, np.where(z, phi, 0.0))


@dataclass
class ParametrizedCircuit:
    """What is simulated for one task: the template and its trainable rotations."""

    circuit: QuantumCircuit  # the template (no save instruction)
    slots: tuple[Parameter, ...]
    rotations: tuple[Rotation, ...]  # per slot
    names: tuple[str, ...]  # the trainable parameters, in index order
    bind: Callable[[np.ndarray, np.ndarray | None], QuantumCircuit]  # one sample, readable
    structure: tuple[Parameter, ...] = ()  # the u gates' companions of random-axis slots
    random_axes: bool = False
    output_qubit: int = 0  # the qubit of the named cost `zout`
    non_clifford: str | None = None  # a fixed non-Clifford gate, when the builder knows one
    # Per gate of the source circuit: (index of its last instruction in the template, its
    # qubits). A rotation, a Pauli evolution or a gate entered by its definition spans
    # several template instructions but is one gate: noise acts after it (suite.engines.noise).
    gates: tuple[tuple[int, tuple[int, ...]], ...] = ()
    _simple: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def qubits(self) -> int:
        return self.circuit.num_qubits

    @property
    def n_params(self) -> int:
        return len(self.names)

    def occurrences(self, k: int) -> list[tuple[int, float]]:
        """(slot, a) of every gate whose angle depends on θ_k, in circuit order."""
        return [
            (s, a) for s, rotation in enumerate(self.rotations) for j, a in rotation.terms if j == k
        ]

    def angles(self, theta: np.ndarray) -> np.ndarray:
        """Slot angles φ (B, S) of parameters θ (B, P), in numpy.

        A slot that is exactly one parameter (a = 1, no offset: every built-in
        family) gets that column's bits unchanged.
        """
        theta = np.asarray(theta, dtype=np.float64)
        if self._simple is None:
            slots = [s for s, r in enumerate(self.rotations) if _is_plain(r)]
            columns = [self.rotations[s].terms[0][0] for s in slots]
            self._simple = (np.array(slots, dtype=np.int64), np.array(columns, dtype=np.int64))
        out = np.empty((theta.shape[0], len(self.rotations)))
        slots, columns = self._simple
        out[:, slots] = theta[:, columns]
        for s, rotation in enumerate(self.rotations):
            if _is_plain(rotation):
                continue
            value = np.full(theta.shape[0], rotation.offset)
            for k, a in rotation.terms:
                value = value + a * theta[:, k]
            out[:, s] = value
        return out

    def binds(
        self,
        values: np.ndarray,
        slots: Sequence[int] | None = None,
        axes: np.ndarray | None = None,
    ) -> dict[Parameter, np.ndarray]:
        """Aer parameter binds of slot values (rows, len(slots)) (all slots when None).

        `axes` (rows, P) gives each row's rotation axes; a random-axis slot binds its
        u gate's three angles (`u_angles`), every other slot its value unchanged.
        """
        slots = range(len(self.slots)) if slots is None else slots
        out: dict[Parameter, np.ndarray] = {}
        for i, s in enumerate(slots):
            axis = self.rotations[s].axis
            if axis is None:
                out[self.slots[s]] = values[:, i]
                continue
            if axes is None:
                raise ValueError("random-axis rotations need the samples' axes")
            a, b, c = u_angles(values[:, i], axes[:, axis.column])
            out[self.slots[s]] = a
            out[axis.companions[0]] = b
            out[axis.companions[1]] = c
        return out


def _is_plain(rotation: Rotation) -> bool:
    return len(rotation.terms) == 1 and rotation.terms[0][1] == 1.0 and rotation.offset == 0.0


def _name(parameter: Parameter) -> str:
    return parameter.name


def _linear(
    expression, where: str, trainable: dict[Parameter, int], structural: set[Parameter]
) -> tuple[tuple[tuple[int, float], ...], float] | None:
    """(terms, offset) of a trainable angle; None when it holds no trainable parameter."""
    if not isinstance(expression, ParameterExpression):
        return None
    if isinstance(expression, Parameter) and expression in trainable:  # the common case
        return ((trainable[expression], 1.0),), 0.0
    parameters = set(expression.parameters)
    mine = [p for p in parameters if p in trainable]
    if not mine:
        unknown = [p for p in parameters if p not in structural]
        if unknown:
            raise CircuitError(f"{where}: parameter '{unknown[0].name}' is not trainable")
        return None
    if parameters - set(mine):
        other = sorted(_name(p) for p in parameters - set(mine))
        raise CircuitError(f"{where}: mixes trainable parameters with {', '.join(other)}")
    terms = []
    for p in sorted(mine, key=lambda p: trainable[p]):
        slope = expression.gradient(p)
        if isinstance(slope, ParameterExpression) and slope.parameters:
            raise CircuitError(
                f"{where}: angle {expression} is not linear in '{p.name}' "
                "(the two-term shift rule needs exp(−i·a·θ·P/2) with a constant a)"
            )
        slope = complex(slope)
        if abs(slope.imag) > 1e-12:
            raise CircuitError(f"{where}: angle {expression} has a complex slope in '{p.name}'")
        terms.append((trainable[p], float(slope.real)))
    offset = complex(expression.bind({p: 0.0 for p in mine}))
    return tuple(terms), float(offset.real)


def _support(label: str, qubits: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """Drop identity letters: (label, qubits) of the non-identity part."""
    kept = [(letter, q) for letter, q in zip(reversed(label), qubits, strict=True) if letter != "I"]
    return "".join(letter for letter, _ in reversed(kept)), tuple(q for _, q in kept)


def _evolution_rotations(gate: PauliEvolutionGate, where: str) -> list[tuple[str, float]]:
    """exp(−itH), H = Σ c_j P_j with commuting P_j, as rotations (P_j, angle factor 2c_j)."""
    operator = gate.operator
    if isinstance(operator, list):
        operator = sum(operator[1:], operator[0])
    operator = SparsePauliOp(operator).simplify(atol=0.0)
    labels = operator.paulis
    for i in range(len(labels)):
        for j in range(i):
            if not labels[i].commutes(labels[j]):
                raise CircuitError(
                    f"{where}: Pauli evolution of non-commuting strings {labels[j]} and "
                    f"{labels[i]} is not a product of rotations (split it into one gate per string)"
                )
    result = []
    for label, coefficient in zip(operator.paulis.to_labels(), operator.coeffs, strict=True):
        if abs(coefficient.imag) > 1e-12:
            raise CircuitError(f"{where}: complex coefficient {coefficient} of {label}")
        if set(label) != {"I"}:
            result.append((label, 2.0 * float(coefficient.real)))
    return result


def append_rotation(qc: QuantumCircuit, label: str, qubits: Sequence[int], angle) -> None:
    """Append exp(−i·angle·P/2) for the label P over `qubits` (rightmost letter on qubits[0])."""
    if label in _NATIVE:
        getattr(qc, _NATIVE[label])(angle, *qubits)
        return
    if label[::-1] in _NATIVE and len(label) == 2:  # "ZX": rzx with the operands swapped
        getattr(qc, _NATIVE[label[::-1]])(angle, qubits[1], qubits[0])
        return
    letters = list(reversed(label))  # letters[i] acts on qubits[i]
    for letter, q in zip(letters, qubits, strict=True):  # map each letter to Z
        if letter == "X":
            qc.h(q)
        elif letter == "Y":
            qc.sdg(q)
            qc.h(q)
    for a, b in itertools.pairwise(qubits):
        qc.cx(a, b)
    qc.rz(angle, qubits[-1])
    for a, b in reversed(list(itertools.pairwise(qubits))):
        qc.cx(a, b)
    for letter, q in zip(letters, qubits, strict=True):
        if letter == "X":
            qc.h(q)
        elif letter == "Y":
            qc.h(q)
            qc.s(q)


def is_standard(operation) -> bool:
    """One of qiskit's standard gates, recognised by class, not by name: a user's gate may
    borrow a standard name with another definition (OpenQASM `gate rzz(t) a, b { … }`)."""
    standard = _STANDARD.get(operation.name)
    return standard is not None and operation.base_class is standard.base_class


def _composite(operation) -> bool:
    return (
        not is_standard(operation)
        and not isinstance(operation, (PauliEvolutionGate, *_MATRIX_GATES))
        and not operation.name.startswith("save_")
        and getattr(operation, "definition", None) is not None
    )


def flatten(circuit: QuantumCircuit, limit: int = 8) -> QuantumCircuit:
    """Replace composite instructions by their definitions until every gate is standard
    or a Pauli evolution (or `limit` levels are done)."""
    for _ in range(limit):
        if not any(_composite(instruction.operation) for instruction in circuit.data):
            return circuit
        expanded = circuit.copy_empty_like()
        for instruction in circuit.data:
            if _composite(instruction.operation):
                expanded.compose(
                    instruction.operation.definition,
                    instruction.qubits,
                    instruction.clbits,
                    inplace=True,
                )
            else:
                expanded.append(instruction)
        circuit = expanded
    return circuit


def _append_fixed(template: QuantumCircuit, operation, qubits: tuple[int, ...], level=0) -> None:
    """Append a gate without trainable angles; by its definition where Aer cannot run it."""
    by_definition = (
        operation.name in _NOT_IN_AER
        or isinstance(operation, _MATRIX_GATES)
        or (level > 0 and _composite(operation))
    )
    definition = operation.definition if by_definition and level < 8 else None
    if definition is None:
        template.append(operation, qubits)
        return
    position = {bit: i for i, bit in enumerate(definition.qubits)}
    for inner in definition.data:
        inner_qubits = tuple(qubits[position[q]] for q in inner.qubits)
        _append_fixed(template, inner.operation, inner_qubits, level + 1)


def describe(
    circuit: QuantumCircuit,
    trainable: Sequence[Parameter],
    bind: Callable[[np.ndarray, np.ndarray | None], QuantumCircuit] | None = None,
    structure: Sequence[Parameter] = (),
    random_axes: bool = False,
    output_qubit: int = 0,
    non_clifford: str | None = None,
) -> ParametrizedCircuit:
    """Read a circuit whose trainable angles are `trainable` into a `ParametrizedCircuit`.

    Raises `CircuitError` naming the gate and the parameter when a trainable angle is
    not linear or sits in a gate without a two-term shift rule, and names any
    measurement, reset or classical control, and any gate that is neither standard nor
    defined by standard gates. A user's gate is read by its definition even when it
    borrows a standard name; fixed gates Aer has no instruction for enter the template
    by their definitions, fixed Pauli evolutions as rotations. With `random_axes`, a
    `u(θ_k, b, c)` gate whose b and c are `structure` parameters is the random-axis
    rotation R_P(θ_k), P from column k of the samples' axes.
    """
    index = {p: k for k, p in enumerate(trainable)}
    structural = set(structure)
    circuit = flatten(circuit)
    n = circuit.num_qubits
    qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
    template = QuantumCircuit(n, name=circuit.name)
    rotations: list[Rotation] = []
    slots: list[Parameter] = []

    def rotate(label: str, qubits: tuple[int, ...], terms, offset: float) -> None:
        label, qubits = _support(label, qubits)
        slots.append(Parameter(f"slot[{len(slots):07d}]"))
        rotations.append(Rotation(label, qubits, terms, offset))
        append_rotation(template, label, qubits, slots[-1])

    def rotate_axis(qubit: int, terms, offset: float, companions) -> None:
        slots.append(Parameter(f"slot[{len(slots):07d}]"))
        axis = RandomAxis(terms[0][0], tuple(companions))
        rotations.append(Rotation("", (qubit,), terms, offset, axis))
        template.u(slots[-1], *companions, qubit)

    starts: list[tuple[int, tuple[int, ...]]] = []  # per instruction: (template length, qubits)
    for position, instruction in enumerate(circuit.data):
        operation = instruction.operation
        name = operation.name
        qubits = tuple(qubit_index[q] for q in instruction.qubits)
        where = f"gate {position} ({name} on qubits {list(qubits)})"
        starts.append((len(template.data), qubits))
        if name in _DROPPED:
            continue
        if name in _CLASSICAL or instruction.clbits:
            raise CircuitError(
                f"{where}: measurements, resets and classical control are not allowed "
                "(the cost is an exact expectation value at the end of the circuit)"
            )
        if not is_standard(operation) and not isinstance(
            operation, (PauliEvolutionGate, *_MATRIX_GATES)
        ):
            raise CircuitError(
                f"{where}: '{name}' is not a standard gate and has no definition in "
                "standard gates (the simulator cannot run it)"
            )
        if isinstance(operation, PauliEvolutionGate):
            linear = _linear(operation.params[0], where, index, structural)
            if linear is None:  # fixed: Aer has no Pauli evolution instruction
                for label, factor in _evolution_rotations(operation, where):
                    label, support = _support(label, qubits)
                    append_rotation(template, label, support, factor * float(operation.params[0]))
                continue
            terms, offset = linear
            for label, factor in _evolution_rotations(operation, where):
                rotate(label, qubits, tuple((k, factor * a) for k, a in terms), factor * offset)
            continue
        if random_axes and name == "u" and set(operation.params[1:]) <= structural:
            linear = _linear(operation.params[0], where, index, structural)
            if linear is not None:
                if len(linear[0]) != 1:
                    raise CircuitError(f"{where}: a random axis rotates one trainable parameter")
                rotate_axis(qubits[0], *linear, operation.params[1:])
                continue
        linear = None
        for value in operation.params:
            if not isinstance(value, ParameterExpression):
                continue
            mine = sorted(_name(q) for q in value.parameters if q in index)
            if mine and name not in ROTATION_GATES:
                raise CircuitError(
                    f"{where}: parameter '{mine[0]}' sits in a '{name}' gate, which has no "
                    f"two-term shift rule (trainable parameters may sit in {ROTATION_NAMES})"
                )
            found = _linear(value, where, index, structural)
            linear = linear or found
        if linear is None:
            _append_fixed(template, operation, qubits)
            continue
        rotate(ROTATION_GATES[name], qubits, *linear)
    if not rotations:
        raise CircuitError("the circuit has no trainable gate (no parameter to differentiate)")
    used = {k for rotation in rotations for k, _ in rotation.terms}
    unused = [p.name for p in trainable if index[p] not in used]
    if unused:
        raise CircuitError(f"parameter '{unused[0]}' appears in no gate")

    def default_bind(theta: np.ndarray, axes: np.ndarray | None = None) -> QuantumCircuit:
        values = dict(zip(trainable, map(float, theta), strict=True))
        return circuit.assign_parameters(values)

    return ParametrizedCircuit(
        circuit=template,
        slots=tuple(slots),
        rotations=tuple(rotations),
        names=tuple(p.name for p in trainable),
        bind=bind or default_bind,
        structure=tuple(structure),
        random_axes=random_axes,
        output_qubit=output_qubit,
        non_clifford=non_clifford,
        gates=_gate_ends(starts, len(template.data)),
    )


def _gate_ends(
    starts: list[tuple[int, tuple[int, ...]]], length: int
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """(last template index, qubits) of every source instruction that added gates."""
    ends = [start for start, _ in starts[1:]] + [length]
    return tuple(
        (end - 1, qubits) for (start, qubits), end in zip(starts, ends, strict=True) if end > start
    )
