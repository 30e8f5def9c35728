"""What a cost measures: one definition of every named cost and of users' Pauli sums.

A cost is C = offset + scale · v, with v either ⟨O⟩ for a Pauli sum O or
|⟨0…0|ψ⟩|² (the global projector, which no engine expands into 2^n Pauli terms).

Named costs (docs/circuits.md):

| name   | v                        | C                      |
|--------|--------------------------|------------------------|
| global | \\|⟨0…0\\|ψ⟩\\|²          | 1 − v                  |
| local  | Σ_j ⟨Z_j⟩                | 1/2 − v/(2n)           |
| zz     | ⟨Z_0 Z_1⟩                | v                      |
| zout   | ⟨Z_out⟩ (the circuit's output qubit) | v          |

A sweep's `observable` gives explicit terms in qiskit's sparse-list form,
``[["ZZ", [0, 1], 1.0], ["X", [2], 0.5]]``, where an index may be a formula of n
(``"n-1"``) and a coefficient a number or a formula (``"1/n"``); a term may also be a
table ``{ sum = "ZZ", boundary = "open" | "periodic", coefficient = … }`` meaning
Σ_j of the string on qubits j, j+1, … (wrapping around when periodic). Identity terms
go into the offset; C = ⟨O⟩.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from qiskit.quantum_info import SparsePauliOp

from suite import formulas
from suite.errors import CircuitError

NAMES = ("global", "local", "zz", "zout")
EXPLICIT = "observable"
DESCRIPTIONS = {
    "global": "C_G = 1 − |⟨0…0|ψ⟩|² (Cerezo et al. global projector cost)",
    "local": "C_L = 1 − (1/n) Σ_j ⟨(I + Z_j)/2⟩ (Cerezo et al. local projector cost)",
    "zz": "C = ⟨Z_0 Z_1⟩ (McClean et al.)",
    "zout": "C = ⟨Z_out⟩ on the ansatz's output qubit (QCNN: the last qubit left)",
    EXPLICIT: "C = ⟨O⟩ for the sweep's observable O",
}
BOUNDARIES = ("open", "periodic")
Term = tuple[str, tuple[int, ...], float]


@dataclass(frozen=True)
class Observable:
    """C = offset + scale · v; v = Σ c·⟨P⟩ over `terms`, or the projector when `projector`."""

    name: str
    n: int
    terms: tuple[Term, ...]  # sparse-list form: (label, qubits, c), letter i on qubits[i]
    offset: float
    scale: float
    projector: bool = False

    @property
    def support(self) -> tuple[int, ...]:
        """The qubits v depends on, ascending."""
        if self.projector:
            return tuple(range(self.n))
        return tuple(sorted({q for _, qubits, _ in self.terms for q in qubits}))

    def operator(self) -> SparsePauliOp:
        """v as an operator on all n qubits (exports, reference computations, theory)."""
        if self.projector:
            proj = SparsePauliOp("I" * self.n)
            for j in range(self.n):
                proj = proj.compose(
                    SparsePauliOp.from_sparse_list([("", [], 0.5), ("Z", [j], 0.5)], self.n)
                )
            return proj.simplify()
        return SparsePauliOp.from_sparse_list(list(self.terms), self.n)

    def local_operator(
        self, terms: tuple[Term, ...] | None = None
    ) -> tuple[SparsePauliOp, tuple[int, ...]]:
        """Some terms (default: all) as an operator on the sorted union of their qubits."""
        terms = self.terms if terms is None else terms
        qubits = tuple(sorted({q for _, qs, _ in terms for q in qs}))
        position = {q: i for i, q in enumerate(qubits)}
        operator = SparsePauliOp.from_sparse_list(
            [(label, [position[q] for q in qs], c) for label, qs, c in terms], len(qubits)
        )
        return operator, qubits

    def half_spread(self, terms: tuple[Term, ...] | None = None) -> float:
        """Half the range v (or the part of v from `terms`) can take: at most Σ|c| over
        the terms of a Pauli sum; 1/2 for the projector (v ∈ [0, 1])."""
        if self.projector:
            return 0.5
        return float(sum(abs(c) for _, _, c in (self.terms if terms is None else terms)))

    def describe(self) -> str:
        """C as one line: the formula with its terms (Pauli labels read right to left)."""
        if self.projector:
            return f"C = {self.offset!r} + ({self.scale!r}) * |<0…0|psi>|^2"
        listed = " + ".join(f"{c!r}·{label}{list(qs)}" for label, qs, c in self.terms)
        return f"C = {self.offset!r} + ({self.scale!r}) * <O>, O = {listed}"


@functools.lru_cache(maxsize=8)
def named(name: str, n: int, output_qubit: int = 0) -> Observable:
    """The named cost `name` on n qubits (`output_qubit` for zout); cached (immutable), as
    the local cost at n = 2^20 has a million terms."""
    if name == "global":
        return Observable(name, n, (), 1.0, -1.0, projector=True)
    if name == "local":
        return Observable(name, n, tuple(("Z", (j,), 1.0) for j in range(n)), 0.5, -0.5 / n)
    if name == "zz":
        return Observable(name, n, (("ZZ", (0, 1), 1.0),), 0.0, 1.0)
    if name == "zout":
        return Observable(name, n, (("Z", (output_qubit,), 1.0),), 0.0, 1.0)
    raise CircuitError(f"unknown cost '{name}' (allowed: {', '.join(NAMES)})")


def canonical(raw: Any) -> str:
    """The `observable` value of a sweep as canonical JSON (checked for form, not n)."""
    terms = raw if isinstance(raw, list) else [raw]
    if not terms:
        raise CircuitError("must not be an empty list")
    for i, term in enumerate(terms):
        _check_form(term, f"term {i}")
    return json.dumps(raw, sort_keys=True)


def _check_form(term: Any, where: str) -> None:
    if isinstance(term, dict):
        unknown = set(term) - {"sum", "boundary", "coefficient"}
        if unknown:
            raise CircuitError(
                f"{where}: unknown key '{sorted(unknown)[0]}' (allowed: sum, boundary, coefficient)"
            )
        if "sum" not in term:
            raise CircuitError(f'{where}: a table term needs `sum = "PAULIS"`')
        _label(term["sum"], where)
        if term.get("boundary", "open") not in BOUNDARIES:
            raise CircuitError(f"{where}: boundary must be 'open' or 'periodic'")
        _coefficient(term.get("coefficient", 1.0), where, 4)
        return
    if not isinstance(term, list) or len(term) not in (2, 3):
        raise CircuitError(
            f'{where}: must be ["PAULIS", [qubits], coefficient] or a table '
            f'{{ sum = "PAULIS", … }}, got {term!r}'
        )
    label = _label(term[0], where)
    if not isinstance(term[1], list) or len(term[1]) != len(label):
        raise CircuitError(f"{where}: '{label}' needs a list of {len(label)} qubit indices")
    for index in term[1]:
        _index(index, where, 4)
    _coefficient(term[2] if len(term) == 3 else 1.0, where, 4)


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or set(value) - set("IXYZ"):
        raise CircuitError(f"{where}: Pauli string must be letters I, X, Y, Z, got {value!r}")
    return value


def _coefficient(value: Any, where: str, n: int) -> float:
    if isinstance(value, bool):
        raise CircuitError(f"{where}: coefficient must be a real number, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise CircuitError(f"{where}: coefficient must be a finite number, got {value!r}")
        return float(value)
    if isinstance(value, str):
        try:
            complex(value.replace(" ", ""))
            is_number = True
        except ValueError:
            is_number = False
        if is_number and complex(value.replace(" ", "")).imag != 0:
            raise CircuitError(
                f"{where}: complex coefficient {value!r} (an observable is Hermitian: "
                "coefficients of Pauli strings are real)"
            )
        try:
            result = formulas.evaluate(value, n)
        except ValueError as exc:
            raise CircuitError(f"{where}: coefficient {exc}") from None
        try:
            return float(result)
        except OverflowError:
            raise CircuitError(f"{where}: coefficient '{value}' is too large") from None
    if isinstance(value, list):
        raise CircuitError(
            f"{where}: complex coefficient {value!r} (an observable is Hermitian: "
            "coefficients of Pauli strings are real)"
        )
    raise CircuitError(f"{where}: coefficient must be a real number or a formula of n")


def _index(value: Any, where: str, n: int) -> int:
    if isinstance(value, bool):
        raise CircuitError(f"{where}: qubit index must be an integer or a formula of n")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return formulas.evaluate_integer(value, n, what="qubits")
        except ValueError as exc:
            raise CircuitError(f"{where}: qubit index {exc}") from None
    raise CircuitError(f"{where}: qubit index must be an integer or a formula of n, got {value!r}")


def explicit(text: str, n: int) -> Observable:
    """The observable of a sweep (canonical JSON) at n qubits; C = ⟨O⟩."""
    return Observable(EXPLICIT, n, *_terms(json.loads(text), n), 1.0)


def pauli_terms(raw: Any, n: int) -> tuple[tuple[Term, ...], float]:
    """A Pauli sum in the observable form at n: (non-identity terms, identity coefficient)."""
    return _terms(raw, n)


def _terms(raw: Any, n: int) -> tuple[tuple[Term, ...], float]:
    terms: list[Term] = []
    constant = 0.0
    for i, term in enumerate(raw if isinstance(raw, list) else [raw]):
        where = f"term {i}"
        for label, qubits, c in _expand(term, where, n):
            for q in qubits:
                if not 0 <= q < n:
                    raise CircuitError(
                        f"{where}: qubit {q} is outside the register of {n} qubits (0…{n - 1})"
                    )
            if len(set(qubits)) != len(qubits):
                raise CircuitError(f"{where}: qubit repeated in {list(qubits)}")
            kept = [(letter, q) for letter, q in zip(label, qubits, strict=True) if letter != "I"]
            if not kept:
                constant += c
                continue
            letters = "".join(letter for letter, _ in kept)
            terms.append((letters, tuple(q for _, q in kept), c))
    if not terms:
        raise CircuitError("the observable has no non-identity term (its variance is zero)")
    return tuple(_ascending(t) for t in terms), constant


def _ascending(term: Term) -> Term:
    """The same term with its qubits in ascending order (letter i still on qubits[i])."""
    label, qubits, c = term
    pairs = sorted(zip(qubits, label, strict=True))
    return "".join(letter for _, letter in pairs), tuple(q for q, _ in pairs), c


def _expand(term: Any, where: str, n: int) -> list[tuple[str, tuple[int, ...], float]]:
    if isinstance(term, dict):
        label = term["sum"]
        c = _coefficient(term.get("coefficient", 1.0), where, n)
        periodic = term.get("boundary", "open") == "periodic"
        width = len(label)
        if width > n:
            raise CircuitError(f"{where}: '{label}' is wider than the register of {n} qubits")
        starts = range(n) if periodic and width > 1 else range(n - width + 1)
        return [(label, tuple((j + i) % n for i in range(width)), c) for j in starts]
    label = term[0]
    qubits = tuple(_index(i, where, n) for i in term[1])
    c = _coefficient(term[2] if len(term) == 3 else 1.0, where, n)
    return [(label, qubits, c)]


def of_task(task, output_qubit: int = 0) -> Observable:
    """The cost of a task: its explicit observable, or its named cost."""
    if task.observable:
        return explicit(task.observable, task.qubits)
    return named(task.cost, task.qubits, output_qubit)
