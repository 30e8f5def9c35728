"""Number formatting shared by the report and the terminal table."""

from __future__ import annotations

from typing import Any


def num(x: Any, digits: int = 3) -> str:
    """A number in g-format, or '–' for a missing value."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def interval(ci: Any, digits: int = 3) -> str:
    """[lo, hi] or '–'."""
    if not ci or ci[0] is None or ci[1] is None:
        return "–"
    return f"[{num(ci[0], digits)}, {num(ci[1], digits)}]"
