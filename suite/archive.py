"""`bpsuite archive` and `bpsuite verify`: runs that others can check bit for bit.

An archive (docs/archive.md) is a gzip'd tar of the run directory's job.toml,
results.h5 (self-contained: the merged samples, no links into shards), the
circuit sources of users' circuits (python modules, QASM files, copied beside
job.toml when the run started), the analysis (when present), environment/ (facts
of the run and of the archiving machine, its package lock: suite/environment.py),
MANIFEST.json (the SHA-256 of every other file) and ro-crate-metadata.json (RO-Crate
1.1, a Process Run Crate: suite/crate.py), so it can be deposited as it is.
The tar is written deterministically (zero times and owners), so archiving the
same directory twice on one machine gives the same bytes.

`verify` checks every member (suite/integrity.py), checks that results.h5 is
complete for its job, reports how this machine's environment differs from the
run's and the archive's (informational), and recomputes some samples of every
task with the installed suite: angles must be bit-identical, gradients and costs
are compared bit for bit and the largest difference is reported.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

import suite
from suite import SCHEMA
from suite.crate import CRATE, crate_document
from suite.engines.aer import resolve
from suite.engines.registry import prepare
from suite.environment import RUN_FACTS, environment_members, environment_report, root_attributes
from suite.integrity import (
    MANIFEST,
    ArchiveError,
    check_manifest,
    self_contained,
    sha256_file,
)
from suite.spec import load_spec

ROOT_FILES = ("job.toml", "results.h5")
__all__ = ["ArchiveError", "archive", "check_manifest", "unpacked", "verify"]


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


def archive(
    run_dir: Path,
    output: Path | None = None,
    license: str | None = None,
    authors: Sequence[str] = (),
) -> Path:
    """Write the archive of a finished run; returns its path. `license` (an SPDX id or
    a URL) and `authors` go into the RO-Crate metadata for depositing."""
    run_dir = run_dir.resolve()
    files = _members(run_dir)
    self_contained(run_dir / "results.h5")
    output = output or run_dir.with_name(run_dir.name + ".bpsuite.tar.gz")
    on_disk = {p.relative_to(run_dir).as_posix(): p for p in files}
    made = environment_members(run_dir)  # name → bytes; small
    digests = {name: sha256_file(path) for name, path in on_disk.items()}
    digests.update({name: hashlib.sha256(data).hexdigest() for name, data in made.items()})
    deposit = {"license": license, "authors": list(authors)}
    manifest = {
        "schema": SCHEMA,
        "run": run_dir.name,
        "archived_with": suite.__version__,
        "deposit": deposit,
        "files": dict(sorted(digests.items())),
    }
    made[MANIFEST] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    digests[MANIFEST] = hashlib.sha256(made[MANIFEST]).hexdigest()
    sizes = {name: path.stat().st_size for name, path in on_disk.items()}
    sizes.update({name: len(data) for name, data in made.items()})
    sizes_digests = {name: (sizes[name], digests[name]) for name in sizes}
    run_facts = json.loads(made[RUN_FACTS])
    made[CRATE] = crate_document(run_dir.name, sizes_digests, run_facts, deposit)
    # Streamed member by member: results.h5 is never held in memory.
    with (
        open(output, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted({*on_disk, *made}):
            info = tarfile.TarInfo(f"{run_dir.name}/{name}")
            info.mtime, info.mode = 0, 0o644
            if name in on_disk:
                info.size = sizes[name]
                with open(on_disk[name], "rb") as handle:
                    reader = _Digesting(handle)
                    tar.addfile(info, reader)
                if reader.digest.hexdigest() != digests[name]:
                    output.unlink(missing_ok=True)
                    raise ArchiveError(
                        f"{on_disk[name]}: changed while it was archived (run the archive "
                        "again once nothing writes to the run directory)"
                    )
            else:
                info.size = len(made[name])
                tar.addfile(info, io.BytesIO(made[name]))
    return output


class _Digesting:
    """A file read through `tarfile`, hashed on the way: the member written must be the one
    whose digest the manifest holds (it was hashed before, the manifest goes first)."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


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


def _run_threads(results: Path) -> int:
    """Aer threads per rank of the run (1 when the provenance does not say)."""
    try:
        simulator = json.loads(str(root_attributes(results).get("simulator", "{}")))
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
            # the engine the run used ("auto" may choose otherwise on this machine)
            method = json.loads(group.attrs["spec"]).get("method", task.method)
            stored[task.id] = (
                dataclasses.replace(task, method=method),
                picks,
                group["theta"][picks, :],
                group["grad"][picks, :],
                group["cost"][picks],
            )
    # The run's threads per rank: above 14 qubits Aer spreads one statevector over
    # them, and another count can change the last bits of a sum.
    resolved = resolve(spec.simulator, threads=_run_threads(run_dir / "results.h5"))
    checks = []
    for original in spec.tasks:
        task, picks, theta, grad, cost = stored[original.id]
        prepared = prepare(task)
        simulator = prepared.simulator(resolved.for_task(task))
        new_theta, _, result = prepared.sample_batch(simulator, spec.seed, picks)
        checks.append(
            TaskCheck(
                task.id,
                len(picks),
                bool(np.array_equal(new_theta, theta)),
                _max_difference(result.grad, grad),
                _max_difference(result.cost, cost),
            )
        )
    return checks


def _max_difference(new: np.ndarray, stored: np.ndarray) -> float:
    """Largest |new − stored|; NaN where both are NaN (a cost not computed) counts as 0,
    NaN on one side only as infinity."""
    both = np.isnan(new) & np.isnan(stored)
    difference = np.where(both, 0.0, np.abs(new - stored))
    return float(np.max(np.nan_to_num(difference, nan=np.inf), initial=0.0))


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
    """Three sections: integrity and numbers decide; the environment only informs."""
    members = check_manifest(run_dir) if manifest else ["manifest: none (a run directory)"]
    self_contained(run_dir / "results.h5")
    lines = ["integrity (a difference fails verify):"]
    lines += [f"  {line}" for line in members]
    lines.append("  results.h5: self-contained (no external links or virtual datasets)")
    lines.append("environment (informational: differences do not fail verify):")
    report = environment_report(run_dir, root_attributes(run_dir / "results.h5"))
    lines += [f"  {line}" for line in report]
    lines.append("numbers (a difference fails verify):")
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
        lines.append(f"  {c.task}: {c.checked} samples recomputed, {verdict}")
    identical = all(c.identical for c in checks)
    total = sum(c.checked for c in checks)
    differing = [c.task for c in checks if not c.identical]
    lines.append(
        f"verify: {total} samples in {len(checks)} tasks "
        + (
            "reproduced bit for bit"
            if identical
            else "NOT reproduced bit for bit: results.h5 differs from the recomputation "
            f"in {', '.join(differing)}"
        )
    )
    return identical, lines
