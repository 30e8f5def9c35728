"""Light-cone engine: gradients of local costs from small circuits.

A cost that is a sum of Pauli terms on few qubits (`local`: Σ_j Z_j, `zz`,
`zout`) needs, for each term, only the gates in that term's backward light
cone (`suite.lightcone`). And the derivative with respect to θ_k gets
contributions only from the terms whose cone holds θ_k's gate:

    v(θ) = Σ_t ⟨T_t⟩_cone(t)
    ∂v/∂θ_k = Σ_{t : θ_k ∈ cone(t)} [⟨T_t⟩(θ + π/2 e_k) − ⟨T_t⟩(θ − π/2 e_k)] / 2

Every cone circuit of a batch goes to Aer in one `run` call. For shallow
circuits each cone has O(depth) qubits whatever n is, so widths far beyond
a statevector of n qubits become reachable; for deep or global circuits the
cones are the whole circuit and the plain engine (`suite.gradient`) is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.library import SaveExpectationValue

from suite.lightcone import light_cone

LABEL = "v"
SHIFT = np.pi / 2
# Work model, in units of one gate on one amplitude (about 5 ns here): an
# Aer experiment costs OVERHEAD + 2^width · gates. OVERHEAD was measured on
# this project's machines (about 130 µs per experiment, 2026-11).
OVERHEAD = 2.0**15
# The cone engine runs more, smaller circuits: use it only when the model
# says it saves at least this factor.
MIN_SAVING = 1.5


def cost_terms(cost: str, n: int, output_qubit: int) -> list[tuple[str, tuple[int, ...]]] | None:
    """The cost's saved value v as a sum of unit-weight Pauli terms, or None (global)."""
    if cost == "local":
        return [("Z", (j,)) for j in range(n)]
    if cost == "zz":
        return [("ZZ", (0, 1))]
    if cost == "zout":
        return [("Z", (output_qubit,))]
    return None


@dataclass
class ConeTerm:
    """Some Pauli terms measured together on the union of their light cones."""

    circuit: QuantumCircuit  # the cone with the save of the terms' sum
    theta_index: np.ndarray  # original indices of the θ parameters in the cone
    theta: list[Parameter]  # the same parameters
    structure: list[Parameter]  # per-sample structural parameters in the cone
    width: int
    gates: int
    terms: int


@dataclass
class ConePlan:
    terms: list[ConeTerm] = field(default_factory=list)

    @property
    def width(self) -> int:
        return max(t.width for t in self.terms)


def _experiment_work(width: int, gates: int, terms: int) -> float:
    return OVERHEAD + 2.0**width * (gates + terms)


def plan(
    template_circuit: QuantumCircuit,
    theta: list[Parameter],
    structure: list[Parameter],
    terms: list[tuple[str, tuple[int, ...]]],
) -> ConePlan:
    """Cut the template into cones, one per group of neighbouring terms.

    Terms are taken in order and a term joins the current group when one
    circuit on the union of their cones costs less (work model) than two: tiny
    cones are packed up to about ten qubits, where Aer's per-experiment
    overhead stops dominating; wide cones stay apart.
    """
    index_of = {p: i for i, p in enumerate(theta)}
    structural = set(structure)
    groups: list[tuple[list[tuple[str, tuple[int, ...]]], object]] = []
    for term in terms:
        single = light_cone(template_circuit, term[1])
        if groups:
            members, cone = groups[-1]
            qubits = {q for _, qs in members for q in qs} | set(term[1])
            merged = light_cone(template_circuit, sorted(qubits))
            apart = _experiment_work(len(cone.qubits), len(cone.circuit.data), len(members))
            apart += _experiment_work(len(single.qubits), len(single.circuit.data), 1)
            together = _experiment_work(
                len(merged.qubits), len(merged.circuit.data), len(members) + 1
            )
            if together < apart:
                groups[-1] = ([*members, term], merged)
                continue
        groups.append(([term], single))
    result = ConePlan()
    for members, cone in groups:
        circuit = cone.circuit.copy()
        width = len(cone.qubits)
        operator = SparsePauliOp.from_sparse_list(
            [(label, [cone.local(q) for q in qubits], 1.0) for label, qubits in members], width
        )
        circuit.append(SaveExpectationValue(operator, label=LABEL), circuit.qubits)
        present = sorted(index_of[p] for p in cone.parameters if p in index_of)
        result.terms.append(
            ConeTerm(
                circuit=circuit,
                theta_index=np.array(present, dtype=np.int64),
                theta=[theta[i] for i in present],
                structure=[p for p in cone.parameters if p in structural],
                width=width,
                gates=len(cone.circuit.data),
                terms=len(members),
            )
        )
    return result


def work(plan: ConePlan, param_index: tuple[int, ...]) -> float:
    """Estimated work per sample of the cone engine."""
    total = 0.0
    for term in plan.terms:
        shifted = np.isin(param_index, term.theta_index).sum()
        total += (1 + 2 * shifted) * _experiment_work(term.width, term.gates, term.terms)
    return total


def full_work(n: int, gates: int, terms: int, param_index: tuple[int, ...]) -> float:
    """Estimated work per sample of the plain engine (one circuit, all terms saved)."""
    return (1 + 2 * len(param_index)) * (OVERHEAD + 2.0**n * (gates + terms))


def worth_it(plan: ConePlan, n: int, gates: int, param_index: tuple[int, ...]) -> bool:
    """Whether the cones beat one full circuit by MIN_SAVING."""
    full = full_work(n, gates, sum(t.terms for t in plan.terms), param_index)
    return MIN_SAVING * work(plan, param_index) < full


def gradient_batch(
    cone_plan: ConePlan,
    simulator,
    theta: np.ndarray,
    param_index: tuple[int, ...],
    structure: dict[Parameter, np.ndarray],
    offset: float,
    scale: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Cost and gradient of every sample (B, P) from the cones: (cost, grad, seconds).

    `structure` holds per-sample values (shape (B,)) of structural parameters.
    """
    batch = theta.shape[0]
    circuits, binds, layouts = [], [], []
    for term in cone_plan.terms:
        shifted = [j for j, k in enumerate(param_index) if k in set(term.theta_index.tolist())]
        rows = 1 + 2 * len(shifted)
        local = theta[:, term.theta_index]
        points = np.repeat(local[:, None, :], rows, axis=1)
        for r, j in enumerate(shifted):
            column = int(np.flatnonzero(term.theta_index == param_index[j])[0])
            points[:, 1 + 2 * r, column] += SHIFT
            points[:, 2 + 2 * r, column] -= SHIFT
        points = points.reshape(batch * rows, len(term.theta_index))
        bind = {p: points[:, i] for i, p in enumerate(term.theta)}
        for p in term.structure:
            bind[p] = np.repeat(structure[p], rows)
        if not bind:  # a cone without parameters: one value for every point
            bind = {}
        circuits.append(term.circuit)
        binds.append(bind)
        layouts.append((shifted, rows, bool(bind)))
    start = time.perf_counter()
    result = simulator.run(circuits, parameter_binds=binds).result()
    seconds = time.perf_counter() - start
    if not result.success:
        status = " ".join(str(result.status).split())
        raise RuntimeError(f"Aer failed on a light cone: {status[:300]}")
    values = np.array([float(np.real(r.data.to_dict()[LABEL])) for r in result.results])
    base = np.zeros(batch)
    diff = np.zeros((batch, len(param_index)))
    cursor = 0
    for shifted, rows, bound in layouts:
        count = batch * rows if bound else 1
        block = values[cursor : cursor + count]
        cursor += count
        block = np.broadcast_to(block, (batch * rows,)) if not bound else block
        block = block.reshape(batch, rows)
        base += block[:, 0]
        for r, j in enumerate(shifted):
            diff[:, j] += block[:, 1 + 2 * r] - block[:, 2 + 2 * r]
    if cursor != len(values):
        raise RuntimeError(f"Aer returned {len(values)} values for {cursor} cone evaluations")
    return offset + scale * base, scale * diff / 2.0, seconds
