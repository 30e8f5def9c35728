"""HDF5 schema `bpsuite/1` (docs/hdf5-schema.md): shard writer, scan, merge.

A shard is written by one rank in one attempt. All groups and datasets are
created when it opens, then the file switches to SWMR mode, so `bpsuite
status` can read it while the run goes on, and a rank killed at any moment
leaves a readable file: rows are appended data-first, `sample` last, and
`sample` is filled with −1 until written, so a reader keeps only rows whose
`sample` is set.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from suite import SCHEMA
from suite.circuits.sampling import stored_columns
from suite.records import Task
from suite.spec import JobSpec

SHARD_PATTERN = re.compile(r"rank-(\d+)-attempt-(\d+)\.h5$")
TIMING_FIELDS = {
    "rank": np.int32,
    "attempt": np.int32,
    "mpi_size": np.int32,
    "threads": np.int32,
    "samples": np.int64,
    "wall_seconds": np.float64,
    "simulate_seconds": np.float64,
    "io_seconds": np.float64,
}
# Datasets only shot tasks have (docs/shots.md); `axes` only random-axis tasks.
SHOT_DATASETS = ("grad_shot_variance", "cost_shot_variance")


class StoreError(RuntimeError):
    """A shard or results file is missing, corrupt or inconsistent."""


def shard_path(run_dir: Path, rank: int, attempt: int) -> Path:
    return run_dir / "shards" / f"rank-{rank:05d}-attempt-{attempt:03d}.h5"


def _task_attrs(group: h5py.Group, task: Task) -> None:
    group.attrs["ansatz"] = task.ansatz
    group.attrs["cost"] = task.cost
    group.attrs["qubits"] = task.qubits
    group.attrs["depth"] = task.depth
    group.attrs["family"] = task.family
    group.attrs["depth_rule"] = task.depth_rule
    group.attrs["n_params"] = task.n_params
    group.attrs["samples_requested"] = task.samples
    group.attrs["spec"] = task.to_json()


def _root_attrs(f: h5py.File, kind: str, provenance: dict[str, object]) -> None:
    f.attrs["schema"] = SCHEMA
    f.attrs["kind"] = kind
    for key, value in provenance.items():
        f.attrs[key] = value


ROW_DTYPES = {
    "sample": np.int64,
    "theta": np.float64,
    "grad": np.float64,
    "cost": np.float64,
    "axes": np.int8,
    "rank": np.int32,
    "time_simulate": np.float64,
    "grad_shot_variance": np.float64,
    "cost_shot_variance": np.float64,
}
ROW_DATASETS = tuple(name for name in ROW_DTYPES if name != "sample")


# A shard's HDF5 chunk holds at most this many bytes: a chunk is allocated whole on its
# first write, and rows of qcnn at n = 4096 (49 080 angles, 393 KB) in chunks of the job's
# largest batch (4096) made each shard 2.4 GB before a batch was complete.
CHUNK_BYTES = 4 << 20


def _growing_datasets(group: h5py.Group, task: Task, random_axes: bool, chunk: int) -> None:
    """Create a task's empty, resizable datasets (`sample` filled with −1), in chunks of
    at most `chunk` rows, the task's own batch, and CHUNK_BYTES."""
    stored = stored_columns(task)
    widths = {
        "theta": task.n_params if stored is None else len(stored),
        "grad": len(task.parameters),
        "axes": task.n_params,
        "grad_shot_variance": len(task.parameters),
    }
    for name, dtype in ROW_DTYPES.items():
        if (name == "axes" and not random_axes) or (name in SHOT_DATASETS and not task.shots):
            continue
        tail = (widths[name],) if name in widths else ()
        row_bytes = np.dtype(dtype).itemsize * (tail[0] if tail else 1)
        rows = max(1, min(chunk, task.batch, CHUNK_BYTES // max(1, row_bytes)))
        group.create_dataset(
            name,
            shape=(0, *tail),
            maxshape=(None, *tail),
            chunks=(rows, *tail),
            dtype=dtype,
            **({"fillvalue": -1} if name == "sample" else {}),
        )
    _index_datasets(group, task)


def _index_datasets(group: h5py.Group, task: Task) -> None:
    """`param_index`, and `theta_columns` where `theta` holds some columns only."""
    group.create_dataset("param_index", data=np.asarray(task.parameters, dtype=np.int64))
    stored = stored_columns(task)
    if stored is not None:
        group.create_dataset("theta_columns", data=stored)


class ShardWriter:
    """Appends batches of one rank's samples to its shard."""

    def __init__(
        self,
        path: Path,
        spec: JobSpec,
        provenance: dict[str, object],
        random_axes: dict[str, bool],
        chunk: int,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = h5py.File(path, "w", libver="latest")
        _root_attrs(self.file, "shard", provenance)
        tasks = self.file.create_group("tasks")
        for task in spec.tasks:
            group = tasks.create_group(task.id)
            _task_attrs(group, task)
            _growing_datasets(group, task, random_axes[task.id], chunk=max(1, chunk))
        timing = self.file.create_group("timing")
        for name, dtype in TIMING_FIELDS.items():
            timing.create_dataset(name, shape=(1,), dtype=dtype)
        self.file.swmr_mode = True

    def append(
        self,
        task_id: str,
        sample: np.ndarray,
        columns: dict[str, np.ndarray],
    ) -> None:
        """Append rows; `columns` holds every row dataset of the task but `sample`."""
        group = self.file["tasks"][task_id]
        start = group["sample"].shape[0]
        stop = start + len(sample)
        for name in ROW_DATASETS:
            if name not in group:
                continue
            dataset = group[name]
            dataset.resize(stop, axis=0)
            dataset[start:stop] = columns[name]
        group["sample"].resize(stop, axis=0)
        group["sample"][start:stop] = sample
        self.file.flush()

    def timing(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.file["timing"][name][0] = value
        self.file.flush()

    def close(self) -> None:
        if self.file.id.valid:
            self.file.close()


@dataclass
class TaskRows:
    """Rows of one task gathered from any number of files."""

    attrs: dict[str, object]
    param_index: np.ndarray
    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, group: h5py.Group) -> None:
        n = min(
            [group["sample"].shape[0]] + [group[c].shape[0] for c in ROW_DATASETS if c in group]
        )
        sample = group["sample"][:n]
        valid = sample >= 0
        self.columns.setdefault("sample", []).append(sample[valid])
        for name in ROW_DATASETS:
            if name in group:
                self.columns.setdefault(name, []).append(group[name][:n][valid])

    def stacked(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self.columns.items()}


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def shard_damage(path: Path) -> str | None:
    """Why a shard cannot be trusted, from its superblock alone, or None.

    A reader in SWMR mode retries damaged metadata for a long time instead of
    failing, so truncation (the usual damage of a killed job or a full disk)
    is caught here first: the superblock (version 2 or 3, as written with
    libver="latest") stores the end-of-file address, which a complete file
    reaches.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(48)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if len(head) < 44 or not head.startswith(HDF5_SIGNATURE):
        return "not an HDF5 file"
    if head[8] not in (2, 3) or head[9] != 8:
        return f"superblock version {head[8]} with {head[9]}-byte offsets, not a bpsuite shard"
    stored_eof = int.from_bytes(head[28:36], "little")
    if size < stored_eof:
        return f"truncated: {size} of {stored_eof} bytes"
    return None


def quarantine_damaged(run_dir: Path) -> list[str]:
    """Move shards that cannot be read to DIR/shards/damaged/; one message each.

    Called only while the run lock is held (no shard is being written), so
    any shard that fails here is damaged for good; its samples are computed
    again and nothing is deleted.
    """
    messages = []
    for path in sorted((run_dir / "shards").glob("*.h5")):
        damage = shard_damage(path)
        if damage is None:
            try:
                with h5py.File(path, "r", libver="latest", swmr=True) as f:
                    if f.attrs.get("schema") != SCHEMA:
                        damage = f"schema {f.attrs.get('schema')!r}"
                    else:
                        for group in f["tasks"].values():
                            group["sample"].shape  # noqa: B018 - reads the metadata
            except (OSError, KeyError) as exc:
                damage = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if damage is not None:
            target = path.parent / "damaged" / path.name
            target.parent.mkdir(exist_ok=True)
            path.replace(target)
            messages.append(
                f"{path.name}: unreadable shard ({damage}); moved to "
                f"shards/damaged/, its samples will be computed again"
            )
    return messages


def read_shards(run_dir: Path) -> tuple[dict[str, TaskRows], list[dict[str, object]], list[str]]:
    """All readable rows and timing of every shard; plus warnings for unreadable ones."""
    tasks: dict[str, TaskRows] = {}
    timing: list[dict[str, object]] = []
    warnings: list[str] = []
    for path in sorted((run_dir / "shards").glob("*.h5")):
        damage = shard_damage(path)
        if damage is not None:
            warnings.append(f"{path.name}: unreadable shard ({damage}); left out")
            continue
        try:
            with h5py.File(path, "r", libver="latest", swmr=True) as f:
                if f.attrs.get("schema") != SCHEMA:
                    raise StoreError(f"schema {f.attrs.get('schema')!r}")
                for task_id, group in f["tasks"].items():
                    rows = tasks.get(task_id)
                    if rows is None:
                        rows = tasks[task_id] = TaskRows(dict(group.attrs), group["param_index"][:])
                    rows.add(group)
                if "timing" in f:
                    timing.append({k: f["timing"][k][0].item() for k in f["timing"]})
        except (OSError, KeyError, StoreError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            warnings.append(f"{path.name}: unreadable shard ({reason}); left out")
    return tasks, timing, warnings


def done_samples(run_dir: Path) -> tuple[dict[str, np.ndarray], int, list[str]]:
    """Sample indices already present per task, the next attempt number, warnings."""
    tasks, _, warnings = read_shards(run_dir)
    done = {tid: np.unique(rows.stacked()["sample"]) for tid, rows in tasks.items()}
    attempts = [  # damaged shards count too: a new attempt never reuses a name
        int(m.group(2))
        for p in (run_dir / "shards").glob("**/*.h5")
        if (m := SHARD_PATTERN.search(p.name))
    ]
    return done, (max(attempts) + 1 if attempts else 0), warnings


def recorded_methods(run_dir: Path) -> dict[str, str]:
    """The method each task's shards were computed with (their stored task spec)."""
    methods: dict[str, str] = {}
    for path in sorted((run_dir / "shards").glob("*.h5")):
        if shard_damage(path) is not None:
            continue
        with h5py.File(path, "r", libver="latest", swmr=True) as f:
            for task_id, group in f["tasks"].items():
                if group["sample"].shape[0]:
                    methods[task_id] = json.loads(group.attrs["spec"])["method"]
    return methods


def _dedupe(task_id: str, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.argsort(data["sample"], kind="stable")
    data = {name: values[order] for name, values in data.items()}
    sample = data["sample"]
    keep = np.ones(len(sample), dtype=bool)
    keep[1:] = sample[1:] != sample[:-1]
    duplicates = np.flatnonzero(~keep)
    for i in duplicates:
        for name in ("theta", "grad", "cost", "axes", *SHOT_DATASETS):
            if name in data and not np.array_equal(data[name][i], data[name][i - 1]):
                raise StoreError(
                    f"task {task_id}: sample {sample[i]} was computed twice with different "
                    f"'{name}' (non-deterministic simulator or mixed jobs in one directory)"
                )
    return {name: values[keep] for name, values in data.items()}


def merge(
    run_dir: Path,
    spec: JobSpec,
    provenance: dict[str, object],
    bounds: dict[str, np.ndarray] | None = None,
) -> dict[str, int]:
    """Write DIR/results.h5 from every shard; returns samples per task. `bounds`: each
    task's |∂C/∂θ_k| bound (`grad_bound`, K), where known.

    Raises StoreError if any task is incomplete, naming the first gap.
    """
    tasks, timing, _ = read_shards(run_dir)
    merged: dict[str, dict[str, np.ndarray]] = {}
    for task in spec.tasks:
        rows = tasks.get(task.id)
        data = _dedupe(task.id, rows.stacked()) if rows else {"sample": np.empty(0, np.int64)}
        missing = np.setdiff1d(np.arange(task.samples), data["sample"])
        if len(missing):
            raise StoreError(
                f"task {task.id}: {len(missing)} of {task.samples} samples missing "
                f"(first: {missing[0]}); run the same command again to compute them"
            )
        merged[task.id] = {name: values[: task.samples] for name, values in data.items()}
    target = run_dir / "results.h5"
    partial = run_dir / "results.h5.partial"
    with h5py.File(partial, "w") as f:
        _root_attrs(f, "results", provenance)
        group_root = f.create_group("tasks")
        for task in spec.tasks:
            group = group_root.create_group(task.id)
            _task_attrs(group, task)
            _index_datasets(group, task)
            if bounds is not None and task.id in bounds:
                group.create_dataset("grad_bound", data=np.asarray(bounds[task.id], np.float64))
            for name, values in merged[task.id].items():
                group.create_dataset(name, data=values)
        timing_group = f.create_group("timing")
        timing.sort(key=lambda row: (row["attempt"], row["rank"]))
        for name, dtype in TIMING_FIELDS.items():
            timing_group.create_dataset(name, data=np.array([r[name] for r in timing], dtype=dtype))
    partial.replace(target)
    return {tid: len(values["sample"]) for tid, values in merged.items()}


def progress(run_dir: Path, spec: JobSpec) -> list[tuple[Task, int]]:
    """(task, samples present) for every task, from the shards."""
    done, _, _ = done_samples(run_dir)
    return [(t, int(np.sum(done.get(t.id, np.empty(0)) < t.samples))) for t in spec.tasks]
