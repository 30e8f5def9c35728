"""`bpsuite info`: what this node offers the suite."""

from __future__ import annotations

import os
import platform

from suite.engines.aer import available_devices, available_methods, threads_per_rank
from suite.provenance import git_revision, versions
from suite.spec import format_bytes, physical_memory


def info() -> str:
    from suite.parallel import mpi_library_version

    lines = [f"{key.replace('_version', '')}: {value}" for key, value in versions().items()]
    lines += [
        f"git revision: {git_revision()}",
        f"Aer devices: {', '.join(available_devices())}",
        f"Aer methods: {', '.join(available_methods())}",
        f"MPI library: {mpi_library_version()}",
        f"host: {platform.node()}, {os.cpu_count()} CPUs, "
        f"{len(os.sched_getaffinity(0))} in this process's affinity, "
        f"{format_bytes(physical_memory())} memory",
        f"simulator threads for one rank: {threads_per_rank(1)}",
    ]
    slurm = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("SLURM_")
        and k in ("SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_CPUS_PER_TASK", "SLURM_GPUS_PER_TASK")
    }
    if slurm:
        lines.append("Slurm: " + ", ".join(f"{k}={v}" for k, v in sorted(slurm.items())))
    return "\n".join(lines)
