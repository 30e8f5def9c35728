"""The engine interface, and the gradient of a batch that every engine shares.

An engine turns a batch of slot angles φ (B, S) into the saved value v at φ and the
differences v(φ + π/2 e_s) − v(φ − π/2 e_s) for every shifted slot s of the task's
`ShiftRule`; `gradient_batch` maps them to the cost C = offset + scale · v and to
∂C/∂θ (the chain rule lives in `suite.circuits.shift`, once).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from suite.circuits import observables
from suite.circuits.builders import circuit_of
from suite.circuits.description import ParametrizedCircuit
from suite.circuits.observables import Observable
from suite.circuits.shift import ShiftRule
from suite.records import Task

# Work model, in units of one gate on one amplitude (about 5 ns here): an Aer
# experiment costs OVERHEAD + 2^width · (gates + saved terms). OVERHEAD was measured on
# this project's machines (about 130 µs per experiment, 2026-11).
OVERHEAD = 2.0**15


def experiment_work(width: int, gates: int, terms: int) -> float:
    """Estimated work of one Aer experiment on `width` qubits."""
    return OVERHEAD + 2.0**width * (gates + terms)


class Workload:
    """A task with what every engine reads: its circuit, its observable, its shift rule.

    Built lazily, so that cheap refusals (a method, an angle distribution) never build
    a circuit; engines may cache their plans in `plans`.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self.plans: dict[str, Any] = {}

    @cached_property
    def circuit(self) -> ParametrizedCircuit:
        return circuit_of(self.task)

    @cached_property
    def observable(self) -> Observable:
        return observables.of_task(self.task, self.circuit.output_qubit)

    @cached_property
    def rule(self) -> ShiftRule:
        return ShiftRule.of([self.circuit.occurrences(k) for k in self.task.parameters])


@dataclass
class BatchResult:
    cost: np.ndarray  # (B,)
    grad: np.ndarray  # (B, K)
    simulate_seconds: float


class Prepared(ABC):
    """An engine's per-task state, built once per task on each rank."""

    engine: Engine
    workload: Workload

    @property
    @abstractmethod
    def width(self) -> int:
        """Qubits of the widest circuit simulated (keys the simulator)."""

    @abstractmethod
    def describe(self) -> str:
        """How the task is simulated, for the log."""

    @abstractmethod
    def differences(
        self, simulator, angles: np.ndarray, structure: dict
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(v at φ (B,), shift differences (B, R), seconds in the simulator) in one call."""


class Engine(ABC):
    """One way of simulating a task. Stateless; `prepare` makes the per-task state."""

    name: ClassVar[str]
    methods: ClassVar[tuple[str, ...]]  # Aer methods it runs on

    @abstractmethod
    def refusal(self, workload: Workload) -> tuple[str, str] | None:
        """Why this engine cannot run the task exactly: (sweep key, problem), or None."""

    @abstractmethod
    def memory_bytes(self, workload: Workload, precision: str) -> int:
        """Peak simulator memory of one evaluation."""

    @abstractmethod
    def work(self, workload: Workload) -> float:
        """Estimated work per sample (units of `experiment_work`)."""

    @abstractmethod
    def prepare(self, workload: Workload) -> Prepared:
        """The per-task state (circuits, plans), built once per task."""


def gradient_batch(
    prepared: Prepared, simulator, theta: np.ndarray, axes: np.ndarray | None = None
) -> BatchResult:
    """Cost and ∂C/∂θ of every sample in `theta` (B, P), in one simulator call."""
    workload = prepared.workload
    circuit, observable = workload.circuit, workload.observable
    angles = circuit.angles(theta)
    structure = circuit.structure_of(axes)
    base, differences, seconds = prepared.differences(simulator, angles, structure)
    cost = observable.offset + observable.scale * base
    grad = workload.rule.gradient(differences, observable.scale)
    return BatchResult(cost, grad, seconds)


def check_result(result, what: str) -> None:
    """Raise a one-line error when Aer reports a failure (the one copy of this check)."""
    if not result.success:
        status = " ".join(str(result.status).split())
        short = status if len(status) <= 300 else status[:300] + " …"
        raise RuntimeError(f"Aer failed on {what}: {short}")
