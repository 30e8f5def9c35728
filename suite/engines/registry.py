"""The engines, and the one function that chooses among them per task.

| engine     | Aer method                        | takes                                      |
|------------|-----------------------------------|--------------------------------------------|
| stabilizer | stabilizer                        | Clifford circuits at Clifford angles       |
| cones-stabilizer | stabilizer                  | local costs of product / alternating there |
| pauli-propagation | stabilizer                 | Pauli sums there (Heisenberg picture, numpy) |
| cones      | statevector                       | Pauli sums whose light cones pay off       |
| template   | statevector, matrix_product_state | everything else                            |
|            | density_matrix                    | noisy tasks (the only method they run on)  |
| adjoint    | (PennyLane Lightning, no Aer)     | exact noiseless tasks with many parameters |

A new engine is a subclass of `suite.engines.base.Engine` added to `ENGINES` and to
`choose`; the runner only ever calls `prepare` and the prepared engine.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

import numpy as np

from suite.engines.adjoint import (
    AER_PARAMETERS,
    AdjointEngine,
    lightning_available,
    lightning_device,
)
from suite.engines.base import Engine, Prepared, Workload
from suite.engines.cones import MIN_SAVING, ConeEngine
from suite.engines.pauli_propagation import PauliPropagationEngine
from suite.engines.sparse_cones import SparseConeEngine
from suite.engines.stabilizer import StabilizerEngine
from suite.engines.template import TemplateEngine

if TYPE_CHECKING:
    from collections.abc import Iterable

    from suite.records import SimulatorSpec, Task

ENGINES: dict[str, Engine] = {
    e.name: e
    for e in (
        StabilizerEngine(),
        SparseConeEngine(),
        PauliPropagationEngine(),
        ConeEngine(),
        TemplateEngine(),
        AdjointEngine(),
    )
}


def method_for(
    workload: Workload,
    requested: str,
    precision: str = "double",
    available: int | None = None,
    device: str = "auto",
) -> str:
    """The Aer method of a task: "auto" picks stabilizer wherever it is exact, and
    density_matrix for a noisy task (noise channels are exact on density matrices only).

    "auto" picks the adjoint engine for a task with more than AER_PARAMETERS
    differentiated parameters when PennyLane Lightning is installed (with `device = "GPU"`:
    a Lightning GPU device), the task is exact and noiseless, its work model costs less
    than Aer's and it fits in `available` bytes.

    Raises MethodRefused when `requested` is stabilizer and the task is not Clifford, or
    when the task is noisy and `requested` is neither density_matrix nor auto.
    """
    if workload.task.noise:
        if requested in ("auto", "density_matrix"):
            return "density_matrix"
        raise MethodRefused(
            "noise",
            f'simulator.method = "{requested}" cannot apply noise channels exactly '
            '(use "density_matrix" or "auto")',
        )
    if requested == "adjoint":
        refusal = ENGINES["adjoint"].refusal(workload)
        if refusal:
            raise MethodRefused(*refusal)
        return requested
    if requested not in ("auto", "stabilizer"):
        return requested
    refusal = _stabilizer_refusal(workload)
    if requested == "auto":
        if not refusal:
            return "stabilizer"
        pays = _adjoint_pays(workload, precision, available, device)
        return "adjoint" if pays else "statevector"
    if refusal:
        raise MethodRefused(*refusal)
    return requested


def _stabilizer_refusal(workload: Workload) -> tuple[str, str] | None:
    """Why the stabilizer method cannot run a task; a task that its light cones can take is
    never asked to record its whole circuit (20 M gates at n = 2^20)."""
    if ENGINES["cones-stabilizer"].refusal(workload) is None:
        return None
    return ENGINES["stabilizer"].refusal(workload)


def _adjoint_pays(
    workload: Workload,
    precision: str,
    available: int | None,
    device: str = "auto",
    installed: bool = False,
) -> bool:
    """Whether "auto" gives the task to the adjoint engine; with `installed`, whether it
    would if PennyLane Lightning were installed (`adjoint_missed`)."""
    adjoint = ENGINES["adjoint"]
    if len(workload.task.parameters) <= AER_PARAMETERS:
        return False
    if (adjoint.task_refusal(workload) if installed else adjoint.refusal(workload)) is not None:
        return False
    if device == "GPU" and not installed and not lightning_device("GPU", gpu=True):
        return False  # the user asked for the GPU: Aer's, not Lightning on the CPU
    if available is not None and adjoint.memory_bytes(workload, precision) > available:
        return False
    statevector = Workload(dataclasses.replace(workload.task, method="statevector"))
    return adjoint.work(workload) < choose(statevector).work(statevector)


def adjoint_missed(
    tasks: Iterable[Task], simulator: SimulatorSpec, available: int | None = None
) -> list[str]:
    """Tasks that "auto" left on Aer only because PennyLane Lightning is missing here (the
    run log says so: on a machine with Lightning the same job runs them on the adjoint
    engine, faster and with other last bits, docs/adjoint.md). `available`: the memory
    the spec was checked against. With device = "GPU" no task counts (it would need a
    Lightning GPU device, not the CPU package the note names)."""
    if simulator.method != "auto" or simulator.device == "GPU" or lightning_available():
        return []
    return [
        task.id
        for task in tasks
        if task.method == "statevector"
        and len(task.parameters) > AER_PARAMETERS
        and _adjoint_pays(Workload(task), simulator.precision, available, installed=True)
    ]


class MethodRefused(ValueError):
    """The requested method cannot run a task: `key` is the sweep key to blame."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def choose(workload: Workload) -> Engine:
    """The engine of a task (its method is already resolved): the same on every rank."""
    method = workload.task.method
    if method == "stabilizer":
        return _stabilizer_engine(workload)
    if method == "adjoint":
        return ENGINES[method]
    template = ENGINES["template"]
    cones = ENGINES["cones"]
    if (
        method == "statevector"
        and cones.refusal(workload) is None
        and MIN_SAVING * cones.work(workload) < template.work(workload)
    ):
        return cones
    return template


def _stabilizer_engine(workload: Workload) -> Engine:
    """The tableau of all n qubits unless light cones or Pauli propagation apply and their
    work model beats the best so far by MIN_SAVING (the rule of `choose` for statevector
    cones). Light cones are asked first: Pauli propagation records the whole circuit, and
    refuses, before recording it, the tasks of millions of gates that light cones take."""
    best = ENGINES["stabilizer"]
    for name in ("cones-stabilizer", "pauli-propagation"):
        engine = ENGINES[name]
        if engine.refusal(workload) is None and MIN_SAVING * engine.work(workload) < best.work(
            workload
        ):
            best = engine
    return best


def memory_bytes(workload: Workload, precision: str, available: int) -> tuple[int, Engine]:
    """Peak memory of the task on its engine; cones are planned only when the whole
    statevector would not fit in `available` bytes."""
    method = workload.task.method
    if method in ("stabilizer", "adjoint"):
        engine = choose(workload)
    else:
        engine = ENGINES["template"]
        if engine.memory_bytes(workload, precision) > available:
            engine = choose(workload)
    return engine.memory_bytes(workload, precision), engine


@functools.lru_cache(maxsize=256)
def workload_of(task: Task) -> Workload:
    """One Workload per task for the run's bounds, its work model and its prepared engine,
    so the circuit is built (or recorded, or cut into cones) once per task and rank."""
    return Workload(task)


def sample_work(task: Task) -> float:
    """Estimated work of one sample of `task` on its engine (the runner balances ranks by it)."""
    workload = workload_of(task)
    return choose(workload).work(workload)


def gradient_bounds(tasks: Iterable[Task]) -> dict[str, np.ndarray]:
    """Per task, |∂C/∂θ_k| ≤ this for each differentiated parameter (K,): stored in
    results.h5 as `grad_bound` for the analysis's one-sided bound (docs/hdf5-schema.md)."""
    bounds = {}
    for task in tasks:
        workload = workload_of(task)
        bounds[task.id] = choose(workload).gradient_bound(workload)
    return bounds


def prepare(task: Task) -> Prepared:
    """Choose the engine of `task` and build its per-task state."""
    workload = workload_of(task)
    return choose(workload).prepare(workload)
