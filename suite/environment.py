"""The environment an archive records (`environment/` in it) and how `verify` compares it.

An archive is made after its run, so it keeps two kinds of facts apart:

- of the run (environment/run.json): results.h5's root attributes (written by rank 0
  of the attempt that merged the shards) and every shard's (the host of each rank, the
  Slurm job, array index and restart count of each attempt), all recorded while the
  run ran;
- of the archiving machine (environment/archiver.json, environment/requirements.txt,
  environment/conda-explicit.txt): the package lock, Python, Aer's build, GPUs, the MPI
  library, the host, Slurm ids and the suite's git revision when `bpsuite archive` ran
  — usually the run's machine and installation, but nothing guarantees it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py

from suite.provenance import (
    NUMERIC_PACKAGES,
    SLURM_VARIABLES,
    aer_kernels,
    cpu_model,
    git_revision,
    package_version,
    slurm_ids,
    versions,
)
from suite.store import shard_damage

RUN_FACTS = "environment/run.json"
MACHINE_FACTS = "environment/archiver.json"
PIP_LOCK = "environment/requirements.txt"
CONDA_LOCK = "environment/conda-explicit.txt"
# the run's versions that verify compares with this machine's (results.h5 root attributes):
# the suite's and those of the packages its numbers depend on
VERSION_KEYS = ("suite_version", *NUMERIC_PACKAGES)
ATTEMPT_KEYS = ("mpi_size", "mpi_library", "git_revision", *SLURM_VARIABLES, "created")


def root_attributes(path: Path, swmr: bool = False) -> dict[str, Any]:
    """An HDF5 file's root attributes as plain values, without the job's text."""
    with h5py.File(path, "r", **({"libver": "latest", "swmr": True} if swmr else {})) as f:
        return {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in f.attrs.items()
            if k != "job_toml"
        }


def _attempts(run_dir: Path) -> list[dict[str, Any]]:
    """One entry per attempt, from the root attributes of its readable shards."""
    by_attempt: dict[int, list[dict[str, Any]]] = {}
    for path in sorted((run_dir / "shards").glob("*.h5")):
        if shard_damage(path) is not None:
            continue
        try:
            attrs = root_attributes(path, swmr=True)
        except OSError:
            continue
        by_attempt.setdefault(int(attrs.get("attempt", -1)), []).append(attrs)
    attempts = []
    for attempt, shards in sorted(by_attempt.items()):
        shards.sort(key=lambda a: int(a.get("rank", 0)))
        first = shards[0]
        attempts.append(
            {
                "attempt": attempt,
                "ranks_with_a_shard": len(shards),
                "hosts": sorted({str(a.get("host")) for a in shards}),
                **{k: first.get(k) for k in ATTEMPT_KEYS if k in first},
            }
        )
    return attempts


def run_facts(run_dir: Path) -> dict[str, Any]:
    """Facts of the run, recorded while it ran (results.h5 and shard root attributes)."""
    results = root_attributes(run_dir / "results.h5")
    attempts = _attempts(run_dir)
    hosts = sorted({h for a in attempts for h in a["hosts"]}) or [str(results.get("host"))]
    return {
        "about": "facts of the run, recorded while it ran: `results` holds results.h5's "
        "root attributes (rank 0 of the attempt that merged), `attempts` those of the "
        "shards (one per rank and attempt; empty when the shards were not kept)",
        "hosts": hosts,
        "results": results,
        "attempts": attempts,
    }


def _output(command: list[str]) -> str:
    """Standard output of a command that must succeed (OSError, SubprocessError otherwise)."""
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=True).stdout


def package_lock() -> tuple[str, str]:
    """(lock text, the tool that made it): `python -m pip freeze --all` of this
    interpreter, or `name==version` lines from importlib.metadata where pip is absent."""
    try:
        pip = [sys.executable, "-m", "pip", "freeze", "--all", "--disable-pip-version-check"]
        return _output(pip), "pip freeze --all"
    except (OSError, subprocess.SubprocessError):
        names = {
            f"{d.metadata['Name']}=={d.version}"
            for d in metadata.distributions()
            if d.metadata["Name"]
        }
        return "".join(f"{n}\n" for n in sorted(names, key=str.lower)), "importlib.metadata"


def conda_lock() -> tuple[str | None, str]:
    """(`conda list --explicit` of this interpreter's conda environment or None, why)."""
    conda = shutil.which("conda")
    if conda is None:
        return None, "no conda on PATH"
    prefixes = [Path(sys.prefix), Path(sys.base_prefix)]
    prefix = next((p for p in prefixes if (p / "conda-meta").is_dir()), None)
    if prefix is None:
        return None, "this Python is not in a conda environment"
    try:
        text = _output([conda, "list", "--explicit", "--prefix", str(prefix)])
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"conda list failed ({type(exc).__name__})"
    return text, f"conda list --explicit --prefix {prefix}"


def aer_build() -> dict[str, Any]:
    from suite.engines.aer import available_devices, available_methods

    return {
        "version": package_version("qiskit-aer"),
        "kernels": aer_kernels(),
        "devices": list(available_devices()),
        "methods": list(available_methods()),
    }


def gpus() -> list[dict[str, str]] | str:
    """GPU model, driver and memory from nvidia-smi, or why there is none."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "no nvidia-smi on PATH"
    try:
        out = _output(
            [smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi failed ({type(exc).__name__})"
    rows = [[part.strip() for part in line.split(",")] for line in out.splitlines() if line]
    return [dict(zip(("model", "driver", "memory"), row, strict=False)) for row in rows]


def machine_facts(lock_tool: str, conda: str) -> dict[str, Any]:
    """Facts of the machine and installation that make the archive (not the run's)."""
    from suite.parallel import mpi_library_version

    revision = git_revision()
    return {
        "about": "facts of the machine and installation that made the archive, when "
        "`bpsuite archive` ran (after the run; the run's own are in run.json)",
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "versions": versions(),
        "aer": aer_build(),
        "gpus": gpus(),
        "mpi_library": mpi_library_version(),
        "slurm": slurm_ids(),
        "git": {
            "revision": revision.removesuffix("+dirty"),
            "dirty": revision.endswith("+dirty"),
        },
        "package_lock": {"file": PIP_LOCK, "tool": lock_tool},
        "conda_lock": conda,
    }


def environment_members(run_dir: Path) -> dict[str, bytes]:
    """The `environment/` members of the archive of `run_dir`."""
    lock, tool = package_lock()
    conda, conda_note = conda_lock()
    members = {
        RUN_FACTS: _json(run_facts(run_dir)),
        MACHINE_FACTS: _json(machine_facts(tool, conda_note if conda is None else CONDA_LOCK)),
        PIP_LOCK: lock.encode(),
    }
    if conda is not None:
        members[CONDA_LOCK] = conda.encode()
    return members


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, default=str) + "\n").encode()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, str]:
    """Package → pinned version (or URL, path) from `pip freeze` / importlib.metadata text."""
    packages: dict[str, str] = {}
    editable: tuple[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):  # "# Editable install with no version control (name==1.0)"
            found = re.search(r"\(([^()=\s]+)==([^()\s]+)\)", line)
            editable = (found.group(1), found.group(2)) if found else None
            continue
        egg = re.search(r"#egg=([\w.-]+)", line)
        if line.startswith("-e ") and (editable or egg):
            name, version = editable or (egg.group(1), line[3:])  # type: ignore[union-attr]
        elif "==" in line:
            name, version = line.split("==", 1)
        elif " @ " in line:
            name, version = line.split(" @ ", 1)
        else:
            name, version = line, ""
        editable = None
        packages[_canonical(name.strip())] = version.strip()
    return packages


def _differences(archived: dict[str, Any], here: dict[str, Any]) -> list[str]:
    return [
        f"{key} {archived.get(key, 'absent')} → {here.get(key, 'absent')}"
        for key in sorted(archived.keys() | here.keys())
        if archived.get(key) != here.get(key)
    ]


def environment_report(run_dir: Path, provenance: dict[str, Any]) -> list[str]:
    """Report lines on how this machine differs from the run's and the archive's
    environment. Informational: verify's verdict rests on the numbers alone."""
    here = versions()
    run_versions = {k: str(provenance.get(k)) for k in VERSION_KEYS}
    differing = _differences(run_versions, {k: here[k] for k in VERSION_KEYS})
    lines = [
        "run's versions (results.h5): "
        + ("same here" if not differing else "differ here: " + ", ".join(differing))
    ]
    if not (run_dir / MACHINE_FACTS).is_file():
        return [
            *lines,
            "package lock and Aer build: none recorded (a run directory, or an older archive)",
        ]
    archived = json.loads((run_dir / MACHINE_FACTS).read_text())
    lock = parse_lock((run_dir / PIP_LOCK).read_text())
    here_text, tool = package_lock()
    packages = _differences(lock, parse_lock(here_text))
    lines.append(
        f"packages: {len(lock)} in the archive's lock ({archived['package_lock']['tool']}), "
        + (
            f"same here ({tool})"
            if not packages
            else f"{len(packages)} differ here ({tool}, archived → here):"
        )
    )
    lines += [f"  {line}" for line in packages]
    here = aer_build()
    aer = _differences({k: archived["aer"].get(k) for k in here}, here)
    lines.append(
        "Aer build: "
        + ("same here" if not aer else "differs here (archived → here): " + "; ".join(aer))
    )
    here_gpus = gpus()
    if archived.get("gpus") != here_gpus:
        lines.append(f"GPUs: archived {archived.get('gpus')}; here {here_gpus}")
    return lines
