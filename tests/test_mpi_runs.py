"""Real MPI: the smoke job under mpiexec -n 1, 2, 3 gives identical datasets."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from helpers import JOBS, assert_same_numbers, bpsuite, computed_datasets

pytestmark = pytest.mark.mpi


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi")
    out = {}
    for ranks in (1, 2, 3):
        run_dir = root / f"n{ranks}"
        result = bpsuite("run", str(JOBS / "smoke.toml"), "--out", str(run_dir), ranks=ranks)
        assert "done: 480 samples in 12 tasks" in result.stderr
        out[ranks] = run_dir
    return out


def test_rank_count_does_not_change_any_number(runs):
    assert len(computed_datasets(runs[1] / "results.h5")) == 12 * 5 + 2  # mcclean: axes
    for ranks in (2, 3):
        assert_same_numbers(runs[ranks] / "results.h5", runs[1] / "results.h5")


def test_each_rank_writes_its_own_shard_and_timing(runs):
    shards = sorted(p.name for p in (runs[3] / "shards").iterdir())
    assert shards == [f"rank-0000{r}-attempt-000.h5" for r in range(3)]
    with h5py.File(runs[3] / "results.h5") as f:
        attrs = dict(f.attrs)
        timing = {k: f["timing"][k][:] for k in f["timing"]}
    assert attrs["schema"] == "bpsuite/1" and attrs["mpi_size"] == 3
    assert attrs["mpi_library"].startswith("MPICH")
    for key in ("job_seed", "spec_sha256", "host", "git_revision", "qiskit_aer_version"):
        assert attrs[key] != ""
    assert sorted(timing["rank"]) == [0, 1, 2]
    assert timing["samples"].sum() == 480
    with h5py.File(runs[3] / "results.h5") as f:
        ranks = np.concatenate([g["rank"][:] for g in f["tasks"].values()])
    assert set(ranks) == {0, 1, 2}


def test_status_reports_complete_run(runs):
    result = bpsuite("status", str(runs[2]), "--check-complete")
    assert "480/480" in result.stdout and "results.h5: merged" in result.stdout


def test_error_on_one_rank_ends_all_ranks_with_one_line(tmp_path):
    """An exception on rank 1 ends the job (no hang at a collective), in one line."""
    run_dir = tmp_path / "run"
    result = bpsuite(
        "run",
        str(JOBS / "smoke.toml"),
        "--out",
        str(run_dir),
        ranks=2,
        env={"BPSUITE_FAULT": "raise@1:2"},
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("bpsuite: error")]
    assert errors == ["bpsuite: error: rank 1: injected fault after batch 2"], result.stderr
    assert not (run_dir / "results.h5").exists()
    # nothing computed is lost: rank 1's two batches are in its shard
    with h5py.File(run_dir / "shards" / "rank-00001-attempt-000.h5", "r", swmr=True) as f:
        assert sum(len(g["sample"]) for g in f["tasks"].values()) > 0


def test_bad_spec_under_mpi_is_one_line_from_one_rank(tmp_path, write_job):
    job = write_job((JOBS / "smoke.toml").read_text().replace("samples = 40", "samples = 0"))
    out = tmp_path / "run"
    result = bpsuite("run", str(job), "--out", str(out), ranks=3, check=False, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"bpsuite: error: {job}: samples: must be ≥ 1, got 0"
    assert not out.exists()
