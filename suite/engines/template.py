"""The template engine: the whole circuit, one parametrized Aer experiment per batch.

The task's template (slot parameters, a save instruction of v) runs as one job through
`AerSimulator.run(circuit, parameter_binds=...)`, which avoids EstimatorV2's
post-processing that is quadratic in the number of parameter sets (qiskit-aer issue
2438). Per sample it evaluates 1 + 2R points: φ, then φ ± π/2 e_s for each shifted
slot. Runs on Aer's statevector and matrix_product_state methods. A task with shots
saves each Pauli term on its own (labels v0, v1, …), the exact values its shots are
drawn from (suite.engines.shots).
"""

from __future__ import annotations

import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer.library import SaveAmplitudesSquared, SaveExpectationValue

from suite.circuits.observables import Observable
from suite.engines import noise
from suite.engines.base import Engine, Prepared, Workload, check_result, experiment_work

LABEL = "v"
# Density-matrix points per Aer call: this many bytes of matrices (`points_per_call`).
DENSITY_CALL_BYTES = 64 << 20


def statevector_bytes(n: int, precision: str) -> int:
    """Memory of one statevector plus a copy (Aer keeps a buffer for fusion/save)."""
    amplitude = 16 if precision == "double" else 8
    return 2 * amplitude * (1 << n)


def attach_save(qc: QuantumCircuit, observable: Observable) -> None:
    """Append the save instruction of v to `qc` (in place), labelled "v"."""
    if observable.projector:
        qc.append(SaveAmplitudesSquared(qc.num_qubits, [0], label=LABEL), qc.qubits)
        return
    operator, qubits = observable.local_operator()
    qc.append(SaveExpectationValue(operator, label=LABEL), [qc.qubits[q] for q in qubits])


def attach_term_saves(qc: QuantumCircuit, observable: Observable) -> tuple[str, ...]:
    """Append one save of ⟨P_t⟩ per Pauli term (coefficient 1), labelled v0, v1, …"""
    labels = []
    for t, (pauli, qubits, _) in enumerate(observable.terms):
        operator, support = observable.local_operator(((pauli, qubits, 1.0),))
        label = f"{LABEL}{t}"
        qc.append(SaveExpectationValue(operator, label=label), [qc.qubits[q] for q in support])
        labels.append(label)
    return tuple(labels)


class PreparedTemplate(Prepared):
    def __init__(self, engine: Engine, workload: Workload) -> None:
        self.engine = engine
        self.workload = workload
        channels = noise.parse(workload.task.noise)
        self.circuit = (
            noise.noisy_template(workload.circuit, channels)
            if channels
            else workload.circuit.circuit.copy()
        )
        observable = workload.observable
        if workload.task.shots and not observable.projector:
            self.labels = attach_term_saves(self.circuit, observable)
        else:
            attach_save(self.circuit, observable)
            self.labels = (LABEL,)

    @property
    def width(self) -> int:
        return self.workload.task.qubits

    @property
    def points_per_call(self) -> int:
        """Points per Aer call: all of a batch, except for density matrices. Within one
        call glibc keeps every experiment's freed matrix below its 32 MiB mmap threshold
        (n ≤ 10), so a batch of B·(1 + 2K) points held them all (n = 10, B = 100, K = 1:
        4.4 GB); calls of DENSITY_CALL_BYTES of matrices bound that, and each experiment's
        values do not depend on the call it is in."""
        if self.workload.task.method != "density_matrix":
            return 1 << 62
        matrix = 16 << (2 * self.width)  # 4^n complex doubles
        return max(1, DENSITY_CALL_BYTES // matrix)

    def describe(self) -> str:
        return f"{self.workload.task.method} ({self.width} qubits)"

    def term_values(self, simulator, angles, axes):
        """The saved values (B, 1 + 2R, labels) at every point, in one Aer call."""
        rule = self.workload.rule
        repeats = 1 + 2 * len(rule.slots)
        points = rule.points(angles)
        rows_axes = None if axes is None else np.repeat(axes, repeats, axis=0)
        binds = self.workload.circuit.binds(points, axes=rows_axes)
        values = np.empty((points.shape[0], len(self.labels)))
        step = self.points_per_call
        start = time.perf_counter()
        for first in range(0, points.shape[0], step):
            part = {p: v[first : first + step] for p, v in binds.items()}
            result = simulator.run(self.circuit, parameter_binds=[part]).result()
            check_result(result, f"task {self.workload.task.id}")
            for i in range(min(step, points.shape[0] - first)):
                data = result.data(i)
                for j, label in enumerate(self.labels):
                    v = data[label]
                    values[first + i, j] = v[0] if np.ndim(v) else v
        seconds = time.perf_counter() - start
        return values.reshape(len(angles), repeats, len(self.labels)), seconds

    def differences(self, simulator, angles, axes):
        values, seconds = self.term_values(simulator, angles, axes)
        values = values[:, :, 0]  # exact tasks save v itself
        return values[:, 0], values[:, 1::2] - values[:, 2::2], seconds


class TemplateEngine(Engine):
    name = "template"
    methods = ("statevector", "matrix_product_state", "density_matrix")

    def refusal(self, workload: Workload):
        if workload.task.method not in self.methods:
            return ("simulator.method", f"the template engine does not run {workload.task.method}")
        return None

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        if workload.task.method == "density_matrix":  # 4^n entries: a statevector of 2n
            return statevector_bytes(2 * workload.task.qubits, precision)
        if workload.task.method != "statevector":
            return 0  # matrix product states: bond dimension, not known in advance
        return statevector_bytes(workload.task.qubits, precision)

    def work(self, workload: Workload) -> float:
        circuit = workload.circuit
        terms = 1 if workload.observable.projector else len(workload.observable.terms)
        rows = 1 + 2 * len(workload.rule.slots)
        width = circuit.qubits * (2 if workload.task.method == "density_matrix" else 1)
        return rows * experiment_work(width, len(circuit.circuit.data), terms)

    def prepare(self, workload: Workload) -> PreparedTemplate:
        return PreparedTemplate(self, workload)
