"""Synthetic `results.h5` files that follow docs/hdf5-schema.md (schema bpsuite/1).

Gradients are drawn from known laws so the analysis can be checked against the truth.
A sample's values depend only on (job seed, task id, sample index), as in the suite, so
two "runs" with overlapping sample ranges agree on the overlap.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

# This directory is called `analysis` too. When pytest puts tests/ on sys.path (because of
# tests/conftest.py) a bare `import analysis` would find this folder as a namespace package
# before the real one, so the repository root goes first and a namespace import is undone.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("analysis"), "__file__", "") is None:  # pragma: no cover
    for _name in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
        del sys.modules[_name]
import analysis  # noqa: E402, F401

Law = Callable[[np.random.Generator, int, int], np.ndarray]  # (rng, n, S) → (S,) gradients


def normal_law(variance: Callable[[int], float]) -> Law:
    """Gaussian gradients with Var = variance(n)."""
    return lambda rng, n, s: rng.normal(0.0, np.sqrt(variance(n)), size=s)


def warmup_global(rng: np.random.Generator, n: int, s: int) -> np.ndarray:
    """∂C_G/∂θ_1 of the product ansatz: (1/2) sin θ_1 Π_{j≥2} cos²(θ_j/2)."""
    th = rng.uniform(0.0, 2 * np.pi, size=(s, n))
    return 0.5 * np.sin(th[:, 0]) * np.prod(np.cos(th[:, 1:] / 2) ** 2, axis=1)


def warmup_local(rng: np.random.Generator, n: int, s: int) -> np.ndarray:
    """∂C_L/∂θ_1 of the product ansatz: sin θ_1 / (2n)."""
    return np.sin(rng.uniform(0.0, 2 * np.pi, size=s)) / (2 * n)


@dataclass
class SynthTask:
    """One task to write; `law` draws its gradients."""

    ansatz: str
    cost: str
    qubits: int
    law: Law
    depth: int = 1
    depth_rule: str = "1"
    samples: int = 400
    start: int = 0  # first sample index
    k: int = 1  # differentiated parameters (columns drawn independently)
    samples_requested: int | None = None
    spec_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return f"{self.ansatz}-{self.cost}-n{self.qubits}-L{self.depth}"

    @property
    def family(self) -> str:
        return f"{self.ansatz}-{self.cost}-L{self.depth_rule}"


def _grads(task: SynthTask, seed: int) -> np.ndarray:
    """Gradients of samples [0, start + samples) for every column, then sliced."""
    stop = task.start + task.samples
    cols = []
    for j in range(task.k):
        rng = np.random.default_rng([seed, zlib.crc32(task.task_id.encode()), j])
        cols.append(task.law(rng, task.qubits, stop))
    return np.stack(cols, axis=1)[task.start : stop]


def write_results(
    run_dir: Path,
    tasks: list[SynthTask],
    *,
    seed: int = 1234,
    mpi_size: int = 2,
    precision: str = "double",
    job_name: str = "synthetic",
    seconds_per_sample: float = 1e-3,
) -> Path:
    """Write run_dir/results.h5 exactly as docs/hdf5-schema.md describes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "results.h5"
    simulator = {"method": "statevector", "device": "CPU", "precision": precision}
    rank_samples = np.zeros(mpi_size, dtype=np.int64)
    rank_sim = np.zeros(mpi_size)
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = "bpsuite/1"
        f.attrs["kind"] = "results"
        f.attrs["job_name"] = job_name
        f.attrs["job_seed"] = seed
        f.attrs["job_toml"] = f'name = "{job_name}"\nseed = {seed}\n'
        f.attrs["spec_sha256"] = "0" * 63 + "1"
        f.attrs["simulator"] = json.dumps(simulator)
        for key in (
            "suite_version",
            "python_version",
            "numpy_version",
            "h5py_version",
            "qiskit_version",
            "qiskit_aer_version",
        ):
            f.attrs[key] = "0.0-test"
        f.attrs["mpi_library"] = "none" if mpi_size == 1 else "MPICH Version: 4.2"
        f.attrs["mpi_size"] = mpi_size
        f.attrs["host"] = "testhost"
        f.attrs["git_revision"] = "unknown"
        f.attrs["created"] = "2024-01-01T00:00:00Z"
        tasks_group = f.create_group("tasks")
        for task in tasks:
            g = tasks_group.create_group(task.task_id)
            s = task.samples
            n_params = task.qubits * task.depth
            spec = {
                "ansatz": task.ansatz,
                "cost": task.cost,
                "qubits": task.qubits,
                "depth": task.depth,
                "parameters": list(range(task.k)),
                **task.spec_extra,
            }
            g.attrs["ansatz"] = task.ansatz
            g.attrs["cost"] = task.cost
            g.attrs["qubits"] = task.qubits
            g.attrs["depth"] = task.depth
            g.attrs["family"] = task.family
            g.attrs["depth_rule"] = task.depth_rule
            g.attrs["n_params"] = n_params
            g.attrs["samples_requested"] = task.samples_requested or (task.start + s)
            g.attrs["spec"] = json.dumps(spec)
            sample = np.arange(task.start, task.start + s, dtype=np.int64)
            # Angles, costs and axes of sample k depend on (seed, task, k) only.
            stop = task.start + s
            key = zlib.crc32(task.task_id.encode())
            rngs = [np.random.default_rng([seed, key, 1000 + i]) for i in range(3)]
            theta = rngs[0].uniform(0, 2 * np.pi, (stop, n_params))[task.start :]
            cost = rngs[1].uniform(0, 1, stop)[task.start :]
            axes = rngs[2].integers(0, 3, (stop, n_params), dtype=np.int8)[task.start :]
            g.create_dataset("sample", data=sample)
            g.create_dataset("theta", data=theta)
            g.create_dataset("param_index", data=np.arange(task.k, dtype=np.int64))
            g.create_dataset("grad", data=_grads(task, seed).astype(np.float64))
            g.create_dataset("cost", data=cost)
            if task.ansatz == "mcclean":
                g.create_dataset("axes", data=axes)
            rank = (sample % mpi_size).astype(np.int32)
            t_sim = np.full(s, seconds_per_sample * task.qubits)
            g.create_dataset("rank", data=rank)
            g.create_dataset("time_simulate", data=t_sim)
            np.add.at(rank_samples, rank, 1)
            np.add.at(rank_sim, rank, t_sim)
        t = f.create_group("timing")
        ranks = np.arange(mpi_size)
        wall = rank_sim * 1.2 + 0.1 + 0.05 * ranks
        t.create_dataset("rank", data=ranks.astype(np.int32))
        t.create_dataset("attempt", data=np.zeros(mpi_size, dtype=np.int32))
        t.create_dataset("mpi_size", data=np.full(mpi_size, mpi_size, dtype=np.int32))
        t.create_dataset("threads", data=np.ones(mpi_size, dtype=np.int32))
        t.create_dataset("samples", data=rank_samples)
        t.create_dataset("wall_seconds", data=wall)
        t.create_dataset("simulate_seconds", data=rank_sim)
        t.create_dataset("io_seconds", data=np.full(mpi_size, 0.05))
    return path


def warmup_tasks(
    sizes: tuple[int, ...] = (2, 4, 6, 8), samples: int = 2000, gaussian: bool = True
) -> list[SynthTask]:
    """Product-ansatz tasks with the exact warm-up variances."""
    if gaussian:
        glob = normal_law(lambda n: 0.125 * 0.375 ** (n - 1))
        loc = normal_law(lambda n: 1.0 / (8.0 * n * n))
    else:
        glob, loc = warmup_global, warmup_local
    return [
        SynthTask("product", cost, n, law, samples=samples)
        for cost, law in (("global", glob), ("local", loc))
        for n in sizes
    ]


@pytest.fixture
def synth() -> Callable[..., Path]:
    """`synth(run_dir, tasks, **kw)` writes a synthetic results.h5 and returns run_dir."""

    def make(run_dir: Path, tasks: list[SynthTask], **kw: Any) -> Path:
        write_results(run_dir, tasks, **kw)
        return run_dir

    return make
