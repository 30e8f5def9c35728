"""Aer set-up: device, method, precision and threads of one rank, and its simulators."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from suite.records import SimulatorSpec, Task

# Below this many qubits Aer parallelises over experiments rather than
# within one statevector (Aer's own statevector_parallel_threshold).
PARALLEL_STATEVECTOR_QUBITS = 14
# Runtime parameter binding (Aer binds the values inside one experiment) below this
# width on the CPU: 0.84 → 0.49 ms per McClean sample at n = 8, and bit for bit the same
# values there, where Aer's fusion (from its default threshold of 14 qubits) is off. From
# 14 qubits on, binding at run time changes how fusion is planned and with it the last
# bits (a qcnn n = 16 gradient moved by 3e-16, measured), for no gain measurable here
# (docs/performance.md), so wide circuits keep Aer's defaults and their bits.
RUNTIME_BIND_QUBITS = 14


def threads_per_rank(local_size: int = 1) -> int:
    """Simulator threads for this rank, from the allocation.

    BPSUITE_THREADS wins, then SLURM_CPUS_PER_TASK, then this process's CPU
    affinity shared among the ranks on this node.
    """
    for variable in ("BPSUITE_THREADS", "SLURM_CPUS_PER_TASK"):
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, local_size))


def available_devices() -> tuple[str, ...]:
    from qiskit_aer import AerSimulator

    return tuple(AerSimulator().available_devices())


def available_methods() -> tuple[str, ...]:
    from qiskit_aer import AerSimulator

    return tuple(AerSimulator().available_methods())


@dataclass(frozen=True)
class Resolved:
    """The simulator a rank actually uses.

    `method` is the job's: "auto" stays "auto" here, because it is resolved
    per task (`Task.method`, chosen in suite/spec.py); `for_task` gives the
    settings of one task.
    """

    method: str
    device: str
    precision: str
    threads: int

    def for_task(self, task: Task) -> Resolved:
        """This rank's settings for one task: its own method; stabilizer runs on CPU, and
        a task that "auto" gave the adjoint engine runs on a Lightning GPU device where
        the rank has a GPU and one is installed, else on lightning.qubit (a job of
        method = "adjoint" was checked by `resolve`; "auto" with device = "GPU" picks
        adjoint only where a Lightning GPU device exists, suite/engines/registry.py)."""
        device = self.device
        if task.method == "stabilizer":
            device = "CPU"
        elif task.method == "adjoint" and self.method == "auto" and device == "GPU":
            from suite.engines.adjoint import lightning_device

            device = "GPU" if lightning_device("GPU", gpu=True) else "CPU"
        return replace(self, method=task.method, device=device)

    def as_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "device": self.device,
            "precision": self.precision,
            "threads": self.threads,
        }


def resolve(spec: SimulatorSpec, threads: int) -> Resolved:
    """Turn `auto` choices into concrete ones for this machine."""
    device = spec.device
    if spec.method == "stabilizer":
        device = "CPU"  # Aer's stabilizer method has no GPU path (spec.py refuses "GPU")
    elif spec.method == "adjoint":  # runs on Lightning, not Aer
        from suite.engines.adjoint import lightning_device

        if device == "auto":
            device = "GPU" if lightning_device("auto", gpu=True) else "CPU"
        else:
            lightning_device(device)  # a one-line error when "GPU" has no Lightning device
    elif device == "auto":
        device = "GPU" if "GPU" in available_devices() else "CPU"
    elif device not in available_devices():
        raise RuntimeError(
            f'simulator.device = "{device}" but this Aer offers {", ".join(available_devices())}'
            " (install qiskit-aer-gpu on GPU nodes)"
        )
    return Resolved(method=spec.method, device=device, precision=spec.precision, threads=threads)


def experiments_in_parallel(resolved: Resolved, qubits: int) -> bool:
    """Whether a rank's threads run several experiments (parameter sets) at once, one
    thread each, rather than all threads inside one state: small states, stabilizer
    tableaus and GPUs (batched parameter sets) do the former."""
    method = "statevector" if resolved.method == "auto" else resolved.method
    if method == "stabilizer" or resolved.device == "GPU":
        return True
    width = 2 * qubits if method == "density_matrix" else qubits  # 4^n entries
    return width < PARALLEL_STATEVECTOR_QUBITS


def layout(resolved: Resolved, qubits: int) -> str:
    """How a rank's threads are used, for the run log."""
    if resolved.threads == 1:
        return "1 thread"
    if experiments_in_parallel(resolved, qubits):
        return f"{resolved.threads} threads, one experiment each"
    return f"{resolved.threads} threads inside one state"


def make_simulator(resolved: Resolved, qubits: int, local_rank: int = 0):
    """An AerSimulator for circuits of `qubits` qubits.

    Small circuits run one experiment per thread; large ones spread one
    statevector over all threads. Stabilizer circuits always run one
    experiment per thread (a tableau of n ≤ a few thousand qubits gains
    little from threads inside one experiment), on the CPU. On GPU nodes each
    rank takes the GPU of its local rank unless the launcher already
    restricted visibility. Pass `resolved.for_task(task)` for a task's own
    method; a job-level "auto" here means statevector.
    """
    from qiskit_aer import AerSimulator

    method = "statevector" if resolved.method == "auto" else resolved.method
    options: dict[str, object] = {
        "method": method,
        "device": resolved.device,
        "precision": resolved.precision,
        "max_parallel_threads": resolved.threads,
        "seed_simulator": 0,
        # Aer's qubit truncation (dropping idle qubits) mis-maps operators:
        # a subsystem save_expectation_value (qiskit-aer issue 2442, open) and
        # a `pauli` gate on non-adjacent qubits (found here: wrong ⟨Z_0⟩ after
        # PauliGate("XX") on qubits 0, 2 of 3). Our circuits have no idle qubit
        # to drop, so truncation only adds risk.
        "enable_truncation": False,
    }
    if method == "stabilizer":
        options["device"] = "CPU"
        options["max_parallel_experiments"] = resolved.threads
        return AerSimulator(**options)
    width = 2 * qubits if method == "density_matrix" else qubits  # 4^n entries
    if width < RUNTIME_BIND_QUBITS or resolved.device == "GPU":
        options["runtime_parameter_bind_enable"] = True
    parallel = experiments_in_parallel(resolved, qubits)
    options["max_parallel_experiments"] = resolved.threads if parallel else 1
    if resolved.device == "GPU":
        visible = [d for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d]
        if len(visible) != 1:
            options["target_gpus"] = [local_rank]
    return AerSimulator(**options)
