"""`bpsuite slurm` without a cluster: validation, the rendered text, and the
sweep script's requeue logic run by bash against stand-ins for srun/scontrol."""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import one_line_refusal
from suite import slurm
from suite.slurm import BatchOptions, SlurmOptionError, parse_time, render
from suite.spec import SpecError

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/opt/env/bin/python"


def job_text(name: str) -> str:
    """A minimal valid job spec."""
    return (
        f'name = "{name}"\nseed = 1\nsamples = 1\n'
        '[[sweep]]\nansatz = "product"\ncost = "local"\nqubits = 2\n'
    )


def options(**overrides) -> BatchOptions:
    values = {
        "job": Path("/data/jobs/warmup.toml"),
        "name": "warmup",
        "out": Path("/scratch/runs/warmup"),
        "python": PYTHON,
    }
    values.update(overrides)
    return BatchOptions(**values)


def sbatch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#SBATCH")]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    slurm.add_arguments(parser)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------
# time limits


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 1800),
        ("90", 5400),
        ("10:30", 630),
        ("90:00", 5400),
        ("02:00:00", 7200),
        ("1:2:3", 3723),
        ("1-00", 86400),
        ("2-12", 216000),
        ("1-01:30", 91800),
        ("0-00:00:30", 30),
        ("7-23:59:59", 7 * 86400 + 86399),
    ],
)
def test_slurm_time_formats(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "1:2:3:4",
        "",
        "0",
        "00:00",
        "1-",
        "-1",
        "1h",
        "1.5",
        "1-24",
        "1-00:60",
        "1:60",
        "1:00:60",
        "01:60:00",
        " 10",
        "10 ",
        "1-2-3",
        "UNLIMITED",
    ],
)
def test_bad_times_are_one_line_errors_naming_the_option(text):
    one_line_refusal(SlurmOptionError, f"--time: {text!r} is not a", options, time=text)


def test_the_example_message_from_the_design():
    with pytest.raises(SlurmOptionError, match=r"^--time: '1:2:3:4' is not a Slurm time"):
        options(time="1:2:3:4")


# ---------------------------------------------------------------------------
# bad options


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"nodes": 0}, "--nodes: 0 is not a positive integer"),
        ({"nodes": -2}, "--nodes: -2 is not a positive integer"),
        ({"ntasks_per_node": 0}, "--ntasks-per-node: 0 is not a positive integer"),
        ({"cpus_per_task": 0}, "--cpus-per-task: 0 is not a positive integer"),
        ({"gpus_per_task": 0}, "--gpus-per-task: 0 is not a positive integer"),
        ({"partition": "gpu queue"}, "--partition: 'gpu queue' is not a partition name"),
        ({"partition": "a,,b"}, "--partition: 'a,,b' is not a partition name"),
        ({"analysis_partition": "x;y"}, "--analysis-partition: 'x;y' is not a partition name"),
        ({"account": "proj;rm -rf"}, "--account: 'proj;rm -rf' is not an account name"),
        ({"mem_per_cpu": "4GB"}, "--mem-per-cpu: '4GB' is not a memory size"),
        ({"mem_per_cpu": "0"}, "--mem-per-cpu: '0' is not a memory size"),
        ({"signal_seconds": 0}, "--signal-seconds: 0 is not an integer from 1 to 65535"),
        ({"signal_seconds": 70000}, "--signal-seconds: 70000 is not an integer from 1 to 65535"),
        (
            {"time": "2", "signal_seconds": 120},
            "--signal-seconds: 120 s is not shorter than --time 2 (120 s)",
        ),
        ({"analysis_time": "1:2:3:4"}, "--analysis-time: '1:2:3:4' is not a Slurm time"),
        ({"launcher": "aprun"}, "--launcher: 'aprun' is not one of srun, mpiexec"),
        ({"mpi": "PMI 2"}, "--mpi: 'PMI 2' is not an srun MPI plugin name"),
        ({"launcher": "mpiexec", "gpus_per_task": 1}, "--launcher: mpiexec cannot bind one GPU"),
        ({"max_restarts": -1}, "--max-restarts: -1 is not a non-negative integer"),
        ({"out": Path("/scratch/my runs/x")}, "--out: '/scratch/my runs/x' contains ' '"),
        ({"out": Path("/scratch/100%/x")}, "--out: '/scratch/100%/x' contains '%'"),
        ({"out": Path("relative/dir")}, "--out: 'relative/dir' must be an absolute path"),
        ({"script_dir": Path("/tmp/a'b")}, "--script-dir: '/tmp/a'b' contains"),
        ({"python": ""}, "--python: '' is not an interpreter path"),
        ({"job": Path("jobs/x.toml")}, "job: 'jobs/x.toml' must be an absolute path"),
    ],
)
def test_bad_options_give_one_line_naming_the_option(overrides, expected):
    one_line_refusal(SlurmOptionError, expected, options, **overrides)
    assert issubclass(SlurmOptionError, ValueError)  # the CLI maps it to exit status 2


def test_job_file_problems_are_option_errors(tmp_path):
    """The whole spec is validated (suite.spec) before anything is rendered."""
    with pytest.raises(SpecError, match=r"missing\.toml: cannot read job file"):
        BatchOptions.from_args(parse([str(tmp_path / "missing.toml")]))
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(SpecError, match=r"broken\.toml: not valid TOML"):
        BatchOptions.from_args(parse([str(broken)]))
    nameless = tmp_path / "nameless.toml"
    nameless.write_text("seed = 1\n")
    with pytest.raises(SpecError, match=r"nameless\.toml: name: missing"):
        BatchOptions.from_args(parse([str(nameless)]))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(job_text("x") + "colour = 1\n")
    with pytest.raises(SpecError, match=r"unknown\.toml: sweep\[0\]\.colour: unknown key"):
        BatchOptions.from_args(parse([str(unknown)]))
    job = tmp_path / "job.toml"
    job.write_text(job_text("x"))
    with pytest.raises(SlurmOptionError, match=r"^--python: '/nowhere/python' is neither"):
        BatchOptions.from_args(parse([str(job), "--python", "/nowhere/python"]))


def test_defaults_from_the_command_line(tmp_path, monkeypatch):
    job = tmp_path / "job.toml"
    job.write_text(job_text("warm:up"))
    monkeypatch.chdir(tmp_path)
    opts = BatchOptions.from_args(parse(["job.toml"]))
    assert opts.job == job
    assert opts.out == tmp_path / "runs" / "warm:up"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / "bin" / "mpiexec").write_text("")
    opts = BatchOptions.from_args(
        parse(["job.toml", "--out", "r", "--python", str(venv), "--script-dir", "s"])
    )
    assert (opts.out, opts.script_dir) == (tmp_path / "r", tmp_path / "s")
    assert opts.python == str(venv / "bin" / "python")
    assert opts.mpiexec == str(venv / "bin" / "mpiexec")
    assert opts.job_name == "bps-warm_up"  # %x in log names: Slurm-safe characters only
    assert (opts.nodes, opts.ntasks_per_node, opts.cpus_per_task, opts.gpus_per_task) == (
        1,
        1,
        1,
        None,
    )
    assert (opts.time, opts.signal_seconds, opts.launcher, opts.mpi) == (
        "01:00:00",
        120,
        "srun",
        "pmi2",
    )
    opts = BatchOptions.from_args(parse(["job.toml", "--out", "r"]))
    assert opts.python == sys.executable
    assert opts.pythonpath == str(REPO)  # a source checkout puts itself on PYTHONPATH


def test_default_out_is_runs_slash_the_job_name(tmp_path, monkeypatch):
    (tmp_path / "job.toml").write_text(job_text("warmup"))
    monkeypatch.chdir(tmp_path)
    opts = BatchOptions.from_args(parse(["job.toml"]))
    assert opts.out == tmp_path / "runs" / "warmup"
    assert opts.script_dir == tmp_path / "runs" / "warmup" / "slurm"
    assert opts.log_dir == tmp_path / "runs" / "warmup" / "logs"


# ---------------------------------------------------------------------------
# rendered text for every combination

GPUS = (None, 1, 2)
PARTITIONS = (None, "debug", "gpu,gpu-long")
ACCOUNTS = (None, "qc-project")
SHAPES = ((1, 1, 1), (2, 4, 8), (16, 8, 2))
TIMES = ("30", "10:00", "02:00:00", "1-00", "2-12:30", "0-01:00:00")
MEMORY = (None, "4G")
GRID = [
    (gpus, partition, account, shape, TIMES[i % len(TIMES)], MEMORY[i % 2])
    for i, (gpus, partition, account, shape) in enumerate(
        itertools.product(GPUS, PARTITIONS, ACCOUNTS, SHAPES)
    )
]


@pytest.mark.parametrize(("gpus", "partition", "account", "shape", "time_limit", "mem"), GRID)
def test_sweep_script_for_every_combination(gpus, partition, account, shape, time_limit, mem):
    nodes, tasks, cpus = shape
    opts = options(
        nodes=nodes,
        ntasks_per_node=tasks,
        cpus_per_task=cpus,
        gpus_per_task=gpus,
        time=time_limit,
        partition=partition,
        account=account,
        mem_per_cpu=mem,
        signal_seconds=25,
    )
    text = render(opts)["sweep.sbatch"]
    expected = [
        "#SBATCH --job-name=bps-warmup",
        f"#SBATCH --nodes={nodes}",
        f"#SBATCH --ntasks-per-node={tasks}",
        f"#SBATCH --ntasks={nodes * tasks}",
        f"#SBATCH --cpus-per-task={cpus}",
        *([f"#SBATCH --gpus-per-task={gpus}"] if gpus else []),
        f"#SBATCH --time={time_limit}",
        *([f"#SBATCH --partition={partition}"] if partition else []),
        *([f"#SBATCH --account={account}"] if account else []),
        *([f"#SBATCH --mem-per-cpu={mem}"] if mem else []),
        "#SBATCH --signal=B:USR1@25",
        "#SBATCH --requeue",
        "#SBATCH --open-mode=append",
        "#SBATCH --output=/scratch/runs/warmup/logs/%x-%j.out",
        "#SBATCH --error=/scratch/runs/warmup/logs/%x-%j.out",
    ]
    assert sbatch_lines(text) == expected
    # every #SBATCH line comes before the first command (sbatch stops reading there)
    lines = text.splitlines()
    first_command = next(
        i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")
    )
    assert max(i for i, line in enumerate(lines) if line.startswith("#SBATCH")) < first_command
    assert lines[0] == "#!/bin/bash"
    assert "set -euo pipefail" in lines
    # the launch line
    gpu_flags = f" --gpus-per-task={gpus} --gpu-bind=per_task:{gpus}" if gpus else ""
    launch = (
        'srun --mpi=pmi2 --kill-on-bad-exit=1 --ntasks="${SLURM_NTASKS}" '
        f'--cpus-per-task="${{SLURM_CPUS_PER_TASK}}"{gpu_flags} {PYTHON} -m suite.cli run '
        "/data/jobs/warmup.toml --out /scratch/runs/warmup &"
    )
    assert [line.strip() for line in lines if "suite.cli run" in line] == [launch]
    # thread exports
    assert 'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK}"' in lines
    assert 'export BPSUITE_THREADS="${SLURM_CPUS_PER_TASK}"' in lines
    # signal and requeue handling
    assert "trap on_usr1 USR1" in lines and "trap on_term TERM" in lines
    assert "EX_TEMPFAIL=75" in lines and "MAX_RESTARTS=20" in lines
    assert 'if scontrol requeue "${SLURM_JOB_ID}"; then' in text
    assert 'LOG="${LOG_DIR}/${SLURM_JOB_NAME}-${SLURM_JOB_ID}.${RESTART}.log"' in lines
    assert "${" + "launch}" not in text and not re.search(r"\$\{[a-z_]+\}", text)


@pytest.mark.parametrize(
    ("partition", "analysis_partition", "account", "mem"),
    [
        (None, None, None, None),
        ("gpu", None, "acct", "2G"),
        ("gpu", "cpu", None, None),
    ],
)
def test_analysis_script(partition, analysis_partition, account, mem):
    opts = options(
        cpus_per_task=4,
        gpus_per_task=1,
        partition=partition,
        analysis_partition=analysis_partition,
        account=account,
        mem_per_cpu=mem,
        analysis_time="45",
    )
    text = render(opts)["analyze.sbatch"]
    chosen = analysis_partition or partition
    assert sbatch_lines(text) == [
        "#SBATCH --job-name=bps-warmup-analyze",
        "#SBATCH --nodes=1",
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --time=45",
        *([f"#SBATCH --partition={chosen}"] if chosen else []),
        *([f"#SBATCH --account={account}"] if account else []),
        *([f"#SBATCH --mem-per-cpu={mem}"] if mem else []),
        "#SBATCH --kill-on-invalid-dep=yes",
        "#SBATCH --open-mode=append",
        "#SBATCH --output=/scratch/runs/warmup/logs/%x-%j.out",
        "#SBATCH --error=/scratch/runs/warmup/logs/%x-%j.out",
    ]
    lines = [line.strip() for line in text.splitlines()]
    assert "set -euo pipefail" in lines
    assert f"PYTHON={PYTHON}" in lines and "OUT=/scratch/runs/warmup" in lines
    status = 'if ! "${PYTHON}" -m suite.cli status "${OUT}" --check-complete; then'
    analyze = '"${PYTHON}" -m suite.cli analyze "${OUT}"'
    assert lines.index(status) < lines.index(analyze)
    assert "srun" not in text and "gpu" not in text.replace(f"partition={chosen}", "")


def test_mpiexec_launcher_and_site_mpi():
    text = render(
        options(
            launcher="mpiexec", mpiexec="/opt/env/bin/mpiexec", ntasks_per_node=4, cpus_per_task=2
        )
    )["sweep.sbatch"]
    assert (
        '/opt/env/bin/mpiexec -n "${SLURM_NTASKS}" /opt/env/bin/python -m suite.cli run '
        "/data/jobs/warmup.toml --out /scratch/runs/warmup &"
    ) in text
    assert "export HYDRA_LAUNCHER_EXTRA_ARGS=" in text
    assert "srun " not in text
    text = render(options(mpi="default"))["sweep.sbatch"]
    assert "srun --kill-on-bad-exit=1 " in text and "--mpi" not in text
    text = render(options(mpi="pmix"))["sweep.sbatch"]
    assert "srun --mpi=pmix --kill-on-bad-exit=1 " in text


def test_paths_are_shell_quoted_and_pythonpath_exported():
    opts = options(
        python="/opt/my env/bin/python",
        job=Path("/data/my jobs/$HOME.toml"),
        pythonpath="/src/bp suite",
        max_restarts=3,
    )
    text = render(opts)["sweep.sbatch"]
    assert "'/opt/my env/bin/python' -m suite.cli run '/data/my jobs/$HOME.toml' --out" in text
    assert "JOB='/data/my jobs/$HOME.toml'" in text
    assert """export PYTHONPATH='/src/bp suite'"${PYTHONPATH:+:${PYTHONPATH}}\"""" in text
    assert "MAX_RESTARTS=3" in text
    assert "PYTHONPATH" not in render(options())["sweep.sbatch"]


def test_rendered_scripts_are_valid_bash():
    for opts in (
        options(),
        options(gpus_per_task=1, partition="p", account="a"),
        options(launcher="mpiexec", pythonpath="/src"),
    ):
        for name, text in render(opts).items():
            result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            assert result.returncode == 0, f"{name}: {result.stderr}"


def test_templates_live_in_the_top_level_slurm_directory():
    assert slurm.TEMPLATE_DIR == REPO / "slurm"
    assert sorted(p.name for p in slurm.TEMPLATE_DIR.glob("*.in")) == [
        "analyze.sbatch.in",
        "sweep.sbatch.in",
    ]


def test_exit_code_matches_the_runner():
    runner = pytest.importorskip("suite.runner")
    assert runner.EXIT_INTERRUPTED == slurm.EX_TEMPFAIL == 75


def test_run_writes_scripts_and_prints_paths(tmp_path, capsys):
    job = tmp_path / "job.toml"
    job.write_text(job_text("demo"))
    code = slurm.run(
        parse(
            [
                str(job),
                "--out",
                str(tmp_path / "out"),
                "--time",
                "5",
                "--signal-seconds",
                "60",
                "--python",
                sys.executable,
            ]
        )
    )
    assert code == 0
    printed = capsys.readouterr().out
    sweep = tmp_path / "out" / "slurm" / "sweep.sbatch"
    analysis = tmp_path / "out" / "slurm" / "analyze.sbatch"
    assert str(sweep) in printed and str(analysis) in printed
    assert sweep.stat().st_mode & 0o111 and (tmp_path / "out" / "logs").is_dir()
    assert "#SBATCH --signal=B:USR1@60" in sweep.read_text()


def test_submit_without_sbatch_is_an_option_error(tmp_path, monkeypatch):
    job = tmp_path / "job.toml"
    job.write_text(job_text("demo"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SlurmOptionError, match=r"^--submit: sbatch not found on PATH"):
        slurm.run(parse([str(job), "--out", str(tmp_path / "out"), "--submit"]))


def test_submit_chains_the_analysis_with_afterok(tmp_path, monkeypatch, capsys):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "sbatch"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        'case "$*" in *dependency*) echo "4712;cluster" ;; *) echo 4711 ;; esac\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    job = tmp_path / "job.toml"
    job.write_text(job_text("demo"))
    assert slurm.run(parse([str(job), "--out", str(tmp_path / "out"), "--submit"])) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^sweep job:\s+4711$", printed, re.M)
    assert re.search(r"^analysis job:\s+4712 ", printed, re.M)
    scripts = tmp_path / "out" / "slurm"
    assert calls.read_text().splitlines() == [
        f"--parsable {scripts / 'sweep.sbatch'}",
        f"--parsable --dependency=afterok:4711 {scripts / 'analyze.sbatch'}",
    ]


def test_cli_reports_a_bad_option_in_one_line(tmp_path):
    job = tmp_path / "job.toml"
    job.write_text(job_text("demo"))
    result = subprocess.run(
        [sys.executable, "-m", "suite.cli", "slurm", str(job), "--time", "1:2:3:4"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "bpsuite: error: --time: '1:2:3:4' is not a Slurm time "
        "(MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)"
    ]


# ---------------------------------------------------------------------------
# the sweep script's protocol, run by bash with stand-ins for srun and scontrol

FAKE_SRUN = """#!/bin/bash
while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do shift; done
exec "$@"
"""
FAKE_SCONTROL = """#!/bin/bash
echo "$@" >> "$CALLS"
exit "${SCONTROL_EXIT:-0}"
"""


@pytest.fixture
def sweep_runner(tmp_path, fake_suite):
    """Run the rendered sweep script under plain bash; (exit code, scontrol calls, log)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("srun", FAKE_SRUN), ("scontrol", FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    out = tmp_path / "run"
    opts = options(out=out, python=str(fake_suite), job=tmp_path / "job.toml", max_restarts=2)
    script = tmp_path / "sweep.sbatch"
    script.write_text(render(opts)["sweep.sbatch"])
    (out / "logs").mkdir(parents=True)
    calls = tmp_path / "calls"

    def run(restart: int = 0, send: str | None = None, **env: str):
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLURM_")},
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "CALLS": str(calls),
            "SLURM_JOB_ID": "99",
            "SLURM_JOB_NAME": "bps-warmup",
            "SLURM_NTASKS": "1",
            "SLURM_CPUS_PER_TASK": "3",
            "SLURM_JOB_NODELIST": "node1",
            "SLURM_RESTART_COUNT": str(restart),
            **env,
        }
        process = subprocess.Popen(["bash", str(script)], env=environment)
        if send:
            marker = out / f"rank0.attempt{restart}"
            deadline = time.monotonic() + 60
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            process.send_signal(getattr(signal, f"SIG{send}"))
        code = process.wait(timeout=120)
        log = (out / "logs" / f"bps-warmup-99.{restart}.log").read_text()
        made = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return code, made, log

    run.out = out
    return run


def test_success_exits_zero_without_requeue(sweep_runner):
    code, calls, log = sweep_runner(restart=1)
    assert (code, calls) == (0, [])
    assert "sweep complete" in log
    assert (sweep_runner.out / "rank0.attempt1").read_text() == "1 3 3\n"  # thread exports


def test_exit_75_requeues_and_exits_zero(sweep_runner):
    code, calls, log = sweep_runner(FAKE_EXIT="75")
    assert (code, calls) == (0, ["requeue 99"])
    assert "requeueing job 99 (restart 1)" in log


def test_usr1_is_forwarded_and_the_job_requeued(sweep_runner):
    code, calls, log = sweep_runner(send="USR1")
    assert (code, calls) == (0, ["requeue 99"])
    assert "got signal 10: exit 75" in log and "srun exited with 75" in log


def test_a_failure_after_usr1_is_requeued_too(sweep_runner):
    code, calls, log = sweep_runner(send="USR1", FAKE_SIGNAL_EXIT="1")
    assert (code, calls) == (0, ["requeue 99"])
    assert "srun exited with 1" in log


def test_other_failures_are_not_requeued(sweep_runner):
    code, calls, log = sweep_runner(FAKE_EXIT="3")
    assert (code, calls) == (3, [])
    assert "sweep failed (exit 3)" in log


def test_sigterm_is_passed_on_but_not_requeued(sweep_runner):
    code, calls, log = sweep_runner(send="TERM")
    assert (code, calls) == (75, [])
    assert "not requeued" in log


def test_max_restarts_stops_requeueing(sweep_runner):
    code, calls, log = sweep_runner(restart=2, FAKE_EXIT="75")
    assert (code, calls) == (75, [])
    assert "--max-restarts 2" in log


def test_failed_requeue_exits_75(sweep_runner):
    code, calls, log = sweep_runner(FAKE_EXIT="75", SCONTROL_EXIT="1")
    assert (code, calls) == (75, ["requeue 99"])
    assert "scontrol requeue failed" in log
