"""The adjoint engine: every derivative of a sample from one forward and one backward pass.

Parameter shift runs 1 + 2R circuits per sample for R shifted slots; adjoint
differentiation (Jones & Gacon, arXiv:2009.02823) runs the circuit forward once and back
once, whatever R is. It returns ∂v/∂φ_s, and the engine interface wants the shift
differences v(φ + π/2 e_s) − v(φ − π/2 e_s) = 2 ∂v/∂φ_s (exact for exp(−iφP/2)).

Built on PennyLane Lightning, an optional extra (`barren-plateau-suite[peers]`). The
template (suite.circuits.description) is compiled once per task into Lightning's
operation lists (`Program`); per sample only the slot angles change, and the gate of a
random-axis slot (McClean's R_P) becomes RX, RY or RZ. On the CPU the engine drives
lightning.qubit's C++ kernels directly (`KernelRunner`): building PennyLane operations
and tapes costs several times the simulation below 16 qubits (docs/adjoint.md). On
device = "GPU" the same program runs as tapes on lightning.gpu or lightning.kokkos
(`TapeRunner`, PennyLane's public device API); that path is tested on lightning.qubit
here, never on a GPU.
"""

from __future__ import annotations

import ctypes
import importlib.util
import time
from dataclasses import dataclass, field

import numpy as np
from qiskit.circuit import Parameter, ParameterExpression
from qiskit.quantum_info import Operator

from suite.circuits.description import ParametrizedCircuit
from suite.circuits.observables import Observable
from suite.engines.aer import PARALLEL_STATEVECTOR_QUBITS, Resolved
from suite.engines.base import MAX_WORK_WIDTH, Engine, Prepared, Workload

HINT = "install barren-plateau-suite[peers]"
# GPU devices in order of preference, and the module each one's package installs.
GPU_DEVICES = {
    "lightning.gpu": "pennylane_lightning.lightning_gpu_ops",
    "lightning.kokkos": "pennylane_lightning.lightning_kokkos_ops",
}
AXIS_GATES = ("RX", "RY", "RZ")  # a random axis 0, 1, 2 of a sample
# Trainable template gates: Qiskit name → Lightning gate of the same matrix.
SLOT_GATES = {
    "rx": "RX",
    "ry": "RY",
    "rz": "RZ",
    "rxx": "IsingXX",
    "ryy": "IsingYY",
    "rzz": "IsingZZ",
}
# Fixed gates with a Lightning kernel of the same matrix, operands in the same order:
# Qiskit name → (Lightning name, inverse). Anything else enters as its matrix.
FIXED_GATES = {
    "h": ("Hadamard", False),
    "x": ("PauliX", False),
    "y": ("PauliY", False),
    "z": ("PauliZ", False),
    "s": ("S", False),
    "sdg": ("S", True),
    "t": ("T", False),
    "tdg": ("T", True),
    "sx": ("SX", False),
    "sxdg": ("SX", True),
    "cx": ("CNOT", False),
    "cy": ("CY", False),
    "cz": ("CZ", False),
    "swap": ("SWAP", False),
    "ccx": ("Toffoli", False),
    "cswap": ("CSWAP", False),
    "p": ("PhaseShift", False),
    "cp": ("ControlledPhaseShift", False),
    "crx": ("CRX", False),
    "cry": ("CRY", False),
    "crz": ("CRZ", False),
    **{name: (gate, False) for name, gate in SLOT_GATES.items()},
}
MATRIX = "QubitUnitary"  # Lightning's name for a gate given by its matrix
_PAULI = {"X": "PauliX", "Y": "PauliY", "Z": "PauliZ"}

# Work model (units of `experiment_work`, ≈ 5 ns of one gate on one amplitude in Aer),
# fitted to per-sample times of McClean circuits with all parameters, n = 4…16, depth n
# and 2n, on lightning.qubit with one thread (within 30 %, docs/adjoint.md): PER_GATE of
# Python and call overhead per gate, and PER_AMPLITUDE per gate and amplitude for the
# forward pass and the backward pass (each gate undone on two states, one derivative
# per trainable gate) together; a Pauli term costs about two gate passes.
PER_GATE = 400.0
PER_AMPLITUDE = 0.4
# Statevectors alive at once: the state, the observable applied to it, the derivative
# state, and one scratch copy while a Pauli sum is applied.
COPIES = 4
# `method = "auto"` keeps Aer for tasks with at most this many differentiated parameters.
AER_PARAMETERS = 3


def lightning_available() -> bool:
    """PennyLane and lightning.qubit are importable (without importing them)."""
    return (
        all(
            importlib.util.find_spec(name) is not None
            for name in ("pennylane", "pennylane_lightning")
        )
        and importlib.util.find_spec("pennylane_lightning.lightning_qubit_ops") is not None
    )


def lightning_device(device: str, gpu: bool = False) -> str:
    """The Lightning device of a rank's `device`: lightning.qubit on the CPU; on "GPU"
    lightning.gpu, else lightning.kokkos, else a one-line RuntimeError. With `gpu`, only
    the GPU device or "" (what device = "auto" asks)."""
    if device == "CPU" and not gpu:
        return "lightning.qubit"
    for name, module in GPU_DEVICES.items():
        if lightning_available() and importlib.util.find_spec(module) is not None:
            return name
    if gpu:
        return ""
    raise RuntimeError(
        'simulator.device = "GPU" with method = "adjoint" needs pennylane-lightning-gpu or '
        "pennylane-lightning-kokkos (neither is installed)"
    )


@dataclass
class Program:
    """The template as Lightning operation lists, built once per task."""

    names: list[str] = field(default_factory=list)
    wires: list[list[int]] = field(default_factory=list)
    inverses: list[bool] = field(default_factory=list)
    params: list[list[float]] = field(default_factory=list)
    matrices: list[np.ndarray] = field(default_factory=list)
    slot_op: dict[int, int] = field(default_factory=dict)  # slot → its operation
    axis_column: dict[int, int] = field(default_factory=dict)  # op of a random axis → column
    first_param: list[int] = field(default_factory=list)  # op → index of its parameter

    def add(self, name: str, wires, params=(), inverse=False, matrix=None) -> int:
        previous = self.first_param[-1] + len(self.params[-1]) if self.params else 0
        self.first_param.append(previous)
        self.names.append(name)
        self.wires.append([int(w) for w in wires])
        self.inverses.append(inverse)
        self.params.append([float(p) for p in params])
        self.matrices.append(np.array([]) if matrix is None else matrix)
        return len(self.names) - 1

    def sample(self, phi: np.ndarray, axes: np.ndarray | None) -> tuple[list[str], list]:
        """(names, params) of one sample: slot angles φ (S,), random axes (P,) or None."""
        params = list(self.params)
        for s, op in self.slot_op.items():
            params[op] = [float(phi[s])]
        if not self.axis_column:
            return self.names, params
        names = list(self.names)
        for op, column in self.axis_column.items():
            names[op] = AXIS_GATES[int(axes[column])]
        return names, params


def compile_program(circuit: ParametrizedCircuit) -> Program:
    """Lightning operations of the template: its slots trainable, every other gate fixed.

    Qiskit orders a matrix's qubits little-endian and Lightning big-endian, so a gate
    entered by its matrix gets its qubits reversed.
    """
    program = Program()
    slot_of = {p: s for s, p in enumerate(circuit.slots)}
    position = {bit: i for i, bit in enumerate(circuit.circuit.qubits)}
    for instruction in circuit.circuit.data:
        operation = instruction.operation
        name = operation.name
        qubits = [position[q] for q in instruction.qubits]
        found = [slot_of[p] for p in operation.params if isinstance(p, Parameter) and p in slot_of]
        if found:
            slot = found[0]
            rotation = circuit.rotations[slot]
            if rotation.axis is not None:  # u(φ, b, c): R_P(φ) with P drawn per sample
                op = program.add("RZ", qubits[:1], [0.0])
                program.axis_column[op] = rotation.axis.column
            elif name == "rzx":  # exp(−iφ Z⊗X/2) = H₁ exp(−iφ Z⊗Z/2) H₁
                program.add("Hadamard", qubits[1:])
                op = program.add("IsingZZ", qubits, [0.0])
                program.add("Hadamard", qubits[1:])
            elif name in SLOT_GATES:
                op = program.add(SLOT_GATES[name], qubits, [0.0])
            else:
                raise ValueError(f"the adjoint engine has no trainable '{name}' gate")
            program.slot_op[slot] = op
            continue
        for value in operation.params:
            if isinstance(value, ParameterExpression) and value.parameters:
                raise ValueError(f"gate '{name}' holds the unbound parameter {value}")
        if name in FIXED_GATES:
            gate, inverse = FIXED_GATES[name]
            program.add(gate, qubits, [float(v) for v in operation.params], inverse)
            continue
        matrix = np.ascontiguousarray(Operator(operation).data, dtype=np.complex128)
        program.add(MATRIX, qubits[::-1], [0.0], matrix=matrix)
    return program


def _projector_rows(n: int) -> list[int]:
    """CSR row pointers of |0…0⟩⟨0…0|: one entry, in row 0."""
    return [0] + [1] * (1 << n)


def lightning_threads(threads: int) -> bool:
    """Set the OpenMP threads of Lightning's own libgomp (a wheel bundles one); False when
    it shares the process's. Lightning's sums depend on the thread count in their last
    bits, so every rank sets it the same way (`KernelRunner`)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libgomp" in line}
    mine = sorted(p for p in paths if "pennylane_lightning" in p)
    if not mine:
        return False
    ctypes.CDLL(mine[0]).omp_set_num_threads(int(threads))
    return True


def state_threads(n: int, threads: int) -> int:
    """Lightning threads for a state of n qubits: one below Aer's statevector threshold,
    as Aer does, so that bits do not depend on how many ranks share a node."""
    return 1 if n < PARALLEL_STATEVECTOR_QUBITS else threads


class KernelRunner:
    """lightning.qubit's C++ state vector and adjoint Jacobian, called directly."""

    device = "lightning.qubit"

    def __init__(self, n: int, precision: str, threads: int) -> None:
        from pennylane_lightning import lightning_qubit_ops as ops

        bits = "C64" if precision == "single" else "C128"
        self.ops = ops
        self.bits = bits
        self.state = getattr(ops, f"StateVector{bits}")(n)
        self.measure = getattr(ops, f"Measurements{bits}")(self.state)
        self.adjoint = getattr(ops.algorithms, f"AdjointJacobian{bits}")()
        self.create = getattr(ops.algorithms, f"create_ops_list{bits}")
        self.n = n
        self.threads = state_threads(n, threads)
        self.own_threads = lightning_threads(self.threads)

    def observable(self, observable: Observable):
        obs = self.ops.observables
        if observable.projector:
            sparse = getattr(obs, f"SparseHamiltonian{self.bits}")
            data = np.array([1.0], dtype=np.complex64 if self.bits == "C64" else np.complex128)
            return sparse(data, [0], _projector_rows(self.n), list(range(self.n)))
        named = getattr(obs, f"NamedObs{self.bits}")
        tensor = getattr(obs, f"TensorProdObs{self.bits}")
        terms = []
        for label, qubits, _ in observable.terms:
            factors = [named(_PAULI[p], [q]) for p, q in zip(label, qubits, strict=True)]
            terms.append(factors[0] if len(factors) == 1 else tensor(factors))
        coefficients = np.array([c for _, _, c in observable.terms], dtype=np.float64)
        if self.bits == "C64":
            coefficients = coefficients.astype(np.float32)
        return getattr(obs, f"Hamiltonian{self.bits}")(coefficients, terms)

    def evaluate(self, program: Program, observable, samples, trainable: list[int]):
        """v (B,) and ∂v/∂(trainable parameters) (B, T) of `samples` [(names, params)]."""
        values = np.empty(len(samples))
        jacobian = np.empty((len(samples), len(trainable)))
        state, count = self.state, len(program.names)
        empty = [[]] * count
        for b, (names, params) in enumerate(samples):
            state.resetStateVector()
            for name, wires, inverse, p, matrix in zip(
                names, program.wires, program.inverses, params, program.matrices, strict=True
            ):
                if name == MATRIX:
                    state.applyMatrix(matrix, wires, inverse)
                else:
                    getattr(state, name)(wires, inverse, p)
            values[b] = self.measure.expval(observable)
            ops = self.create(
                names, params, program.wires, program.inverses, program.matrices, empty, empty
            )
            jacobian[b] = self.adjoint(state, [observable], ops, trainable)
        return values, jacobian


class TapeRunner:
    """The same program as PennyLane tapes on a Lightning device (the GPU devices)."""

    def __init__(self, device: str, n: int, precision: str) -> None:
        import pennylane as qml
        from pennylane.devices import ExecutionConfig

        self.qml = qml
        self.device = device
        dtype = np.complex64 if precision == "single" else np.complex128
        self.lightning = qml.device(device, wires=n, c_dtype=dtype)
        self.config = self.lightning.setup_execution_config(
            ExecutionConfig(gradient_method="adjoint")
        )
        self.n = n

    def observable(self, observable: Observable):
        qml = self.qml
        if observable.projector:
            from scipy.sparse import csr_matrix

            size = 1 << self.n
            matrix = csr_matrix(([1.0], [0], _projector_rows(self.n)), shape=(size, size))
            return qml.SparseHamiltonian(matrix, wires=range(self.n))
        terms = [
            qml.prod(*[getattr(qml, _PAULI[p])(q) for p, q in zip(label, qubits, strict=True)])
            for label, qubits, _ in observable.terms
        ]
        return qml.Hamiltonian([c for _, _, c in observable.terms], terms)

    def _operation(self, name: str, wires, inverse: bool, params, matrix):
        qml = self.qml
        if name == MATRIX:
            op = qml.QubitUnitary(matrix, wires=wires)
        else:
            op = getattr(qml, name)(*params, wires=wires)
        return qml.adjoint(op) if inverse else op

    def evaluate(self, program: Program, observable, samples, trainable: list[int]):
        tapes = []
        for names, params in samples:
            operations = [
                self._operation(*op)
                for op in zip(
                    names, program.wires, program.inverses, params, program.matrices, strict=True
                )
            ]
            tape = self.qml.tape.QuantumScript(operations, [self.qml.expval(observable)])
            tape.trainable_params = list(trainable)
            tapes.append(tape)
        values, jacobians = self.lightning.execute_and_compute_derivatives(
            tuple(tapes), self.config
        )
        jacobian = np.array([np.atleast_1d(np.asarray(j, dtype=float)) for j in jacobians])
        return np.asarray(values, dtype=float), jacobian.reshape(len(samples), len(trainable))


def make_runner(resolved: Resolved, n: int) -> KernelRunner | TapeRunner:
    """The Lightning simulator of a rank: C++ kernels on the CPU, a device on "GPU"."""
    if not lightning_available():
        raise RuntimeError(f'method = "adjoint" needs PennyLane Lightning: {HINT}')
    device = lightning_device(resolved.device)
    if device == "lightning.qubit":
        return KernelRunner(n, resolved.precision, resolved.threads)
    return TapeRunner(device, n, resolved.precision)


class PreparedAdjoint(Prepared):
    def __init__(self, engine: Engine, workload: Workload) -> None:
        self.engine = engine
        self.workload = workload
        self.program = compile_program(workload.circuit)
        slots = sorted(set(workload.rule.slots), key=self.program.slot_op.__getitem__)
        self.trainable = [self.program.first_param[self.program.slot_op[s]] for s in slots]
        column = {s: i for i, s in enumerate(slots)}
        self.columns = [column[s] for s in workload.rule.slots]
        self._observable: tuple[object, object] | None = None  # (runner, its observable)

    @property
    def width(self) -> int:
        return self.workload.task.qubits

    def describe(self) -> str:
        return f"adjoint on PennyLane Lightning ({self.width} qubits)"

    def simulator(self, resolved: Resolved, local_rank: int = 0):
        return make_runner(resolved, self.width)

    def parallelism(self, resolved: Resolved) -> str:
        return f"{state_threads(self.width, resolved.threads)} Lightning thread(s), one state"

    def differences(self, simulator, angles, axes):
        if self._observable is None or self._observable[0] is not simulator:
            self._observable = (simulator, simulator.observable(self.workload.observable))
        observable = self._observable[1]
        samples = [
            self.program.sample(angles[b], None if axes is None else axes[b])
            for b in range(len(angles))
        ]
        start = time.perf_counter()
        values, jacobian = simulator.evaluate(self.program, observable, samples, self.trainable)
        seconds = time.perf_counter() - start
        return values, 2.0 * jacobian[:, self.columns], seconds


class AdjointEngine(Engine):
    name = "adjoint"
    methods = ("adjoint",)

    def refusal(self, workload: Workload):
        reason = self.task_refusal(workload)
        if reason is None and not lightning_available():
            return (
                "simulator.method",
                f'"adjoint" needs PennyLane Lightning, which is not installed ({HINT})',
            )
        return reason

    def task_refusal(self, workload: Workload) -> tuple[str, str] | None:
        """Why the task itself cannot run on the engine, installed or not."""
        task = workload.task
        if task.shots:
            return (
                "shots",
                "the adjoint engine computes exact expectation values; shots run on Aer "
                '(method = "statevector")',
            )
        if task.noise:
            return (
                "noise",
                "the adjoint engine simulates pure states; noise runs on Aer's density matrices",
            )
        return None

    def memory_bytes(self, workload: Workload, precision: str) -> int:
        n = workload.task.qubits
        amplitude = 16 if precision == "double" else 8
        projector = 8 << n if workload.observable.projector else 0  # its CSR row pointers
        return COPIES * amplitude * (1 << n) + projector

    def work(self, workload: Workload) -> float:
        circuit = workload.circuit
        gates = len(circuit.circuit.data)
        terms = 1 if workload.observable.projector else len(workload.observable.terms)
        amplitudes = 2.0 ** min(circuit.qubits, MAX_WORK_WIDTH)
        return PER_GATE * gates + PER_AMPLITUDE * amplitudes * (gates + 2 * terms)

    def prepare(self, workload: Workload) -> PreparedAdjoint:
        return PreparedAdjoint(self, workload)
