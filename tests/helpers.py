"""Shared helpers: the venv's mpiexec and bpsuite, in-process and killed runs, checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
JOBS = REPO / "jobs"
BIN = Path(sys.executable).parent


def mpiexec() -> str:
    """mpiexec of the environment the tests run in (the mpich wheel's)."""
    candidate = BIN / "mpiexec"
    found = str(candidate) if candidate.exists() else shutil.which("mpiexec")
    if not found:
        pytest.fail("mpiexec not found: install the test extras (pip install -e '.[test]')")
    return found


def bpsuite(
    *args: str,
    ranks: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run the real `bpsuite` command (under mpiexec when `ranks` is given)."""
    command = [sys.executable, "-m", "suite.cli", *args]
    if ranks is not None:
        command = [mpiexec(), "-n", str(ranks), *command]
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=REPO
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


COMPUTED = (
    "sample",
    "theta",
    "param_index",
    "grad",
    "cost",
    "axes",
    "grad_shot_variance",
    "cost_shot_variance",
)


def computed_datasets(results: Path) -> dict[tuple[str, str], np.ndarray]:
    """Every dataset of results.h5 that holds computed numbers (not timings)."""
    with h5py.File(results) as f:
        return {
            (task, name): group[name][:]
            for task, group in f["tasks"].items()
            for name in COMPUTED
            if name in group
        }


def assert_same_numbers(results: Path, reference: Path) -> None:
    """Bit-for-bit equality of every computed dataset of two results.h5 files."""
    got, want = computed_datasets(results), computed_datasets(reference)
    assert got.keys() == want.keys()
    for key, values in want.items():
        assert got[key].dtype == values.dtype, key
        same_nan = values.dtype.kind == "f"  # a cost not computed is NaN (docs/large-n.md)
        assert np.array_equal(got[key], values, equal_nan=same_nan), f"{key} differs"


def assert_variance_matches(grad: np.ndarray, second: float, fourth: float, z: float) -> None:
    """The unbiased sample variance of `grad` within z standard errors of the exact E[g²]
    (E[g] = 0): its standard error is √((E[g⁴] − E[g²]²)/S) up to O(1/S²)."""
    measured = np.var(grad, ddof=1)
    standard_error = np.sqrt((fourth - second**2) / len(grad))
    assert abs(measured - second) <= z * standard_error, (measured, second, standard_error)


def run_in_process(job: Path, run_dir: Path) -> Path:
    """Run the job file `job` on one rank in this process into `run_dir` (exit status 0);
    returns `run_dir`."""
    from suite.parallel import world
    from suite.runner import run

    assert run(job, run_dir, world(use_mpi=False)) == 0
    return run_dir


def run_text(text: str, root: Path) -> Path:
    """Run a job given as TOML text in one process, in `root`; returns the run directory."""
    job = root / "job.toml"
    job.write_text(text)
    return run_in_process(job, root / "run")


def run_killed(
    job: Path,
    run_dir: Path,
    fault: str,
    *,
    ranks: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> None:
    """`bpsuite run` killed by the injected `fault` (BPSUITE_FAULT, e.g. "kill@1:3", with
    the variables `env`): it fails and merges nothing."""
    killed = bpsuite(
        "run",
        str(job),
        "--out",
        str(run_dir),
        ranks=ranks,
        env={"BPSUITE_FAULT": fault, **(env or {})},
        check=False,
        timeout=timeout,
    )
    assert killed.returncode != 0, killed.stderr
    assert not (run_dir / "results.h5").exists()


def killed_then_resumed(
    job: Path,
    run_dir: Path,
    fault: str,
    reference: Path,
    *,
    ranks: int | None = None,
    resume_ranks: int | None = None,
    resume_job: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> str:
    """`run_killed`, then the same command again (at `resume_ranks`, of `resume_job` when
    given, without `env`) completes the run, and results.h5 equals `reference` bit for bit.
    Returns the resumed run's stderr."""
    run_killed(job, run_dir, fault, ranks=ranks, env=env, timeout=timeout)
    resumed = bpsuite(
        "run", str(resume_job or job), "--out", str(run_dir), ranks=resume_ranks, timeout=timeout
    )
    assert_same_numbers(run_dir / "results.h5", reference)
    return resumed.stderr


def one_line_refusal(
    error: type[Exception], starts: str, refused: Callable[..., object], *args, **kwargs
) -> str:
    """The message of the `error` that `refused(*args, **kwargs)` raises, checked to be one
    line that starts with `starts` (the file and key, or the option, it names; "": any)."""
    with pytest.raises(error) as caught:
        refused(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(starts), message
    return message


def one_line_cli_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The stderr of a `bpsuite` command refused with exit `status`, checked to be the
    one line `bpsuite: error: …`."""
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("bpsuite: error: "), result.stderr
    return result.stderr


def assert_binds_plain_parameters(circuit, label: str = "") -> None:
    """`circuit`'s gates take parameters, and only plain Parameters: no ParameterExpression,
    which Aer would evaluate in Python at every bind."""
    from qiskit.circuit import Parameter, ParameterExpression

    angles = [p for instruction in circuit.data for p in instruction.operation.params]
    parameters = [p for p in angles if isinstance(p, ParameterExpression)]
    assert parameters, f"{label}: no parameter"
    assert all(type(p) is Parameter for p in parameters), label


def warmup_moments(cost: str, n: int, q: float = 1.0) -> tuple[float, float]:
    """E[g²] and E[g⁴] of ∂C/∂θ₁ for the warm-up (RX(θ_j) on |0…0⟩, uniform angles) when
    each qubit's Bloch vector is contracted by q after its rotation (q = 1 − p for
    depolarizing noise p, docs/noise.md); q = 1 gives Cerezo et al.'s noiseless values."""
    if cost == "global":
        second = q**2 / 8 * ((2 + q**2) / 8) ** (n - 1)
        fourth = 3 * q**4 / 128 * ((1 + 3 * q**2 + 3 * q**4 / 8) / 16) ** (n - 1)
        return second, fourth
    return q**2 / (8 * n**2), (3 / 8) * q**4 / (16 * n**4)


def rounding_bound(task) -> float:
    """Bound on |v_new − v_old| of a value v = offset + scale·⟨ψ|O|ψ⟩, |scale|·‖O‖ ≤ 1, when
    old and new code apply a task's G gates differently (different but equal gates).

    One gate in double precision moves the state by at most k·ε in norm (ε = 2^−53; an
    output amplitude is a sum of at most four complex products: k = 6 for a two-qubit
    gate, the most we apply), so ‖δψ‖ ≤ k·G·ε and |δ⟨O⟩| ≤ 2‖δψ‖; summing ⟨O⟩ over the
    N = 2^n amplitudes adds at most N·ε. Both codes err so: 2·(2·k·G + N)·ε. G counts the
    old template, whose random-axis rotations were five gates each (now one). A gradient
    (v₊ − v₋)·scale/2 obeys the same bound."""
    from suite.circuits.builders import circuit_of

    circuit = circuit_of(task)
    gates = len(circuit.circuit.data) + 4 * sum(r.axis is not None for r in circuit.rotations)
    unit = np.finfo(np.float64).eps / 2  # ε = 2^−53
    return 2 * (2 * 6 * gates + 2**task.qubits) * unit
