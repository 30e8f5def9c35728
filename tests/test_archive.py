"""`bpsuite archive` / `bpsuite verify`: reproducibility checks that can fail."""

from __future__ import annotations

import tarfile

import h5py
import pytest

from helpers import JOBS, bpsuite
from suite.parallel import world
from suite.runner import run


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("archive") / "smoke"
    assert run(JOBS / "smoke.toml", run_dir, world(use_mpi=False)) == 0
    return run_dir


def test_archive_verifies_bit_for_bit_and_is_deterministic(finished, tmp_path):
    first = tmp_path / "a.tar.gz"
    out = bpsuite("archive", str(finished), "-o", str(first)).stdout
    assert str(first) in out
    second = tmp_path / "b.tar.gz"
    bpsuite("archive", str(finished), "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    result = bpsuite("verify", str(first))
    assert "manifest: 2 files, SHA-256 match" in result.stdout
    assert "36 samples in 12 tasks reproduced bit for bit" in result.stdout


def test_altered_archive_is_detected(finished, tmp_path):
    archive = tmp_path / "a.tar.gz"
    bpsuite("archive", str(finished), "-o", str(archive))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / "smoke" / "job.toml").write_text("# edited\n" + (JOBS / "smoke.toml").read_text())
    altered = tmp_path / "altered.tar.gz"
    with tarfile.open(altered, "w:gz") as tar:
        tar.add(unpacked / "smoke", arcname="smoke")
    result = bpsuite("verify", str(altered), check=False)
    assert result.returncode == 1
    assert "job.toml: SHA-256 differs from MANIFEST.json (file altered)" in result.stderr


def test_changed_gradient_is_not_reproduced(finished, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("job.toml", "results.h5"):
        (copy / name).write_bytes((finished / name).read_bytes())
    with h5py.File(copy / "results.h5", "r+") as f:
        f["tasks"]["qcnn-zout-n4-L2"]["grad"][0, 0] += 1e-15
    result = bpsuite("verify", str(copy), check=False)
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if x.startswith("qcnn-zout-n4-L2"))
    assert "theta identical, max |Δgrad| " in line
    assert float(line.split("max |Δgrad| ")[1].split(",")[0]) > 0
    assert "NOT reproduced bit for bit" in result.stdout


def test_archive_of_unfinished_run_is_refused(tmp_path):
    (tmp_path / "job.toml").write_text((JOBS / "smoke.toml").read_text())
    result = bpsuite("archive", str(tmp_path), check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"bpsuite: error: {tmp_path}: no results.h5 (archive a finished run)"
    )
