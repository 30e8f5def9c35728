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
from suite.circuits.builders import circuit_of, output_qubit
from suite.circuits.description import ParametrizedCircuit
from suite.circuits.observables import Observable
from suite.circuits.sampling import draw_samples, shot_rng, stored_columns
from suite.circuits.shift import ShiftRule
from suite.engines import shots
from suite.engines.aer import Resolved, layout, make_simulator
from suite.engines.lightcone import terms_reaching
from suite.records import Task

# Work model, in units of one gate on one amplitude (about 5 ns here): an Aer
# experiment costs OVERHEAD + 2^width · (gates + saved terms). OVERHEAD was measured on
# this project's machines (about 130 µs per experiment, 2026-11).
OVERHEAD = 2.0**15
MAX_WORK_WIDTH = 900


def experiment_work(width: int, gates: int, terms: int) -> float:
    """Estimated work of one Aer experiment on `width` qubits."""
    # capped: an MPS task of n ≥ 1024 qubits passes the spec (its memory is not 2^n) and
    # 2.0**1024 overflows; the model is a statevector's and only orders engines and ranks
    return OVERHEAD + 2.0 ** min(width, MAX_WORK_WIDTH) * (gates + terms)


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
        return observables.of_task(self.task, output_qubit(self.task))

    @cached_property
    def rule(self) -> ShiftRule:
        return ShiftRule.of([self.circuit.occurrences(k) for k in self.task.parameters])


@dataclass
class BatchResult:
    cost: np.ndarray  # (B,)
    grad: np.ndarray  # (B, K)
    simulate_seconds: float
    grad_shot_variance: np.ndarray | None = None  # (B, K), tasks with shots only
    cost_shot_variance: np.ndarray | None = None  # (B,), tasks with shots only


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

    def simulator(self, resolved: Resolved, local_rank: int = 0):
        """What `differences` runs on: an AerSimulator of `width` qubits unless the engine
        brings its own (the adjoint engine's Lightning state vector)."""
        return make_simulator(resolved, self.width, local_rank)

    def parallelism(self, resolved: Resolved) -> str:
        """How the rank's threads serve this task (`resolved`: the task's own), for the log."""
        return layout(resolved, self.width)

    @abstractmethod
    def differences(
        self, simulator, angles: np.ndarray, axes: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(v at φ (B,), shift differences (B, R), seconds in the simulator) in one call.

        `axes` (B, P): the samples' random rotation axes, or None; the circuit's `binds`
        turns slot values and axes into the template's parameter values."""

    def sample_batch(
        self, simulator, job_seed: int, samples: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, BatchResult]:
        """Draw the samples' angles and compute them: (`theta` as stored, axes, result).

        Engines that need only some of a large task's angles draw only those."""
        task = self.workload.task
        theta, axes = draw_samples(job_seed, task, samples, self.workload.circuit.random_axes)
        result = gradient_batch(self, simulator, theta, axes, job_seed, samples)
        columns = stored_columns(task)
        return (theta if columns is None else theta[:, columns]), axes, result

    def term_values(self, simulator, angles: np.ndarray, axes: np.ndarray | None):
        """Exact value of each measured term (B, 1 + 2R, T) at φ, φ + π/2 e_r0, φ − π/2 e_r0,
        …, and the seconds in the simulator: what finite shots are drawn from. Engines that
        take shots override it; the others refuse shot tasks (`Engine.refusal`)."""
        raise NotImplementedError(f"the {self.engine.name} engine does not sample shots")


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

    def gradient_bound(self, workload: Workload) -> np.ndarray:
        """An upper bound on |∂C/∂θ_k| for each differentiated parameter (K,).

        A shift difference v(φ + π/2 e_s) − v(φ − π/2 e_s) changes only the terms whose
        backward light cone holds slot s's gate, each by at most 2|c_j|, so
        |∂C/∂θ_k| ≤ |scale| · Σ_{s ∋ k} |a_s| · Σ_{j reached by s} |c_j| (1/2 for the
        projector, v ∈ [0, 1]). It holds with noise (channels after gates do not widen a
        cone), and for shot estimates with every term counted (each term's shots are drawn
        again at both points, so the unreached terms do not cancel). The analysis turns it
        into a one-sided variance bound when the samples are all zero (analysis/bounds.py).
        Engines that never build the circuit override it."""
        circuit, observable, rule = workload.circuit, workload.observable, workload.rule
        if observable.projector or workload.task.shots:
            # shots are drawn afresh for every term at both shifted points: all terms count
            per_slot = {s: observable.half_spread() for s in rule.slots}
        else:
            coefficients = np.abs([c for _, _, c in observable.terms])
            reach = terms_reaching(
                circuit.circuit, circuit.slots, [qubits for _, qubits, _ in observable.terms]
            )
            per_slot = {s: _bit_sum(reach[s], coefficients) for s in set(rule.slots)}
        bound = np.zeros(rule.columns)
        for slot, column, a in zip(rule.slots, rule.owner, rule.weight, strict=True):
            bound[column] += abs(a) * per_slot[slot]
        return abs(observable.scale) * bound


def _bit_sum(bits: int, values: np.ndarray) -> float:
    """Σ values[j] over the set bits j of `bits`."""
    if bits == 0:
        return 0.0
    mask = np.unpackbits(
        np.frombuffer(bits.to_bytes((len(values) + 7) // 8, "little"), dtype=np.uint8),
        bitorder="little",
    )[: len(values)]
    return float(np.sum(values[mask.astype(bool)]))


def gradient_batch(
    prepared: Prepared,
    simulator,
    theta: np.ndarray,
    axes: np.ndarray | None = None,
    job_seed: int | None = None,
    samples: np.ndarray | None = None,
) -> BatchResult:
    """Cost and ∂C/∂θ of every sample in `theta` (B, P), in one simulator call.

    A task with shots also needs the job seed and the sample indices: they seed each
    sample's shot outcomes (docs/shots.md).
    """
    workload = prepared.workload
    circuit, observable = workload.circuit, workload.observable
    angles = circuit.angles(theta)
    if workload.task.shots:
        if job_seed is None or samples is None or len(samples) != len(theta):
            raise ValueError(f"task {workload.task.id} has shots: pass job_seed and samples")
        return _shot_batch(prepared, simulator, angles, axes, job_seed, samples)
    base, differences, seconds = prepared.differences(simulator, angles, axes)
    cost = observable.offset + observable.scale * base
    grad = workload.rule.gradient(differences, observable.scale)
    return BatchResult(cost, grad, seconds)


def _shot_batch(
    prepared: Prepared, simulator, angles, axes, job_seed: int, samples: np.ndarray
) -> BatchResult:
    """`gradient_batch` of a task with shots: every point's v is a shot estimate."""
    workload = prepared.workload
    task, observable, rule = workload.task, workload.observable, workload.rule
    saved, seconds = prepared.term_values(simulator, angles, axes)
    streams = [shot_rng(job_seed, task.id, int(k)) for k in samples]
    value, variance = shots.estimate(saved, shots.measured_terms(observable), task.shots, streams)
    scale = observable.scale
    return BatchResult(
        cost=observable.offset + scale * value[:, 0],
        grad=rule.gradient(value[:, 1::2] - value[:, 2::2], scale),
        simulate_seconds=seconds,
        grad_shot_variance=rule.variance(variance[:, 1::2] + variance[:, 2::2], scale),
        cost_shot_variance=scale * scale * variance[:, 0],
    )


def check_result(result, what: str) -> None:
    """Raise a one-line error when Aer reports a failure (the one copy of this check)."""
    if not result.success:
        status = " ".join(str(result.status).split())
        short = status if len(status) <= 300 else status[:300] + " …"
        raise RuntimeError(f"Aer failed on {what}: {short}")
