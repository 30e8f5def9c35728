"""`bpsuite slurm`: render (and submit) the sbatch scripts of a sweep and its analysis.

Two scripts come out of the templates in the repository's top-level ``slurm/``
directory:

``sweep.sbatch``
    runs ``bpsuite run JOB --out DIR`` on every rank (``srun``, or ``mpiexec``
    with ``--launcher mpiexec``). Slurm sends SIGUSR1 to the batch shell
    ``--signal-seconds`` before the time limit; the shell forwards it to the
    launcher, the ranks stop at the next batch boundary and exit 75
    (EX_TEMPFAIL, "interrupted, run me again"), and the shell requeues the job
    with ``scontrol requeue``. The requeued job resumes from the shards.

``analyze.sbatch``
    one task: ``bpsuite status DIR --check-complete`` then ``bpsuite analyze DIR``.
    Submitted with ``--dependency=afterok:<sweep id>``, so it starts only once
    the sweep's last attempt exited 0 (a requeued attempt is not an end).

The public API the CLI uses is `add_arguments` and `run`; `render` is the pure
part (options in, script texts out) and `BatchOptions` is the validated spec.
docs/slurm.md describes every option and the exit-code protocol.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

EX_TEMPFAIL = 75
"""Exit code of an interrupted run (same as suite.runner.EXIT_INTERRUPTED)."""


def _template_dir() -> Path:
    checkout = Path(__file__).resolve().parents[1] / "slurm"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "bpsuite" / "slurm"  # pyproject data-files


TEMPLATE_DIR = _template_dir()
"""The sbatch templates: the checkout's top-level slurm/, or the installed copy."""

SCRIPTS = {"sweep.sbatch": "sweep.sbatch.in", "analyze.sbatch": "analyze.sbatch.in"}
"""Rendered script name → template file name."""

LAUNCHERS = ("srun", "mpiexec")

DEFAULT_TIME = "01:00:00"
DEFAULT_ANALYSIS_TIME = "00:30:00"
DEFAULT_SIGNAL_SECONDS = 120
DEFAULT_MAX_RESTARTS = 20
DEFAULT_MPI = "pmi2"
MAX_SIGNAL_SECONDS = 65535  # Slurm's limit for --signal=...@sig_time


class SlurmError(RuntimeError):
    """A failure of `bpsuite slurm` (sbatch missing or refusing a script)."""


class SlurmOptionError(ValueError):
    """A bad option: the one-line message names the option and the problem."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"{option}: {problem}")
        self.option = option


# ---------------------------------------------------------------------------
# value checks

_TIME_FORMATS = (
    # (pattern, field names from the most to the least significant)
    (re.compile(r"(\d+)"), ("minutes",)),
    (re.compile(r"(\d+):(\d+)"), ("minutes", "seconds")),
    (re.compile(r"(\d+):(\d+):(\d+)"), ("hours", "minutes", "seconds")),
    (re.compile(r"(\d+)-(\d+)"), ("days", "hours")),
    (re.compile(r"(\d+)-(\d+):(\d+)"), ("days", "hours", "minutes")),
    (re.compile(r"(\d+)-(\d+):(\d+):(\d+)"), ("days", "hours", "minutes", "seconds")),
)
_UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_UNIT_LIMIT = {"hours": 24, "minutes": 60, "seconds": 60}


def parse_time(text: str, option: str = "--time") -> int:
    """Seconds of a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.

    The leading field may be as large as you like ("90" is 90 minutes); the
    fields after it must be below 24 hours, 60 minutes and 60 seconds.
    """
    bad = SlurmOptionError(
        option, f"{text!r} is not a Slurm time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)"
    )
    if not isinstance(text, str):
        raise bad
    for pattern, units in _TIME_FORMATS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = [int(v) for v in match.groups()]
        for position, (unit, value) in enumerate(zip(units, values, strict=True)):
            if position > 0 and value >= _UNIT_LIMIT[unit]:
                raise SlurmOptionError(
                    option,
                    f"{text!r} is not a Slurm time ({unit} must be below {_UNIT_LIMIT[unit]})",
                )
        seconds = sum(_UNIT_SECONDS[u] * v for u, v in zip(units, values, strict=True))
        if seconds <= 0:
            raise SlurmOptionError(option, f"{text!r} is not a positive time limit")
        return seconds
    raise bad


_MEMORY = re.compile(r"[1-9]\d*[KMGT]?")
_SLURM_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_SLURM_NAME_LIST = re.compile(r"[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*")
_MPI_TYPE = re.compile(r"[a-z][a-z0-9_]*")
# characters that cannot stand in an #SBATCH path (no quoting there) or that
# Slurm would expand in a log-file name
_PATH_FORBIDDEN = set(" \t\n\r\"'%\\$`")


def _positive_int(option: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SlurmOptionError(option, f"{value!r} is not a positive integer")
    return value


def _sbatch_path(option: str, path: Path) -> Path:
    if not path.is_absolute():
        raise SlurmOptionError(option, f"'{path}' must be an absolute path")
    bad = sorted({c for c in str(path) if c in _PATH_FORBIDDEN})
    if bad:
        raise SlurmOptionError(
            option,
            f"'{path}' contains {' '.join(repr(c) for c in bad)}, "
            "which cannot stand in an #SBATCH line",
        )
    return path


def slurm_job_name(name: str) -> str:
    """The job's name made safe for Slurm (it appears in log names through %x)."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


# ---------------------------------------------------------------------------
# the validated spec


@dataclass(frozen=True)
class BatchOptions:
    """Everything the two scripts depend on, validated on construction.

    Paths must be absolute (`from_args` makes them so); a bad value raises
    `SlurmOptionError` naming the command-line option it came from.
    """

    job: Path
    """The job spec (JOB.toml) that `bpsuite run` reads."""
    name: str
    """The job's `name` (from JOB.toml)."""
    out: Path
    """The run directory (`--out`)."""
    python: str
    """Interpreter that runs `-m suite.cli` on the compute nodes."""
    nodes: int = 1
    ntasks_per_node: int = 1
    cpus_per_task: int = 1
    gpus_per_task: int | None = None
    time: str = DEFAULT_TIME
    partition: str | None = None
    account: str | None = None
    mem_per_cpu: str | None = None
    signal_seconds: int = DEFAULT_SIGNAL_SECONDS
    script_dir: Path | None = None
    """Where the scripts go; None means OUT/slurm."""
    launcher: str = "srun"
    mpi: str = DEFAULT_MPI
    """srun's --mpi plugin; "default" leaves it to the site's MpiDefault."""
    mpiexec: str = "mpiexec"
    """The mpiexec command for ``launcher="mpiexec"``."""
    max_restarts: int = DEFAULT_MAX_RESTARTS
    analysis_time: str = DEFAULT_ANALYSIS_TIME
    analysis_partition: str | None = None
    """Partition of the analysis job; None means the sweep's."""
    pythonpath: str | None = None
    """Prepended to PYTHONPATH in both scripts (the source checkout, if any)."""
    time_seconds: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: fill in derived fields
        set_(self, "job", Path(self.job))  # only in shell lines, quoted: any characters
        if not self.job.is_absolute():
            raise SlurmOptionError("job", f"'{self.job}' must be an absolute path")
        if not isinstance(self.name, str) or not self.name:
            raise SlurmOptionError("job", f"{self.job}: name must be a non-empty string")
        set_(self, "out", _sbatch_path("--out", Path(self.out)))
        script_dir = Path(self.script_dir) if self.script_dir is not None else self.out / "slurm"
        set_(self, "script_dir", _sbatch_path("--script-dir", script_dir))
        if not isinstance(self.python, str) or not self.python.strip():
            raise SlurmOptionError("--python", f"{self.python!r} is not an interpreter path")
        _positive_int("--nodes", self.nodes)
        _positive_int("--ntasks-per-node", self.ntasks_per_node)
        _positive_int("--cpus-per-task", self.cpus_per_task)
        if self.gpus_per_task is not None:
            _positive_int("--gpus-per-task", self.gpus_per_task)
        set_(self, "time_seconds", parse_time(self.time, "--time"))
        parse_time(self.analysis_time, "--analysis-time")
        if self.partition is not None and not _SLURM_NAME_LIST.fullmatch(self.partition):
            raise SlurmOptionError(
                "--partition",
                f"{self.partition!r} is not a partition name "
                "(letters, digits, _ . + -; several separated by commas)",
            )
        if self.analysis_partition is not None and not _SLURM_NAME_LIST.fullmatch(
            self.analysis_partition
        ):
            raise SlurmOptionError(
                "--analysis-partition",
                f"{self.analysis_partition!r} is not "
                "a partition name (letters, digits, _ . + -; several "
                "separated by commas)",
            )
        if self.account is not None and not _SLURM_NAME.fullmatch(self.account):
            raise SlurmOptionError(
                "--account", f"{self.account!r} is not an account name (letters, digits, _ . + -)"
            )
        if self.mem_per_cpu is not None and not _MEMORY.fullmatch(self.mem_per_cpu):
            raise SlurmOptionError(
                "--mem-per-cpu",
                f"{self.mem_per_cpu!r} is not a memory size "
                "(a positive integer with an optional K, M, G or T suffix)",
            )
        s = self.signal_seconds
        if isinstance(s, bool) or not isinstance(s, int) or not 0 < s <= MAX_SIGNAL_SECONDS:
            raise SlurmOptionError(
                "--signal-seconds", f"{s!r} is not an integer from 1 to {MAX_SIGNAL_SECONDS}"
            )
        if s >= self.time_seconds:
            raise SlurmOptionError(
                "--signal-seconds",
                f"{s} s is not shorter than --time {self.time} ({self.time_seconds} s)",
            )
        if self.launcher not in LAUNCHERS:
            raise SlurmOptionError(
                "--launcher", f"{self.launcher!r} is not one of {', '.join(LAUNCHERS)}"
            )
        if not isinstance(self.mpi, str) or not _MPI_TYPE.fullmatch(self.mpi):
            raise SlurmOptionError(
                "--mpi",
                f"{self.mpi!r} is not an srun MPI plugin name (pmi2, pmix, none, ... or default)",
            )
        if self.launcher == "mpiexec" and self.gpus_per_task is not None:
            raise SlurmOptionError(
                "--launcher",
                "mpiexec cannot bind one GPU per rank; use --launcher srun with --gpus-per-task",
            )
        if not isinstance(self.mpiexec, str) or not self.mpiexec.strip():
            raise SlurmOptionError("--mpiexec", f"{self.mpiexec!r} is not an mpiexec command")
        m = self.max_restarts
        if isinstance(m, bool) or not isinstance(m, int) or m < 0:
            raise SlurmOptionError("--max-restarts", f"{m!r} is not a non-negative integer")

    @property
    def ntasks(self) -> int:
        return self.nodes * self.ntasks_per_node

    @property
    def log_dir(self) -> Path:
        return self.out / "logs"

    @property
    def job_name(self) -> str:
        return f"bps-{slurm_job_name(self.name)}"

    @property
    def analysis_job_name(self) -> str:
        return f"{self.job_name}-analyze"

    def script_paths(self) -> dict[str, Path]:
        """Script name → where `run` writes it."""
        assert self.script_dir is not None  # set in __post_init__
        return {name: self.script_dir / name for name in SCRIPTS}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BatchOptions:
        """Validate the command line (paths made absolute, the job's name read)."""
        job = Path(args.job).absolute()
        name = read_job_name(job)
        out = Path(args.out).absolute() if args.out else (Path("runs") / name).absolute()
        script_dir = Path(args.script_dir).absolute() if args.script_dir else None
        python = resolve_python(args.python)
        launcher = getattr(args, "launcher", "srun")
        return cls(
            job=job,
            name=name,
            out=out,
            python=python,
            nodes=args.nodes,
            ntasks_per_node=args.ntasks_per_node,
            cpus_per_task=args.cpus_per_task,
            gpus_per_task=args.gpus_per_task,
            time=args.time,
            partition=args.partition,
            account=args.account,
            mem_per_cpu=args.mem_per_cpu,
            signal_seconds=args.signal_seconds,
            script_dir=script_dir,
            launcher=launcher,
            mpi=getattr(args, "mpi", DEFAULT_MPI),
            mpiexec=resolve_mpiexec(getattr(args, "mpiexec", None), python),
            max_restarts=getattr(args, "max_restarts", DEFAULT_MAX_RESTARTS),
            analysis_time=getattr(args, "analysis_time", DEFAULT_ANALYSIS_TIME),
            analysis_partition=getattr(args, "analysis_partition", None),
            pythonpath=source_root(),
        )


def read_job_name(job: Path) -> str:
    """The `name` of a job spec, after validating the whole spec (SpecError if bad).

    The memory check is left to the compute nodes: this node's memory says
    nothing about theirs.
    """
    from suite.spec import load_spec

    return load_spec(job, memory_bytes=sys.maxsize).name


def resolve_python(value: str | None) -> str:
    """The interpreter: a python executable, or a venv/conda prefix holding bin/python."""
    if not value:
        return sys.executable
    path = Path(value).expanduser().absolute()  # not resolve(): a venv's python is a symlink
    if path.is_dir():
        path = path / "bin" / "python"
    if not path.is_file():
        raise SlurmOptionError(
            "--python",
            f"'{value}' is neither a Python interpreter nor an environment with bin/python",
        )
    return str(path)


def resolve_mpiexec(value: str | None, python: str) -> str:
    """--mpiexec, else the one beside the interpreter (the mpich wheel's), else plain
    "mpiexec" from the compute node's PATH (it must belong to the MPI mpi4py was built for)."""
    if value:
        return str(Path(value).expanduser().absolute()) if "/" in value else value
    beside = Path(python).parent / "mpiexec"
    return str(beside) if beside.is_file() else "mpiexec"


def source_root() -> str | None:
    """The source checkout this module runs from, or None when installed."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "suite" / "__init__.py").is_file():
        return str(root)
    return None


# ---------------------------------------------------------------------------
# rendering


class _Template(string.Template):
    """``${lower_case}`` are placeholders; every other ``$`` is the shell's.

    So the templates use UPPER_CASE shell variables (``${SLURM_JOB_ID}``) and
    lower-case placeholders; ``$$`` still stands for one ``$``.
    """

    flags = 0  # the default (IGNORECASE) would make ${SLURM_JOB_ID} a placeholder
    pattern = r"""
    \$(?:
        (?P<escaped>\$) |
        \{(?P<braced>[a-z][a-z0-9_]*)\} |
        (?P<named>(?!)) |
        (?P<invalid>(?!))
    )
    """


def _q(value: object) -> str:
    return shlex.quote(str(value))


def _directives(*pairs: tuple[str, object | None]) -> str:
    return "\n".join(f"#SBATCH --{key}={value}" for key, value in pairs if value is not None)


def _launch_command(options: BatchOptions) -> str:
    run = f"{_q(options.python)} -m suite.cli run {_q(options.job)} --out {_q(options.out)}"
    if options.launcher == "mpiexec":
        return f'{_q(options.mpiexec)} -n "${{SLURM_NTASKS}}" {run}'
    parts = ["srun"]
    if options.mpi != "default":
        parts.append(f"--mpi={options.mpi}")
    parts += [
        "--kill-on-bad-exit=1",
        '--ntasks="${SLURM_NTASKS}"',
        '--cpus-per-task="${SLURM_CPUS_PER_TASK}"',
    ]
    if options.gpus_per_task is not None:
        parts += [
            f"--gpus-per-task={options.gpus_per_task}",
            f"--gpu-bind=per_task:{options.gpus_per_task}",
        ]
    return " ".join([*parts, run])


def _launcher_setup(options: BatchOptions) -> str:
    if options.launcher != "mpiexec":
        return ""
    # Hydra starts one proxy per node through srun; give that proxy step every
    # CPU of the node's tasks (Slurm >= 22.05 would otherwise give it one CPU,
    # to be shared by all the ranks it forks under task/affinity or cgroups).
    return (
        'export HYDRA_LAUNCHER_EXTRA_ARGS="--kill-on-bad-exit=1 '
        '--cpus-per-task=$(( SLURM_NTASKS_PER_NODE * SLURM_CPUS_PER_TASK ))"'
    )


def _pythonpath(options: BatchOptions) -> str:
    if options.pythonpath is None:
        return ""
    return f'export PYTHONPATH={_q(options.pythonpath)}"${{PYTHONPATH:+:${{PYTHONPATH}}}}"'


def _values(options: BatchOptions) -> dict[str, str]:
    site = _directives(
        ("partition", options.partition),
        ("account", options.account),
        ("mem-per-cpu", options.mem_per_cpu),
    )
    analysis_site = _directives(
        ("partition", options.analysis_partition or options.partition),
        ("account", options.account),
        ("mem-per-cpu", options.mem_per_cpu),
    )
    gpus = _directives(("gpus-per-task", options.gpus_per_task))
    return {
        "job_name": options.job_name,
        "analysis_job_name": options.analysis_job_name,
        "nodes": str(options.nodes),
        "ntasks_per_node": str(options.ntasks_per_node),
        "ntasks": str(options.ntasks),
        "cpus_per_task": str(options.cpus_per_task),
        "gpu_directives": gpus,
        "time": options.time,
        "analysis_time": options.analysis_time,
        "site_directives": site,
        "analysis_site_directives": analysis_site,
        "signal_seconds": str(options.signal_seconds),
        "log_dir": str(options.log_dir),
        "log_dir_q": _q(options.log_dir),
        "out_q": _q(options.out),
        "job_q": _q(options.job),
        "python_q": _q(options.python),
        "pythonpath_export": _pythonpath(options),
        "launcher_setup": _launcher_setup(options),
        "launch": _launch_command(options),
        "launcher": options.launcher,
        "max_restarts": str(options.max_restarts),
        "ex_tempfail": str(EX_TEMPFAIL),
    }


def _fill(template: str, values: dict[str, str]) -> str:
    """Substitute; a line holding only a placeholder that is empty disappears."""
    lines = []
    for line in template.splitlines(keepends=True):
        match = re.fullmatch(r"\s*\$\{([a-z][a-z0-9_]*)\}\s*", line)
        if match and values.get(match.group(1)) == "":
            continue
        lines.append(line)
    return _Template("".join(lines)).substitute(values)


def render(options: BatchOptions, template_dir: Path | None = None) -> dict[str, str]:
    """Script name → text of the sweep and analysis scripts (pure; writes nothing)."""
    directory = template_dir or TEMPLATE_DIR
    values = _values(options)
    scripts = {}
    for name, template_name in SCRIPTS.items():
        path = directory / template_name
        try:
            template = path.read_text()
        except OSError as exc:
            raise SlurmError(f"cannot read template {path}: {exc.strerror}") from None
        scripts[name] = _fill(template, values)
    return scripts


# ---------------------------------------------------------------------------
# command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `bpsuite slurm` (docs/slurm.md explains each)."""
    parser.add_argument("job", help="job spec (JOB.toml)")
    parser.add_argument("--out", metavar="DIR", help="run directory (default: runs/<job name>)")
    g = parser.add_argument_group("resources")
    g.add_argument("--nodes", type=int, default=1, help="nodes (default: 1)")
    g.add_argument("--ntasks-per-node", type=int, default=1, help="MPI ranks per node (default: 1)")
    g.add_argument(
        "--cpus-per-task",
        type=int,
        default=1,
        help="cores per rank = simulator threads (default: 1)",
    )
    g.add_argument(
        "--gpus-per-task",
        type=int,
        default=None,
        help="GPUs per rank (default: none); each rank is bound to its own",
    )
    g.add_argument(
        "--time",
        default=DEFAULT_TIME,
        help="time limit of each attempt: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or "
        f"D-HH:MM:SS (default: {DEFAULT_TIME})",
    )
    g.add_argument("--partition", help="partition(s) (default: the cluster's default)")
    g.add_argument("--account", help="account to charge (default: yours)")
    g.add_argument("--mem-per-cpu", help="memory per core, e.g. 4G (default: the site's)")
    g = parser.add_argument_group("restart and launch")
    g.add_argument(
        "--signal-seconds",
        type=int,
        default=DEFAULT_SIGNAL_SECONDS,
        help="send SIGUSR1 this many seconds before the time limit so the ranks "
        f"stop and the job requeues itself (default: {DEFAULT_SIGNAL_SECONDS})",
    )
    g.add_argument(
        "--max-restarts",
        type=int,
        default=DEFAULT_MAX_RESTARTS,
        help="requeue an interrupted sweep at most this many times "
        f"(default: {DEFAULT_MAX_RESTARTS})",
    )
    g.add_argument(
        "--launcher",
        choices=LAUNCHERS,
        default="srun",
        help="start the ranks with srun (default) or the environment's mpiexec",
    )
    g.add_argument(
        "--mpiexec",
        help="mpiexec for --launcher mpiexec (default: the one beside --python, else on PATH)",
    )
    g.add_argument(
        "--mpi",
        default=DEFAULT_MPI,
        help=f"srun --mpi plugin (default: {DEFAULT_MPI}, right for MPICH); "
        "'default' uses the site's MpiDefault",
    )
    g.add_argument(
        "--python",
        default=None,
        help="interpreter or environment (venv/conda prefix) on the compute nodes "
        "(default: this interpreter)",
    )
    g.add_argument(
        "--analysis-time",
        default=DEFAULT_ANALYSIS_TIME,
        help=f"time limit of the analysis job (default: {DEFAULT_ANALYSIS_TIME})",
    )
    g.add_argument(
        "--analysis-partition",
        help="partition of the analysis job (default: --partition)",
    )
    g = parser.add_argument_group("output")
    g.add_argument(
        "--script-dir", metavar="DIR", help="where the scripts are written (default: OUT/slurm)"
    )
    g.add_argument(
        "--submit",
        action="store_true",
        help="submit the sweep, then the analysis with afterok on it",
    )


def write_scripts(options: BatchOptions) -> dict[str, Path]:
    """Render, write (mode 755) and create the log directory; script name → path."""
    texts = render(options)
    paths = options.script_paths()
    for directory in {options.log_dir, *(p.parent for p in paths.values())}:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SlurmError(f"cannot create {directory}: {exc.strerror}") from None
    for name, path in paths.items():
        path.write_text(texts[name])
        path.chmod(0o755)
    return paths


def sbatch(script: Path, *extra: str, sbatch_command: str = "sbatch") -> str:
    """Submit with ``sbatch --parsable``; the job id."""
    command = [sbatch_command, "--parsable", *extra, str(script)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except OSError as exc:
        raise SlurmError(f"cannot run {sbatch_command}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{sbatch_command} did not answer within 120 s") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {result.returncode}"
        raise SlurmError(f"sbatch {script.name} failed: {reason}")
    # --parsable prints "jobid" or "jobid;cluster"
    job_id = result.stdout.strip().splitlines()[-1].split(";")[0] if result.stdout.strip() else ""
    if not job_id.isdigit():
        raise SlurmError(f"sbatch {script.name} printed no job id: {result.stdout.strip()!r}")
    return job_id


def submit(paths: dict[str, Path]) -> tuple[str, str]:
    """Submit the sweep, then the analysis after it; (sweep id, analysis id)."""
    command = shutil.which("sbatch")
    if command is None:
        raise SlurmOptionError("--submit", "sbatch not found on PATH (is Slurm installed here?)")
    sweep_id = sbatch(paths["sweep.sbatch"], sbatch_command=command)
    try:
        analysis_id = sbatch(
            paths["analyze.sbatch"], f"--dependency=afterok:{sweep_id}", sbatch_command=command
        )
    except SlurmError as exc:
        raise SlurmError(f"{exc} (sweep job {sweep_id} was submitted)") from None
    return sweep_id, analysis_id


def run(args: argparse.Namespace) -> int:
    """`bpsuite slurm`: validate, render, write, and with --submit submit both jobs."""
    options = BatchOptions.from_args(args)
    paths = write_scripts(options)
    print(f"sweep script:    {paths['sweep.sbatch']}")
    print(f"analysis script: {paths['analyze.sbatch']}")
    print(f"logs:            {options.log_dir}")
    if not args.submit:
        print(
            f"submit with:     sbatch {paths['sweep.sbatch']} and then "
            f"sbatch --dependency=afterok:<sweep id> {paths['analyze.sbatch']}"
        )
        return 0
    sweep_id, analysis_id = submit(paths)
    print(f"sweep job:       {sweep_id}")
    print(f"analysis job:    {analysis_id} (after {sweep_id} completes: afterok)")
    return 0


__all__ = [
    "EX_TEMPFAIL",
    "BatchOptions",
    "SlurmError",
    "SlurmOptionError",
    "add_arguments",
    "parse_time",
    "render",
    "run",
    "submit",
    "write_scripts",
]
