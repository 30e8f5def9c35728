"""Is an archive what `bpsuite archive` wrote? Checksums, metadata, a self-contained results.h5.

Two lists of SHA-256 cover the members: ro-crate-metadata.json (every member but
itself, MANIFEST.json included) and MANIFEST.json (every member but itself and the
crate). MANIFEST.json is checked against the crate first, then the files against
MANIFEST.json, then the crate's other entries (a file that agrees with MANIFEST.json
but not with the crate means the crate was altered); the rest of the crate is rebuilt
from the other members and compared byte for byte. Every failure is one line naming
the altered member (MANIFEST.json and the crate's entry for it can only be told apart
when MANIFEST.json no longer matches the files: then it was altered).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import h5py

import suite
from suite.crate import CRATE, crate_document, listed_files
from suite.environment import RUN_FACTS

MANIFEST = "MANIFEST.json"


class ArchiveError(RuntimeError):
    """An archive or run directory fails a check; one line."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def self_contained(results: Path) -> None:
    """Refuse an HDF5 file whose data lives elsewhere: external links, virtual datasets
    (e.g. views of shards) or external raw storage; the error names the object."""

    def walk(group: h5py.Group, prefix: str) -> None:
        for name in group:
            path = f"{prefix}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise ArchiveError(
                    f"{results.name}: {path} is an external link to "
                    f"{link.filename}:{link.path}; archive a consolidated results.h5"
                )
            if isinstance(link, h5py.SoftLink):
                continue  # points inside this file, where its target is checked
            item = group[name]
            if isinstance(item, h5py.Group):
                walk(item, path)
            elif item.is_virtual:
                sources = sorted({m.file_name for m in item.virtual_sources()})
                raise ArchiveError(
                    f"{results.name}: {path} is a virtual dataset of {', '.join(sources)}; "
                    "archive a consolidated results.h5"
                )
            elif item.external:
                raise ArchiveError(
                    f"{results.name}: {path} keeps its data in external files "
                    f"({item.external[0][0]}); archive a consolidated results.h5"
                )

    with h5py.File(results, "r") as f:
        walk(f, "")


def _read_json(run_dir: Path, name: str) -> dict[str, Any]:
    try:
        value = json.loads((run_dir / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"{name}: not readable JSON ({exc}) (file altered)") from None
    if not isinstance(value, dict):
        raise ArchiveError(f"{name}: not a JSON object (file altered)")
    return value


def _files_on_disk(run_dir: Path) -> dict[str, tuple[int, str]]:
    """name → (size, SHA-256) of every file of the unpacked archive but the crate."""
    return {
        p.relative_to(run_dir).as_posix(): (p.stat().st_size, sha256_file(p))
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.relative_to(run_dir).as_posix() != CRATE
    }


def _check_listed(run_dir: Path, actual: dict[str, tuple[int, str]]) -> dict[str, Any]:
    """MANIFEST.json against the files: every listed file present and unchanged, no other."""
    manifest = _read_json(run_dir, MANIFEST)
    try:
        listed = {str(k): str(v) for k, v in manifest["files"].items()}
    except (KeyError, AttributeError):
        raise ArchiveError(f"{MANIFEST}: no 'files' table (file altered)") from None
    for name, digest in sorted(listed.items()):
        if name not in actual:
            raise ArchiveError(f"{name}: listed in {MANIFEST} but missing")
        if actual[name][1] != digest:
            raise ArchiveError(f"{name}: SHA-256 differs from {MANIFEST} (file altered)")
    extra = sorted(set(actual) - set(listed) - {MANIFEST})
    if extra:
        raise ArchiveError(f"{extra[0]}: in the archive but not in {MANIFEST}")
    return manifest


def check_manifest(run_dir: Path) -> list[str]:
    """Check an unpacked archive's members against MANIFEST.json and, where present,
    ro-crate-metadata.json; report lines, or ArchiveError naming the altered member."""
    crate = _read_json(run_dir, CRATE) if (run_dir / CRATE).is_file() else None
    try:
        in_crate = listed_files(crate) if crate is not None else {}
    except (KeyError, TypeError, AttributeError):
        raise ArchiveError(f"{CRATE}: not RO-Crate metadata with a @graph (file altered)") from None
    actual = _files_on_disk(run_dir)
    if MANIFEST in in_crate and MANIFEST in actual and in_crate[MANIFEST][1] != actual[MANIFEST][1]:
        try:  # which of the two? an inconsistent MANIFEST.json was altered
            _check_listed(run_dir, actual)
        except ArchiveError as exc:
            reason = str(exc).removesuffix(" (file altered)")
            raise ArchiveError(
                f"{MANIFEST}: SHA-256 differs from {CRATE}; {reason} (file altered)"
            ) from None
        raise ArchiveError(f"{MANIFEST}: SHA-256 differs from {CRATE} (one of the two altered)")
    manifest = _check_listed(run_dir, actual)
    lines = [f"manifest: {len(manifest['files'])} files, SHA-256 match"]
    if crate is None:
        if "deposit" in manifest:
            raise ArchiveError(f"{CRATE}: missing (listed by {MANIFEST}'s format)")
        return lines
    return [*lines, _check_crate(run_dir, manifest, in_crate, actual)]


def _check_crate(
    run_dir: Path,
    manifest: dict[str, Any],
    in_crate: dict[str, tuple[str, str]],
    actual: dict[str, tuple[int, str]],
) -> str:
    for name, (size, digest) in sorted(actual.items()):
        if name not in in_crate:
            raise ArchiveError(f"{CRATE}: does not list {name} (metadata altered)")
        if in_crate[name] != (str(size), digest):  # the file agrees with MANIFEST.json
            raise ArchiveError(
                f"{CRATE}: size or SHA-256 of {name} differs from the file and from "
                f"{MANIFEST} (metadata altered)"
            )
    extra = sorted(set(in_crate) - set(actual))
    if extra:
        raise ArchiveError(f"{CRATE}: lists {extra[0]}, not in the archive (metadata altered)")
    checked = f"{CRATE}: {len(actual)} files, sizes and SHA-256 match"
    written_by = manifest.get("archived_with")
    if written_by != suite.__version__:
        return f"{checked} (written by suite {written_by}: the rest not rebuilt here)"
    rebuilt = crate_document(
        str(manifest.get("run")),
        actual,
        _read_json(run_dir, RUN_FACTS),
        manifest.get("deposit") or {},
    )
    if rebuilt != (run_dir / CRATE).read_bytes():
        raise ArchiveError(f"{CRATE}: differs from the metadata its members give (file altered)")
    return f"{checked}, the rest as its members give it"
