"""Shared helpers: the venv's mpiexec and bpsuite, and in-process runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


COMPUTED = ("sample", "theta", "param_index", "grad", "cost", "axes")


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
        assert np.array_equal(got[key], values), f"{key} differs"
