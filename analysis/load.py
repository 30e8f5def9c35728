"""Read one run directory's `results.h5` (schema `bpsuite/1`) into plain arrays.

Only h5py and numpy are used; nothing here knows about statistics. Every problem with
the file becomes an `AnalysisError` whose message names the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from analysis.errors import AnalysisError

SCHEMA = "bpsuite/1"

REQUIRED_TASK_ATTRS = ("ansatz", "cost", "qubits", "depth")
REQUIRED_TASK_DATASETS = ("sample", "param_index", "grad")
TIMING_COLUMNS = (
    "rank",
    "attempt",
    "mpi_size",
    "threads",
    "samples",
    "wall_seconds",
    "simulate_seconds",
    "io_seconds",
)


@dataclass
class TaskData:
    """One `/tasks/<id>` group. Arrays are sorted by `sample`."""

    task_id: str
    ansatz: str
    cost: str
    qubits: int
    depth: int
    family: str
    depth_rule: str
    n_params: int | None
    samples_requested: int | None
    spec: dict[str, Any]
    sample: np.ndarray  # int64 (S,)
    param_index: np.ndarray  # int64 (K,)
    grad: np.ndarray  # float64 (S, K)
    cost_values: np.ndarray | None  # float64 (S,)
    theta: np.ndarray | None  # float64 (S, P); only read when asked for
    rank: np.ndarray | None  # int32 (S,)
    time_simulate: np.ndarray | None  # float64 (S,)
    sources: list[str] = field(default_factory=list)
    # Finite shots (docs/shots.md): per-sample unbiased estimates of the shot-noise
    # variance of each stored gradient (S, K) and cost (S); None for exact tasks.
    grad_shot_variance: np.ndarray | None = None
    cost_shot_variance: np.ndarray | None = None
    # |∂C/∂θ_k| ≤ grad_bound[k] (K,), from the observable (docs/analysis.md, one-sided
    # bounds); None in runs written before it was stored.
    grad_bound: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.sample.shape[0])


@dataclass
class TimingTable:
    """The `/timing` table: one row per (rank, attempt)."""

    rank: np.ndarray
    attempt: np.ndarray
    mpi_size: np.ndarray
    threads: np.ndarray
    samples: np.ndarray
    wall_seconds: np.ndarray
    simulate_seconds: np.ndarray
    io_seconds: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.rank.shape[0])

    @classmethod
    def empty(cls) -> TimingTable:
        ints = np.zeros(0, dtype=np.int64)
        floats = np.zeros(0, dtype=np.float64)
        return cls(ints, ints, ints, ints, ints, floats, floats, floats)


@dataclass
class RunData:
    """A whole run directory: provenance, tasks and timing."""

    run_dir: Path
    path: Path
    attrs: dict[str, Any]
    simulator: dict[str, Any]
    tasks: dict[str, TaskData]
    timing: TimingTable

    @property
    def mpi_size(self) -> int | None:
        value = self.attrs.get("mpi_size")
        return int(value) if value is not None else None


def _plain(value: Any) -> Any:
    """HDF5 attribute value → plain Python (str, int, float, list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [_plain(v) for v in value.tolist()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_attr(value: Any, what: str, path: Path) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{path}: attribute {what} is not valid JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise AnalysisError(f"{path}: attribute {what} is not a JSON object")
    return parsed


def _dataset(group: h5py.Group, name: str, path: Path, dtype: Any) -> np.ndarray:
    obj = group.get(name)
    if not isinstance(obj, h5py.Dataset):
        raise AnalysisError(f"{path}: {group.name}/{name} is missing or not a dataset")
    try:
        return np.asarray(obj[()], dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{path}: {group.name}/{name} has the wrong type ({exc})") from None


def _optional(group: h5py.Group, name: str, path: Path, dtype: Any) -> np.ndarray | None:
    return _dataset(group, name, path, dtype) if name in group else None


def _read_task(task_id: str, group: h5py.Group, path: Path, with_theta: bool) -> TaskData:
    attrs = {k: _plain(v) for k, v in group.attrs.items()}
    for key in REQUIRED_TASK_ATTRS:
        if key not in attrs:
            raise AnalysisError(f"{path}: task {task_id} lacks attribute {key!r}")
    sample = _dataset(group, "sample", path, np.int64).reshape(-1)
    param_index = _dataset(group, "param_index", path, np.int64).reshape(-1)
    grad = _dataset(group, "grad", path, np.float64)
    n = sample.shape[0]
    k = param_index.shape[0]
    if grad.ndim == 1 and k == 1:
        grad = grad.reshape(-1, 1)
    if grad.shape != (n, k):
        raise AnalysisError(
            f"{path}: task {task_id} grad has shape {grad.shape}, expected ({n}, {k})"
        )
    cost_values = _optional(group, "cost", path, np.float64)
    if cost_values is not None and cost_values.size and np.isnan(cost_values).all():
        cost_values = None  # not computed (light cones at large n, docs/large-n.md)
    rank = _optional(group, "rank", path, np.int64)
    time_simulate = _optional(group, "time_simulate", path, np.float64)
    theta = _optional(group, "theta", path, np.float64) if with_theta else None
    grad_shot = _optional(group, "grad_shot_variance", path, np.float64)
    cost_shot = _optional(group, "cost_shot_variance", path, np.float64)
    bound = _optional(group, "grad_bound", path, np.float64)
    if bound is not None and bound.reshape(-1).shape[0] != k:
        raise AnalysisError(
            f"{path}: task {task_id} grad_bound has {bound.size} values, expected {k}"
        )
    if grad_shot is not None:
        grad_shot = grad_shot.reshape(-1, 1) if grad_shot.ndim == 1 and k == 1 else grad_shot
        if grad_shot.shape != (n, k):
            raise AnalysisError(
                f"{path}: task {task_id} grad_shot_variance has shape {grad_shot.shape}, "
                f"expected ({n}, {k})"
            )
    for name, arr in (
        ("cost", cost_values),
        ("rank", rank),
        ("time_simulate", time_simulate),
        ("cost_shot_variance", cost_shot),
    ):
        if arr is not None and arr.reshape(-1).shape[0] != n:
            raise AnalysisError(f"{path}: task {task_id} {name} has {arr.size} rows, expected {n}")
    if theta is not None and (theta.ndim != 2 or theta.shape[0] != n):
        raise AnalysisError(f"{path}: task {task_id} theta has shape {theta.shape}")
    order = np.argsort(sample, kind="stable")
    if not np.all(order == np.arange(n)):
        sample, grad = sample[order], grad[order]
        cost_values = cost_values[order] if cost_values is not None else None
        rank = rank[order] if rank is not None else None
        time_simulate = time_simulate[order] if time_simulate is not None else None
        theta = theta[order] if theta is not None else None
        grad_shot = grad_shot[order] if grad_shot is not None else None
        cost_shot = cost_shot[order] if cost_shot is not None else None
    if n > 1 and np.any(np.diff(sample) == 0):
        raise AnalysisError(f"{path}: task {task_id} has duplicate sample indices")
    spec = _json_attr(attrs.get("spec"), f"spec of task {task_id}", path)
    qubits, depth = int(attrs["qubits"]), int(attrs["depth"])
    family = str(attrs.get("family") or f"{attrs['ansatz']}-{attrs['cost']}-L{depth}")
    return TaskData(
        task_id=task_id,
        ansatz=str(attrs["ansatz"]),
        cost=str(attrs["cost"]),
        qubits=qubits,
        depth=depth,
        family=family,
        depth_rule=str(attrs.get("depth_rule", depth)),
        n_params=int(attrs["n_params"]) if "n_params" in attrs else None,
        samples_requested=(
            int(attrs["samples_requested"]) if "samples_requested" in attrs else None
        ),
        spec=spec,
        sample=sample,
        param_index=param_index,
        grad=grad,
        cost_values=cost_values.reshape(-1) if cost_values is not None else None,
        theta=theta,
        rank=rank.reshape(-1) if rank is not None else None,
        time_simulate=time_simulate.reshape(-1) if time_simulate is not None else None,
        sources=[str(path)],
        grad_shot_variance=grad_shot,
        cost_shot_variance=cost_shot.reshape(-1) if cost_shot is not None else None,
        grad_bound=bound.reshape(-1) if bound is not None else None,
    )


def _read_timing(f: h5py.File, path: Path) -> TimingTable:
    group = f.get("timing")
    if group is None:
        return TimingTable.empty()
    if not isinstance(group, h5py.Group):
        raise AnalysisError(f"{path}: /timing is not a group")
    cols: dict[str, np.ndarray] = {}
    for name in TIMING_COLUMNS:
        dtype = np.float64 if name.endswith("seconds") else np.int64
        cols[name] = _dataset(group, name, path, dtype).reshape(-1)
    sizes = {arr.shape[0] for arr in cols.values()}
    if len(sizes) != 1:
        raise AnalysisError(f"{path}: /timing columns have different lengths {sorted(sizes)}")
    return TimingTable(**cols)


def load_run(run_dir: Path, with_theta: bool = False) -> RunData:
    """Read `run_dir/results.h5` (or the file itself if a `.h5` path is given)."""
    run_dir = Path(run_dir)
    path = run_dir if run_dir.suffix == ".h5" and run_dir.is_file() else run_dir / "results.h5"
    if path == run_dir:
        run_dir = run_dir.parent
    if not path.is_file():
        raise AnalysisError(f"{path}: results file not found")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot open as HDF5 ({exc})") from None
    with f:
        attrs = {k: _plain(v) for k, v in f.attrs.items()}
        schema = attrs.get("schema")
        if schema != SCHEMA:
            raise AnalysisError(f"{path}: schema is {schema!r}, expected {SCHEMA!r}")
        simulator = _json_attr(attrs.get("simulator"), "simulator", path)
        tasks_group = f.get("tasks")
        if not isinstance(tasks_group, h5py.Group):
            raise AnalysisError(f"{path}: group /tasks is missing")
        tasks: dict[str, TaskData] = {}
        for task_id in sorted(tasks_group.keys()):
            group = tasks_group[task_id]
            if not isinstance(group, h5py.Group):
                raise AnalysisError(f"{path}: /tasks/{task_id} is not a group")
            tasks[task_id] = _read_task(task_id, group, path, with_theta)
        timing = _read_timing(f, path)
    return RunData(
        run_dir=run_dir,
        path=path,
        attrs=attrs,
        simulator=simulator,
        tasks=tasks,
        timing=timing,
    )
