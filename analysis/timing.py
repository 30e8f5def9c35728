"""Throughput, load balance, wall-time split and strong scaling.

* Per rank (from `/timing`, summed over attempts): samples/s = samples / wall.
* Per run: wall = Σ over attempts of the slowest rank's wall; load balance = Σ max /
  Σ mean rank wall (1 is perfect); the split of all rank-seconds into simulate, io and
  other = wall − simulate − io (clipped at 0).
* Per task (from `time_simulate`): simulate seconds = Σ time_simulate, samples/s =
  samples / that (the simulator throughput of one rank), also broken down by rank.
* Strong scaling, over runs of one job (same `spec_sha256`, else same `job_name`) with
  different `mpi_size`: t = wall / samples computed, speedup = t_base / t_N and
  efficiency = (N_base · t_base) / (N · t_N) relative to the smallest rank count
  (the fastest run where several share a rank count).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.load import RunData, TaskData


def _rate(samples: float, seconds: float) -> float | None:
    return samples / seconds if seconds > 0 else None


def run_timing(run: RunData) -> dict[str, Any]:
    """Timing of one run directory from its `/timing` table."""
    t = run.timing
    entry: dict[str, Any] = {
        "run_dir": str(run.run_dir),
        "job_name": run.attrs.get("job_name"),
        "spec_sha256": run.attrs.get("spec_sha256"),
        "mpi_size": run.mpi_size,
        "attempts": sorted({int(a) for a in t.attempt}),
        "rows": t.n_rows,
    }
    if t.n_rows == 0:
        entry.update({"wall_seconds": None, "samples": 0, "ranks": [], "load_balance": None})
        return entry
    other = np.maximum(t.wall_seconds - t.simulate_seconds - t.io_seconds, 0.0)
    ranks = []
    for r in sorted({int(x) for x in t.rank}):
        m = t.rank == r
        wall = float(t.wall_seconds[m].sum())
        samples = int(t.samples[m].sum())
        ranks.append(
            {
                "rank": r,
                "samples": samples,
                "wall_seconds": wall,
                "simulate_seconds": float(t.simulate_seconds[m].sum()),
                "io_seconds": float(t.io_seconds[m].sum()),
                "other_seconds": float(other[m].sum()),
                "threads": int(t.threads[m].max()),
                "samples_per_second": _rate(samples, wall),
            }
        )
    wall_total, mean_total = 0.0, 0.0
    for a in entry["attempts"]:
        w = t.wall_seconds[t.attempt == a]
        wall_total += float(w.max())
        mean_total += float(w.mean())
    rank_seconds = float(t.wall_seconds.sum())
    samples = int(t.samples.sum())
    sizes = sorted({int(x) for x in t.mpi_size})
    entry.update(
        {
            "mpi_sizes": sizes,
            "samples": samples,
            "wall_seconds": wall_total,
            "samples_per_second": _rate(samples, wall_total),
            "load_balance": wall_total / mean_total if mean_total > 0 else None,
            "rank_seconds": rank_seconds,
            "split": {
                "simulate": float(t.simulate_seconds.sum()) / rank_seconds
                if rank_seconds > 0
                else None,
                "io": float(t.io_seconds.sum()) / rank_seconds if rank_seconds > 0 else None,
                "other": float(other.sum()) / rank_seconds if rank_seconds > 0 else None,
            },
            "ranks": ranks,
        }
    )
    return entry


def task_timing(task: TaskData) -> dict[str, Any]:
    """Simulator throughput of one (combined) task from its per-sample times."""
    entry: dict[str, Any] = {
        "task": task.task_id,
        "family": task.family,
        "qubits": task.qubits,
        "depth": task.depth,
        "samples": task.n_samples,
        "simulate_seconds": None,
        "samples_per_second": None,
        "by_rank": [],
    }
    ts = task.time_simulate
    if ts is None or ts.size == 0:
        return entry
    total = float(np.nansum(ts))
    entry["simulate_seconds"] = total
    entry["seconds_per_sample"] = total / ts.size
    entry["samples_per_second"] = _rate(ts.size, total)
    if task.rank is not None:
        for r in np.unique(task.rank):
            m = task.rank == r
            sec = float(np.nansum(ts[m]))
            entry["by_rank"].append(
                {
                    "rank": int(r),
                    "samples": int(m.sum()),
                    "simulate_seconds": sec,
                    "samples_per_second": _rate(int(m.sum()), sec),
                }
            )
    return entry


def strong_scaling(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scaling tables for each job analysed at two or more rank counts."""
    jobs: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if not r.get("wall_seconds") or not r.get("samples") or r.get("mpi_size") is None:
            continue
        if len(r.get("mpi_sizes", [])) > 1:  # resumed at another size: not a clean point
            continue
        key = r.get("spec_sha256") or r.get("job_name") or "?"
        jobs.setdefault(str(key), []).append(r)
    out = []
    for _key, members in sorted(jobs.items()):
        best: dict[int, dict[str, Any]] = {}
        for r in members:
            t = r["wall_seconds"] / r["samples"]
            n = int(r["mpi_size"])
            if n not in best or t < best[n]["seconds_per_sample"]:
                best[n] = {
                    "mpi_size": n,
                    "seconds_per_sample": t,
                    "run_dir": r["run_dir"],
                    "wall_seconds": r["wall_seconds"],
                    "samples": r["samples"],
                }
        if len(best) < 2:
            continue
        sizes = sorted(best)
        base = best[sizes[0]]
        points = []
        for n in sizes:
            p = dict(best[n])
            p["speedup"] = base["seconds_per_sample"] / p["seconds_per_sample"]
            p["efficiency"] = (base["mpi_size"] * base["seconds_per_sample"]) / (
                n * p["seconds_per_sample"]
            )
            points.append(p)
        out.append(
            {
                "job": members[0].get("job_name"),
                "spec_sha256": members[0].get("spec_sha256"),
                "base_mpi_size": sizes[0],
                "points": points,
            }
        )
    return out


def timing_summary(runs: list[RunData], tasks: dict[str, TaskData]) -> dict[str, Any]:
    """Everything under summary["timing"]."""
    per_run = [run_timing(r) for r in runs]
    return {
        "runs": per_run,
        "tasks": [task_timing(t) for t in tasks.values()],
        "strong_scaling": strong_scaling(per_run),
    }
