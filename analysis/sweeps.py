"""Depth sweeps: tasks of one ansatz, cost and size at several depths."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from analysis.fits import fit_line_vs
from analysis.verdict import Z_STRICT

_DEPTH_PART = re.compile(r"-L\d+(?=-|$)")


def sweep_key(task: dict[str, Any]) -> str:
    """The task id with its depth part removed (`mcclean-zz-n4-L*`)."""
    key, count = _DEPTH_PART.subn("-L*", task["task"], count=1)
    if count == 0:
        key = f"{task['ansatz']}-{task['cost']}-n{task['qubits']}-L*"
    return key


def depth_sweeps(tasks: list[dict[str, Any]], confidence: float = 0.95) -> list[dict[str, Any]]:
    """Var against depth for every group of tasks that differ only in depth.

    Needs at least two depths; with three or more usable points the slope of ln Var
    against the depth L is fitted (for noisy circuits Wang et al. bound its magnitude).
    Where a deep limit V∞ is known (McClean), each depth gets z = (ln s² + bias
    correction − ln V∞)/se, and `converged_from_depth` is the smallest depth from which
    every usable depth is consistent with V∞ at the strict level |z| < 3.29 (two-sided
    p ≥ 0.001, the level the verdicts use); `deep_limit_reached` says whether the deepest
    usable depth is.
    """
    groups: dict[tuple[str, str, int, str], list[dict[str, Any]]] = {}
    for t in tasks:
        groups.setdefault((t["ansatz"], t["cost"], t["qubits"], sweep_key(t)), []).append(t)
    out = []
    for (ansatz, cost, qubits, key), members in sorted(groups.items()):
        members = sorted(members, key=lambda t: t["depth"])
        if len({t["depth"] for t in members}) < 2:
            continue
        entry: dict[str, Any] = {
            "sweep": key,
            "ansatz": ansatz,
            "cost": cost,
            "qubits": qubits,
            "tasks": [t["task"] for t in members],
            "depths": [t["depth"] for t in members],
            "variance": [t["variance"] for t in members],
            "variance_ci": [t["variance_ci"] for t in members],
            "deep_limit": next(
                (t["deep_limit"] for t in members if t.get("deep_limit") is not None), None
            ),
            "slope_per_layer": None,
            "deep_limit_z": None,
            "converged_from_depth": None,
            "deep_limit_reached": None,
        }
        usable = [t for t in members if _usable(t)]
        if len({t["depth"] for t in usable}) >= 3:
            entry["slope_per_layer"] = fit_line_vs(
                np.array([t["depth"] for t in usable], dtype=float),
                np.array([t["fit_ln_variance"] for t in usable]),
                np.array([t["fit_ln_se"] for t in usable]),
                confidence,
            )
        limit = entry["deep_limit"]
        if limit and usable:
            z = [
                (t["fit_ln_variance"] - math.log(limit)) / t["fit_ln_se"] if _usable(t) else None
                for t in members
            ]
            entry["deep_limit_z"] = z
            ok = [(t["depth"], abs(zz) < Z_STRICT) for t, zz in zip(members, z, strict=True)]
            ok = [(d, c) for (d, c), zz in zip(ok, z, strict=True) if zz is not None]
            entry["deep_limit_reached"] = ok[-1][1]
            start = None
            for d, consistent in reversed(ok):
                if not consistent:
                    break
                start = d
            entry["converged_from_depth"] = start
        out.append(entry)
    return out


def _usable(t: dict[str, Any]) -> bool:
    return (
        t.get("fit_ln_variance") is not None
        and bool(t.get("fit_ln_se"))
        and not t.get("heavy_tail_warning")
        and not t.get("precision_floor_flag")
        and not t.get("at_shot_floor")
    )
