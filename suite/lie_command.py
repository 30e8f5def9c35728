"""`bpsuite lie JOB.toml`: the dynamical Lie algebra of every task's circuit (docs/lie.md).

Per task: the generators (the Pauli strings of the trainable rotations, with every fixed
Clifford gate moved to the start of the circuit), the closure, its center and simple
ideals, the g-purities of the initial state and of the observable, and the loss
variance of Ragone et al. (2024) where its condition holds. The algebra itself is in
`suite.lie`; this module reads circuits (Qiskit) and prints.

Moving a fixed Clifford C to the start past a rotation that precedes it,
C · exp(−iφP/2) = exp(−iφ CPC†/2) · C, so a rotation's generator is P conjugated by the
product of the fixed Clifford gates after it, D P D†, and the initial state becomes
ρ' = D_all V |0…0⟩⟨0…0| V† D_all†, where V holds the fixed gates before the first
trainable gate (any gates: they are absorbed into the state) and D_all every fixed
Clifford gate after it. A fixed non-Clifford gate after the first trainable gate is
outside what the command handles.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterExpression
from qiskit.quantum_info import Operator, Statevector

from suite import lie, lie_gradient
from suite.circuits import observables
from suite.circuits.builders import circuit_of
from suite.circuits.description import ROTATION_GATES, ParametrizedCircuit
from suite.spec import load_spec

# Tasks beyond this many qubits get no Lie analysis: at n = 4096 the product ansatz's
# closure alone takes ≈ 15 s, and a circuit of n = 2^20 qubits (docs/large-n.md) is never
# built.
MAX_QUBITS = 1024
DENSE_QUBITS = 12  # the initial state as a statevector up to here (signed ⟨P⟩ for every P)
_PAULI = {
    (0, 0): np.eye(2, dtype=complex),
    (1, 0): np.array([[0, 1], [1, 0]], dtype=complex),
    (1, 1): np.array([[0, -1j], [1j, 0]]),
    (0, 1): np.diag([1.0 + 0j, -1.0]),
}
_TABLES: dict[tuple, list[tuple[int, int]] | None] = {}


# ---------------------------------------------------------------- gates


def _local_pauli(x_mask: int, z_mask: int, k: int) -> np.ndarray:
    """Matrix of a k-qubit string (operand 0 is the least significant bit, as in Qiskit)."""
    matrix = np.eye(1, dtype=complex)
    for i in reversed(range(k)):
        matrix = np.kron(matrix, _PAULI[((x_mask >> i) & 1, (z_mask >> i) & 1)])
    return matrix


def clifford_table(operation) -> list[tuple[int, int]] | None:
    """Images under U·U† of X on operand 0…k−1, then Z on operand 0…k−1, as (x, z) masks
    over the operands; None when the gate is not Clifford (or too wide to check)."""
    try:
        key: tuple | None = (operation.name, tuple(float(p) for p in operation.params))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _TABLES:
        return _TABLES[key]
    table = _compute_table(operation)
    if key is not None:
        _TABLES[key] = table
    return table


def _compute_table(operation) -> list[tuple[int, int]] | None:
    k = operation.num_qubits
    if k > 3 or k == 0:
        return None
    try:
        unitary = Operator(operation).data
    except Exception:
        return None
    strings = list(itertools.product(range(2**k), repeat=2))
    table = []
    for generator in [(1 << i, 0) for i in range(k)] + [(0, 1 << i) for i in range(k)]:
        image = unitary @ _local_pauli(*generator, k) @ unitary.conj().T
        for x_mask, z_mask in strings:
            overlap = np.trace(_local_pauli(x_mask, z_mask, k) @ image) / 2**k
            if abs(abs(overlap) - 1) < 1e-8:
                table.append((x_mask, z_mask))
                break
        else:
            return None
    return table


# ---------------------------------------------------------------- circuits


@dataclass
class Frame:
    """What the algebra sees of a circuit."""

    n: int
    generators: np.ndarray  # rows, per trainable gate (three per random-axis rotation)
    rotations: int
    prefix: list  # (operation, qubits) of the fixed gates before the first trainable gate
    cliffords_after: list  # (operation, qubits) of the fixed gates after it
    clifford: lie.Clifford  # conjugation by every fixed Clifford gate after the first rotation
    unsupported: str | None = None
    order: list[tuple[int, int, int]] = field(default_factory=list)
    """Per trainable gate in circuit order: (slot, first row in `generators`, rows)."""


def read_circuit(circuit: ParametrizedCircuit) -> Frame:
    """Generators and frame of a circuit (fixed Clifford gates moved to the start)."""
    n = circuit.qubits
    template = circuit.circuit
    slot_of = {p: s for s, p in enumerate(circuit.slots)}
    slots = set(slot_of)
    items = []  # (kind, operation, qubits, label, slot)
    for position, instruction in enumerate(template.data):
        operation = instruction.operation
        qubits = tuple(template.find_bit(q).index for q in instruction.qubits)
        parameters = set()
        for value in operation.params:
            if isinstance(value, ParameterExpression):
                parameters |= set(value.parameters)
        where = f"gate {position} ({operation.name} on qubits {list(qubits)})"
        if parameters & slots:
            slot = min(slot_of[p] for p in parameters & slots)
            if circuit.rotations[slot].axis is not None:
                label = ""  # a random-axis rotation R_P, P ∈ {X, Y, Z}: three generators below
            else:
                label = ROTATION_GATES.get(operation.name)
            if label is None:
                return _refused(n, f"{where}: a trainable gate that is not a Pauli rotation")
            items.append(("rotation", operation, qubits, label, slot))
        elif parameters:
            return _refused(n, f"{where}: a gate with per-sample structure parameters")
        else:
            items.append(("fixed", operation, qubits, None, None))
    first = next((i for i, item in enumerate(items) if item[0] == "rotation"), len(items))
    clifford = lie.Clifford(n)
    generators = []
    rotation_slots = []
    after = []
    for kind, operation, qubits, label, slot in reversed(items[first:]):
        if kind == "rotation":
            rotation_slots.append(slot)
            if not label:  # a random axis
                strings = [lie.sparse_row(p, qubits, n) for p in "XYZ"]
            else:  # label: Qiskit order over the operands (rightmost on operand 0)
                strings = [lie.sparse_row(label[::-1], qubits, n)]
            generators.append(clifford.apply(np.array(strings)))
        elif kind == "fixed":
            table = clifford_table(operation)
            if table is None:
                return _refused(
                    n,
                    f"fixed non-Clifford gate {operation.name}"
                    f"{_angles(operation)} on qubits {list(qubits)} after a trainable gate: "
                    "`bpsuite lie` moves fixed Clifford gates to the start and absorbs fixed "
                    "non-Clifford gates only before the first trainable gate",
                )
            clifford.then_before(table, qubits)
            after.append((operation, qubits))
    rows = (
        np.concatenate(generators[::-1])
        if generators
        else np.zeros((0, 2 * lie.n_words(n)), dtype=np.uint64)
    )
    prefix = [(op, q) for kind, op, q, _, _ in items[:first] if kind == "fixed"]
    rotations = sum(1 for item in items if item[0] == "rotation")
    order = []
    row = 0
    for slot, strings in zip(rotation_slots[::-1], generators[::-1], strict=True):
        order.append((slot, row, len(strings)))
        row += len(strings)
    return Frame(n, rows, rotations, prefix, after[::-1], clifford, order=order)


def _angles(operation) -> str:
    try:
        values = [float(p) for p in operation.params]
    except (TypeError, ValueError):
        return ""
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")" if values else ""


def _refused(n: int, reason: str) -> Frame:
    empty = np.zeros((0, 2 * lie.n_words(n)), dtype=np.uint64)
    return Frame(n, empty, 0, [], [], lie.Clifford(n), unsupported=reason)


@dataclass
class StateValues:
    values: np.ndarray | None  # Tr(P ρ') per basis string (|…| when not signed)
    signed: bool
    note: str | None = None


def state_values(frame: Frame, basis: np.ndarray) -> StateValues:
    """Tr(P ρ') for the basis strings, ρ' the initial state with the moved gates."""
    n = frame.n
    if n <= DENSE_QUBITS:
        qc = QuantumCircuit(n)
        for operation, qubits in frame.prefix:
            qc.append(operation, qubits)
        for operation, qubits in frame.cliffords_after:
            qc.append(operation, qubits)
        psi = np.asarray(Statevector(qc).data)
        return StateValues(lie.expectations(psi, basis, n), True)
    # a product state (single-qubit gates before any entangling gate on their qubit),
    # then Clifford gates
    local = [np.eye(2, dtype=complex) for _ in range(n)]
    entangled: set[int] = set()
    before = []
    for operation, qubits in frame.prefix:
        if len(qubits) == 1 and qubits[0] not in entangled:
            local[qubits[0]] = Operator(operation).data @ local[qubits[0]]
            continue
        table = clifford_table(operation)
        if table is None:
            return StateValues(
                None,
                False,
                f"the initial state ({operation.name} on qubits {list(qubits)} after an "
                f"entangling gate) is neither a product state with Clifford gates nor "
                f"small enough for a statevector (n > {DENSE_QUBITS})",
            )
        entangled |= set(qubits) if len(qubits) > 1 else set()
        before.append((table, qubits))
    total = lie.Clifford(n, frame.clifford.images.copy())
    for table, qubits in reversed(before):
        total.then_before(table, qubits)
    pulled = total.inverse().apply(basis) if len(basis) else basis
    bloch = np.array(
        [
            [
                float(np.real(np.conj(u[:, 0]) @ _PAULI[p] @ u[:, 0]))
                for p in ((1, 0), (1, 1), (0, 1))
            ]
            for u in local
        ]
    )
    return StateValues(lie.product_expectations(pulled, bloch, n), False)


# ---------------------------------------------------------------- one task


def _empty_entry(task, status: str, reason: str | None) -> dict[str, Any]:
    return {
        "task": task.id,
        "qubits": task.qubits,
        "status": status,
        "reason": reason,
        "dimension": None,
        "dimension_lower_bound": None,
        "dimension_source": None,
        "generators": None,
        "rotations": None,
        "center": None,
        "ideals": [],
        "purity_rho": None,
        "purity_observable": None,
        "rho_in_algebra": None,
        "observable_in_algebra": None,
        "loss_variance_prediction": None,
        "prediction_note": None,
        "gradient_predictions": [],
        "gradient_note": None,
        "notes": [],
        "seconds": None,
        "closure_seconds": None,
    }


def analyze_task(task, max_dimension: int = lie.MAX_DIMENSION) -> dict[str, Any]:
    """The JSON entry of one task."""
    if task.qubits > MAX_QUBITS:
        return _empty_entry(
            task,
            "too large",
            f"{task.qubits} qubits, more than {MAX_QUBITS}: the circuit is not read (its "
            "build and its algebra's closure grow with n and the rotations squared)",
        )
    start = time.perf_counter()
    try:
        circuit = circuit_of(task)
        observable = observables.of_task(task, circuit.output_qubit)
    except ValueError as exc:
        return _empty_entry(task, "unsupported", str(exc).strip().splitlines()[0])
    frame = read_circuit(circuit)
    if frame.unsupported:
        return _empty_entry(task, "unsupported", frame.unsupported)
    n = frame.n
    entry = _empty_entry(task, "ok", None)
    entry["rotations"] = frame.rotations
    entry["generators"] = len(lie.unique_rows(frame.generators))
    shared = [k for k in range(circuit.n_params) if len(circuit.occurrences(k)) > 1]
    if shared:
        entry["notes"].append(
            f"{len(shared)} parameter(s) drive several gates (e.g. '{circuit.names[shared[0]]}'): "
            "the algebra is that of the circuit with a free angle per gate, an upper bound on "
            "the algebra of the tied circuit (generated by the sums of the tied strings)"
        )
    universal_size = 4**n - 1
    model = None
    if universal_size > max_dimension and lie.universal_by_theory(frame.generators, n):
        model = _theory(entry, frame, observable)
    else:
        closed = lie.closure(frame.generators, max_dimension)
        if closed.complete:
            model = _measured(entry, frame, closed, observable)
        elif lie.universal_by_theory(closed.basis, n):
            model = _theory(entry, frame, observable)
        else:
            entry["status"] = "too large"
            entry["reason"] = (
                f"more than {max_dimension} basis strings (--max-dimension): found "
                f"{closed.dimension}, a lower bound on the dimension"
            )
            entry["dimension_lower_bound"] = closed.dimension
            entry["closure_seconds"] = round(closed.seconds, 4)
    if model is not None:
        entry["gradient_predictions"] = lie_gradient.predictions(
            task, circuit, frame, model, observable.scale
        )
    entry["seconds"] = round(time.perf_counter() - start, 4)
    return entry


def _observable_values(observable, basis: np.ndarray, n: int) -> tuple[np.ndarray, int, bool]:
    """(coefficients, e, O ∈ ig): Tr(P O)/2ⁿ = coefficient · 2^e per basis string, for the
    traceless part O of the observable's v."""
    values = np.zeros(len(basis))
    if observable.projector:  # |0…0⟩⟨0…0|: Tr(P ·)/2ⁿ = 2⁻ⁿ for every Z-type string
        w = lie.n_words(n)
        z_type = ~basis[:, :w].any(axis=1) if len(basis) else np.zeros(0, dtype=bool)
        values[z_type] = 1.0
        return values, -n, int(z_type.sum()) == 2**n - 1
    rows = np.array([lie.sparse_row(label, qubits, n) for label, qubits, _ in observable.terms])
    index = lie.lookup(rows, basis) if len(basis) else np.full(len(rows), -1)
    inside = bool((index >= 0).all())
    for (_, _, c), i in zip(observable.terms, index, strict=True):
        if i >= 0:
            values[i] += c
    return values, 0, inside


def _measured(entry, frame: Frame, closed: lie.Closure, observable):
    """Fill `entry` from the closure; return the gradient model (None where the
    gradient formulas do not apply, with the reason in entry["gradient_note"])."""
    n = frame.n
    basis = closed.basis
    structure = lie.decompose(basis, closed.generators, n)
    entry["dimension"] = closed.dimension
    entry["dimension_source"] = "closure"
    entry["center"] = len(structure.center)
    entry["closure_seconds"] = round(closed.seconds, 4)
    state = state_values(frame, basis)
    obs, exponent, obs_inside = _observable_values(observable, basis, n)
    notes = list(structure.notes)
    rho = state.values
    ideals = []
    if len(structure.center):
        center = lie.Ideal(len(structure.center), structure.center, central=True, rank=None)
        k = len(structure.center)
        center.name = "u(1)" if k == 1 else f"u(1)^{k}"
        ideals.append(center)
    ideals.extend(structure.ideals)
    signs_needed = structure.split and not state.signed
    for ideal in ideals:
        record = {
            "dimension": ideal.dimension,
            "name": ideal.name,
            "rank": ideal.dimension if ideal.central else ideal.rank,
            "center": ideal.central,
            "pauli_spanned": ideal.pauli_spanned,
            "purity_rho": None,
            "purity_observable": lie.scaled(ideal.weight(obs), n + 2 * exponent),
        }
        if rho is not None and (ideal.pauli_spanned or state.signed):
            record["purity_rho"] = lie.scaled(ideal.weight(rho), -n)
        entry["ideals"].append(record)
    entry["observable_in_algebra"] = obs_inside
    entry["purity_observable"] = lie.scaled(float(np.dot(obs, obs)), n + 2 * exponent)
    if rho is None:
        notes.append(state.note or "the initial state's purity is not available")
        entry["prediction_note"] = "; ".join(notes)
        entry["gradient_note"] = entry["prediction_note"]
        return None
    rho_weight = float(np.dot(rho, rho))
    entry["purity_rho"] = lie.scaled(rho_weight, -n)
    # a pure state: Σ_{P ≠ I} Tr(Pρ)² = 2ⁿ − 1
    rho_inside = n < 64 and rho_weight >= (2**n - 1) * (1 - 1e-9)
    entry["rho_in_algebra"] = bool(rho_inside)
    if signs_needed:
        notes.append(
            "a simple ideal is not spanned by Pauli strings and the signed ⟨P⟩ of the "
            f"initial state is only computed up to n = {DENSE_QUBITS}"
        )
    elif not (rho_inside or obs_inside):
        notes.append(
            "neither O nor ρ lies in ig (Ragone et al. need one of them there): no prediction"
        )
    else:
        terms = [
            (ideal.weight(rho), ideal.weight(obs), ideal.dimension) for ideal in structure.ideals
        ]
        scale2 = observable.scale**2
        variance = lie.loss_variance(terms, 2 * exponent)
        entry["loss_variance_prediction"] = None if variance is None else scale2 * variance
    if notes:
        entry["prediction_note"] = "; ".join(notes)
    if not obs_inside:
        entry["gradient_note"] = "O is not in ig: no gradient formula (Fontana et al. need it)"
        return None
    if structure.split:
        entry["gradient_note"] = "a simple ideal is not spanned by Pauli strings"
        return None
    return lie_gradient.ClosureModel(
        n=n,
        ideals=[
            lie_gradient.IdealData(basis[i.members], i.weight(rho), i.weight(obs))
            for i in structure.ideals
        ],
        basis=basis,
        obs_values=obs,
        exponent=exponent,
        state=lambda rows: state_values(frame, rows).values,
    )


def _theory(entry, frame: Frame, observable) -> lie_gradient.UniversalModel:
    """su(2ⁿ) known from the generators: every traceless operator lies in ig."""
    n = frame.n
    size = 4**n - 1
    entry["dimension"] = size
    entry["dimension_source"] = "theory"
    entry["center"] = 0
    entry["rho_in_algebra"] = True
    entry["observable_in_algebra"] = True
    purity_rho = float(Fraction(2**n - 1, 2**n))
    if observable.projector:  # P_g(O) = (2ⁿ − 1)/2ⁿ for O = |0…0⟩⟨0…0| − I/2ⁿ
        purity_obs: float | None = purity_rho
        variance = float(Fraction(2**n - 1, 4**n * (2**n + 1)))
    else:
        merged: dict[tuple[str, tuple[int, ...]], float] = {}
        for label, qubits, c in observable.terms:
            merged[(label, qubits)] = merged.get((label, qubits), 0.0) + c
        weight = math.fsum(c * c for c in merged.values())  # Σ c² over distinct strings
        purity_obs = lie.scaled(weight, n)
        variance = lie.scaled(weight / (1 + 2.0**-n), -n) or 0.0  # Σc²/(2ⁿ + 1)
    entry["purity_rho"] = purity_rho
    entry["purity_observable"] = purity_obs
    entry["ideals"] = [
        {
            "dimension": size,
            "name": f"su(2^{n})",
            "rank": 2**n - 1,
            "center": False,
            "pauli_spanned": True,
            "purity_rho": purity_rho,
            "purity_observable": purity_obs,
        }
    ]
    entry["loss_variance_prediction"] = observable.scale**2 * variance
    entry["notes"].append(
        "dimension from theory, not closure: g holds two single-qubit strings on every qubit "
        "(su(2) there) and strings joining all qubits two blocks at a time, so g = su(2^n)"
    )
    return lie_gradient.UniversalModel(
        n=n,
        purity_rho=purity_rho,
        purity_obs=purity_obs if purity_obs is not None else math.inf,
        obs_weight=lambda p: _commutator_weight(observable, p, n),
        state=lambda rows: state_values(frame, rows).values,
    )


def _commutator_weight(observable, p: np.ndarray, n: int) -> float:
    """‖i[O, P/2]‖² (Hilbert–Schmidt) for the string P: 2ⁿ Σ c_Q² over the strings Q of O
    that anticommute with P; for O = |0…0⟩⟨0…0|, (1 − ⟨0…0|P|0…0⟩²)/2."""
    if observable.projector:
        z_type = not p[: lie.n_words(n)].any()
        return 0.0 if z_type else 0.5
    merged: dict[tuple[str, tuple[int, ...]], float] = {}
    for label, qubits, c in observable.terms:
        merged[(label, qubits)] = merged.get((label, qubits), 0.0) + c
    keys = list(merged)
    rows = np.array([lie.sparse_row(label, qubits, n) for label, qubits in keys])
    flips = lie.anticommute(rows, p[None, :])
    weight = math.fsum(merged[key] ** 2 for key, f in zip(keys, flips, strict=True) if f)
    value = lie.scaled(weight, n)
    return math.inf if value is None else value


# ---------------------------------------------------------------- command


def lie_report(
    job: str | Path, tasks: list[str] | None = None, max_dimension: int = lie.MAX_DIMENSION
) -> dict[str, Any]:
    """{"tasks": [entry, …]} for the tasks of a job (all, or those named)."""
    spec = load_spec(job, memory_bytes=math.inf)  # nothing is simulated: no memory check
    chosen = [spec.task(t) for t in tasks] if tasks else list(spec.tasks)
    return {
        "job": spec.name,
        "max_dimension": max_dimension,
        "tasks": [analyze_task(task, max_dimension) for task in chosen],
    }


def run_predictions(
    run_dirs: list[Path], max_dimension: int = lie.MAX_DIMENSION
) -> dict[str, dict[str, Any]]:
    """Task id → prediction entry for the tasks of run directories (from each DIR/job.toml,
    with the circuit sources copied beside it). Tasks with noise or shots get none: the
    predictions are of exact expectation values of noiseless circuits."""
    out: dict[str, dict[str, Any]] = {}
    for run_dir in run_dirs:
        path = Path(run_dir) / "job.toml"
        if not path.is_file():  # results copied without their spec: no predictions
            continue
        spec = load_spec(path, memory_bytes=math.inf)
        for task in spec.tasks:
            exact = not task.noise and not task.shots
            if task.id not in out and exact:
                out[task.id] = analyze_task(task, max_dimension)
    return out


def run(args) -> int:
    if args.max_dimension < 1:
        raise ValueError("--max-dimension must be at least 1")
    report = lie_report(args.job, args.task, args.max_dimension)
    if args.json:
        print(json.dumps(report, indent=1, allow_nan=False, ensure_ascii=False))
    else:
        print(format_table(report))
    return 0


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    return f"{value:.4g}"


def _dimension(entry: dict[str, Any]) -> str:
    if entry["dimension"] is not None:
        d = entry["dimension"]
        text = f"4^{entry['qubits']}−1" if d > 10**9 else str(d)
        return text + (" (theory)" if entry["dimension_source"] == "theory" else "")
    if entry["dimension_lower_bound"] is not None:
        return f"> {entry['dimension_lower_bound']}"
    return "—"


def _ideals_text(ideals: list[dict[str, Any]]) -> str:
    """ "u(1)^2 ⊕ 3×su(2)[3]": the ideals, equal ones counted, with their dimensions."""
    parts: list[list] = []
    for ideal in ideals:
        text = ideal["name"] if ideal["center"] else f"{ideal['name'] or '?'}[{ideal['dimension']}]"
        if parts and parts[-1][0] == text:
            parts[-1][1] += 1
        else:
            parts.append([text, 1])
    return " ⊕ ".join(text if count == 1 else f"{count}×{text}" for text, count in parts)


def format_table(report: dict[str, Any]) -> str:
    """The readable report: one row per task, then the notes."""
    header = ("task", "n", "status", "dim g", "center", "ideals", "P_g(ρ)", "P_g(O)", "Var C")
    rows = []
    notes = []
    for entry in report["tasks"]:
        ideals = _ideals_text(entry["ideals"])
        rows.append(
            (
                entry["task"],
                str(entry["qubits"]),
                entry["status"],
                _dimension(entry),
                "—" if entry["center"] is None else str(entry["center"]),
                ideals or "—",
                _number(entry["purity_rho"]),
                _number(entry["purity_observable"]),
                _number(entry["loss_variance_prediction"]),
            )
        )
        for text in (entry["reason"], entry["prediction_note"], *entry["notes"]):
            if text:
                notes.append(f"  {entry['task']}: {text}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"job {report['job']}: dynamical Lie algebras (max dimension {report['max_dimension']})",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    lines.append(
        "P_g(X) = Σ_P Tr(P X)²/2ⁿ over the Pauli basis of g (X: the initial state ρ with the "
        "fixed gates moved to the start, O: the traceless part of the cost's operator); "
        "Var C = scale² Σ_j P_gj(ρ) P_gj(O)/dim g_j over the simple ideals (Ragone et al. 2024, "
        "deep circuits)."
    )
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)
