"""`bpsuite compare A B`: two runs of one job, as run directories or archives, in any mix.

The statistics live in `analysis.compare` (docs/compare.md); this module opens the two
sides (an archive is unpacked in a temporary directory and its checksums checked), prints
the report or the JSON document and returns the exit status: 0 when nothing differs beyond
the tests and no throughput falls by more than --max-slowdown, 1 otherwise, 2 (a one-line
error) for runs of different jobs.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from suite.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    import argparse

    from analysis.load import RunData

# The defaults of analysis.compare, repeated for --help: building the parser must not
# import the analysis (scipy), since every `bpsuite run` rank builds it
# (tests/test_compare.py checks they agree).
HELP_CONFIDENCE = "0.999"
HELP_MAX_SLOWDOWN = "0.1"


class RefusedError(ValueError):
    """The two runs cannot be compared (exit status 2)."""


def _open(target: Path, stack: ExitStack) -> RunData:
    from analysis.load import load_run

    if target.is_dir() or target.suffix == ".h5":
        return load_run(target, with_theta=True)
    from suite.archive import check_manifest, unpacked  # Qiskit: only for archives

    run_dir = stack.enter_context(unpacked(target, prefix="bpsuite-compare-"))
    check_manifest(run_dir)
    return load_run(run_dir, with_theta=True)


def compare(
    a: Path,
    b: Path,
    as_json: bool = False,
    max_slowdown: float | None = None,
    confidence: float | None = None,
) -> int:
    """Print the comparison of A and B; returns the exit status (None: the defaults)."""
    from analysis.compare import (
        DEFAULT_CONFIDENCE,
        DEFAULT_MAX_SLOWDOWN,
        DifferentJobsError,
        compare_runs,
        format_comparison,
        to_json,
    )

    confidence = DEFAULT_CONFIDENCE if confidence is None else confidence
    max_slowdown = DEFAULT_MAX_SLOWDOWN if max_slowdown is None else max_slowdown
    with ExitStack() as stack:
        run_a, run_b = _open(a, stack), _open(b, stack)
        try:
            doc = compare_runs(run_a, run_b, confidence, max_slowdown, (str(a), str(b)))
        except DifferentJobsError as exc:
            raise RefusedError(str(exc)) from None
    print(to_json(doc) if as_json else "\n".join(format_comparison(doc)))
    return EXIT_FAILED if doc["offenses"] else EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `bpsuite compare`."""
    p.add_argument("a", help="run directory or archive (.tar.gz): the reference")
    p.add_argument("b", help="run directory or archive (.tar.gz): the candidate")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument(
        "--max-slowdown",
        type=float,
        metavar="F",
        help="throughput loss that fails when the noise band lies wholly below 1 − F "
        f"(default {HELP_MAX_SLOWDOWN}: 10%% slower; 1: speed not judged)",
    )
    p.add_argument(
        "--confidence",
        type=float,
        metavar="C",
        help="confidence of intervals, tests and noise bands; a task's false-alarm rate "
        f"is at most 1 − C (default {HELP_CONFIDENCE})",
    )
