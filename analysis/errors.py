"""The one exception the analysis stage raises for bad input."""

from __future__ import annotations


class AnalysisError(Exception):
    """A results file is missing, unreadable or does not follow schema `bpsuite/1`.

    The message is one line naming the file and the problem, so the CLI can print it
    as its non-zero-exit reason.
    """
