"""`bpsuite archive` and `bpsuite verify`: runs that others can check bit for bit.

An archive is a gzip'd tar of the run directory's job.toml, results.h5, the
analysis (when present) and MANIFEST.json: the SHA-256 of every file, the
run's provenance and the Python packages of the machine that archived it.
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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

from suite import SCHEMA
from suite.ansatz import FAMILIES
from suite.gradient import gradient_batch, prepare
from suite.sampling import draw_samples
from suite.simulator import make_simulator, resolve
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


def _check_manifest(run_dir: Path) -> list[str]:
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
    resolved = resolve(spec.simulator, threads=1)
    checks = []
    for task in spec.tasks:
        picks, theta, grad, cost = stored[task.id]
        family = FAMILIES[task.ansatz]
        new_theta, axes = draw_samples(spec.seed, task, picks, family.random_axes)
        result = gradient_batch(
            prepare(task), make_simulator(resolved.for_task(task), task.qubits), new_theta, axes
        )
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


def verify(target: Path, per_task: int = 3) -> tuple[bool, list[str]]:
    """Check an archive or a run directory; (all identical, report lines)."""
    if target.is_dir():
        return _verify_dir(target, per_task, manifest=(target / MANIFEST).exists())
    if not target.is_file():
        raise ArchiveError(f"{target}: no such archive or run directory")
    with tempfile.TemporaryDirectory(prefix="bpsuite-verify-") as tmp:
        try:
            with tarfile.open(target, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{target}: not a readable archive ({exc})") from None
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1 or not (roots[0] / MANIFEST).exists():
            raise ArchiveError(f"{target}: no {MANIFEST} in a single top folder")
        return _verify_dir(roots[0], per_task, manifest=True)


def _verify_dir(run_dir: Path, per_task: int, manifest: bool) -> tuple[bool, list[str]]:
    lines = _check_manifest(run_dir) if manifest else ["manifest: none (a run directory)"]
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
