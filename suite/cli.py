"""`bpsuite`: the command line. Exit 0 on success, non-zero with one line on failure."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from suite.errors import EXIT_FAILED, EXIT_USAGE


def _cmd_run(args: argparse.Namespace) -> int:
    from suite.parallel import RemoteRankError, world
    from suite.runner import run

    w = world()
    try:
        return run(Path(args.job), Path(args.out) if args.out else None, w)
    except RemoteRankError as exc:
        if w.is_root:
            _error(str(exc))
        return EXIT_FAILED
    except Exception as exc:
        if w.is_root or w.size == 1:
            raise
        # other ranks hold the same error; rank 0 reports it
        return _exit_code(exc)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from analysis import analyze_runs, format_verdicts

    dirs = [Path(d) for d in args.dirs]
    out = Path(args.out) if args.out else None
    predictions = None
    if not args.no_lie:
        from suite.lie_command import run_predictions

        predictions = run_predictions(dirs)
    summary = analyze_runs(
        dirs, out_dir=out, confidence=args.confidence, seed=args.seed, predictions=predictions
    )
    print(format_verdicts(summary))
    target = out or dirs[0] / "analysis"
    print(f"report: {target / 'report.md'}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from suite.status import status

    return status(Path(args.dir), check_complete=args.check_complete)


def _cmd_circuit(args: argparse.Namespace) -> int:
    from suite.export import circuit_qasm

    print(circuit_qasm(Path(args.job), args.task, args.sample, qasm3=args.qasm3), end="")
    return 0


def _cmd_lie(args: argparse.Namespace) -> int:
    from suite.lie_command import run

    return run(args)


def _cmd_archive(args: argparse.Namespace) -> int:
    from suite.archive import archive

    path = archive(
        Path(args.dir),
        Path(args.output) if args.output else None,
        license=args.license,
        authors=args.author,
    )
    print(f"archive: {path}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from suite.archive import verify

    identical, lines = verify(Path(args.target), per_task=args.samples)
    print("\n".join(lines))
    return 0 if identical else EXIT_FAILED


def _cmd_compare(args: argparse.Namespace) -> int:
    from suite.compare import compare

    return compare(
        Path(args.a),
        Path(args.b),
        as_json=args.json,
        max_slowdown=args.max_slowdown,
        confidence=args.confidence,
    )


def _cmd_info(args: argparse.Namespace) -> int:
    from suite.info import info

    print(info())
    return 0


def _cmd_slurm(args: argparse.Namespace) -> int:
    from suite import slurm

    return slurm.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpsuite",
        description="Measure barren plateaus of parametrized quantum circuits and check "
        "them against the scaling theorems.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a job (alone, or under mpiexec / srun)")
    p.add_argument("job", help="job spec (TOML)")
    p.add_argument("--out", help="run directory (default: runs/<job name>)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("analyze", help="statistics, fits, verdicts, figures and report")
    p.add_argument("dirs", nargs="+", help="run directories (several: runs of one job)")
    p.add_argument("--out", help="output directory (default: DIR/analysis of the first)")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument(
        "--no-lie",
        action="store_true",
        help="skip the Lie-algebraic predictions (docs/lie.md); `python -m analysis` has none",
    )
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("status", help="progress of a run, while it goes on or after")
    p.add_argument("dir", help="run directory")
    p.add_argument(
        "--check-complete",
        action="store_true",
        help="exit 1 unless every sample of every task is present",
    )
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("circuit", help="print the bound circuit of one sample as OpenQASM")
    p.add_argument("job", help="job spec (TOML)")
    p.add_argument("--task", required=True, help="task id (see `bpsuite status` or results.h5)")
    p.add_argument("--sample", required=True, type=int, help="sample index k")
    p.add_argument("--qasm3", action="store_true", help="OpenQASM 3 instead of 2.0")
    p.set_defaults(func=_cmd_circuit)

    p = sub.add_parser("lie", help="dynamical Lie algebra, g-purities and variance per task")
    p.add_argument("job", help="job spec (TOML)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument(
        "--task", action="append", help="only this task id (repeat for several; default: all)"
    )
    p.add_argument(
        "--max-dimension",
        type=int,
        default=20_000,
        help="stop the closure beyond this many basis strings (default 20000)",
    )
    p.set_defaults(func=_cmd_lie)

    p = sub.add_parser("archive", help="pack a finished run: checksums, environment, RO-Crate")
    p.add_argument("dir", help="run directory")
    p.add_argument("-o", "--output", help="archive file (default: DIR.bpsuite.tar.gz)")
    p.add_argument("--license", help="license of the archive for depositing (SPDX id or URL)")
    p.add_argument(
        "--author", action="append", default=[], help="author's name (repeat for several)"
    )
    p.set_defaults(func=_cmd_archive)

    p = sub.add_parser("verify", help="check an archive or run and recompute samples")
    p.add_argument("target", help="archive (.tar.gz) or run directory")
    p.add_argument("--samples", type=int, default=3, help="samples recomputed per task")
    p.set_defaults(func=_cmd_verify)

    from suite.compare import add_arguments as compare_arguments

    p = sub.add_parser("compare", help="two runs of one job: variances, bits, throughput")
    compare_arguments(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("info", help="Aer devices and methods, MPI library, versions")
    p.set_defaults(func=_cmd_info)

    try:
        from suite import slurm
    except ImportError:  # pragma: no cover - the module ships with the package
        slurm = None
    if slurm is not None:
        p = sub.add_parser("slurm", help="render (and --submit) sbatch scripts for a job")
        slurm.add_arguments(p)
        p.set_defaults(func=_cmd_slurm)
    return parser


def _error(message: str) -> None:
    sys.stderr.write(f"bpsuite: error: {message}\n")  # one write: ranks' lines stay whole
    sys.stderr.flush()


def _exit_code(exc: BaseException) -> int:
    return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("BPSUITE_DEBUG") == "1":
            raise
        message = str(exc).strip().splitlines()
        _error(message[0] if message else type(exc).__name__)
        return _exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
