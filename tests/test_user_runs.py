"""Users' circuits under real MPI: rank-invariant numbers, resume, verify, export.

jobs/smoke-user.toml has a Python builder with tied parameters, Qiskit library
circuits (QAOA's shared angles), explicit observables and all three engines.
"""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from helpers import JOBS, assert_same_numbers, bpsuite, killed_then_resumed, run_in_process
from suite.engines.base import Workload
from suite.engines.registry import choose
from suite.spec import load_spec

pytestmark = pytest.mark.mpi
JOB = JOBS / "smoke-user.toml"
TASKS = 8


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_in_process(JOB, tmp_path_factory.mktemp("user") / "run")


def test_every_engine_is_used(reference):
    result = bpsuite("status", str(reference), "--check-complete")
    assert f"{24 * TASKS}/{24 * TASKS}" in result.stdout


def test_two_ranks_give_the_same_bits(tmp_path, reference):
    result = bpsuite("run", str(JOB), "--out", str(tmp_path / "run"), ranks=2)
    # every engine takes part, and each task is logged once, by the rank of its first batch
    tasks = load_spec(JOB).tasks
    engines = {choose(Workload(task)).name for task in tasks}
    assert {"template", "cones", "stabilizer", "pauli-propagation"} <= engines
    for engine in ("statevector (4 qubits)", "light cones", "stabilizer (", "pauli-propagation"):
        assert engine in result.stderr
    for task in tasks:
        assert result.stderr.count(f": {task.id}: ") == 1, task.id
    assert_same_numbers(tmp_path / "run" / "results.h5", reference / "results.h5")


def test_killed_then_resumed_gives_the_same_bits(tmp_path, reference):
    resumed = killed_then_resumed(
        JOB, tmp_path / "run", "kill@1:3", reference / "results.h5", ranks=2, resume_ranks=1
    )
    assert "attempt 1" in resumed


def test_run_directory_alone_rebuilds_every_sample(tmp_path, reference):
    """The builder module is copied beside job.toml: verify and export need nothing else."""
    assert (reference / "circuits" / "tied_hea.py").is_file()
    moved = tmp_path / "elsewhere"
    shutil.copytree(reference, moved)
    archive = tmp_path / "user.tar.gz"
    bpsuite("archive", str(moved), "-o", str(archive))
    result = bpsuite("verify", str(archive), "--samples", "2")
    assert "reproduced bit for bit" in result.stdout
    qasm = bpsuite(
        "circuit",
        str(moved / "job.toml"),
        "--task",
        "tied_hea-local-n3-L2-od2786c",
        "--sample",
        "5",
    ).stdout
    assert "derivatives taken w.r.t. theta[0, 5] (a[0], b[1])" in qasm
    assert qasm.count("ry(") == 6  # two layers of three tied RY angles


def test_changed_builder_refuses_the_resume(tmp_path, reference):
    jobs = tmp_path / "jobs"
    shutil.copytree(JOBS, jobs)
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    builder = jobs / "circuits" / "tied_hea.py"
    builder.write_text(builder.read_text() + "\n# edited\n")
    result = bpsuite("run", str(jobs / JOB.name), "--out", str(run_dir), check=False)
    assert result.returncode != 0
    assert "circuit source circuits/tied_hea.py changed since this run started" in result.stderr


def test_every_sample_respects_its_stored_gradient_bound(reference):
    """`grad_bound` (light cones, tied angles, coefficients) is never exceeded."""
    with h5py.File(reference / "results.h5", "r") as f:
        for task_id, group in f["tasks"].items():
            bound = group["grad_bound"][()]
            assert bound.shape == group["param_index"].shape, task_id
            assert np.all(np.abs(group["grad"][()]) <= bound * (1 + 1e-12) + 1e-15), task_id
