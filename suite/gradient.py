"""Parameter-shift gradients of a batch of samples in one simulator call.

The kernel takes arrays and a simulator, never a communicator. For B samples
and K differentiated parameters it evaluates B·(1 + 2K) points: per sample
the unshifted angles (the cost) and θ ± π/2 e_k for every k. Two engines, one
Aer call per batch each, chosen by the simulator's method:

* parametrized (statevector, matrix_product_state): the task's template runs
  as one job through `AerSimulator.run(..., parameter_binds=...)` with a save
  instruction, which avoids EstimatorV2's post-processing that is quadratic
  in the number of parameter sets (qiskit-aer issue 2438);
* stabilizer (`suite.clifford`): one bound circuit of Clifford gate names per
  point, all sent in one `AerSimulator.run(circuits)`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit

from suite import clifford, cones
from suite.ansatz import FAMILIES, Template
from suite.cost import LABEL, Cost, cost
from suite.spec import Task

SHIFT = math.pi / 2


@dataclass
class PreparedTask:
    """What a rank builds once per task: the parametrized template with its cost
    attached (statevector, matrix_product_state) or the Clifford plan
    (stabilizer). `prepare` builds the one of the task's method; the other is
    built on first use, if a caller runs the task on another method."""

    task: Task
    template: Template | None
    circuit: QuantumCircuit | None
    cost: Cost
    clifford: clifford.CliffordPlan | None = None
    cones: cones.ConePlan | None = None  # statevector tasks whose light cones pay off

    def parametrized(self) -> tuple[Template, QuantumCircuit]:
        if self.template is None or self.circuit is None:
            self.template, self.circuit = _template(self.task)
        return self.template, self.circuit

    def clifford_plan(self) -> clifford.CliffordPlan:
        if self.clifford is None:
            self.clifford = clifford.plan(self.task)
        return self.clifford


@dataclass
class BatchResult:
    cost: np.ndarray  # (B,)
    grad: np.ndarray  # (B, K)
    simulate_seconds: float


def _template(task: Task) -> tuple[Template, QuantumCircuit]:
    family = FAMILIES[task.ansatz]
    template = family.template(task)
    circuit = template.circuit.copy()
    cost(task.cost, task.qubits).attach(circuit, family.output_qubit(task.qubits))
    return template, circuit


def prepare(task: Task) -> PreparedTask:
    prepared = PreparedTask(task, None, None, cost(task.cost, task.qubits))
    if task.method == "stabilizer":
        prepared.clifford_plan()
    else:
        template, _ = prepared.parametrized()
        if task.method == "statevector":
            prepared.cones = cone_plan(task, template)
    return prepared


def cone_plan(task: Task, template: Template) -> cones.ConePlan | None:
    """The light cones of a local cost, when they beat the full circuit (else None)."""
    terms = cones.cost_terms(
        task.cost, task.qubits, FAMILIES[task.ansatz].output_qubit(task.qubits)
    )
    if terms is None:
        return None
    plan = cones.plan(template.circuit, list(template.theta), template.structure, terms)
    gates = len(template.circuit.data)
    return plan if cones.worth_it(plan, task.qubits, gates, task.parameters) else None


def statevector_width(task: Task) -> int:
    """Qubits of the widest statevector a statevector task simulates (cones or all n)."""
    plan = cone_plan(task, FAMILIES[task.ansatz].template(task))
    return task.qubits if plan is None else plan.width


def simulator_method(simulator) -> str:
    """The Aer method of a simulator ("automatic" when it was not set)."""
    return str(getattr(simulator.options, "method", "automatic"))


def shifted_points(theta: np.ndarray, param_index: tuple[int, ...]) -> np.ndarray:
    """All points to evaluate: shape (B·(1+2K), P), per sample [θ, θ+s e_k0, θ−s e_k0, …]."""
    batch, n_params = theta.shape
    k = len(param_index)
    points = np.repeat(theta[:, None, :], 1 + 2 * k, axis=1)
    for j, p in enumerate(param_index):
        points[:, 1 + 2 * j, p] += SHIFT
        points[:, 2 + 2 * j, p] -= SHIFT
    return points.reshape(batch * (1 + 2 * k), n_params)


def evaluate(
    prepared: PreparedTask,
    simulator,
    points: np.ndarray,
    structure: dict | None = None,
) -> np.ndarray:
    """Saved value v at each row of `points` (one simulator call)."""
    if simulator_method(simulator) == "stabilizer":
        if structure:
            raise clifford.NotCliffordError(
                f"task {prepared.task.id}: random axes have no stabilizer route"
            )
        return clifford.evaluate(prepared.clifford_plan(), simulator, points)
    template, circuit = prepared.parametrized()
    binds = {template.theta[i]: points[:, i] for i in range(points.shape[1])}
    for parameter, values in (structure or {}).items():
        binds[parameter] = values
    result = simulator.run(circuit, parameter_binds=[binds]).result()
    if not result.success:
        status = " ".join(str(result.status).split())
        short = status if len(status) <= 300 else status[:300] + " …"
        raise RuntimeError(f"Aer failed on task {prepared.task.id}: {short}")
    values = np.empty(points.shape[0])
    for i in range(points.shape[0]):
        v = result.data(i)[LABEL]
        values[i] = v[0] if np.ndim(v) else v
    return values


def gradient_batch(
    prepared: PreparedTask,
    simulator,
    theta: np.ndarray,
    axes: np.ndarray | None = None,
) -> BatchResult:
    """Cost and parameter-shift gradient of every sample in `theta` (B, P).

    The engine follows the simulator's method: stabilizer → `suite.clifford`
    (the angles must be multiples of π/2); statevector with a local cost whose
    light cones pay off → `suite.cones`; anything else → the template.
    """
    param_index = prepared.task.parameters
    if prepared.cones is not None and simulator_method(simulator) == "statevector":
        template = prepared.parametrized()[0]
        structure = {} if axes is None else template.structure_values(axes)
        c = prepared.cost
        cost_values, grad, seconds = cones.gradient_batch(
            prepared.cones, simulator, theta, param_index, structure, c.offset, c.scale
        )
        return BatchResult(cost_values, grad, seconds)
    repeats = 1 + 2 * len(param_index)
    points = shifted_points(theta, param_index)
    structure = (
        {}
        if axes is None
        else prepared.parametrized()[0].structure_values(np.repeat(axes, repeats, axis=0))
    )
    start = time.perf_counter()
    values = evaluate(prepared, simulator, points, structure).reshape(len(theta), repeats)
    seconds = time.perf_counter() - start
    c = prepared.cost
    cost_values = c.offset + c.scale * values[:, 0]
    grad = c.scale * (values[:, 1::2] - values[:, 2::2]) / 2.0
    return BatchResult(cost_values, grad, seconds)
