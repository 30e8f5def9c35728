"""report.md: provenance, verdicts, tasks, figures, depth sweeps and timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.formatting import interval, num
from analysis.shots import report_flags


def _cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return [*out, ""]


def _exact_cell(t: dict[str, Any]) -> str:
    if t.get("exact") is not None:
        return num(t["exact"])
    if t.get("deep_limit") is not None:
        return f"*{num(t['deep_limit'])}*"
    return "–"


def _provenance(summary: dict[str, Any]) -> list[str]:
    keys = [
        ("job", "job_name"),
        ("seed", "job_seed"),
        ("spec sha256", "spec_sha256"),
        ("suite", "suite_version"),
        ("git revision", "git_revision"),
        ("python", "python_version"),
        ("numpy", "numpy_version"),
        ("h5py", "h5py_version"),
        ("qiskit", "qiskit_version"),
        ("qiskit-aer", "qiskit_aer_version"),
        ("MPI library", "mpi_library"),
        ("ranks", "mpi_size"),
        ("host", "host"),
        ("created", "created"),
    ]
    runs = summary["runs"]
    header = ["", *[f"`{r['run_dir']}`" for r in runs]]
    rows = [
        [label, *[r.get(key) if r.get(key) is not None else "–" for r in runs]]
        for label, key in keys
    ]
    rows.append(
        [
            "simulator",
            *[
                ", ".join(f"{k}={v}" for k, v in sorted(r.get("simulator", {}).items())) or "–"
                for r in runs
            ],
        ]
    )
    rows.append(["tasks", *[r.get("tasks") for r in runs]])
    return ["## Provenance", "", *_table(header, rows)]


def _verdicts(summary: dict[str, Any]) -> list[str]:
    rows = []
    for v in (f for f in summary["fits"] if f.get("kind") == "verdict"):
        rows.append(
            [
                v["family"],
                v.get("expected_model") or "–",
                (
                    f"{v['preferred_model']} (ΔAIC {num(v.get('delta_aic'))}, {v.get('strength')})"
                    if v.get("preferred_model")
                    else "–"
                ),
                num(v.get("rate")),
                interval(v.get("rate_ci")),
                num(v.get("exact_rate")),
                ", ".join(map(str, v.get("sizes_used", []))),
                f"**{v['verdict']}**",
                v.get("reason") or "",
            ]
        )
    fits = []
    for f in (f for f in summary["fits"] if f.get("kind") == "fit" and f.get("rate") is not None):
        fits.append(
            [
                f["family"],
                f["model"] + (" (theorem)" if f.get("expected") else ""),
                num(f.get("rate")),
                interval(f.get("rate_ci")),
                num(f.get("chi2_per_dof")),
                num(f.get("p_value")),
                num(f.get("aic")),
                num(f.get("akaike_weight")),
            ]
        )
    return [
        "## Verdicts",
        "",
        *_table(
            [
                "family",
                "theorem",
                "preferred",
                "rate",
                "rate CI",
                "exact rate",
                "sizes used",
                "verdict",
                "reason",
            ],
            rows,
        ),
        "### Fits",
        "",
        "ln Var = a − rate·n (exponential) or a − rate·ln n (polynomial), weighted by the "
        "delta-method variance of the bias-corrected ln Var; the verdict's reason lists any "
        "tension (evidence against the theorem at the confidence level but not at p < 0.001).",
        "",
        *_table(
            ["family", "model", "rate", "rate CI", "χ²/dof", "p", "AIC", "Akaike weight"], fits
        ),
    ]


def _tasks(summary: dict[str, Any]) -> list[str]:
    rows = []
    for t in summary["tasks"]:
        flags = []
        if t.get("heavy_tail_warning"):
            flags.append(f"heavy tails: {t.get('heavy_tail_reason')}")
        resolved = t.get("variance_resolved", True)
        if t.get("precision_floor_flag") and resolved:
            flags.append("at precision floor")
        flags.extend(report_flags(t))
        flags.extend(t.get("notes", []))
        upper = t.get("variance_upper")
        rows.append(
            [
                t["task"],
                t["qubits"],
                t["depth"],
                t["samples"],
                num(t.get("variance")),
                interval(t.get("variance_ci")) if resolved or upper is None else f"≤ {num(upper)}",
                _exact_cell(t),
                num(t.get("exact_within_ci")),
                num(t.get("mean")),
                num(t.get("kurtosis")),
                num(t.get("effective_sample_size")),
                "; ".join(flags),
            ]
        )
    lines = [
        "## Tasks",
        "",
        "Var is the unbiased sample variance of the derivative w.r.t. the first "
        "differentiated parameter (param_index[0]); CI is the BCa bootstrap interval; "
        "exact/limit is the exact prediction, or in italics McClean's deep limit where the "
        "circuit is shallower than 10n (for comparison only); S_eff is the Gaussian-"
        "equivalent sample size of the variance estimate. With fewer than ten non-zero "
        "samples the variance is not resolved: CI then shows the one-sided upper bound "
        "B²·p⁺ from |∂C/∂θ| ≤ B and the Clopper–Pearson limit p⁺ on P(∂C/∂θ ≠ 0) "
        "(docs/analysis.md).",
        "",
        *_table(
            [
                "task",
                "n",
                "L",
                "samples",
                "Var",
                "CI",
                "exact/limit",
                "in CI",
                "mean",
                "kurtosis",
                "S_eff",
                "flags",
            ],
            rows,
        ),
    ]
    multi = [t for t in summary["tasks"] if t.get("parameters")]
    if multi:
        prow = []
        for t in multi:
            for p in t["parameters"]:
                prow.append(
                    [
                        t["task"],
                        p["param_index"],
                        num(p.get("variance")),
                        interval(p.get("variance_ci")),
                        num(p.get("exact")),
                        num(p.get("kurtosis")),
                    ]
                )
        lines += [
            "### Per parameter",
            "",
            *_table(["task", "parameter", "Var", "CI", "exact", "kurtosis"], prow),
        ]
    return lines


def _sweeps(summary: dict[str, Any]) -> list[str]:
    sweeps = summary.get("depth_sweeps") or []
    if not sweeps:
        return []
    rows = []
    for s in sweeps:
        slope = s.get("slope_per_layer") or {}
        rows.append(
            [
                s["sweep"],
                ", ".join(map(str, s["depths"])),
                ", ".join(num(v) for v in s["variance"]),
                num(s.get("deep_limit")),
                ", ".join(num(z, 2) for z in s["deep_limit_z"]) if s.get("deep_limit_z") else "–",
                num(s.get("converged_from_depth")),
                f"{num(slope.get('slope'))} {interval(slope.get('slope_ci'))}" if slope else "–",
            ]
        )
    return [
        "## Depth sweeps",
        "",
        "z = (ln Var − ln V∞)/se against the deep limit V∞; the limit is reached from the "
        "smallest depth from which on every |z| < 3.29 (p ≥ 0.001).",
        "",
        *_table(
            ["sweep", "depths", "Var", "deep limit", "z", "limit reached from L", "d ln Var / dL"],
            rows,
        ),
    ]


def _lie(summary: dict[str, Any]) -> list[str]:
    checks = summary.get("lie_checks") or []
    if not checks:
        return []
    rows = [
        [
            c["task"],
            c["quantity"]
            if c["param_index"] is None
            else f"∂θ_{c['param_index']} ({c['position']})",
            num(c.get("lie_dimension")),
            num(c["predicted"]),
            num(c.get("measured")),
            interval(c.get("measured_ci")),
            num(c.get("z"), 2),
            num(c.get("converged")),
            c["verdict"],
        ]
        for c in checks
    ]
    return [
        "## Lie-algebraic predictions",
        "",
        "Deep-circuit predictions from the dynamical Lie algebra g (docs/lie.md): the loss "
        "Σ_j P_gj(ρ)P_gj(O)/dim g_j (Ragone et al. 2024), the gradient by the gate's place "
        "(Fontana et al. 2024). z = (ln Var − ln predicted)/se; agreement at |z| < 3.29. "
        "'deep' says whether the variance has stopped changing in the depth sweep (– without "
        "one); a disagreement while it still changes is 'not deep enough'.",
        "",
        *_table(
            ["task", "quantity", "dim g", "predicted", "Var", "CI", "z", "deep", "verdict"], rows
        ),
    ]


def _noise(summary: dict[str, Any]) -> list[str]:
    fits = summary.get("noise_fits") or []
    rows = [
        [
            f["family"],
            ", ".join(f"{k} {v}" for k, v in sorted(f["noise"].items())),
            num(f["q"]),
            ", ".join(map(str, f["depths"])),
            f"{num(f.get('slope'))} {interval(f.get('slope_ci'))}",
            num(f.get("bound")) + ("" if f["unital"] else " (non-unital)"),
            f"**{f['verdict']}**",
        ]
        for f in fits
    ]
    if not rows:
        return []
    return [
        "## Noise-induced decay",
        "",
        "Slope of ln Var against the depth L for noisy sweeps, against Wang et al.'s bound "
        "2 ln q (q: the channel's largest Pauli contraction; docs/noise.md). satisfied: the "
        "interval lies below the bound; violated: above it.",
        "",
        *_table(["sweep", "noise", "q", "depths", "slope (CI)", "bound 2 ln q", "verdict"], rows),
    ]


def _timing(summary: dict[str, Any]) -> list[str]:
    timing = summary["timing"]
    rows = []
    for r in timing.get("runs", []):
        split = r.get("split") or {}
        rows.append(
            [
                f"`{r['run_dir']}`",
                r.get("mpi_size"),
                r.get("samples"),
                num(r.get("wall_seconds")),
                num(r.get("samples_per_second")),
                num(r.get("load_balance")),
                f"{num(split.get('simulate'), 2)} / {num(split.get('io'), 2)} / "
                f"{num(split.get('other'), 2)}",
            ]
        )
    lines = [
        "## Timing",
        "",
        *_table(
            [
                "run",
                "ranks",
                "samples",
                "wall s",
                "samples/s",
                "load balance",
                "simulate / io / other",
            ],
            rows,
        ),
    ]
    trows = [
        [t["task"], t["samples"], num(t.get("simulate_seconds")), num(t.get("samples_per_second"))]
        for t in timing.get("tasks", [])
    ]
    lines += [
        "### Per task (simulator time)",
        "",
        *_table(["task", "samples", "simulate s", "samples/s"], trows),
    ]
    for tab in timing.get("strong_scaling", []):
        srows = [
            [
                p["mpi_size"],
                num(p["wall_seconds"]),
                p["samples"],
                num(p["speedup"]),
                num(p["efficiency"]),
            ]
            for p in tab["points"]
        ]
        lines += [
            f"### Strong scaling of {tab.get('job')} (base {tab['base_mpi_size']} ranks)",
            "",
            *_table(["ranks", "wall s", "samples", "speedup", "efficiency"], srows),
        ]
    return lines


def render_report(summary: dict[str, Any], figures: list[dict[str, str]]) -> str:
    """The Markdown text of report.md."""
    names = sorted({str(r.get("job_name")) for r in summary["runs"]})
    conf = summary["settings"]["confidence"]
    lines = [
        f"# Barren-plateau analysis: {', '.join(names)}",
        "",
        f"{len(summary['tasks'])} tasks from {len(summary['runs'])} run(s); "
        f"{conf:.0%} BCa bootstrap intervals ({summary['settings']['bootstrap_resamples']} "
        f"resamples, seed {summary['settings']['seed']}). Definitions and verdict rules: "
        "docs/analysis.md in the suite.",
        "",
    ]
    lines += _provenance(summary)
    lines += _verdicts(summary)
    lines += _tasks(summary)
    if figures:
        lines += ["## Figures", ""]
        for f in figures:
            lines += [f"![{f['caption']}]({f['path']})", "", f"*{f['caption']}*", ""]
    lines += _sweeps(summary)
    lines += _noise(summary)
    lines += _lie(summary)
    lines += _timing(summary)
    if summary.get("warnings"):
        lines += ["## Warnings", "", *[f"- {w}" for w in summary["warnings"]], ""]
    return "\n".join(lines)


def write_report(summary: dict[str, Any], figures: list[dict[str, str]], path: Path) -> None:
    """Write report.md next to summary.json (figure paths are relative to it)."""
    path.write_text(render_report(summary, figures), encoding="utf-8")
