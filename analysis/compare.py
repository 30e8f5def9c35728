"""Compare two runs of one job (`bpsuite compare A B`; docs/compare.md).

Pure statistics on two loaded runs (`analysis.load.RunData`), per task present in both:

* Variance test, for each differentiated parameter's derivative and for the cost:
  H0 Var_A = Var_B, two-sided. Up to PERMUTATION_SAMPLES samples in A and B together, and
  for heavy tails (`statistics.heavy_tail_check` fires on either side) at any size: a
  permutation test of |ln s²_B − ln s²_A| over relabellings of the pooled values, exact
  for any distribution under H0 "A and B are draws from one distribution" (runs of one
  job); its Monte Carlo stops early once the p-value is clearly above the threshold
  (Besag & Clifford 1991). Larger light-tailed samples: the difference of the
  bias-corrected ln s² (`statistics.fit_ln_variance`) divided by sqrt(se_A² + se_B²), the
  delta-method standard errors with the kurtosis pooled over both sides (under H0 they
  share it), against Student's t with the Welch–Satterthwaite degrees of freedom of the two
  effective sample sizes. (That statistic is anti-conservative for heavy tails, where the
  plug-in kurtosis misses the rare large values, and slightly so for small samples.)
  A task "differs" when one of its m = K + 1 p-values is below alpha / m (Bonferroni), with
  alpha = 1 − confidence: per task, P(false alarm) <= alpha whatever the correlation of the
  m quantities; over T tasks of two runs of one job, P(any false alarm) <= T · alpha.
* Bit identity, when A and B share job_seed and spec_sha256 or the job.toml text, or, task
  by task, the task's own spec (a sample's numbers depend on the job seed and its task
  alone, so a job that gained tasks still compares the others bit for bit): theta, grad
  and cost of the samples present in both must be equal bit for bit.
* Throughput B/A: samples per second per rank. Per task from `time_simulate` (its batches
  are the runs of equal (rank, time) in sample order); its noise band is a log-normal
  interval: the standard error of the mean seconds per sample from the spread of the batch
  times (ratio estimator), Student's t with Welch degrees of freedom. Overall from the sum
  of the common tasks' simulate seconds (same band construction), and from the /timing
  table's wall seconds (rank-seconds), whose band borrows the relative width of the
  simulate band (the wall time is one number per rank, with no spread of its own).
  A throughput counts as a slowdown when the upper end of its band is below
  1 − max_slowdown: B is slower by more than max_slowdown at one-sided confidence
  (1 + confidence) / 2.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from scipy.special import stdtr, stdtrit

from analysis.combine import precision_of
from analysis.errors import AnalysisError
from analysis.load import RunData, TaskData
from analysis.statistics import (
    column_stats,
    fit_ln_variance,
    heavy_tail_check,
    moments,
    precision_floor_check,
    relative_variance_of_variance,
    task_rng,
)
from analysis.summary import PROVENANCE_KEYS, jsonable

DEFAULT_CONFIDENCE = 0.999
DEFAULT_MAX_SLOWDOWN = 0.10
# Permutation test: stop once this many permuted statistics reach the observed one
# (the p-value is then clearly above any threshold we use), else go on up to
# max(MIN_PERMUTATIONS, PERMUTATIONS_PER_LEVEL / threshold) permutations.
EXCEEDANCES_TO_STOP = 20
# Up to this many samples in A and B together the permutation test is used for every
# quantity (exact; a few ms for the usual p-values), above it only for heavy tails.
PERMUTATION_SAMPLES = 20_000
MIN_PERMUTATIONS = 2000
PERMUTATIONS_PER_LEVEL = 10
_CHUNK = 64
# the versions of the software of a run, from the provenance the summary reports
VERSION_KEYS = (
    *(k for k in PROVENANCE_KEYS if k.endswith("_version")),
    "qiskit_aer_kernels",  # avx2 or generic: a different build gives other last bits
    "mpi_library",
)


class DifferentJobsError(AnalysisError):
    """A and B are runs of different jobs (different job_name)."""


# ----------------------------------------------------------------- variance tests


def ln_variance_z_test(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Delta-method test of Var(a) = Var(b) on ln s² (pooled kurtosis, Welch t)."""
    sa, sb = a.shape[0], b.shape[0]
    _, va, _, _ = moments(a)
    _, vb, _, _ = moments(b)
    da, db = a - a.mean(), b - b.mean()
    m2a, m2b = float(np.mean(da * da)), float(np.mean(db * db))
    kurt = (np.sum(da**4) / m2a**2 + np.sum(db**4) / m2b**2) / (sa + sb)
    ra = relative_variance_of_variance(sa, kurt)
    rb = relative_variance_of_variance(sb, kurt)
    if ra is None or rb is None:
        return {"method": "z", "statistic": None, "df": None, "p": None}
    diff = fit_ln_variance(vb, sb, kurt) - fit_ln_variance(va, sa, kurt)  # type: ignore[operator]
    z = diff / math.sqrt(ra + rb)
    # r = 2/(S_eff − 1): each side's variance estimate is worth S_eff − 1 Gaussian dof.
    df = (ra + rb) ** 2 / (ra**2 / (2.0 / ra) + rb**2 / (2.0 / rb))
    p = float(2.0 * stdtr(df, -abs(z)))
    return {"method": "z", "statistic": float(z), "df": float(df), "p": p}


def ln_variance_permutation_test(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, threshold: float
) -> dict[str, Any]:
    """Permutation test of H0 "a and b are draws from one distribution" with the statistic
    |ln s²_b − ln s²_a| (each s² about its own group's mean), exact for any distribution.

    The values themselves are relabelled: permuting deviations from each side's own mean
    instead is not exact, and with skewed heavy tails (global costs) it rejects several
    times too often.
    """
    sa, sb = a.shape[0], b.shape[0]
    x = np.concatenate([a, b])
    x = x - x.mean()  # a common shift changes no statistic; it limits cancellation
    x2 = x * x
    sum_all, sum2_all = float(x.sum()), float(x2.sum())

    def stat(sum_b: np.ndarray, sum2_b: np.ndarray) -> np.ndarray:
        ss_b = np.maximum(sum2_b - sum_b * sum_b / sb, 0.0)
        sum_a, sum2_a = sum_all - sum_b, sum2_all - sum2_b
        ss_a = np.maximum(sum2_a - sum_a * sum_a / sa, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.abs(np.log(ss_b / (sb - 1)) - np.log(ss_a / (sa - 1)))

    observed = float(stat(np.array([x[sa:].sum()]), np.array([x2[sa:].sum()]))[0])
    limit = max(MIN_PERMUTATIONS, math.ceil(PERMUTATIONS_PER_LEVEL / threshold))
    done = hits = 0
    tol = 1e-9 * max(1.0, observed)  # rounding of the sums must not hide a tie
    while done < limit and hits < EXCEEDANCES_TO_STOP:
        n = min(_CHUNK, limit - done)
        keys = rng.random((n, sa + sb))
        chosen = np.argpartition(keys, sa, axis=1)[:, sa:]  # sb random labels for B
        t = stat(x[chosen].sum(axis=1), x2[chosen].sum(axis=1))
        hits += int(np.sum(t >= observed - tol))
        done += n
    return {
        "method": "permutation",
        "statistic": observed,
        "permutations": done,
        "p": (hits + 1) / (done + 1),
    }


def variance_test(
    a: np.ndarray,
    b: np.ndarray,
    rng: np.random.Generator,
    threshold: float,
    heavy: bool,
) -> dict[str, Any]:
    """p-value of H0 Var(a) = Var(b): the permutation test for heavy tails (`heavy`) or
    up to PERMUTATION_SAMPLES samples, else the z-test."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.tobytes() == b.tobytes():
        return {"method": "identical", "statistic": 0.0, "p": 1.0}
    if heavy or a.size + b.size <= PERMUTATION_SAMPLES:
        return ln_variance_permutation_test(a, b, rng, threshold)
    return ln_variance_z_test(a, b)


def _side(stats: Any) -> dict[str, Any]:
    return {
        "samples": stats.samples,
        "variance": stats.variance,
        "variance_ci": list(stats.variance_ci) if stats.variance_ci else None,
        "kurtosis": stats.kurtosis,
        "effective_sample_size": stats.effective_sample_size,
    }


def compare_quantity(
    name: str,
    xa: np.ndarray,
    xb: np.ndarray,
    key: str,
    confidence: float,
    threshold: float,
    precisions: tuple[str, str],
    seed: int = 0,
) -> dict[str, Any]:
    """Variances of one quantity in A and B (with BCa intervals) and their test."""
    # the same resamples on both sides: identical data get identical intervals
    sa = column_stats(xa, task_rng(seed, key), confidence)[0]
    sb = column_stats(xb, task_rng(seed, key), confidence)[0]
    entry: dict[str, Any] = {"quantity": name, "a": _side(sa), "b": _side(sb)}
    entry.update({"ratio": None, "test": None, "p": None, "differs": False, "note": None})
    va, vb = sa.variance, sb.variance
    if va is None or vb is None or xa.shape[0] < 3 or xb.shape[0] < 3:
        entry["note"] = "too few finite samples to test"
        return entry
    if precision_floor_check(va, precisions[0]) and precision_floor_check(vb, precisions[1]):
        entry["note"] = "both at the precision floor: not tested"
        return entry
    entry["ratio"] = vb / va if va > 0 else (1.0 if vb == 0 else math.inf)
    if va == 0 or vb == 0:
        entry["test"], entry["p"] = {"method": "zero variance"}, 1.0 if va == vb else 0.0
    else:
        heavy = heavy_tail_check(sa)[0] or heavy_tail_check(sb)[0]
        test = variance_test(xa, xb, task_rng(seed, key + "/test"), threshold, heavy)
        entry["test"], entry["p"] = test, test["p"]
    entry["differs"] = entry["p"] is not None and entry["p"] < threshold
    return entry


# ----------------------------------------------------------------- bit identity


def _max_abs_difference(x: np.ndarray | None, y: np.ndarray | None) -> float | None:
    if x is None or y is None or x.shape != y.shape or x.size == 0:
        return None
    with np.errstate(invalid="ignore"):
        d = np.abs(x - y)
    return float(np.nanmax(d)) if np.any(np.isfinite(d)) else math.nan


def bit_identity(ta: TaskData, tb: TaskData) -> dict[str, Any]:
    """Bitwise comparison of theta, grad and cost on the samples present in both."""
    common, ia, ib = np.intersect1d(ta.sample, tb.sample, return_indices=True)
    out: dict[str, Any] = {"samples_compared": int(common.size), "identical": True}
    differing = []
    pairs = {
        "theta": (ta.theta, tb.theta),
        "grad": (ta.grad, tb.grad),
        "cost": (ta.cost_values, tb.cost_values),
    }
    if not np.array_equal(ta.param_index, tb.param_index):
        differing.append("param_index")
        pairs.pop("grad")
    for name, (x, y) in pairs.items():
        if x is None or y is None:
            out[f"max_abs_{name}_difference"] = None
            continue
        x, y = x[ia], y[ib]
        same = x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        out[f"max_abs_{name}_difference"] = 0.0 if same else _max_abs_difference(x, y)
        if not same:
            differing.append(name)
    out["identical"] = not differing
    out["differing"] = differing
    return out


# ----------------------------------------------------------------- throughput


def batches(task: TaskData) -> tuple[np.ndarray, np.ndarray] | None:
    """(samples, seconds per sample) of each batch: runs of consecutive samples computed
    by one rank with one `time_simulate` value (the batch's time / its size)."""
    ts = task.time_simulate
    if ts is None or ts.size == 0 or not np.all(np.isfinite(ts)):
        return None
    rank = task.rank if task.rank is not None else np.zeros(ts.size, dtype=np.int64)
    new = np.ones(ts.size, dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (rank[1:] != rank[:-1]) | (np.diff(task.sample) != 1)
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, ts.size)).astype(np.float64)
    return sizes, ts[starts]


def _seconds(sizes: np.ndarray, times: np.ndarray) -> dict[str, Any]:
    """Total seconds, its variance from the batch spread (ratio estimator), dof."""
    n, s = sizes.size, float(sizes.sum())
    total = float(np.sum(sizes * times))
    if n < 2:
        return {"samples": s, "seconds": total, "var": None, "df": None, "batches": n}
    tau = total / s
    e = sizes * (times - tau)
    var_tau = float(np.sum(e * e)) / ((s / n) ** 2 * n * (n - 1))
    return {"samples": s, "seconds": total, "var": var_tau * s * s, "df": n - 1, "batches": n}


def _combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum of independent totals; Welch–Satterthwaite dof."""
    out = {
        "samples": sum(p["samples"] for p in parts),
        "seconds": sum(p["seconds"] for p in parts),
        "batches": sum(p["batches"] for p in parts),
        "var": None,
        "df": None,
    }
    known = [p for p in parts if p["var"] is not None]
    if known and len(known) == len(parts):
        var = sum(p["var"] for p in known)
        den = sum(p["var"] ** 2 / p["df"] for p in known)
        out["var"], out["df"] = var, (var * var / den if den > 0 else math.inf)
    return out


def throughput_ratio(
    a: dict[str, Any], b: dict[str, Any], confidence: float, max_slowdown: float
) -> dict[str, Any]:
    """Samples per second of each side, B/A and its log-normal band."""
    rate_a = a["samples"] / a["seconds"] if a["seconds"] > 0 else None
    rate_b = b["samples"] / b["seconds"] if b["seconds"] > 0 else None
    out: dict[str, Any] = {
        "a": rate_a,
        "b": rate_b,
        "ratio": None,
        "band": None,
        "batches": [a["batches"], b["batches"]],
        "slowdown": False,
    }
    if rate_a is None or rate_b is None:
        return out
    ratio = rate_b / rate_a
    out["ratio"] = ratio
    if a["var"] is None or b["var"] is None:
        out["band"], out["note"] = [ratio, ratio], "fewer than 2 batches: no noise band"
    else:
        ra, rb = a["var"] / a["seconds"] ** 2, b["var"] / b["seconds"] ** 2
        se = math.sqrt(ra + rb)
        den = (ra * ra / a["df"] if a["df"] else 0.0) + (rb * rb / b["df"] if b["df"] else 0.0)
        df = (ra + rb) ** 2 / den if den > 0 else math.inf
        q = float(stdtrit(df, 0.5 + confidence / 2.0)) if se > 0 else 0.0
        out["band"] = [ratio * math.exp(-q * se), ratio * math.exp(q * se)]
        out["ln_se"], out["df"] = se, df
    out["slowdown"] = out["band"][1] < 1.0 - max_slowdown
    return out


def wall_throughput(run: RunData) -> dict[str, Any] | None:
    """Samples per rank-second from /timing (Σ samples / Σ wall over ranks and attempts)."""
    t = run.timing
    wall = float(t.wall_seconds.sum()) if t.n_rows else 0.0
    if wall <= 0:
        return None
    return {"samples": float(t.samples.sum()), "seconds": wall, "batches": t.n_rows}


# ----------------------------------------------------------------- runs


def machine(run: RunData, source: str | None = None) -> dict[str, Any]:
    """Provenance of one side: where, on what and with which versions it ran."""
    attrs = run.attrs
    sim = run.simulator
    threads = sorted({int(x) for x in run.timing.threads}) if run.timing.n_rows else []
    return {
        "source": source or str(run.run_dir),
        "job_name": attrs.get("job_name"),
        "job_seed": attrs.get("job_seed"),
        "spec_sha256": attrs.get("spec_sha256"),
        "host": attrs.get("host"),
        "cpu_model": attrs.get("cpu_model"),
        "mpi_size": run.mpi_size,
        "simulator": {
            "method": sim.get("method"),
            "device": sim.get("device"),
            "precision": sim.get("precision"),
            "threads": sim.get("threads", threads[0] if len(threads) == 1 else threads or None),
        },
        "versions": {k: attrs.get(k) for k in VERSION_KEYS if k in attrs},
        "git_revision": attrs.get("git_revision"),
        "created": attrs.get("created"),
    }


def compare_task(
    ta: TaskData,
    tb: TaskData,
    check_bits: bool,
    confidence: float,
    max_slowdown: float,
    precisions: tuple[str, str],
    seed: int = 0,
) -> dict[str, Any]:
    """Everything about one task present in A and in B."""
    alpha = 1.0 - confidence
    col_b = {int(p): j for j, p in enumerate(tb.param_index)}
    columns = [
        (f"dC/dθ{p}", ta.grad[:, j], tb.grad[:, col_b[int(p)]])
        for j, p in enumerate(ta.param_index)
        if int(p) in col_b
    ]
    if ta.cost_values is not None and tb.cost_values is not None:
        columns.append(("C", ta.cost_values, tb.cost_values))
    threshold = alpha / max(1, len(columns))
    quantities = [
        compare_quantity(
            name, xa, xb, f"{ta.task_id}/{name}", confidence, threshold, precisions, seed
        )
        for name, xa, xb in columns
    ]
    entry: dict[str, Any] = {
        "task": ta.task_id,
        "samples": [ta.n_samples, tb.n_samples],
        "threshold": threshold,
        "quantities": quantities,
        "bits": bit_identity(ta, tb) if check_bits else None,
        "throughput": None,
        "reasons": [],
    }
    ba, bb = batches(ta), batches(tb)
    if ba is not None and bb is not None:
        entry["throughput"] = throughput_ratio(
            _seconds(*ba), _seconds(*bb), confidence, max_slowdown
        )
    reasons = entry["reasons"]
    bits = entry["bits"]
    if bits is not None and not bits["identical"]:
        reasons.append(_bits_reason(bits))
    for q in quantities:
        if q["differs"]:
            reasons.append(
                f"variance of {q['quantity']} differs: {q['a']['variance']:.4g} → "
                f"{q['b']['variance']:.4g} (×{q['ratio']:.3g}, p {q['p']:.2g} < {threshold:.2g}, "
                f"{q['test']['method']})"
            )
    tp = entry["throughput"]
    if tp is not None and tp["slowdown"]:
        reasons.append(_slow_reason(tp, max_slowdown))
    complete = bits is not None and bits["samples_compared"] == ta.n_samples == tb.n_samples
    if complete and bits["identical"] and not reasons:
        entry["status"] = "identical"
    elif reasons:
        entry["status"] = "offends"
    else:
        entry["status"] = "same within the tests"
    return entry


def _bits_reason(bits: dict[str, Any]) -> str:
    parts = [f"{', '.join(bits['differing'])} differ"]
    for name in ("theta", "grad", "cost"):
        value = bits.get(f"max_abs_{name}_difference")
        if value:
            parts.append(f"max |Δ{name}| {value:.3g}")
    return f"not bit-identical ({bits['samples_compared']} samples): " + ", ".join(parts)


def _slow_reason(tp: dict[str, Any], max_slowdown: float) -> str:
    lo, hi = tp["band"]
    return (
        f"slowdown: throughput B/A ×{tp['ratio']:.3g} [{lo:.3g}, {hi:.3g}] "
        f"below {1 - max_slowdown:.3g} (more than {100 * max_slowdown:.0f} % slower)"
    )


def compare_runs(
    a: RunData,
    b: RunData,
    confidence: float = DEFAULT_CONFIDENCE,
    max_slowdown: float = DEFAULT_MAX_SLOWDOWN,
    sources: tuple[str, str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The comparison document (`bpsuite compare --json` prints it)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence} is not between 0 and 1")
    if not 0.0 <= max_slowdown <= 1.0:
        raise ValueError(f"max slowdown {max_slowdown} is not in [0, 1] (1: not judged)")
    ja, jb = a.attrs.get("job_name"), b.attrs.get("job_name")
    if ja != jb:
        raise DifferentJobsError(
            f"refused: A is a run of job {ja!r}, B of job {jb!r} (compare runs of one job)"
        )
    spec_a, spec_b = a.attrs.get("spec_sha256"), b.attrs.get("spec_sha256")
    same_spec = spec_a is not None and spec_a == spec_b
    # Another version of the suite may canonicalise the same job file differently (a new
    # default key changes spec_sha256): the same job.toml text counts as the same job.
    toml_a, toml_b = a.attrs.get("job_toml"), b.attrs.get("job_toml")
    same_toml = bool(toml_a) and toml_a == toml_b
    same_seed = a.attrs.get("job_seed") == b.attrs.get("job_seed")
    check_bits = bool((same_spec or same_toml) and same_seed)
    precisions = (precision_of(a), precision_of(b))
    common = sorted(set(a.tasks) & set(b.tasks))
    tasks = [
        compare_task(
            a.tasks[t],
            b.tasks[t],
            check_bits or (same_seed and a.tasks[t].spec == b.tasks[t].spec),
            confidence,
            max_slowdown,
            precisions,
            seed,
        )
        for t in common
    ]
    sim_a = [_seconds(*bt) for t in common if (bt := batches(a.tasks[t])) is not None]
    sim_b = [_seconds(*bt) for t in common if (bt := batches(b.tasks[t])) is not None]
    overall: dict[str, Any] = {"simulate": None, "wall": None}
    if sim_a and len(sim_a) == len(sim_b):
        overall["simulate"] = throughput_ratio(
            _combine(sim_a), _combine(sim_b), confidence, max_slowdown
        )
    wa, wb = wall_throughput(a), wall_throughput(b)
    if wa is not None and wb is not None:
        sim = overall["simulate"]
        wall = throughput_ratio(
            {**wa, "var": None, "df": None}, {**wb, "var": None, "df": None}, 1.0, max_slowdown
        )
        if sim is not None and sim.get("ln_se") is not None:
            q = float(stdtrit(sim["df"], 0.5 + confidence / 2.0))
            r = wall["ratio"]
            wall["band"] = [r * math.exp(-q * sim["ln_se"]), r * math.exp(q * sim["ln_se"])]
            wall.pop("note", None)
        else:
            wall["note"] = "no simulate band to borrow: judged on the point estimate"
        wall["slowdown"] = wall["band"][1] < 1.0 - max_slowdown
        overall["wall"] = wall
    offenses = [f"{t['task']}: {r}" for t in tasks for r in t["reasons"]]
    for key, label in (("simulate", "simulate seconds"), ("wall", "wall seconds")):
        if overall[key] is not None and overall[key]["slowdown"]:
            offenses.append(f"overall ({label}): {_slow_reason(overall[key], max_slowdown)}")
    return {
        "a": machine(a, sources[0] if sources else None),
        "b": machine(b, sources[1] if sources else None),
        "job_name": ja,
        "same_spec": bool(same_spec),
        "same_job_toml": same_toml,
        "same_seed": bool(same_seed),
        "bit_identity_checked": check_bits,
        "confidence": confidence,
        "alpha_per_task": 1.0 - confidence,
        "max_slowdown": max_slowdown,
        "tasks": tasks,
        "only_in_a": sorted(set(a.tasks) - set(b.tasks)),
        "only_in_b": sorted(set(b.tasks) - set(a.tasks)),
        "overall": overall,
        "offenses": offenses,
        "exit_status": 1 if offenses else 0,
    }


# ----------------------------------------------------------------- text


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "–" if x is None else format(x, spec)


def _describe(side: str, m: dict[str, Any]) -> str:
    sim = m["simulator"]
    v = m["versions"]
    cpu = f" ({m['cpu_model']})" if m.get("cpu_model") else ""
    versions = ", ".join(
        f"{k.removesuffix('_version')} {v[k]}" for k in VERSION_KEYS[:-1] if k in v
    )
    return (
        f"{side}: {m['source']} — host {m['host']}{cpu}, {m['mpi_size']} rank(s), "
        f"{sim['method']}/{sim['device']}/{sim['precision']}, threads {sim['threads']}; "
        f"{versions}; git {m['git_revision']}; seed {m['job_seed']}, "
        f"spec {str(m['spec_sha256'])[:12]}"
    )


def format_comparison(doc: dict[str, Any]) -> list[str]:
    """The terminal report: sides, one line per task, offenses, verdict."""
    lines = [_describe("A", doc["a"]), _describe("B", doc["b"])]
    if doc["bit_identity_checked"]:
        lines.append("same job and seed: numbers compared bit for bit")
    elif not doc["same_seed"]:
        lines.append("different seeds: variances compared by the tests only")
    else:
        same = sum(t["bits"] is not None for t in doc["tasks"])
        lines.append(
            f"different job specs: {same} of {len(doc['tasks'])} common task(s) have the same "
            "task spec and are compared bit for bit, the others by the tests only"
        )
    for t in doc["tasks"]:
        parts = [t["status"]]
        for q in t["quantities"]:
            p = "" if q["p"] is None else f", p {q['p']:.2g}"
            note = f", {q['note']}" if q["note"] else ""
            parts.append(
                f"Var {q['quantity']} {_fmt(q['a']['variance'])} → {_fmt(q['b']['variance'])}"
                f" (×{_fmt(q['ratio'])}{p}{note})"
            )
        tp = t["throughput"]
        if tp is not None and tp["ratio"] is not None:
            lo, hi = tp["band"]
            parts.append(f"speed ×{tp['ratio']:.3g} [{lo:.3g}, {hi:.3g}]")
        lines.append(f"{t['task']}: " + "; ".join(parts))
    for key in ("only_in_a", "only_in_b"):
        if doc[key]:
            lines.append(f"only in {key[-1].upper()}: " + ", ".join(doc[key]))
    for key, label in (("simulate", "simulate"), ("wall", "wall")):
        tp = doc["overall"][key]
        if tp is not None and tp["ratio"] is not None:
            lo, hi = tp["band"]
            lines.append(
                f"overall throughput B/A ({label}): ×{tp['ratio']:.3g} [{lo:.3g}, {hi:.3g}] "
                f"({_fmt(tp['a'])} → {_fmt(tp['b'])} samples/s per rank)"
            )
    for offense in doc["offenses"]:
        lines.append(f"OFFENDS {offense}")
    n = len(doc["tasks"])
    if doc["offenses"]:
        lines.append(f"compare: {len(doc['offenses'])} offense(s) in {n} common task(s)")
    else:
        identical = all(t["status"] == "identical" for t in doc["tasks"]) and n > 0
        lines.append(
            f"compare: {n} common task(s) "
            + ("identical" if identical else "agree within the tests")
            + f", no slowdown beyond {100 * doc['max_slowdown']:.0f} %"
        )
    return lines


def to_json(doc: dict[str, Any]) -> str:
    """The document as JSON (non-finite numbers become null)."""
    return json.dumps(jsonable(doc), indent=1, sort_keys=False)


__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MAX_SLOWDOWN",
    "DifferentJobsError",
    "compare_runs",
    "format_comparison",
    "ln_variance_permutation_test",
    "ln_variance_z_test",
    "to_json",
    "variance_test",
]
