"""Light-cone engine: gradients of local observables from small circuits.

An observable that is a sum of Pauli terms on few qubits needs, for each term, only
the gates in that term's backward light cone (`suite.engines.lightcone`). And the
derivative with respect to slot φ_s gets contributions only from the terms whose
cone holds the gate of φ_s:

    v(φ) = Σ_t c_t ⟨T_t⟩_cone(t)
    v(φ + s) − v(φ − s) = Σ_{t : slot ∈ cone(t)} c_t [⟨T_t⟩(φ + s) − ⟨T_t⟩(φ − s)]

with s = π/2 e_slot.

Every cone circuit of a batch goes to Aer in one `run` call. For shallow circuits
each cone has O(depth) qubits whatever n is, so widths far beyond a statevector of n
qubits become reachable; for deep circuits or the global projector the cones are the
whole circuit and the template engine is used. The choice is made from the circuit
(which terms are local, how wide their cones are), not from a list of families.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.library import SaveExpectationValue

from suite.circuits.description import ParametrizedCircuit
from suite.circuits.shift import SHIFT
from suite.engines.base import Engine, Prepared, Workload, check_result, experiment_work
from suite.engines.lightcone import light_cone
from suite.engines.template import LABEL, statevector_bytes

# The cone engine runs more, smaller circuits: the registry uses it only when the
# work model says it saves at least this factor.
MIN_SAVING = 1.5
Term = tuple[str, tuple[int, ...], float]


@dataclass
class ConeTerm:
    """Some Pauli terms measured together on the union of their light cones."""

    circuit: QuantumCircuit  # the cone with the save of the terms' sum
    theta_index: np.ndarray  # indices of the slots in the cone
    width: int
    gates: int
    terms: int


@dataclass
class ConePlan:
    circuit: ParametrizedCircuit  # whose `binds` gives each cone's parameter values
    terms: list[ConeTerm] = field(default_factory=list)

    @property
    def width(self) -> int:
        return max(t.width for t in self.terms)


def plan(circuit: ParametrizedCircuit, terms: list[Term]) -> ConePlan:
    """Cut the template into cones, one per group of neighbouring terms.

    Terms are taken in order and a term joins the current group when one
    circuit on the union of their cones costs less (work model) than two: tiny
    cones are packed up to about ten qubits, where Aer's per-experiment
    overhead stops dominating; wide cones stay apart.
    """
    template_circuit = circuit.circuit
    index_of = {p: i for i, p in enumerate(circuit.slots)}
    groups: list[tuple[list[Term], object]] = []
    for term in terms:
        single = light_cone(template_circuit, term[1])
        if groups:
            members, cone = groups[-1]
            qubits = {q for _, qs, _ in members for q in qs} | set(term[1])
            merged = light_cone(template_circuit, sorted(qubits))
            apart = experiment_work(len(cone.qubits), len(cone.circuit.data), len(members))
            apart += experiment_work(len(single.qubits), len(single.circuit.data), 1)
            together = experiment_work(
                len(merged.qubits), len(merged.circuit.data), len(members) + 1
            )
            if together < apart:
                groups[-1] = ([*members, term], merged)
                continue
        groups.append(([term], single))
    result = ConePlan(circuit)
    for members, cone in groups:
        circuit = cone.circuit.copy()
        width = len(cone.qubits)
        operator = SparsePauliOp.from_sparse_list(
            [(label, [cone.local(q) for q in qubits], c) for label, qubits, c in members], width
        )
        circuit.append(SaveExpectationValue(operator, label=LABEL), circuit.qubits)
        present = sorted(index_of[p] for p in cone.parameters if p in index_of)
        result.terms.append(
            ConeTerm(
                circuit=circuit,
                theta_index=np.array(present, dtype=np.int64),
                width=width,
                gates=len(cone.circuit.data),
                terms=len(members),
            )
        )
    return result


def work(plan: ConePlan, slots: tuple[int, ...]) -> float:
    """Estimated work per sample of the cone engine, shifting `slots`."""
    total = 0.0
    for term in plan.terms:
        shifted = np.isin(slots, term.theta_index).sum()
        total += (1 + 2 * shifted) * experiment_work(term.width, term.gates, term.terms)
    return total


def differences(
    cone_plan: ConePlan,
    simulator,
    angles: np.ndarray,
    slots: tuple[int, ...],
    axes: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """v at φ (B,) and the shift differences (B, R) of `slots`, from the cones
    (`axes` (B, P): the samples' random rotation axes, or None)."""
    batch = angles.shape[0]
    circuits, binds, layouts = [], [], []
    for term in cone_plan.terms:
        present = set(term.theta_index.tolist())
        shifted = [r for r, s in enumerate(slots) if s in present]
        rows = 1 + 2 * len(shifted)
        local = angles[:, term.theta_index]
        points = np.repeat(local[:, None, :], rows, axis=1)
        for i, r in enumerate(shifted):
            column = int(np.flatnonzero(term.theta_index == slots[r])[0])
            points[:, 1 + 2 * i, column] += SHIFT
            points[:, 2 + 2 * i, column] -= SHIFT
        points = points.reshape(batch * rows, len(term.theta_index))
        rows_axes = None if axes is None else np.repeat(axes, rows, axis=0)
        bind = cone_plan.circuit.binds(points, term.theta_index, rows_axes)
        circuits.append(term.circuit)
        binds.append(bind)
        layouts.append((shifted, rows, bool(bind)))
    start = time.perf_counter()
    result = simulator.run(circuits, parameter_binds=binds).result()
    seconds = time.perf_counter() - start
    check_result(result, "a light cone")
    values = np.array([float(np.real(r.data.to_dict()[LABEL])) for r in result.results])
    base = np.zeros(batch)
    diff = np.zeros((batch, len(slots)))
    cursor = 0
    for shifted, rows, bound in layouts:
        count = batch * rows if bound else 1
        block = values[cursor : cursor + count]
        cursor += count
        block = np.broadcast_to(block, (batch * rows,)) if not bound else block
        block = block.reshape(batch, rows)
        base += block[:, 0]
        for i, r in enumerate(shifted):
            diff[:, r] += block[:, 1 + 2 * i] - block[:, 2 + 2 * i]
    if cursor != len(values):
        raise RuntimeError(f"Aer returned {len(values)} values for {cursor} cone evaluations")
    return base, diff, seconds


class PreparedCones(Prepared):
    def __init__(self, engine: Engine, workload: Workload, cone_plan: ConePlan) -> None:
        self.engine = engine
        self.workload = workload
        self.plan = cone_plan

    @property
    def width(self) -> int:
        return self.plan.width

    def describe(self) -> str:
        task = self.workload.task
        return (
            f"{task.method} on light cones ({len(self.plan.terms)} circuits of at most "
            f"{self.plan.width} qubits instead of {task.qubits})"
        )

    def differences(self, simulator, angles, axes):
        return differences(self.plan, simulator, angles, self.workload.rule.slots, axes)


class ConeEngine(Engine):
    """Statevectors of the light cones of an observable's terms."""

    name = "cones"
    methods = ("statevector",)

    def refusal(self, workload: Workload):
        if workload.task.method != "statevector":
            return ("simulator.method", "light cones run on the statevector method only")
        if workload.task.shots:
            return ("shots", "light cones compute exact expectation values only")
        if workload.observable.projector:
            return ("cost", "the global projector acts on every qubit: it has no small light cone")
        return None

    def cone_plan(self, workload: Workload) -> ConePlan:
        if "cones" not in workload.plans:
            circuit = workload.circuit
            workload.plans["cones"] = plan(circuit, list(workload.observable.terms))
        return workload.plans["cones"]

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        return statevector_bytes(self.cone_plan(workload).width, precision)

    def work(self, workload: Workload) -> float:
        return work(self.cone_plan(workload), workload.rule.slots)

    def prepare(self, workload: Workload) -> PreparedCones:
        return PreparedCones(self, workload, self.cone_plan(workload))
