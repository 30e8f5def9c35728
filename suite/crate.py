"""RO-Crate 1.1 metadata of an archive (ro-crate-metadata.json), as a Process Run Crate.

Two actions of one SoftwareApplication (the suite, with the version and git revision
of the run): `#run` made results.h5 from job.toml (and the circuit sources it reads),
`#analysis` made analysis/ from results.h5. Every other file of the archive (the
environment, MANIFEST.json) is a part of the root dataset too, and every file carries
its size, media type and SHA-256. Plain json: no runtime dependency.

The document is a function of the archive's other members alone (their names, sizes
and digests, environment/run.json, MANIFEST.json's deposit fields), so `verify` can
rebuild it and compare bytes: an altered byte anywhere in it shows.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

from suite.provenance import PACKAGES

CRATE = "ro-crate-metadata.json"
RO_CRATE = "https://w3id.org/ro/crate/1.1"
PROCESS_RUN = "https://w3id.org/ro/wfrun/process/0.5"
SUITE_ID = "#barren-plateau-suite"
MEDIA_TYPES = {
    ".toml": "application/toml",
    ".h5": "application/x-hdf5",
    ".json": "application/json",
    ".md": "text/markdown",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".py": "text/x-python",
    ".qasm": "text/plain",
}
# the run's software besides the suite (results.h5 root attributes → package name); the
# order is the crate's, which verify rebuilds byte for byte
REQUIREMENTS = {"python_version": "Python", **PACKAGES}


def role(name: str) -> str:
    """What a member is to the run: input, result, analysis, environment or manifest."""
    if name == "results.h5":
        return "result"
    if name.startswith("analysis/"):
        return "analysis"
    if name.startswith("environment/"):
        return "environment"
    if name == "MANIFEST.json":
        return "manifest"
    return "input"  # job.toml and the circuit sources copied beside it


DESCRIPTIONS = {
    "input": "input of the run: the job spec as run, or a circuit source it reads",
    "result": "result of the run: every sample's angles, gradients, costs and timings "
    "(HDF5 schema bpsuite/1, self-contained)",
    "analysis": "result of the analysis of results.h5",
    "environment": "environment: facts of the run (run.json) and of the archiving machine",
    "manifest": "SHA-256 of every member but itself and this file",
}


def _ref(name: str) -> dict[str, str]:
    return {"@id": quote(name)}


def _file(name: str, size: int, digest: str) -> dict[str, Any]:
    return {
        "@id": quote(name),
        "@type": "File",
        "name": PurePosixPath(name).name,
        "description": DESCRIPTIONS[role(name)],
        "contentSize": str(size),
        "encodingFormat": MEDIA_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream"),
        "sha256": digest,
    }


def _deposit(deposit: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Root properties and entities for the license and authors given to `archive`."""
    properties: dict[str, Any] = {}
    entities: list[dict[str, Any]] = []
    license_ = deposit.get("license")
    if license_:
        url = license_ if "://" in license_ else f"https://spdx.org/licenses/{license_}"
        properties["license"] = {"@id": url}
        entities.append({"@id": url, "@type": "CreativeWork", "name": license_})
    authors = [
        {"@id": f"#author-{i}", "@type": "Person", "name": name}
        for i, name in enumerate(deposit.get("authors", []), start=1)
    ]
    if authors:
        properties["author"] = [{"@id": a["@id"]} for a in authors]
    return properties, entities + authors


def crate_document(
    run_name: str,
    files: dict[str, tuple[int, str]],
    run_facts: dict[str, Any],
    deposit: dict[str, Any],
) -> bytes:
    """ro-crate-metadata.json for the members `files` (name → (size, SHA-256))."""
    prov = run_facts["results"]
    names = sorted(files)
    by_role: dict[str, list[str]] = {}
    for name in names:
        by_role.setdefault(role(name), []).append(name)
    slurm = prov.get("slurm_job_id") or ""
    mpi = prov.get("mpi_library")
    ranks = f"{prov.get('mpi_size')} MPI rank(s) ({mpi})" if mpi != "none" else "1 process"
    where = f"{ranks} on {', '.join(run_facts['hosts'])}" + (
        f", Slurm job {slurm}" if slurm else ""
    )
    run_action = {
        "@id": "#run",
        "@type": "CreateAction",
        "name": f"bpsuite run of job '{prov.get('job_name')}' (seed {prov.get('job_seed')})",
        "description": f"bpsuite run job.toml: {where}; simulator {prov.get('simulator')}",
        "endTime": prov.get("created"),
        "instrument": {"@id": SUITE_ID},
        "object": [_ref(n) for n in by_role.get("input", [])],
        "result": [_ref("results.h5")],
    }
    actions = [run_action]
    if by_role.get("analysis"):
        actions.append(
            {
                "@id": "#analysis",
                "@type": "CreateAction",
                "name": "bpsuite analyze of results.h5",
                "description": "statistics, fits, verdicts, figures and report",
                "instrument": {"@id": SUITE_ID},
                "object": [_ref("results.h5")],
                "result": [_ref(n) for n in by_role["analysis"]],
            }
        )
    requirements = [
        {
            "@id": f"#{package}",
            "@type": "SoftwareApplication",
            "name": package,
            "softwareVersion": str(prov.get(key)),
        }
        for key, package in REQUIREMENTS.items()
        if key in prov
    ]
    suite_app = {
        "@id": SUITE_ID,
        "@type": "SoftwareApplication",
        "name": "barren-plateau-suite (bpsuite)",
        "description": f"git revision {prov.get('git_revision')}",
        "softwareVersion": str(prov.get("suite_version")),
        "softwareRequirements": [{"@id": r["@id"]} for r in requirements],
    }
    deposit_properties, deposit_entities = _deposit(deposit)
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"bpsuite run {run_name} (job '{prov.get('job_name')}')",
        "description": "A barren-plateau-suite run, archived to be reproduced: the job spec, "
        "the consolidated results (results.h5), the analysis, and the environment of the "
        "run and of the archiving machine. `bpsuite verify` recomputes samples from it.",
        "datePublished": prov.get("created"),
        "conformsTo": {"@id": PROCESS_RUN},
        **deposit_properties,
        "hasPart": [_ref(n) for n in names],
        "mentions": [{"@id": a["@id"]} for a in actions],
    }
    graph = [
        {
            "@id": CRATE,
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE},
            "about": {"@id": "./"},
        },
        root,
        {
            "@id": PROCESS_RUN,
            "@type": "CreativeWork",
            "name": "Process Run Crate",
            "version": "0.5",
        },
        *actions,
        suite_app,
        *requirements,
        *deposit_entities,
        *(_file(n, *files[n]) for n in names),
    ]
    document = {
        # RO-Crate 1.1's context does not define sha256; schema.org does
        "@context": [f"{RO_CRATE}/context", {"sha256": "http://schema.org/sha256"}],
        "@graph": graph,
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def listed_files(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """name → (contentSize, sha256) of every File entity of a crate document."""
    return {
        unquote(e["@id"]): (str(e.get("contentSize")), str(e.get("sha256")))
        for e in document["@graph"]
        if e.get("@type") == "File"
    }
