"""Light cones on the Clifford route: gradients of local costs whose work stops growing with n.

∂C/∂θ_p of a local cost gets contributions only from the terms whose backward light cone
holds θ_p's gate, i.e. the terms on the gate's forward light cone F(p):

    v(φ + π/2 e_p) − v(φ − π/2 e_p) = Σ_{t ∈ F(p)} c_t [⟨T_t⟩(φ + π/2 e_p) − ⟨T_t⟩(φ − π/2 e_p)]

(the other terms take the same value at both points). So per differentiated parameter this
engine builds one small Clifford circuit, the union of the backward cones of F(p)'s terms
(for the alternating ansatz at depth L about 4·L·m qubits whatever n is), from the family's
layer structure (`suite.circuits.structure`, never the n-qubit circuit), and runs it at
φ ± π/2 e_p on Aer's stabilizer method with the stabilizer engine's plans. Every value is an
exact integer, so the differences equal the stabilizer engine's bit for bit.

The cost v(φ) needs every term: the product ansatz has it in closed form (each term's cone
is its own qubits); the alternating ansatz runs its whole circuit at φ (the stabilizer
engine's plan, one circuit per sample instead of 1 + 2K) up to FULL_COST_QUBITS qubits (and
2^16 parameters) and stores NaN beyond (docs/large-n.md).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from suite.circuits.observables import Observable
from suite.circuits.sampling import counter_drawn, draw_columns, draw_samples, stored_columns
from suite.circuits.shift import SHIFT, ShiftRule
from suite.circuits.structure import Structure, structure_of
from suite.engines import stabilizer
from suite.engines.base import BatchResult, Engine, Prepared, Workload, check_result

# The alternating ansatz's cost runs the whole circuit up to this many qubits (a sample
# then costs about 0.1 s at 1024 qubits, docs/large-n.md); beyond, the cost is NaN.
FULL_COST_QUBITS = 1024
NAME = "cones-stabilizer"


@dataclass
class Cone:
    """The terms on one parameter's forward light cone and their backward cones' gates."""

    parameter: int
    columns: np.ndarray  # parameter index of each rotation of the cone, ascending
    shifted: int  # column of `parameter`
    ops: list[tuple]  # the gates, `record` form, slots = positions in `columns`
    qubits: tuple[int, ...]
    terms: tuple  # the observable's terms on F(parameter), on the cone's qubits

    @property
    def width(self) -> int:
        return len(self.qubits)

    def work(self) -> float:
        """Two circuits (φ ± π/2 e_p): instructions to convert, terms to evaluate."""
        instructions = stabilizer.INSTRUCTION_WORK * len(self.ops)
        return 2 * (instructions + stabilizer.TERM_WORK * self.width**2 * len(self.terms))


def cone(structure: Structure, terms: tuple, parameter: int) -> Cone:
    """The circuit that gives ∂v/∂θ_parameter: the backward cone of the terms it reaches."""
    reach = structure.forward(parameter)
    touched = [t for t in terms if reach.intersection(t[1])]
    if not touched:  # no term sees the parameter: its derivative is exactly 0
        return Cone(parameter, np.array([parameter], dtype=np.int64), 0, [], (), ())
    ops, qubits = structure.backward(q for t in touched for q in t[1])
    columns = np.array(sorted(op[2] for op in ops if op[0] == "rot"), dtype=np.int64)
    slot = {int(p): i for i, p in enumerate(columns)}
    local = {q: i for i, q in enumerate(qubits)}
    ops = [
        ("rot", op[1], slot[op[2]], tuple(local[q] for q in op[3]))
        if op[0] == "rot"
        else ("fixed", tuple((name, tuple(local[q] for q in qs)) for name, qs in op[1]))
        for op in ops
    ]
    moved = tuple((label, tuple(local[q] for q in qs), c) for label, qs, c in touched)
    return Cone(parameter, columns, slot[parameter], ops, qubits, moved)


class Geometry:
    """What a task needs before any circuit: cones of its parameters, how its cost is had."""

    def __init__(self, workload: Workload) -> None:
        task = workload.task
        self.task = task
        self.workload = workload
        self.observable: Observable = workload.observable
        self.structure = structure_of(task)
        terms = self.observable.terms
        reach = set()
        for p in task.parameters:
            reach |= self.structure.forward(p)
        near = tuple(t for t in terms if reach.intersection(t[1]))  # one pass over n terms
        self.cones = [cone(self.structure, near, p) for p in task.parameters]
        if self.structure.has_closed_form:
            self.cost_route = "closed form"
        elif task.qubits <= FULL_COST_QUBITS and not counter_drawn(task):
            self.cost_route = "whole circuit"
        else:
            self.cost_route = "none"
        used = [c.columns for c in self.cones]
        self.columns = np.unique(np.concatenate(used)) if used else np.empty(0, np.int64)

    @functools.cached_property
    def closed_form(self) -> Callable[[np.ndarray], np.ndarray]:
        return self.structure.closed_form(self.observable.terms)

    @property
    def width(self) -> int:
        cones = max((c.width for c in self.cones), default=1)
        return max(cones, self.task.qubits if self.cost_route == "whole circuit" else 0)

    def work(self) -> float:
        task = self.task
        total = sum(c.work() for c in self.cones)
        if self.cost_route == "closed form":
            total += 20.0 * task.qubits  # numpy over the n terms (≈ 20 ns each)
        elif self.cost_route == "whole circuit":  # one of the tableau engine's 1 + 2K rows
            rows = 1 + 2 * len(task.parameters)
            total += stabilizer.StabilizerEngine().work(self.workload) / rows
        return total


class PreparedSparseCones(Prepared):
    def __init__(self, engine: Engine, workload: Workload, geometry: Geometry) -> None:
        self.engine = engine
        self.workload = workload
        self.geometry = geometry
        task = workload.task
        name = geometry.observable.name
        self.plans = [
            stabilizer.layered(task, c.width, c.ops, Observable(name, c.width, c.terms, 0.0, 1.0))
            if c.terms
            else None  # nothing to simulate
            for c in geometry.cones
        ]
        self.full = stabilizer.plan(workload) if geometry.cost_route == "whole circuit" else None
        self.rule = ShiftRule.of([[(p, 1.0)] for p in task.parameters])

    @property
    def width(self) -> int:
        return self.geometry.width

    def describe(self) -> str:
        g = self.geometry
        widths = ", ".join(str(c.width) for c in g.cones)
        cost = {
            "closed form": "cost in closed form",
            "whole circuit": f"cost from the whole circuit of {self.workload.task.qubits} qubits",
            "none": f"cost not computed (NaN) beyond {FULL_COST_QUBITS} qubits",
        }[g.cost_route]
        return (
            f"{NAME} (stabilizer on light cones: {len(g.cones)} parameter(s), cones of "
            f"{widths} qubits with {', '.join(str(len(c.terms)) for c in g.cones)} term(s) "
            f"instead of {self.workload.task.qubits} qubits; {cost})"
        )

    def _gradient_part(self, simulator, angles: np.ndarray) -> tuple[np.ndarray, float]:
        """Differences (B, K) from the cones; `angles` (B, len(geometry.columns))."""
        position = {int(p): i for i, p in enumerate(self.geometry.columns)}
        circuits, owners = [], []
        for r, (c, plan) in enumerate(zip(self.geometry.cones, self.plans, strict=True)):
            if plan is None:
                continue
            owners.append((r, plan.labels))
            local = angles[:, [position[int(p)] for p in c.columns]]
            points = np.repeat(local[:, None, :], 2, axis=1)
            points[:, 0, c.shifted] += SHIFT
            points[:, 1, c.shifted] -= SHIFT
            circuits += plan.circuits(points.reshape(2 * len(angles), len(c.columns)))
        start = time.perf_counter()
        result = simulator.run(circuits).result() if circuits else None
        seconds = time.perf_counter() - start
        diff = np.zeros((len(angles), len(self.plans)))
        if result is not None:
            check_result(result, f"the light cones of task {self.workload.task.id}")
            per_cone = 2 * len(angles)
            for j, (r, labels) in enumerate(owners):
                values = [
                    stabilizer.saved_value(result.data(j * per_cone + i), labels)
                    for i in range(per_cone)
                ]
                pairs = np.array(values).reshape(len(angles), 2)
                diff[:, r] = pairs[:, 0] - pairs[:, 1]
        return diff, seconds

    def _value(self, simulator, theta_all: np.ndarray | None) -> tuple[np.ndarray, float]:
        """v at φ (B,): closed form, the whole circuit, or NaN."""
        route = self.geometry.cost_route
        if route == "closed form":
            return self.geometry.closed_form(stabilizer.quarter_turns(theta_all)), 0.0
        if route == "whole circuit":
            start = time.perf_counter()
            values = stabilizer.evaluate(self.full, simulator, theta_all)
            return values, time.perf_counter() - start
        return np.full(len(theta_all), np.nan), 0.0

    def _result(self, base: np.ndarray, diff: np.ndarray, seconds: float) -> BatchResult:
        observable = self.geometry.observable
        cost = observable.offset + observable.scale * base
        return BatchResult(cost, self.rule.gradient(diff, observable.scale), seconds)

    def differences(self, simulator, angles, axes):
        """The engine interface on full slot angles (B, P) (slot = parameter here)."""
        diff, seconds = self._gradient_part(simulator, angles[:, self.geometry.columns])
        base, more = self._value(simulator, angles)
        return base, diff, seconds + more

    def sample_batch(self, simulator, job_seed, samples):
        task = self.workload.task
        if not counter_drawn(task):
            theta, _ = draw_samples(job_seed, task, samples, False)
            base, diff, seconds = self.differences(simulator, theta, None)
            return theta, None, self._result(base, diff, seconds)
        # a large task: draw only the cones' angles (and, for a closed form, all n)
        columns = self.geometry.columns
        needed = np.stack([draw_columns(job_seed, task, int(k), columns)[0] for k in samples])
        diff, seconds = self._gradient_part(simulator, needed)
        base = np.full(len(samples), np.nan)  # no whole circuit here: closed form or NaN
        if self.geometry.cost_route == "closed form":
            everything = np.arange(task.n_params)
            for i, k in enumerate(samples):  # one sample's n angles at a time
                theta_all = draw_columns(job_seed, task, int(k), everything)[0]
                base[i] = self._value(simulator, theta_all[None])[0][0]
        stored = needed[:, np.searchsorted(columns, stored_columns(task))]
        return stored, None, self._result(base, diff, seconds)


class SparseConeEngine(Engine):
    """Aer's stabilizer method on the light cones of a local cost, built from the family's
    structure: Clifford angles, product and alternating ansätze, n up to millions."""

    name = NAME
    methods = ("stabilizer",)

    def refusal(self, workload: Workload):
        task = workload.task
        if task.shots or task.noise:
            return ("shots" if task.shots else "noise", "light cones compute exact values only")
        if task.angles != "clifford":
            return ("angles", 'the Clifford route needs angles = "clifford"')
        if structure_of(task) is None:
            return ("ansatz", f"{task.ansatz} has no layer structure to cut light cones from")
        if workload.observable.projector:
            return ("cost", "light cones need a Pauli-sum observable, not the global projector")
        return None

    def geometry(self, workload: Workload) -> Geometry:
        if NAME not in workload.plans:
            workload.plans[NAME] = Geometry(workload)
        return workload.plans[NAME]

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        return stabilizer.tableau_bytes(self.geometry(workload).width)

    def work(self, workload: Workload) -> float:
        return self.geometry(workload).work()

    def gradient_bound(self, workload: Workload) -> np.ndarray:
        """Only the terms on a parameter's forward light cone enter its derivative (every
        parameter sits in one gate with slope 1 here)."""
        observable = self.geometry(workload).observable
        return np.array(
            [
                abs(observable.scale) * observable.half_spread(c.terms)
                for c in self.geometry(workload).cones
            ]
        )

    def prepare(self, workload: Workload) -> PreparedSparseCones:
        return PreparedSparseCones(self, workload, self.geometry(workload))
