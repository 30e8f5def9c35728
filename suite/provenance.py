"""Where a result came from: versions, host, MPI, spec hash, git revision."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import socket
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import suite
from suite.spec import JobSpec

# the packages whose versions a run records (results.h5 root attribute → package name):
# those the computed numbers depend on, then h5py, which only stores them
NUMERIC_PACKAGES = {
    "qiskit_version": "qiskit",
    "qiskit_aer_version": "qiskit-aer",
    "numpy_version": "numpy",
}
PACKAGES = {**NUMERIC_PACKAGES, "h5py_version": "h5py"}


def package_version(name: str) -> str:
    for candidate in (name, f"{name}-gpu"):
        try:
            return metadata.version(candidate)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def git_revision() -> str:
    """The suite's git revision (with "+dirty" when modified), or "unknown"."""
    root = Path(suite.__file__).resolve().parents[1]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def cpu_model() -> str:
    """The processor's model name (Linux /proc/cpuinfo, else platform), for comparisons."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


SLURM_VARIABLES = {
    "slurm_job_id": "SLURM_JOB_ID",
    "slurm_array_job_id": "SLURM_ARRAY_JOB_ID",
    "slurm_array_task_id": "SLURM_ARRAY_TASK_ID",
    "slurm_restart_count": "SLURM_RESTART_COUNT",
}


def slurm_ids(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Slurm job, array index and restart count of this process ("" outside Slurm)."""
    env = os.environ if environ is None else environ
    return {key: env.get(variable, "") for key, variable in SLURM_VARIABLES.items()}


def aer_kernels() -> str:
    """Which gate kernels the installed Aer runs: "avx2" when its compiled extension holds
    Aer's AVX2 transformer (built with -mavx2, docs/install.md), "generic" when it does not
    (the PyPI wheel of 0.18.2), "unknown" when the extension cannot be read (or is stripped
    of its symbols). The two give different last bits."""
    import importlib.util
    import mmap

    spec = importlib.util.find_spec("qiskit_aer")
    if spec is None or spec.origin is None:
        return "unknown"
    found = []
    for library in sorted((Path(spec.origin).parent / "backends").glob("*.so")):
        try:
            with (
                open(library, "rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
            ):
                found.append(data.find(b"TransformerAVX2") >= 0)
        except (OSError, ValueError):
            return "unknown"
    if not found:
        return "unknown"
    return "avx2" if any(found) else "generic"


def versions() -> dict[str, str]:
    result = {"suite_version": suite.__version__, "python_version": platform.python_version()}
    for key, package in PACKAGES.items():
        result[key] = package_version(package)
    return result


def provenance(
    spec: JobSpec, simulator: dict[str, object], mpi_library: str, mpi_size: int
) -> dict[str, object]:
    """Root attributes shared by shards and results.h5 (docs/hdf5-schema.md)."""
    return {
        "job_name": spec.name,
        "job_seed": spec.seed,
        "job_toml": spec.text,
        "spec_sha256": spec.sha256,
        "simulator": json.dumps(simulator, sort_keys=True),
        **versions(),
        "qiskit_aer_kernels": aer_kernels(),
        "mpi_library": mpi_library,
        "mpi_size": mpi_size,
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "git_revision": git_revision(),
        **slurm_ids(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
