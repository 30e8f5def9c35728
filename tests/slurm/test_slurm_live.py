"""Live tests against the localhost Slurm cluster of conftest.py.

They submit real jobs to a real slurmctld: a trivial batch job, srun's PMI
with the MPICH wheel, the exit-75 → `scontrol requeue` protocol, and the
rendered sweep/analysis scripts (with a stand-in for `python -m suite.cli`
so the mechanics are tested apart from the science, and with the real
suite on jobs/smoke.toml).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import h5py
import pytest

from suite import slurm

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def submit_with_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`bpsuite slurm ... --submit` through the public API; (sweep id, analysis id)."""
    parser = argparse.ArgumentParser()
    slurm.add_arguments(parser)
    assert slurm.run(parser.parse_args([*argv, "--submit"])) == 0
    out = capsys.readouterr().out
    sweep = re.search(r"^sweep job:\s+(\d+)$", out, re.M)
    analysis = re.search(r"^analysis job:\s+(\d+)", out, re.M)
    assert sweep and analysis, out
    return sweep.group(1), analysis.group(1)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def write_job(directory: Path, name: str = "fake") -> Path:
    job = directory / "job.toml"
    job.write_text(
        f'name = "{name}"\nseed = 1\nsamples = 1\n'
        '[[sweep]]\nansatz = "product"\ncost = "local"\nqubits = 2\n'
    )
    return job


def test_trivial_batch_job_completes(slurm_cluster, tmp_path):
    script = tmp_path / "hello.sbatch"
    script.write_text(
        textwrap.dedent(f"""\
        #!/bin/bash
        #SBATCH --output={tmp_path}/hello-%j.out
        #SBATCH --time=1
        echo "hello from $SLURM_JOB_ID restart=${{SLURM_RESTART_COUNT:-0}}"
        """)
    )
    job_id = slurm_cluster.submit(script)
    assert slurm_cluster.wait(job_id, timeout=60) == "COMPLETED"
    assert (tmp_path / f"hello-{job_id}.out").read_text() == f"hello from {job_id} restart=0\n"


@pytest.mark.parametrize(("mpi", "expected"), [("pmi2", ["2 0", "2 1"]), ("none", ["1 0", "1 0"])])
def test_srun_pmi_gives_the_mpich_wheel_one_world(slurm_cluster, mpi, expected):
    """srun --mpi=pmi2 wires the MPICH wheel's ranks together; without PMI they are singletons."""
    code = "from mpi4py import MPI; c = MPI.COMM_WORLD; print(c.size, c.rank)"
    result = slurm_cluster.run("srun", f"--mpi={mpi}", "-n", "2", PYTHON, "-c", code, timeout=120)
    assert sorted(result.stdout.split("\n")[:-1]) == expected, result.stderr


def test_wrong_pmi_is_refused_before_any_work(slurm_cluster, tmp_path):
    """srun without PMI: two singleton worlds would both compute everything; both refuse."""
    out = tmp_path / "run"
    result = slurm_cluster.run(
        "srun",
        "--mpi=none",
        "-n",
        "2",
        PYTHON,
        "-m",
        "suite.cli",
        "run",
        str(REPO / "jobs" / "smoke.toml"),
        "--out",
        str(out),
        check=False,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode != 0
    errors = [x for x in result.stderr.splitlines() if x.startswith("bpsuite: error")]
    assert len(errors) == 2, result.stderr
    assert all("srun started 2 tasks but each sees an MPI world of size 1" in e for e in errors)
    assert not out.exists()


def test_exit_75_after_a_signal_requeues_and_the_second_run_completes(slurm_cluster, tmp_path):
    """The bare protocol: trap USR1, exit 75, `scontrol requeue`, restart count 1 completes."""
    script = tmp_path / "requeue.sbatch"
    script.write_text(
        textwrap.dedent(f"""\
        #!/bin/bash
        #SBATCH --output={tmp_path}/requeue-%j.out
        #SBATCH --open-mode=append
        #SBATCH --requeue
        #SBATCH --time=5
        set -euo pipefail
        RESTART=${{SLURM_RESTART_COUNT:-0}}
        echo "attempt $RESTART"
        if [ "$RESTART" -eq 0 ]; then
            RC=0
            {PYTHON} -c '
        import signal, sys, time
        signal.signal(signal.SIGUSR1, lambda *a: sys.exit(75))
        open("{tmp_path}/ready", "w").close()
        time.sleep(120)
        sys.exit(3)' &
            PID=$!
            trap 'kill -USR1 $PID' USR1
            wait $PID || RC=$?
            if [ "$RC" -gt 128 ]; then wait $PID || RC=$?; fi
            echo "exit $RC"
            if [ "$RC" -eq 75 ]; then scontrol requeue "$SLURM_JOB_ID"; exit 0; fi
            exit "$RC"
        fi
        echo "second run done"
        """)
    )
    job_id = slurm_cluster.submit(script)
    slurm_cluster.wait_running(job_id)
    deadline = time.monotonic() + 60
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    slurm_cluster.signal_batch(job_id, "USR1")
    slurm_cluster.wait_until(job_id, lambda j: j.get("Restarts") == "1", 30, "requeue")
    assert slurm_cluster.wait(job_id, timeout=90) == "COMPLETED"
    info = slurm_cluster.job(job_id)
    assert info["Restarts"] == "1" and info["ExitCode"] == "0:0"
    log = (tmp_path / f"requeue-{job_id}.out").read_text()
    assert "attempt 0\nexit 75\n" in log
    assert log.endswith("attempt 1\nsecond run done\n")


def test_sweep_requeues_itself_at_the_time_limit_then_analysis_runs(
    slurm_cluster, tmp_path, fake_suite, capsys
):
    """Rendered scripts, real --signal=B:USR1@N: stop, exit 75, requeue, finish, analyse."""
    out = tmp_path / "run"
    sweep, analysis = submit_with_cli(
        [
            str(write_job(tmp_path)),
            "--out",
            str(out),
            "--python",
            str(fake_suite),
            "--ntasks-per-node",
            "2",
            "--time",
            "1",
            "--signal-seconds",
            "58",
        ],
        capsys,
    )
    assert slurm_cluster.state(analysis) == "PENDING"
    slurm_cluster.wait_running(sweep, timeout=60, restarts=0)
    # Slurm checks time limits every ~30 s; the signal is due 2 s after the start
    slurm_cluster.wait_until(sweep, lambda j: j.get("Restarts") == "1", 75, "requeue")
    assert slurm_cluster.state(analysis) == "PENDING"  # a requeue is not the end
    assert slurm_cluster.wait(sweep, timeout=90) == "COMPLETED"
    assert slurm_cluster.wait(analysis, timeout=90) == "COMPLETED"
    sweep_info, analysis_info = slurm_cluster.job(sweep), slurm_cluster.job(analysis)
    assert sweep_info["Restarts"] == "1"
    assert when(analysis_info["StartTime"]) >= when(sweep_info["EndTime"])
    assert (out / "analysis" / "report.md").read_text() == "# fake report\n"
    # both attempts ran 2 ranks in one MPI world (srun --mpi=pmi2) with the thread exports
    for attempt in (0, 1):
        for rank in (0, 1):
            assert (out / f"rank{rank}.attempt{attempt}").read_text() == "2 1 1\n"
    logs = out / "logs"
    name = "bps-fake"
    assert (logs / f"{name}-{sweep}.0.log").exists() and (logs / f"{name}-{sweep}.1.log").exists()
    first = (logs / f"{name}-{sweep}.0.log").read_text()
    assert "SIGUSR1: time limit near" in first and "srun exited with 75" in first
    assert f"requeueing job {sweep} (restart 1)" in first
    assert "sweep complete" in (logs / f"{name}-{sweep}.1.log").read_text()
    banners = (logs / f"{name}-{sweep}.out").read_text()
    assert banners.count(f"job {sweep} attempt 0") == 1
    assert banners.count(f"job {sweep} attempt 1") == 1
    assert "analysis done" in (logs / f"{name}-analyze-{analysis}.out").read_text()


def test_mpiexec_launcher_forwards_usr1_and_requeues(slurm_cluster, tmp_path, fake_suite, capsys):
    """--launcher mpiexec (hydra under Slurm) gets the forwarded SIGUSR1 to every rank too."""
    out = tmp_path / "run"
    sweep, analysis = submit_with_cli(
        [
            str(write_job(tmp_path)),
            "--out",
            str(out),
            "--python",
            str(fake_suite),
            "--ntasks-per-node",
            "2",
            "--time",
            "10",
            "--launcher",
            "mpiexec",
            "--mpiexec",
            str(Path(PYTHON).parent / "mpiexec"),
        ],
        capsys,
    )
    slurm_cluster.wait_running(sweep, timeout=60, restarts=0)
    deadline = time.monotonic() + 60
    while len(list(out.glob("rank*.attempt0"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    slurm_cluster.signal_batch(sweep, "USR1")  # what B:USR1@N does near the limit
    assert slurm_cluster.wait(sweep, timeout=90) == "COMPLETED"
    assert slurm_cluster.wait(analysis, timeout=90) == "COMPLETED"
    assert slurm_cluster.job(sweep)["Restarts"] == "1"
    for attempt in (0, 1):
        for rank in (0, 1):
            assert (out / f"rank{rank}.attempt{attempt}").read_text() == "2 1 1\n"
    assert (out / "analysis" / "report.md").exists()


def test_cancelled_sweep_is_not_requeued_and_its_analysis_is_dropped(
    slurm_cluster, tmp_path, fake_suite, capsys
):
    out = tmp_path / "run"
    sweep, analysis = submit_with_cli(
        [str(write_job(tmp_path)), "--out", str(out), "--python", str(fake_suite), "--time", "10"],
        capsys,
    )
    slurm_cluster.wait_running(sweep, timeout=60)
    deadline = time.monotonic() + 60
    while not (out / "rank0.attempt0").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    slurm_cluster.run("scancel", sweep)
    assert slurm_cluster.wait(sweep, timeout=60) == "CANCELLED"
    assert slurm_cluster.job(sweep)["Restarts"] == "0"
    # afterok can never be met: --kill-on-invalid-dep=yes removes the analysis job
    assert slurm_cluster.wait(analysis, timeout=60) == "CANCELLED"
    assert not (out / "analysis").exists()


def submit_with_bpsuite(job: Path, out: Path, *extra: str) -> tuple[str, str]:
    """The real command line: `python -m suite.cli slurm JOB --out DIR ... --submit`."""
    command = [PYTHON, "-m", "suite.cli", "slurm", str(job), "--out", str(out), *extra]
    result = subprocess.run(
        [*command, "--submit"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=out.parent,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    sweep = re.search(r"^sweep job:\s+(\d+)$", result.stdout, re.M)
    analysis = re.search(r"^analysis job:\s+(\d+)", result.stdout, re.M)
    assert sweep and analysis, result.stdout
    return sweep.group(1), analysis.group(1)


def show_logs(out: Path) -> str:
    logs = sorted((out / "logs").glob("*"))
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)


@pytest.mark.slow
def test_smoke_job_end_to_end_through_bpsuite_slurm(slurm_cluster, tmp_path):
    """The real thing: `bpsuite slurm jobs/smoke.toml --submit`, 2 ranks, then the analysis."""
    out = tmp_path / "smoke"
    job = REPO / "jobs" / "smoke.toml"
    sweep, analysis = submit_with_bpsuite(job, out, "--ntasks-per-node", "2", "--time", "15")
    assert slurm_cluster.wait(sweep, timeout=400) == "COMPLETED", show_logs(out)
    assert slurm_cluster.wait(analysis, timeout=300) == "COMPLETED", show_logs(out)
    assert (out / "results.h5").exists()
    assert (out / "analysis" / "report.md").exists(), show_logs(out)
    # one MPI world of 2 ranks (srun --mpi=pmi2): one shard per rank
    assert len(list((out / "shards").glob("*.h5"))) == 2, show_logs(out)


REQUEUE_JOB = """\
name = "requeue"
seed = 3
samples = 12000
batch = 400

[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = [8, 9, 10]
depth = 1
"""


@pytest.mark.slow
def test_real_sweep_with_too_short_time_limit_requeues_until_complete(slurm_cluster, tmp_path):
    """A real sweep (~40 s of work on 2 ranks) with a 1-minute limit and the signal 58 s early.

    Every attempt is signalled a few seconds in (Slurm checks limits every
    ~30 s), stops at a batch boundary, exits 75 and is requeued, until one
    attempt finishes. Nothing is lost: no sample is computed by two attempts,
    results.h5 is complete, recomputed samples agree bit for bit, and the
    analysis job runs once, after the last attempt.
    """
    job = tmp_path / "requeue.toml"
    job.write_text(REQUEUE_JOB)
    out = tmp_path / "requeue"
    sweep, analysis = submit_with_bpsuite(
        job, out, "--ntasks-per-node", "2", "--time", "1", "--signal-seconds", "58"
    )
    assert slurm_cluster.wait(sweep, timeout=600) == "COMPLETED", show_logs(out)
    restarts = int(slurm_cluster.job(sweep)["Restarts"])
    assert restarts >= 1, show_logs(out)
    first = (out / "logs" / f"bps-requeue-{sweep}.0.log").read_text()
    assert "SIGUSR1: time limit near" in first and "srun exited with 75" in first
    assert slurm_cluster.wait(analysis, timeout=300) == "COMPLETED", show_logs(out)
    assert (out / "analysis" / "report.md").exists(), show_logs(out)

    seen: dict[str, set[int]] = {}
    for shard in sorted((out / "shards").glob("*.h5")):
        with h5py.File(shard, "r", swmr=True) as f:
            for task, group in f["tasks"].items():
                sample = set(group["sample"][:].tolist()) - {-1}
                assert not sample & seen.get(task, set()), f"{shard.name} recomputed {task}"
                seen.setdefault(task, set()).update(sample)
    attempts = {p.name.split("attempt-")[1][:3] for p in (out / "shards").glob("*.h5")}
    assert len(attempts) == restarts + 1
    with h5py.File(out / "results.h5") as f:
        for group in f["tasks"].values():
            assert group["sample"][:].tolist() == list(range(12000))
    verify = subprocess.run(
        [PYTHON, "-m", "suite.cli", "verify", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert verify.returncode == 0 and "reproduced bit for bit" in verify.stdout, verify.stdout
