"""Combine several runs of one job: concatenate each task's samples, drop duplicates.

The same sample index in two runs must carry the same numbers (the suite derives a
sample's angles from (job seed, task, sample) alone). Gradients and costs are compared
with a tolerance of 64 machine epsilons of the coarser simulator precision (absolute and
relative), because a different thread or rank count may change the summation order in
the simulator; angles must agree to 1e-12.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analysis.errors import AnalysisError
from analysis.load import RunData, TaskData

EPS = {"double": float(np.finfo(np.float64).eps), "single": float(np.finfo(np.float32).eps)}
_IDENTITY_ATTRS = ("ansatz", "cost", "qubits", "depth", "family")


def precision_of(run: RunData) -> str:
    """`"single"` or `"double"` (the default when the simulator JSON does not say)."""
    value = str(run.simulator.get("precision", "double")).lower()
    return "single" if value in ("single", "float32", "float", "fp32") else "double"


def _check_identity(a: TaskData, b: TaskData, where: str) -> None:
    for attr in _IDENTITY_ATTRS:
        if getattr(a, attr) != getattr(b, attr):
            raise AnalysisError(
                f"{where}: task {a.task_id} has {attr}={getattr(b, attr)!r} here but "
                f"{getattr(a, attr)!r} in {a.sources[0]}"
            )
    if not np.array_equal(a.param_index, b.param_index):
        raise AnalysisError(
            f"{where}: task {a.task_id} differentiates parameters {b.param_index.tolist()} "
            f"here but {a.param_index.tolist()} in {a.sources[0]}"
        )


def _close(x: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray:
    x = x.reshape(x.shape[0], -1)
    y = y.reshape(y.shape[0], -1)
    ok = np.abs(x - y) <= tol * (1.0 + np.maximum(np.abs(x), np.abs(y)))
    both_nan = np.isnan(x) & np.isnan(y)
    return np.all(ok | both_nan, axis=1)


def _cat(parts: list[np.ndarray | None]) -> np.ndarray | None:
    if any(p is None for p in parts):
        return None
    return np.concatenate(parts, axis=0)  # type: ignore[arg-type]


def _loosest(bounds: list[np.ndarray | None]) -> np.ndarray | None:
    """The largest of the runs' gradient bounds (each is valid; runs of an older suite
    have none)."""
    known = [b for b in bounds if b is not None]
    return np.max(np.stack(known), axis=0) if known else None


def merge_task(parts: list[TaskData], tol: float) -> TaskData:
    """Concatenate one task's samples from several runs, sorted and de-duplicated."""
    first = parts[0]
    if len(parts) == 1:
        return first
    for other in parts[1:]:
        _check_identity(first, other, other.sources[0])
    sample = np.concatenate([p.sample for p in parts])
    source = np.concatenate([np.full(p.n_samples, i) for i, p in enumerate(parts)])
    grad = np.concatenate([p.grad for p in parts], axis=0)
    cost = _cat([p.cost_values for p in parts])
    theta = _cat([p.theta for p in parts])
    order = np.lexsort((source, sample))
    sample, source, grad = sample[order], source[order], grad[order]
    cost = cost[order] if cost is not None else None
    theta = theta[order] if theta is not None else None
    # Duplicates are adjacent after sorting; the first occurrence (earliest run) is kept.
    dup = np.zeros(sample.shape[0], dtype=bool)
    dup[1:] = sample[1:] == sample[:-1]
    if np.any(dup):
        cur = np.flatnonzero(dup)
        ref = cur - 1
        while np.any(dup[ref]):  # more than two runs: compare with the kept row
            ref = np.where(dup[ref], ref - 1, ref)
        bad = ~_close(grad[cur], grad[ref], tol)
        if cost is not None:
            bad |= ~_close(cost[cur], cost[ref], tol)
        if theta is not None:
            bad |= ~_close(theta[cur], theta[ref], 1e-12)
        if np.any(bad):
            i = int(cur[np.argmax(bad)])
            j = int(ref[np.argmax(bad)])
            raise AnalysisError(
                f"{parts[int(source[i])].sources[0]}: task {first.task_id} sample "
                f"{int(sample[i])} differs from the same sample in "
                f"{parts[int(source[j])].sources[0]}"
            )
    keep = ~dup
    kept_order = order[keep]

    def pick(arrays: list[np.ndarray | None]) -> np.ndarray | None:
        joined = _cat(arrays)
        return joined[kept_order] if joined is not None else None

    return replace(
        first,
        sample=sample[keep],
        grad=grad[keep],
        cost_values=cost[keep] if cost is not None else None,
        theta=theta[keep] if theta is not None else None,
        rank=pick([p.rank for p in parts]),
        time_simulate=pick([p.time_simulate for p in parts]),
        grad_shot_variance=pick([p.grad_shot_variance for p in parts]),
        cost_shot_variance=pick([p.cost_shot_variance for p in parts]),
        samples_requested=max((p.samples_requested or 0) for p in parts) or None,
        grad_bound=_loosest([p.grad_bound for p in parts]),
        sources=[s for p in parts for s in p.sources],
    )


def combine_runs(runs: list[RunData]) -> dict[str, TaskData]:
    """Tasks of all runs by id; a task present in several runs is merged."""
    if not runs:
        raise AnalysisError("no run directories given")
    precision = "single" if any(precision_of(r) == "single" for r in runs) else "double"
    tol = 64.0 * EPS[precision]
    by_id: dict[str, list[TaskData]] = {}
    for run in runs:
        for task_id, task in run.tasks.items():
            by_id.setdefault(task_id, []).append(task)
    return {task_id: merge_task(parts, tol) for task_id, parts in sorted(by_id.items())}
