"""The template engine: the whole circuit, one parametrized Aer experiment per batch.

The task's template (slot parameters, a save instruction of v) runs as one job through
`AerSimulator.run(circuit, parameter_binds=...)`, which avoids EstimatorV2's
post-processing that is quadratic in the number of parameter sets (qiskit-aer issue
2438). Per sample it evaluates 1 + 2R points: φ, then φ ± π/2 e_s for each shifted
slot. Runs on Aer's statevector and matrix_product_state methods.
"""

from __future__ import annotations

import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer.library import SaveAmplitudesSquared, SaveExpectationValue

from suite.circuits.observables import Observable
from suite.engines.base import Engine, Prepared, Workload, check_result, experiment_work

LABEL = "v"


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


class PreparedTemplate(Prepared):
    def __init__(self, engine: Engine, workload: Workload) -> None:
        self.engine = engine
        self.workload = workload
        self.circuit = workload.circuit.circuit.copy()
        attach_save(self.circuit, workload.observable)

    @property
    def width(self) -> int:
        return self.workload.task.qubits

    def describe(self) -> str:
        return f"{self.workload.task.method} ({self.width} qubits)"

    def differences(self, simulator, angles, structure):
        rule = self.workload.rule
        repeats = 1 + 2 * len(rule.slots)
        points = rule.points(angles)
        slots = self.workload.circuit.slots
        binds = {slots[i]: points[:, i] for i in range(points.shape[1])}
        for parameter, values in structure.items():
            binds[parameter] = np.repeat(values, repeats)
        start = time.perf_counter()
        result = simulator.run(self.circuit, parameter_binds=[binds]).result()
        check_result(result, f"task {self.workload.task.id}")
        values = np.empty(points.shape[0])
        for i in range(points.shape[0]):
            v = result.data(i)[LABEL]
            values[i] = v[0] if np.ndim(v) else v
        seconds = time.perf_counter() - start
        values = values.reshape(len(angles), repeats)
        return values[:, 0], values[:, 1::2] - values[:, 2::2], seconds


class TemplateEngine(Engine):
    name = "template"
    methods = ("statevector", "matrix_product_state")

    def refusal(self, workload: Workload):
        if workload.task.method not in self.methods:
            return ("simulator.method", f"the template engine does not run {workload.task.method}")
        return None

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        if workload.task.method != "statevector":
            return 0  # matrix product states: bond dimension, not known in advance
        return statevector_bytes(workload.task.qubits, precision)

    def work(self, workload: Workload) -> float:
        circuit = workload.circuit
        terms = 1 if workload.observable.projector else len(workload.observable.terms)
        rows = 1 + 2 * len(workload.rule.slots)
        return rows * experiment_work(circuit.qubits, len(circuit.circuit.data), terms)

    def prepare(self, workload: Workload) -> PreparedTemplate:
        return PreparedTemplate(self, workload)
