"""`format_verdicts`: the plain-text tables `bpsuite analyze` prints."""

from __future__ import annotations

from typing import Any

from analysis.formatting import interval, num


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def _rate(fit: dict[str, Any] | None) -> str:
    if fit is None or fit.get("rate") is None:
        return "–"
    mark = "*" if fit.get("expected") else ""
    return f"{num(fit['rate'])}{mark} {interval(fit.get('rate_ci'))}"


def format_verdicts(summary: dict) -> str:
    """Tasks (task, samples, variance, CI, flags), then one line per family with both
    fitted rates, the preferred model and the verdict."""
    conf = summary.get("settings", {}).get("confidence", 0.95)
    rows = []
    for t in summary.get("tasks", []):
        flags = []
        if t.get("heavy_tail_warning"):
            flags.append("heavy-tail")
        if t.get("precision_floor_flag"):
            flags.append("floor")
        if t.get("exact_within_ci") is False:
            flags.append("exact-outside-CI")
        rows.append(
            [
                t["task"],
                str(t["samples"]),
                num(t.get("variance")),
                interval(t.get("variance_ci")),
                ",".join(flags),
            ]
        )
    lines = [f"Tasks ({conf:.0%} CI on Var of the first differentiated parameter):"]
    lines += _table(["task", "samples", "variance", "CI", "flags"], rows)

    fits: dict[tuple[str, str], dict[str, Any]] = {}
    verdicts: list[dict[str, Any]] = []
    for f in summary.get("fits", []):
        if f.get("kind") == "verdict":
            verdicts.append(f)
        else:
            fits[(f["family"], f["model"])] = f
    rows = []
    for v in verdicts:
        pref = v.get("preferred_model")
        pref_s = f"{pref} (ΔAIC {num(v.get('delta_aic'))})" if pref else "–"
        rows.append(
            [
                v["family"],
                _rate(fits.get((v["family"], "exponential"))),
                _rate(fits.get((v["family"], "polynomial"))),
                pref_s,
                v["verdict"],
                v.get("reason") or "",
            ]
        )
    lines += ["", "Families (rate [CI]; * = the theorem's model):"]
    lines += _table(
        ["family", "exponential rate", "polynomial exponent", "preferred", "verdict", "reason"],
        rows,
    )
    return "\n".join(lines)
