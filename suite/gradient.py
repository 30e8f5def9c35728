"""Parameter-shift gradients of a batch of samples in one simulator call.

The kernel takes arrays and a simulator, never a communicator. For B samples
and K differentiated parameters it binds B·(1 + 2K) points: per sample the
unshifted angles (the cost) and θ ± π/2 e_k for every k. Aer runs them as
one job through `AerSimulator.run(..., parameter_binds=...)` with a save
instruction, which avoids EstimatorV2's post-processing that is quadratic in
the number of parameter sets (qiskit-aer issue 2438).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit

from suite.ansatz import FAMILIES, Template
from suite.cost import LABEL, Cost, cost
from suite.spec import Task

SHIFT = math.pi / 2


@dataclass
class PreparedTask:
    """A task's template circuit with its cost attached, built once per rank."""

    task: Task
    template: Template
    circuit: QuantumCircuit
    cost: Cost


@dataclass
class BatchResult:
    cost: np.ndarray  # (B,)
    grad: np.ndarray  # (B, K)
    simulate_seconds: float


def prepare(task: Task) -> PreparedTask:
    family = FAMILIES[task.ansatz]
    template = family.template(task)
    circuit = template.circuit.copy()
    c = cost(task.cost, task.qubits)
    c.attach(circuit, family.output_qubit(task.qubits))
    return PreparedTask(task, template, circuit, c)


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
    binds = {prepared.template.theta[i]: points[:, i] for i in range(points.shape[1])}
    for parameter, values in (structure or {}).items():
        binds[parameter] = values
    result = simulator.run(prepared.circuit, parameter_binds=[binds]).result()
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
    """Cost and parameter-shift gradient of every sample in `theta` (B, P)."""
    param_index = prepared.task.parameters
    repeats = 1 + 2 * len(param_index)
    points = shifted_points(theta, param_index)
    structure = prepared.template.structure_values(
        None if axes is None else np.repeat(axes, repeats, axis=0)
    )
    start = time.perf_counter()
    values = evaluate(prepared, simulator, points, structure).reshape(len(theta), repeats)
    seconds = time.perf_counter() - start
    c = prepared.cost
    cost_values = c.offset + c.scale * values[:, 0]
    grad = c.scale * (values[:, 1::2] - values[:, 2::2]) / 2.0
    return BatchResult(cost_values, grad, seconds)
