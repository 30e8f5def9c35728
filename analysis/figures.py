"""PNG figures for the report (matplotlib's Agg canvas; pyplot is never imported)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, NullLocator

from analysis import theory

_COST_ORDER = {"global": 0, "local": 1}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _grid(n: int, width: float = 5.2, height: float = 4.2) -> tuple[Figure, list[Any]]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    return fig, axes


def _err(tasks: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    v = np.array([t["variance"] for t in tasks], dtype=float)
    lo = np.array([t["variance_ci"][0] if t["variance_ci"] else np.nan for t in tasks])
    hi = np.array([t["variance_ci"][1] if t["variance_ci"] else np.nan for t in tasks])
    yerr = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
    return v, np.nan_to_num(yerr)


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110)


def _resolved(task: dict[str, Any]) -> bool:
    return bool(task.get("variance")) and task.get("variance_resolved", True)


def _bounded(task: dict[str, Any]) -> bool:
    """An unresolved task drawn as its one-sided bound (analysis/bounds.py)."""
    return not task.get("variance_resolved", True) and bool(task.get("variance_upper"))


def variance_vs_qubits(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """One figure per ansatz, one panel per cost: Var against n with fits and theory."""
    tasks = [t for t in summary["tasks"] if _resolved(t) or _bounded(t)]
    verdicts = {f["family"]: f for f in summary["fits"] if f.get("kind") == "verdict"}
    fits = {(f["family"], f["model"]): f for f in summary["fits"] if f.get("kind") == "fit"}
    made = []
    for ansatz in sorted({t["ansatz"] for t in tasks}):
        costs = sorted(
            {t["cost"] for t in tasks if t["ansatz"] == ansatz},
            key=lambda c: (_COST_ORDER.get(c, 2), c),
        )
        fig, axes = _grid(len(costs))
        for ax, cost in zip(axes, costs, strict=True):
            panel = [t for t in tasks if t["ansatz"] == ansatz and t["cost"] == cost]
            families = sorted({t["family"] for t in panel})
            # Single-size families (members of depth sweeps) only when nothing else is there.
            multi = [
                f for f in families if len({t["qubits"] for t in panel if t["family"] == f}) > 1
            ]
            families = multi or families
            sizes = sorted({t["qubits"] for t in panel if t["family"] in families})
            poly = all(verdicts.get(f, {}).get("expected_model") == "polynomial" for f in families)
            for i, family in enumerate(families):
                color = f"C{i % 10}"
                ordered = sorted(
                    (t for t in panel if t["family"] == family), key=lambda t: t["qubits"]
                )
                bounded = [t for t in ordered if _bounded(t)]
                if bounded:
                    ax.plot(
                        [t["qubits"] for t in bounded],
                        [t["variance_upper"] for t in bounded],
                        "v",
                        color=color,
                        mfc="none",
                        label=f"{family}: one-sided upper bound (unresolved)",
                    )
                members = [t for t in ordered if _resolved(t)]
                if not members:
                    continue
                n_all = np.array([t["qubits"] for t in ordered], dtype=float)
                n = np.array([t["qubits"] for t in members], dtype=float)
                v, yerr = _err(members)
                verdict = verdicts.get(family, {}).get("verdict", "?")
                used = set(verdicts.get(family, {}).get("sizes_used", []))
                mask = np.array([t["qubits"] in used for t in members])
                ax.errorbar(
                    n[mask],
                    v[mask],
                    yerr=yerr[:, mask],
                    fmt="o",
                    color=color,
                    capsize=3,
                    label=f"{family} ({verdict})",
                )
                if np.any(~mask):
                    ax.errorbar(
                        n[~mask],
                        v[~mask],
                        yerr=yerr[:, ~mask],
                        fmt="o",
                        mfc="none",
                        color=color,
                        capsize=3,
                        label=f"{family}: excluded from fit",
                    )
                grid = np.linspace(n_all.min(), n_all.max(), 100)
                for model, style in (("exponential", "-"), ("polynomial", "--")):
                    f = fits.get((family, model))
                    if f and f.get("rate") is not None and f.get("intercept") is not None:
                        x = grid if model == "exponential" else np.log(grid)
                        ax.plot(
                            grid,
                            np.exp(f["intercept"] - f["rate"] * x),
                            style,
                            color=color,
                            alpha=0.7,
                            label=f"{model} fit, rate {f['rate']:.3g}",
                        )
            law = theory.exact_law(ansatz, cost)
            full = np.linspace(min(sizes), max(sizes), 100)
            if law is not None:
                ax.plot(
                    full, [law(x) for x in full], ":", color="black", lw=2, label="exact (theory)"
                )
            deep = sorted(
                {
                    t["qubits"]
                    for t in panel
                    if t["family"] in families and t.get("deep_limit") is not None
                }
            )
            if deep:
                ax.plot(
                    deep,
                    [theory.mcclean_deep_limit(k) for k in deep],
                    ":",
                    color="black",
                    marker="x",
                    label="deep limit (1/3)2^n/(4^n-1)",
                )
            ax.set_yscale("log")
            if poly:
                ax.set_xscale("log")
                ax.set_xticks(sizes, [str(k) for k in sizes])
                ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xlabel("qubits n" + (" (log scale)" if poly else ""))
            ax.set_ylabel("Var[dC/dθ] (first differentiated parameter)")
            ax.set_title(f"{ansatz} ansatz, {cost} cost")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(
            f"Gradient variance against qubits: {ansatz} "
            f"({summary['settings']['confidence']:.0%} bootstrap CIs)"
        )
        name = f"variance_vs_qubits_{_safe(ansatz)}.png"
        _save(fig, out / name)
        made.append(
            {
                "path": f"figures/{name}",
                "caption": f"Var against n for the {ansatz} ansatz, fits and theory",
            }
        )
    return made


def variance_vs_depth(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Var against depth for every depth sweep, one panel per (ansatz, cost)."""
    sweeps = summary.get("depth_sweeps") or []
    if not sweeps:
        return []
    keys = sorted({(s["ansatz"], s["cost"]) for s in sweeps})
    fig, axes = _grid(len(keys))
    for ax, (ansatz, cost) in zip(axes, keys, strict=True):
        for i, s in enumerate(x for x in sweeps if (x["ansatz"], x["cost"]) == (ansatz, cost)):
            color = f"C{i % 10}"
            pts = [
                (d, t, ci)
                for d, t, ci in zip(s["depths"], s["variance"], s["variance_ci"], strict=True)
                if t
            ]
            if not pts:
                continue
            d = np.array([p[0] for p in pts], dtype=float)
            v = np.array([p[1] for p in pts], dtype=float)
            lo = np.array([p[2][0] if p[2] else p[1] for p in pts])
            hi = np.array([p[2][1] if p[2] else p[1] for p in pts])
            ax.errorbar(
                d,
                v,
                yerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)],
                fmt="o-",
                color=color,
                capsize=3,
                label=f"n = {s['qubits']}",
            )
            if s.get("deep_limit"):
                ax.axhline(
                    s["deep_limit"], color=color, ls=":", label=f"deep limit n = {s['qubits']}"
                )
        ax.set_yscale("log")
        ax.set_xlabel("depth L (layers)")
        ax.set_ylabel("Var[dC/dθ]")
        ax.set_title(f"{ansatz} ansatz, {cost} cost")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Gradient variance against depth")
    _save(fig, out / "variance_vs_depth.png")
    return [{"path": "figures/variance_vs_depth.png", "caption": "Var against depth"}]


def throughput(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Simulator samples per second against n, one line per family."""
    rows = [t for t in summary["timing"].get("tasks", []) if t.get("samples_per_second")]
    if not rows:
        return []
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for i, family in enumerate(sorted({r["family"] for r in rows})):
        pts = sorted((r["qubits"], r["samples_per_second"]) for r in rows if r["family"] == family)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=f"C{i % 10}", label=family)
    ax.set_yscale("log")
    ax.set_xlabel("qubits n")
    ax.set_ylabel("samples per second (simulator time, one rank)")
    ax.set_title("Throughput against circuit size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, out / "throughput_vs_qubits.png")
    return [{"path": "figures/throughput_vs_qubits.png", "caption": "Throughput against n"}]


def rank_time(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Stacked simulate / io / other seconds per rank, one panel per run."""
    runs = [r for r in summary["timing"].get("runs", []) if r.get("ranks")]
    if not runs:
        return []
    fig, axes = _grid(len(runs), width=5.5, height=4.0)
    for ax, run in zip(axes, runs, strict=True):
        ranks = [r["rank"] for r in run["ranks"]]
        sim = np.array([r["simulate_seconds"] for r in run["ranks"]])
        io = np.array([r["io_seconds"] for r in run["ranks"]])
        other = np.array([r["other_seconds"] for r in run["ranks"]])
        x = np.arange(len(ranks))
        ax.bar(x, sim, label="simulate", color="C0")
        ax.bar(x, io, bottom=sim, label="I/O", color="C1")
        ax.bar(x, other, bottom=sim + io, label="other", color="C2")
        ax.set_xticks(x, [str(r) for r in ranks])
        ax.set_xlabel("rank")
        ax.set_ylabel("seconds (summed over attempts)")
        lb = run.get("load_balance")
        ax.set_title(
            f"{Path(run['run_dir']).name}: {run.get('mpi_size')} ranks"
            + (f", load balance {lb:.2f}" if lb else ""),
            fontsize=9,
        )
        ax.legend(fontsize=7)
    fig.suptitle("Time per rank")
    _save(fig, out / "rank_time.png")
    return [{"path": "figures/rank_time.png", "caption": "Time per rank"}]


def scaling(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Strong-scaling efficiency and speedup against ranks."""
    tables = summary["timing"].get("strong_scaling") or []
    if not tables:
        return []
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for i, tab in enumerate(tables):
        n = [p["mpi_size"] for p in tab["points"]]
        ax1.plot(
            n, [p["speedup"] for p in tab["points"]], "o-", color=f"C{i}", label=str(tab.get("job"))
        )
        ax2.plot(
            n,
            [p["efficiency"] for p in tab["points"]],
            "o-",
            color=f"C{i}",
            label=str(tab.get("job")),
        )
        base = tab["base_mpi_size"]
        ax1.plot(n, [k / base for k in n], ":", color="gray", label="ideal")
    ax2.axhline(1.0, ls=":", color="gray", label="ideal")
    top = max(p["efficiency"] for tab in tables for p in tab["points"])
    ax2.set_ylim(0.0, max(1.1, 1.05 * top))
    ticks = sorted({p["mpi_size"] for tab in tables for p in tab["points"]})
    for ax, what in ((ax1, "speedup"), (ax2, "efficiency")):
        ax.set_xticks(ticks)
        ax.set_xlabel("MPI ranks")
        ax.set_ylabel(what)
        ax.set_title(f"Strong scaling: {what}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, out / "strong_scaling.png")
    return [{"path": "figures/strong_scaling.png", "caption": "Strong scaling"}]


_VERDICT_COLORS = {
    "agrees": "C2",
    "not deep enough": "C1",
    "disagrees": "C3",
    "unresolved": "C7",
}


def lie_predictions(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Measured against predicted variance (log–log), one point per Lie check."""
    checks = [
        c
        for c in summary.get("lie_checks") or []
        if c.get("measured") and c.get("predicted") and c.get("measured_ci")
    ]
    if not checks:
        return []
    fig, (ax,) = _grid(1, width=6.0, height=5.0)
    for quantity, marker in (("loss", "s"), ("gradient", "o")):
        for verdict, color in _VERDICT_COLORS.items():
            group = [c for c in checks if c["quantity"] == quantity and c["verdict"] == verdict]
            if not group:
                continue
            x = np.array([c["predicted"] for c in group])
            y = np.array([c["measured"] for c in group])
            lo = np.array([c["measured_ci"][0] for c in group])
            hi = np.array([c["measured_ci"][1] for c in group])
            ax.errorbar(
                x,
                y,
                yerr=np.vstack([y - lo, hi - y]).clip(min=0),
                fmt=marker,
                color=color,
                capsize=3,
                label=f"{quantity}: {verdict}",
            )
    values = [c["predicted"] for c in checks] + [c["measured"] for c in checks]
    line = np.array([min(values) / 2, max(values) * 2])
    ax.plot(line, line, ":", color="black", label="measured = predicted")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Lie-algebraic prediction (deep circuits)")
    ax.set_ylabel("measured variance")
    ax.set_title("Measured variances against the Lie-algebraic predictions")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, out / "lie_predictions.png")
    return [
        {
            "path": "figures/lie_predictions.png",
            "caption": "Measured loss and gradient variances against the Lie-algebraic "
            "predictions, by verdict",
        }
    ]


def make_figures(summary: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Write every figure that has data; returns their report paths and captions."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[dict[str, str]] = []
    makers = (
        variance_vs_qubits,
        variance_vs_depth,
        lie_predictions,
        throughput,
        rank_time,
        scaling,
    )
    for maker in makers:
        made.extend(maker(summary, out))
    return made
