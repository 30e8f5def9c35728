"""`bpsuite archive` and `bpsuite verify`: runs that others can check bit for bit.

An archive is a gzip'd tar of the run directory's job.toml, results.h5, the
circuit sources of users' circuits (python modules, QASM files, copied beside
job.toml when the run started), the analysis (when present) and MANIFEST.json:
the SHA-256 of every file, the run's provenance and the Python packages of the
machine that archived it.
The tar is written deterministically (sorted names, zero times and owners),
so archiving the same directory twice gives the same bytes.

`verify` checks the manifest, checks that results.h5 is complete for its
job, and recomputes some samples of every task with the installed suite:
angles must be bit-identical, gradients and costs are compared bit for bit
and the largest difference is reported.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

from suite import SCHEMA
from suite.circuits.builders import circuit_of
from suite.circuits.sampling import draw_samples
from suite.engines.aer import make_simulator, resolve
from suite.engines.base import gradient_batch
from suite.engines.registry import prepare
from suite.spec import load_spec

MANIFEST = "MANIFEST.json"
ROOT_FILES = ("job.toml", "results.h5")
VERSION_KEYS = ("suite_version", "qiskit_version", "qiskit_aer_version", "numpy_version")


class ArchiveError(RuntimeError):
    """An archive or run directory fails a check; one line."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _members(run_dir: Path) -> list[Path]:
    for name in ROOT_FILES:
        if not (run_dir / name).is_file():
            raise ArchiveError(f"{run_dir}: no {name} (archive a finished run)")
    files = [run_dir / name for name in ROOT_FILES]
    from suite.runner import job_sources  # the circuit sources copied beside job.toml

    files += [run_dir / name for name in job_sources(load_spec(run_dir / "job.toml"))]
    analysis = run_dir / "analysis"
    if analysis.is_dir():
        files += sorted(p for p in analysis.rglob("*") if p.is_file())
    return files


def _provenance(results: Path) -> dict[str, object]:
    with h5py.File(results, "r") as f:
        return {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in f.attrs.items()
            if k != "job_toml"
        }


def archive(run_dir: Path, output: Path | None = None) -> Path:
    """Write the archive of a finished run; returns its path."""
    run_dir = run_dir.resolve()
    files = _members(run_dir)
    output = output or run_dir.with_name(run_dir.name + ".bpsuite.tar.gz")
    manifest = {
        "schema": SCHEMA,
        "run": run_dir.name,
        "files": {str(p.relative_to(run_dir)): _sha256(p) for p in files},
        "provenance": _provenance(run_dir / "results.h5"),
        "packages": sorted(
            f"{d.metadata['Name']}=={d.version}"
            for d in metadata.distributions()
            if d.metadata["Name"]
        ),
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True, default=str).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = [(MANIFEST, manifest_bytes)] + [
            (str(p.relative_to(run_dir)), p.read_bytes()) for p in files
        ]
        for name, data in entries:
            info = tarfile.TarInfo(f"{run_dir.name}/{name}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    with (
        open(output, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
    ):
        gz.write(buffer.getvalue())
    return output


@dataclass
class TaskCheck:
    task: str
    checked: int
    theta_identical: bool
    max_grad_difference: float
    max_cost_difference: float

    @property
    def identical(self) -> bool:
        return (
            self.theta_identical
            and self.max_grad_difference == 0.0
            and self.max_cost_difference == 0.0
        )


def check_manifest(run_dir: Path) -> list[str]:
    manifest = json.loads((run_dir / MANIFEST).read_text())
    lines = []
    for name, digest in sorted(manifest["files"].items()):
        path = run_dir / name
        if not path.is_file():
            raise ArchiveError(f"{name}: listed in {MANIFEST} but missing")
        if _sha256(path) != digest:
            raise ArchiveError(f"{name}: SHA-256 differs from {MANIFEST} (file altered)")
    lines.append(f"manifest: {len(manifest['files'])} files, SHA-256 match")
    return lines


def _run_threads(results: Path) -> int:
    """Aer threads per rank of the run (1 when the provenance does not say)."""
    try:
        simulator = json.loads(str(_provenance(results).get("simulator", "{}")))
        return max(1, int(simulator.get("threads", 1)))
    except (ValueError, TypeError):
        return 1


def _recompute(run_dir: Path, per_task: int) -> list[TaskCheck]:
    spec = load_spec(run_dir / "job.toml")
    with h5py.File(run_dir / "results.h5", "r") as f:
        if f.attrs.get("schema") != SCHEMA:
            raise ArchiveError(f"results.h5: schema {f.attrs.get('schema')!r}, not {SCHEMA}")
        stored = {}
        for task in spec.tasks:
            if task.id not in f["tasks"]:
                raise ArchiveError(f"results.h5: task {task.id} of job.toml is missing")
            group = f["tasks"][task.id]
            sample = group["sample"][:]
            if not np.array_equal(sample, np.arange(task.samples)):
                raise ArchiveError(
                    f"results.h5: task {task.id} does not hold samples "
                    f"0…{task.samples - 1} exactly once"
                )
            picks = np.unique(np.linspace(0, task.samples - 1, per_task).round().astype(int))
            stored[task.id] = (
                picks,
                group["theta"][picks, :],
                group["grad"][picks, :],
                group["cost"][picks],
            )
    # The run's threads per rank: above 14 qubits Aer spreads one statevector over
    # them, and another count can change the last bits of a sum.
    resolved = resolve(spec.simulator, threads=_run_threads(run_dir / "results.h5"))
    checks = []
    for task in spec.tasks:
        picks, theta, grad, cost = stored[task.id]
        new_theta, axes = draw_samples(spec.seed, task, picks, circuit_of(task).random_axes)
        prepared = prepare(task)
        simulator = make_simulator(resolved.for_task(task), prepared.width)
        result = gradient_batch(prepared, simulator, new_theta, axes)
        checks.append(
            TaskCheck(
                task.id,
                len(picks),
                bool(np.array_equal(new_theta, theta)),
                float(np.max(np.abs(result.grad - grad))),
                float(np.max(np.abs(result.cost - cost))),
            )
        )
    return checks


@contextmanager
def unpacked(target: Path, prefix: str = "bpsuite-") -> Iterator[Path]:
    """The run directory inside an archive, unpacked in a temporary directory that is
    removed on exit."""
    if not target.is_file():
        raise ArchiveError(f"{target}: no such archive or run directory")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        try:
            with tarfile.open(target, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{target}: not a readable archive ({exc})") from None
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1 or not (roots[0] / MANIFEST).exists():
            raise ArchiveError(f"{target}: no {MANIFEST} in a single top folder")
        yield roots[0]


def verify(target: Path, per_task: int = 3) -> tuple[bool, list[str]]:
    """Check an archive or a run directory; (all identical, report lines)."""
    if target.is_dir():
        return _verify_dir(target, per_task, manifest=(target / MANIFEST).exists())
    with unpacked(target, prefix="bpsuite-verify-") as run_dir:
        return _verify_dir(run_dir, per_task, manifest=True)


def _verify_dir(run_dir: Path, per_task: int, manifest: bool) -> tuple[bool, list[str]]:
    lines = check_manifest(run_dir) if manifest else ["manifest: none (a run directory)"]
    provenance = _provenance(run_dir / "results.h5")
    from suite.provenance import versions

    here = versions()
    differing = [
        f"{k} {provenance.get(k)} → {here[k]}"
        for k in VERSION_KEYS
        if str(provenance.get(k)) != here[k]
    ]
    lines.append(
        "versions: " + ("same as the run" if not differing else "differ: " + ", ".join(differing))
    )
    checks = _recompute(run_dir, per_task)
    for c in checks:
        verdict = (
            "bit-identical"
            if c.identical
            else (
                f"theta {'identical' if c.theta_identical else 'DIFFERS'}, "
                f"max |Δgrad| {c.max_grad_difference:.3g}, max |Δcost| {c.max_cost_difference:.3g}"
            )
        )
        lines.append(f"{c.task}: {c.checked} samples recomputed, {verdict}")
    identical = all(c.identical for c in checks)
    total = sum(c.checked for c in checks)
    lines.append(
        f"verify: {total} samples in {len(checks)} tasks "
        + ("reproduced bit for bit" if identical else "NOT reproduced bit for bit")
    )
    return identical, lines
