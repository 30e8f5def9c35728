"""Errors and exit codes shared by every command (a leaf module: imports nothing of the suite)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 75  # EX_TEMPFAIL: stopped by a signal, run the same command again


class SpecError(ValueError):
    """A job spec is invalid; the message is one line naming file and key."""


class CircuitError(ValueError):
    """A circuit or observable cannot be measured as asked; one line naming the gate or term.

    Raised by builders and by the circuit analysis; the spec validator prefixes the file
    and the sweep key.
    """


class RunError(RuntimeError):
    """A run cannot start or finish; the message is one line."""
