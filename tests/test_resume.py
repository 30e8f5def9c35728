"""Runs that survive HPC life: kills, signals, corrupt shards, status while running.

Each scenario interrupts a real MPI run, runs the same command again (at
another rank count) and compares results.h5 with an uninterrupted run, bit
for bit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import (
    JOBS,
    REPO,
    assert_same_numbers,
    bpsuite,
    killed_then_resumed,
    mpiexec,
    run_in_process,
    run_killed,
)
from suite.runner import EXIT_INTERRUPTED

pytestmark = pytest.mark.mpi
SMOKE = JOBS / "smoke.toml"


def run_smoke(run_dir, ranks: int, fault: str | None = None, check: bool = True):
    """`bpsuite run jobs/smoke.toml` under mpiexec, optionally with an injected fault."""
    env = {"BPSUITE_FAULT": fault} if fault else None
    return bpsuite(
        "run", str(SMOKE), "--out", str(run_dir), ranks=ranks, env=env, check=check, timeout=120
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_in_process(SMOKE, tmp_path_factory.mktemp("reference") / "run") / "results.h5"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sigkill_at_random_point_then_resume_on_other_rank_count(tmp_path, reference, seed):
    rng = np.random.default_rng(seed)
    first, second = rng.choice([2, 3]), rng.choice([1, 2, 3])
    victim = int(rng.integers(0, first))
    # a point inside the victim's work: its k-th batch of at most 12
    batch = int(rng.integers(1, 12))
    run_dir = tmp_path / "run"
    run_killed(SMOKE, run_dir, f"kill@{victim}:{batch}", ranks=int(first), timeout=120)
    status = bpsuite("status", str(run_dir), "--check-complete", check=False)
    assert status.returncode == 1 and "samples missing" in status.stdout
    resumed = run_smoke(run_dir, int(second))
    assert "attempt 1" in resumed.stderr
    assert_same_numbers(run_dir / "results.h5", reference)


def test_whole_job_killed_then_resume(tmp_path, reference):
    """Every rank SIGKILLed at once (a node lost, `scancel -s KILL`), then run again."""
    killed_then_resumed(
        SMOKE,
        tmp_path / "run",
        "kill@0:4,kill@1:4,kill@2:4",
        reference,
        ranks=3,
        resume_ranks=2,
        timeout=120,
    )


def test_two_kills_in_a_row_then_resume(tmp_path, reference):
    run_dir = tmp_path / "run"
    for fault, ranks in (("kill@0:3", 2), ("kill@2:2", 3)):
        run_killed(SMOKE, run_dir, fault, ranks=ranks, timeout=120)
    run_smoke(run_dir, 2)
    # the killed ranks' shards of attempts 0 and 1, and both of attempt 2 (the
    # launcher may kill the other ranks before they even create their shard, or
    # mid-write, when the next attempt moves it to shards/damaged/)
    shards = {p.name for p in (run_dir / "shards").glob("**/*.h5")}
    expected = {
        "rank-00000-attempt-000.h5",
        "rank-00002-attempt-001.h5",
        "rank-00000-attempt-002.h5",
        "rank-00001-attempt-002.h5",
    }
    assert expected <= shards, sorted(shards)
    assert_same_numbers(run_dir / "results.h5", reference)


def test_sigterm_on_one_rank_stops_all_at_batch_boundary_with_exit_75(tmp_path, reference):
    run_dir = tmp_path / "run"
    result = run_smoke(run_dir, 2, "term@1:2", check=False)
    assert result.returncode == EXIT_INTERRUPTED, result.stderr
    assert "rank 1: stopped by SIGTERM after" in result.stderr
    assert f"exit {EXIT_INTERRUPTED}" in result.stderr
    assert not (run_dir / "results.h5").exists()
    run_smoke(run_dir, 1)
    assert_same_numbers(run_dir / "results.h5", reference)


def test_truncated_shard_is_reported_and_its_samples_recomputed(tmp_path, reference):
    run_dir = tmp_path / "run"
    run_smoke(run_dir, 2, "kill@1:5", check=False)
    shard = run_dir / "shards" / "rank-00001-attempt-000.h5"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 3])
    resumed = run_smoke(run_dir, 2)
    assert "warning: rank-00001-attempt-000.h5: unreadable shard (truncated" in resumed.stderr
    assert (run_dir / "shards" / "damaged" / "rank-00001-attempt-000.h5").exists()
    assert_same_numbers(run_dir / "results.h5", reference)


def test_signal_to_mpiexec_and_status_while_running(tmp_path, write_job):
    """SIGUSR1 to the launcher (as Slurm sends before the time limit) stops the run.

    While it runs, `bpsuite status` reads the shards being written (SWMR).
    """
    job = write_job(
        'name = "long"\nseed = 3\nsamples = 200000\nbatch = 500\n'
        '[[sweep]]\nansatz = "product"\ncost = "global"\nqubits = [10, 11]\n'
    )
    run_dir = tmp_path / "run"
    command = [
        mpiexec(),
        "-n",
        "2",
        sys.executable,
        "-m",
        "suite.cli",
        "run",
        str(job),
        "--out",
        str(run_dir),
    ]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        partial = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            if not (run_dir / "job.toml").exists():
                continue
            out = bpsuite("status", str(run_dir), check=False).stdout
            line = [x for x in out.splitlines() if x.startswith("all")]
            if line and not line[0].split()[1].startswith("0/"):
                partial = line[0]
                break
        assert partial is not None, "no progress seen while the run was going"
        assert "results.h5: not yet" in partial
        process.send_signal(signal.SIGUSR1)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "stopped by SIGUSR1" in stderr
    present = int(partial.split()[1].split("/")[0])
    assert 0 < present < 400000


def test_shard_chunks_stay_small_for_wide_rows(tmp_path):
    """qcnn at n = 4096 stores 49 080 angles per sample: chunks of the job's largest batch
    made a shard 1.5 GB for 50 samples; chunks are capped at CHUNK_BYTES (16 MB here)."""
    import h5py

    from suite.spec import parse_spec
    from suite.store import CHUNK_BYTES, ShardWriter

    spec = parse_spec(
        """
name = "wide-rows"
seed = 1
samples = 40
batch = 20
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = 4096
angles = "clifford"
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 4
batch = 4096
angles = "clifford"
[simulator]
method = "stabilizer"
"""
    )
    writer = ShardWriter(tmp_path / "shard.h5", spec, {}, {t.id: False for t in spec.tasks}, 4096)
    writer.close()
    with h5py.File(tmp_path / "shard.h5", "r") as f:
        theta = f["tasks/qcnn-zout-n4096-L12-clifford/theta"]
        assert theta.chunks[0] * theta.chunks[1] * 8 <= CHUNK_BYTES
        assert f["tasks/qcnn-zout-n4096-L12-clifford/grad"].chunks[0] == 20  # its own batch
        assert f["tasks/product-local-n4-L1-clifford/grad"].chunks[0] == 4096
