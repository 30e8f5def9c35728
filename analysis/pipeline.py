"""`analyze_runs`: load → combine → statistics, fits, verdicts, timing → files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis import lie_check
from analysis.combine import combine_runs, precision_of
from analysis.errors import AnalysisError
from analysis.load import load_run
from analysis.noise import noise_fits
from analysis.statistics import DEFAULT_RESAMPLES
from analysis.summary import family_fits, jsonable, provenance, task_entry
from analysis.sweeps import depth_sweeps
from analysis.timing import timing_summary

SUMMARY_SCHEMA = "bpsuite-analysis/1"


def _run_warnings(runs: list[Any]) -> list[str]:
    warnings = []
    names = {str(r.attrs.get("job_name")) for r in runs}
    hashes = {str(r.attrs.get("spec_sha256")) for r in runs}
    if len(names) > 1:
        warnings.append(f"runs of different jobs combined: {', '.join(sorted(names))}")
    elif len(hashes) > 1:
        warnings.append("runs with different spec_sha256 combined (same job name)")
    precisions = {precision_of(r) for r in runs}
    if len(precisions) > 1:
        warnings.append("runs of different simulator precision combined; using single")
    return warnings


def build_summary(
    run_dirs: list[Path],
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    predictions: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The summary dict, without writing anything.

    `predictions` (task id → entry of `bpsuite lie --json`) adds the Lie-algebraic
    predictions and their checks (analysis/lie_check.py); `bpsuite analyze` passes them.
    """
    if not run_dirs:
        raise AnalysisError("no run directories given")
    if not 0.0 < confidence < 1.0:
        raise AnalysisError(f"confidence must be in (0, 1), got {confidence}")
    runs = [load_run(Path(d)) for d in run_dirs]
    tasks = combine_runs(runs)
    precision = "single" if any(precision_of(r) == "single" for r in runs) else "double"
    entries = [task_entry(t, precision, seed, confidence, n_resamples) for t in tasks.values()]
    if predictions:
        lie_check.attach(entries, predictions)
    fits = family_fits(entries, confidence)
    warnings = _run_warnings(runs)
    for t in entries:
        if t.get("heavy_tail_warning"):
            warnings.append(f"{t['task']}: heavy tails ({t['heavy_tail_reason']})")
        if t.get("precision_floor_flag"):
            warnings.append(f"{t['task']}: variance at the {precision} precision floor")
        if t.get("at_shot_floor"):
            warnings.append(f"{t['task']}: variance at the shot-noise floor (docs/shots.md)")
        warnings.extend(f"{t['task']}: {note}" for note in t.get("notes", []))
    summary: dict[str, Any] = {
        "schema": SUMMARY_SCHEMA,
        "settings": {
            "confidence": confidence,
            "seed": seed,
            "bootstrap_resamples": n_resamples,
            "bootstrap": "BCa on ln Var (percentile where BCa is undefined)",
            "kurtosis": "plain (Pearson) m4/m2^2; 3 for a Gaussian",
            "precision": precision,
        },
        "runs": [provenance(r) for r in runs],
        "tasks": entries,
        "fits": fits,
        "depth_sweeps": depth_sweeps(entries, confidence),
        "lie_checks": lie_check.checks(entries) if predictions else [],
        "timing": timing_summary(runs, tasks),
        "warnings": warnings,
    }
    summary["noise_fits"] = noise_fits(entries, summary["depth_sweeps"])  # docs/noise.md
    return jsonable(summary)


def analyze_runs(
    run_dirs: list[Path],
    out_dir: Path | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    predictions: dict[str, dict[str, Any]] | None = None,
) -> dict:
    """Analyse one job's run directories; write summary.json, report.md and figures.

    Several directories are runs of one job: tasks with the same id are concatenated and
    de-duplicated by sample index. The result depends only on the data and `seed`.
    """
    run_dirs = [Path(d) for d in run_dirs]
    summary = build_summary(run_dirs, confidence=confidence, seed=seed, predictions=predictions)
    out = Path(out_dir) if out_dir is not None else run_dirs[0] / "analysis"
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalysisError(f"{out}: cannot create the output directory ({exc})") from None
    # Imported here: matplotlib is slow to import and not needed for the numbers.
    from analysis.figures import make_figures
    from analysis.report import write_report

    figures = make_figures(summary, out / "figures")
    summary["figures"] = [f["path"] for f in figures]
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8"
    )
    write_report(summary, figures, out / "report.md")
    return summary
