"""Turn combined task data into the summary dict (tasks, fits, sweeps)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analysis import bounds, theory
from analysis.load import RunData, TaskData
from analysis.shots import shot_entry
from analysis.statistics import (
    ColumnStats,
    column_stats,
    heavy_tail_check,
    precision_floor,
    precision_floor_check,
    task_rng,
)
from analysis.verdict import FamilyPoint, evaluate_family

PROVENANCE_KEYS = (
    "job_name",
    "job_seed",
    "spec_sha256",
    "kind",
    "suite_version",
    "python_version",
    "numpy_version",
    "h5py_version",
    "qiskit_version",
    "qiskit_aer_version",
    "qiskit_aer_kernels",
    "mpi_library",
    "mpi_size",
    "host",
    "cpu_model",
    "git_revision",
    "created",
)


def provenance(run: RunData) -> dict[str, Any]:
    """Root attributes of one results.h5 that say where the numbers came from."""
    entry: dict[str, Any] = {"run_dir": str(run.run_dir), "results": str(run.path)}
    for key in PROVENANCE_KEYS:
        entry[key] = run.attrs.get(key)
    entry["simulator"] = run.simulator
    entry["tasks"] = len(run.tasks)
    return entry


def _column_entry(stats: ColumnStats, exact: float | None, precision: str) -> dict[str, Any]:
    ci = stats.variance_ci
    heavy, heavy_reason = heavy_tail_check(stats)
    entry: dict[str, Any] = {
        "samples": stats.samples,
        "mean": stats.mean,
        "variance": stats.variance,
        "variance_ci": list(ci) if ci else None,
        "ln_variance": stats.ci.ln_variance if stats.ci else None,
        "ln_variance_ci": list(stats.ci.ln_ci) if stats.ci else None,
        "ln_variance_se": stats.ci.ln_se if stats.ci else None,
        "bootstrap_method": stats.ci.method if stats.ci else None,
        "fit_ln_variance": stats.fit_ln_variance,
        "fit_ln_se": stats.fit_ln_se,
        "kurtosis": stats.kurtosis,
        "excess_kurtosis": stats.kurtosis - 3.0 if stats.kurtosis is not None else None,
        "effective_sample_size": stats.effective_sample_size,
        "max_share": stats.max_share,
        "heavy_tail_warning": heavy,
        "heavy_tail_reason": heavy_reason,
        "precision_floor_flag": precision_floor_check(stats.variance, precision),
        "exact": exact,
        "exact_within_ci": bool(ci[0] <= exact <= ci[1]) if (ci and exact is not None) else None,
    }
    if stats.variance == 0.0:
        entry["precision_floor_flag"] = True
    return entry


def task_entry(
    task: TaskData,
    precision: str,
    seed: int,
    confidence: float,
    n_resamples: int,
) -> dict[str, Any]:
    """One element of summary["tasks"]."""
    cols = column_stats(
        task.grad, task_rng(seed, task.task_id), confidence=confidence, n_resamples=n_resamples
    )
    modifiers = theory.spec_modifiers(task.spec)
    params = [int(p) for p in task.param_index]
    col_entries = []
    for j, (p, st) in enumerate(zip(params, cols, strict=True)):
        exact = None
        if not modifiers:
            exact = theory.exact_variance(task.ansatz, task.cost, task.qubits, task.depth, p)
        col = _column_entry(st, exact, precision)
        col["param_index"] = p
        bound = None if task.grad_bound is None else float(task.grad_bound[j])
        col.update(bounds.bound_entry(task.grad[:, j], bound, confidence, precision))
        # noise and shots change the law: the noiseless deep limit does not apply
        col["deep_limit"] = (
            None if modifiers else theory.deep_limit(task.ansatz, task.cost, task.qubits, p)
        )
        col_entries.append(col)
    first = (
        col_entries[0]
        if col_entries
        else _column_entry(
            ColumnStats(task.n_samples, None, None, None, None, None, None), None, precision
        )
    )
    entry: dict[str, Any] = {
        "task": task.task_id,
        "ansatz": task.ansatz,
        "cost": task.cost,
        "qubits": task.qubits,
        "depth": task.depth,
        "family": task.family,
        "depth_rule": task.depth_rule,
        "samples": task.n_samples,
        "samples_requested": task.samples_requested,
        "param_index": params,
    }
    for key in ("theorem", "observable", "options", "noise"):  # what the sweep said
        if task.spec.get(key):
            entry[key] = task.spec[key]
    for key, value in first.items():
        if key not in ("samples", "param_index"):
            entry[key] = value
    entry["precision"] = precision
    entry["precision_floor"] = precision_floor(precision)
    entry["modifiers"] = modifiers
    notes = []
    if task.samples_requested and task.n_samples < task.samples_requested:
        notes.append(f"incomplete: {task.n_samples} of {task.samples_requested} samples")
    if modifiers:
        notes.append(f"{', '.join(modifiers)} set: no exact value and no theorem check")
    if (
        task.ansatz == "mcclean"
        and entry.get("exact") is None
        and entry.get("deep_limit") is not None
        and task.depth < theory.DEEP_FACTOR * task.qubits
    ):
        notes.append(f"depth {task.depth} < {theory.DEEP_FACTOR}n: deep limit for comparison only")
    if not entry.get("variance_resolved", True):
        said = bounds.describe(entry, confidence) or "no |∂C/∂θ| bound stored: no upper bound"
        notes.append(f"{entry['nonzero_samples']} non-zero samples: variance not resolved; {said}")
    entry["notes"] = notes
    entry.update(loss_entry(task, precision, seed, confidence, n_resamples))
    if len(col_entries) > 1:
        entry["parameters"] = col_entries
    entry.update(shot_entry(task, entry, confidence))
    entry["runs"] = sorted(set(task.sources))
    return entry


def loss_entry(
    task: TaskData, precision: str, seed: int, confidence: float, n_resamples: int
) -> dict[str, Any]:
    """The cost's own statistics: loss concentration goes with vanishing gradients
    (Arrasmith et al., Quantum Sci. Technol. 7, 045015 (2022)), so the loss is analysed
    like a gradient column. A bootstrap stream of its own keeps the gradient's numbers."""
    if task.cost_values is None:
        return {}
    (stats,) = column_stats(
        task.cost_values[:, None],
        task_rng(seed, task.task_id + "/loss"),
        confidence=confidence,
        n_resamples=n_resamples,
    )
    column = _column_entry(stats, None, precision)
    entry = {f"loss_{key}": column[key] for key in LOSS_KEYS}
    entry["loss_variance_ci"] = column["variance_ci"]
    return entry


LOSS_KEYS = (
    "mean",
    "variance",
    "ln_variance_ci",
    "fit_ln_variance",
    "fit_ln_se",
    "kurtosis",
    "effective_sample_size",
    "heavy_tail_warning",
    "precision_floor_flag",
)


def family_fits(tasks: list[dict[str, Any]], confidence: float) -> list[dict[str, Any]]:
    """Fit entries and verdicts for every family: the gradient's, then the loss's
    (family id + LOSS_SUFFIX; the theorem's model without its exact gradient rate)."""
    out = _family_fits(tasks, confidence, "gradient")
    if any(t.get("loss_variance") is not None for t in tasks):
        out += _family_fits(tasks, confidence, "loss")
    return out


LOSS_SUFFIX = " [loss]"


def _family_fits(
    tasks: list[dict[str, Any]], confidence: float, quantity: str
) -> list[dict[str, Any]]:
    prefix = "loss_" if quantity == "loss" else ""
    families: dict[str, list[dict[str, Any]]] = {}
    for t in tasks:
        families.setdefault(t["family"], []).append(t)
    out: list[dict[str, Any]] = []
    for family, members in sorted(
        families.items(), key=lambda kv: (kv[1][0]["ansatz"], kv[1][0]["cost"], kv[0])
    ):
        head = members[0]
        points = [
            FamilyPoint(
                task=t["task"],
                qubits=t["qubits"],
                depth=t["depth"],
                ln_variance=t.get(prefix + "fit_ln_variance"),
                ln_se=t.get(prefix + "fit_ln_se"),
                heavy_tail=bool(t.get(prefix + "heavy_tail_warning")),
                at_floor=bool(t.get(prefix + "precision_floor_flag")),
                at_shot_floor=bool(t.get(prefix + "at_shot_floor")),
                unresolved=quantity == "gradient" and not t.get("variance_resolved", True),
                exact=t.get("exact") if quantity == "gradient" else None,
            )
            for t in members
        ]
        modifiers = sorted({m for t in members for m in t.get("modifiers", [])})
        theorem = theory.theorem_for(head["ansatz"], head["cost"], head)
        if quantity == "loss" and theorem is not None:
            theorem = theory.for_loss(theorem)
        entries = evaluate_family(
            family + (LOSS_SUFFIX if quantity == "loss" else ""),
            head["ansatz"],
            head["cost"],
            str(head.get("depth_rule", head["depth"])),
            points,
            theorem,
            modifiers,
            confidence,
        )
        for entry in entries:
            entry["quantity"] = quantity
        out.extend(entries)
    return out


def jsonable(value: Any) -> Any:
    """Plain JSON types; NaN and ±inf become null (strict JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
