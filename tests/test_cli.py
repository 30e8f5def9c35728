"""The `bpsuite` commands a user types, run as real subprocesses."""

from __future__ import annotations

import fcntl
import re

import h5py
import numpy as np
import pytest
from qiskit import qasm2, qasm3
from qiskit.quantum_info import SparsePauliOp, Statevector

from helpers import JOBS, bpsuite, one_line_cli_error, run_in_process


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return run_in_process(JOBS / "smoke.toml", tmp_path_factory.mktemp("cli") / "smoke")


def observable_from_header(text: str, n: int) -> tuple[float, float, SparsePauliOp]:
    match = re.search(r"// C = (\S+) \+ \((\S+)\) \* <O>, O = (.*)", text)
    assert match, text
    terms = [t.split("·") for t in match.group(3).split(" + ")]
    op = SparsePauliOp([label for _, label in terms], [float(c) for c, _ in terms])
    assert op.num_qubits == n
    return float(match.group(1)), float(match.group(2)), op


@pytest.mark.parametrize(
    "task",
    [
        "product-global-n4-L1",
        "product-local-n3-L1",
        "mcclean-zz-n3-L4",
        "alternating-global-n4-L2-m2",
        "qcnn-zout-n5-L3",
    ],
)
@pytest.mark.parametrize("qasm", ["2", "3"])
def test_exported_circuit_recomputes_the_stored_cost(smoke_run, task, qasm):
    sample = 17
    args = ["circuit", str(JOBS / "smoke.toml"), "--task", task, "--sample", str(sample)]
    text = bpsuite(*args, *(["--qasm3"] if qasm == "3" else [])).stdout
    source = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    if qasm == "3":
        circuit = qasm3.loads(source)
    else:  # Qiskit's qelib1.inc has rzz; the strict reader needs to be told
        circuit = qasm2.loads(source, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    offset, scale, observable = observable_from_header(text, circuit.num_qubits)
    recomputed = offset + scale * Statevector(circuit).expectation_value(observable).real
    with h5py.File(smoke_run / "results.h5") as f:
        group = f["tasks"][task]
        row = int(np.flatnonzero(group["sample"][:] == sample)[0])
        stored = group["cost"][row]
        theta = group["theta"][row]
    assert recomputed == pytest.approx(stored, abs=1e-12)
    header_theta = re.search(r"// theta = \[(.*)\]", text).group(1)
    assert np.array_equal(np.array([float(x) for x in header_theta.split(",")]), theta)


def test_circuit_unknown_task_and_sample(tmp_path):
    result = bpsuite(
        "circuit", str(JOBS / "smoke.toml"), "--task", "nope", "--sample", "0", check=False
    )
    assert "no task 'nope'" in one_line_cli_error(result, 2)
    result = bpsuite(
        "circuit",
        str(JOBS / "smoke.toml"),
        "--task",
        "product-global-n2-L1",
        "--sample",
        "40",
        check=False,
    )
    assert result.returncode == 2 and "--sample 40 out of range" in result.stderr


def test_info_names_devices_mpi_and_versions():
    out = bpsuite("info").stdout
    assert "Aer devices: CPU" in out
    assert "statevector" in out
    assert re.search(r"MPI library: MPICH", out)
    assert re.search(r"qiskit_aer: \d", out)


def test_rerun_of_complete_directory_computes_nothing(smoke_run):
    before = (smoke_run / "results.h5").stat().st_mtime_ns
    with h5py.File(smoke_run / "results.h5") as f:
        grad = f["tasks"]["qcnn-zout-n4-L2"]["grad"][:]
    result = bpsuite("run", str(JOBS / "smoke.toml"), "--out", str(smoke_run))
    assert "480 already done" in result.stderr
    assert "(0 computed now" in result.stderr
    assert (smoke_run / "results.h5").stat().st_mtime_ns >= before
    with h5py.File(smoke_run / "results.h5") as f:
        assert np.array_equal(f["tasks"]["qcnn-zout-n4-L2"]["grad"][:], grad)


def test_different_job_in_same_directory_is_refused(smoke_run, write_job):
    other = write_job((JOBS / "smoke.toml").read_text().replace("seed = 7", "seed = 8"))
    result = bpsuite("run", str(other), "--out", str(smoke_run), check=False)
    assert result.returncode == 1
    assert "holds a different job" in result.stderr
    assert result.stderr.count("bpsuite: error") == 1


def test_second_run_on_an_active_directory_is_refused(smoke_run):
    with open(smoke_run / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write("pid 1 on test\n")
        handle.flush()
        result = bpsuite("run", str(JOBS / "smoke.toml"), "--out", str(smoke_run), check=False)
    assert result.returncode == 1
    assert "a run is already active here" in result.stderr
