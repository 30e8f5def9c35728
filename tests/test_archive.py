"""`bpsuite archive` / `bpsuite verify`: reproducibility checks that can fail."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from importlib import metadata
from unittest import mock

import h5py
import numpy as np
import pytest
from rocrate.rocrate import ROCrate

import suite
from helpers import JOBS, bpsuite, one_line_cli_error, run_in_process
from suite import environment
from suite.archive import ArchiveError, archive, verify
from suite.provenance import SLURM_VARIABLES

# what a Slurm array task restarted once would have in its environment while it ran
SLURM = {"SLURM_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": "3", "SLURM_RESTART_COUNT": "1"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The smoke job, run as a Slurm array task would be, and analysed."""
    from analysis import analyze_runs

    run_dir = tmp_path_factory.mktemp("archive") / "smoke"
    with mock.patch.dict("os.environ", SLURM):
        run_in_process(JOBS / "smoke.toml", run_dir)
    analyze_runs([run_dir])
    return run_dir


@pytest.fixture(scope="module")
def packed(finished, tmp_path_factory):
    """The archive of `finished`, made outside Slurm, and its unpacked folder."""
    root = tmp_path_factory.mktemp("packed")
    outside = {k: v for k, v in os.environ.items() if k not in SLURM_VARIABLES.values()}
    with mock.patch.dict("os.environ", outside, clear=True):
        path = archive(finished, root / "smoke.bpsuite.tar.gz", "CC-BY-4.0", ["Ada Lovelace"])
    with tarfile.open(path) as tar:
        tar.extractall(root / "unpacked", filter="data")
    return path, root / "unpacked" / "smoke"


def members(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_archive_verifies_bit_for_bit_and_is_deterministic(finished, tmp_path):
    first = tmp_path / "a.tar.gz"
    out = bpsuite("archive", str(finished), "-o", str(first)).stdout
    assert str(first) in out
    second = tmp_path / "b.tar.gz"
    bpsuite("archive", str(finished), "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    result = bpsuite("verify", str(first))
    lines = result.stdout.splitlines()
    analysis = len([p for p in (finished / "analysis").rglob("*") if p.is_file()])
    # job.toml, results.h5, the analysis, environment/{run,archiver}.json, requirements.txt
    listed = 2 + analysis + 3
    assert f"  manifest: {listed} files, SHA-256 match" in lines
    assert (
        f"  ro-crate-metadata.json: {listed + 1} files, sizes and SHA-256 match, "
        "the rest as its members give it" in lines
    )
    sections = [x for x in lines if not x.startswith("  ")]
    assert sections == [
        "integrity (a difference fails verify):",
        "environment (informational: differences do not fail verify):",
        "numbers (a difference fails verify):",
        "verify: 36 samples in 12 tasks reproduced bit for bit",
    ]


def test_altered_archive_is_detected(finished, tmp_path):
    archive = tmp_path / "a.tar.gz"
    bpsuite("archive", str(finished), "-o", str(archive))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / "smoke" / "job.toml").write_text("# edited\n" + (JOBS / "smoke.toml").read_text())
    altered = tmp_path / "altered.tar.gz"
    with tarfile.open(altered, "w:gz") as tar:
        tar.add(unpacked / "smoke", arcname="smoke")
    result = bpsuite("verify", str(altered), check=False)
    assert result.returncode == 1
    assert "job.toml: SHA-256 differs from MANIFEST.json (file altered)" in result.stderr


def repack(source, target, name, position):
    """A copy of archive `source` with one bit of member `name` flipped at `position`."""
    with tarfile.open(source) as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            data = bytearray(tar.extractfile(member).read())
            if member.name.split("/", 1)[1] == name:
                data[position(len(data))] ^= 0x01
            member.size = len(data)
            out.addfile(member, io.BytesIO(bytes(data)))


def test_flipped_byte_in_any_member_fails_naming_it(packed, tmp_path):
    path, folder = packed
    names = members(folder)
    assert {"MANIFEST.json", "ro-crate-metadata.json", "results.h5"} <= set(names)
    for name in names:
        for where, position in (("first", lambda n: 0), ("middle", lambda n: n // 2)):
            flipped = tmp_path / "flipped.tar.gz"
            repack(path, flipped, name, position)
            with pytest.raises(ArchiveError) as caught:
                verify(flipped)
            assert name in str(caught.value), (name, where, str(caught.value))
    # bytes that no checksum covers: a letter of the crate's description (caught by
    # rebuilding the crate) and of MANIFEST.json's run name (caught by the crate's checksum)
    for name, text in (
        ("ro-crate-metadata.json", b"archived to be reproduced"),
        ("MANIFEST.json", b'"run": "smoke"'),
    ):
        at = (folder / name).read_bytes().index(text) + len(text) - 3
        repack(path, flipped, name, lambda n, at=at: at)
        with pytest.raises(ArchiveError, match=f"^{name}: ") as caught:
            verify(flipped)
        assert "altered" in str(caught.value)
    result = bpsuite("verify", str(flipped), check=False)  # the last one, from the command
    one_line_cli_error(result, 1)


def test_changed_gradient_is_not_reproduced(finished, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("job.toml", "results.h5"):
        (copy / name).write_bytes((finished / name).read_bytes())
    with h5py.File(copy / "results.h5", "r+") as f:
        f["tasks"]["qcnn-zout-n4-L2"]["grad"][0, 0] += 1e-15
    packed = tmp_path / "changed.tar.gz"
    bpsuite("archive", str(copy), "-o", str(packed))  # consistent checksums: only numbers differ
    for target in (copy, packed):
        result = bpsuite("verify", str(target), check=False)
        assert result.returncode == 1
        lines = result.stdout.splitlines()
        line = next(x for x in lines if x.startswith("  qcnn-zout-n4-L2"))
        assert "theta identical, max |Δgrad| " in line
        assert float(line.split("max |Δgrad| ")[1].split(",")[0]) > 0
        assert lines[-1] == (
            "verify: 36 samples in 12 tasks NOT reproduced bit for bit: results.h5 differs "
            "from the recomputation in qcnn-zout-n4-L2"
        )


def test_differing_environment_is_reported_apart_and_does_not_fail(finished, tmp_path):
    """An archive made on another installation: older numpy in its lock, an Aer with a
    GPU, and a run whose results.h5 says another Aer: verify says so, then recomputes."""
    copy = tmp_path / "elsewhere"
    shutil.copytree(finished, copy)
    with h5py.File(copy / "results.h5", "r+") as f:
        f.attrs["qiskit_aer_version"] = "0.0.1"
    lock, tool = environment.package_lock()
    here_numpy = metadata.version("numpy")
    assert f"numpy=={here_numpy}\n" in lock
    other_lock = lock.replace(f"numpy=={here_numpy}\n", "numpy==1.0.0\n")
    aer = environment.aer_build()
    with (
        mock.patch.object(environment, "package_lock", return_value=(other_lock, tool)),
        mock.patch.object(
            environment, "aer_build", return_value={**aer, "devices": [*aer["devices"], "GPU"]}
        ),
    ):
        packed = archive(copy, tmp_path / "elsewhere.tar.gz")
    result = bpsuite("verify", str(packed))  # exit status 0
    lines = result.stdout.splitlines()
    start = lines.index("environment (informational: differences do not fail verify):")
    end = lines.index("numbers (a difference fails verify):")
    section = lines[start + 1 : end]
    versions = f"differ here: qiskit_aer_version 0.0.1 → {aer['version']}"
    assert f"  run's versions (results.h5): {versions}" in section
    assert f"    numpy 1.0.0 → {here_numpy}" in section
    assert any(x.startswith("  packages: ") and "1 differ here" in x for x in section)
    devices = ", ".join(repr(d) for d in aer["devices"])
    build = f"devices [{devices}, 'GPU'] → [{devices}]"
    assert f"  Aer build: differs here (archived → here): {build}" in section
    assert lines[-1] == "verify: 36 samples in 12 tasks reproduced bit for bit"


def test_environment_keeps_the_run_apart_from_the_archiving_machine(finished, packed):
    _, folder = packed
    run_facts = json.loads((folder / "environment" / "run.json").read_text())
    machine = json.loads((folder / "environment" / "archiver.json").read_text())
    with h5py.File(finished / "results.h5", "r") as f:
        host, revision = f.attrs["host"], f.attrs["git_revision"]
    # of the run: recorded while it ran, as a restarted array task
    assert run_facts["hosts"] == [host]
    assert run_facts["results"]["slurm_job_id"] == "4242"
    [attempt] = run_facts["attempts"]
    assert attempt["hosts"] == [host]
    assert (attempt["slurm_job_id"], attempt["slurm_array_task_id"]) == ("4242", "3")
    assert attempt["slurm_restart_count"] == "1"
    assert run_facts["results"]["git_revision"] == revision
    # of the archiving machine: outside Slurm, this interpreter's packages
    assert machine["slurm"]["slurm_job_id"] == ""
    assert machine["git"]["revision"] == revision.removesuffix("+dirty")
    assert machine["package_lock"]["tool"] == "pip freeze --all"
    lock = environment.parse_lock((folder / "environment" / "requirements.txt").read_text())
    for package in ("h5py", "qiskit-aer", "numpy"):
        assert lock[package] == metadata.version(package)
    assert "barren-plateau-suite" in lock  # a version, or the VCS URL of an editable install
    assert machine["aer"]["version"] == metadata.version("qiskit-aer")
    assert "CPU" in machine["aer"]["devices"] and "statevector" in machine["aer"]["methods"]
    assert machine["mpi_library"] != ""


def test_lock_lines_of_every_kind_are_read():
    text = (
        "h5py==3.11.0\n"
        "# Editable Git install with no remote (barren-plateau-suite==0.1.0)\n"
        "-e /work/main\n"
        "-e git+https://example.org/x.git@abc123#egg=Some_Pkg\n"
        "local.thing @ file:///wheels/local_thing-1.0-py3-none-any.whl\n"
    )
    assert environment.parse_lock(text) == {
        "h5py": "3.11.0",
        "barren-plateau-suite": "0.1.0",
        "some-pkg": "git+https://example.org/x.git@abc123#egg=Some_Pkg",
        "local-thing": "file:///wheels/local_thing-1.0-py3-none-any.whl",
    }


def test_ro_crate_lists_every_member_with_its_checksum(finished, packed):
    _, folder = packed
    crate = ROCrate(folder)
    files = {e.id: e for e in crate.data_entities}
    expected = [n for n in members(folder) if n != "ro-crate-metadata.json"]
    assert sorted(files) == expected
    for name, entity in files.items():
        data = (folder / name).read_bytes()
        assert entity.type == "File"
        assert entity["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert int(entity["contentSize"]) == len(data), name
        assert entity["encodingFormat"], name
    assert files["results.h5"]["encodingFormat"] == "application/x-hdf5"
    assert crate.metadata["conformsTo"] == "https://w3id.org/ro/crate/1.1"  # not an entity
    assert crate.root_dataset["conformsTo"].id == "https://w3id.org/ro/wfrun/process/0.5"
    assert crate.root_dataset["license"].id == "https://spdx.org/licenses/CC-BY-4.0"
    assert [a["name"] for a in crate.root_dataset["author"]] == ["Ada Lovelace"]
    run_action, analysis_action = crate.root_dataset["mentions"]
    assert run_action.type == analysis_action.type == "CreateAction"
    suite_app = run_action["instrument"]
    assert suite_app.type == "SoftwareApplication"
    assert suite_app["softwareVersion"] == suite.__version__
    assert [o.id for o in run_action["object"]] == ["job.toml"]
    assert [r.id for r in run_action["result"]] == ["results.h5"]
    assert [o.id for o in analysis_action["object"]] == ["results.h5"]
    outputs = sorted(r.id for r in analysis_action["result"])
    assert outputs == [n for n in expected if n.startswith("analysis/")]
    assert {"analysis/summary.json", "analysis/report.md"} <= set(outputs)
    assert any(n.startswith("analysis/figures/") and n.endswith(".png") for n in outputs)


def test_archived_results_are_self_contained(packed):
    _, folder = packed
    found = []

    def visit(group):
        for name in group:
            link = group.get(name, getlink=True)
            found.append(type(link).__name__)
            item = group[name]
            if isinstance(item, h5py.Group):
                visit(item)
            else:
                found.append("virtual" if item.is_virtual else "stored")
                found.append("external" if item.external else "internal")

    with h5py.File(folder / "results.h5", "r") as f:
        assert f.attrs["kind"] == "results"
        visit(f)
    assert "HardLink" in found and "stored" in found
    assert not {"ExternalLink", "virtual", "external"} & set(found)


@pytest.mark.parametrize("kind", ["external link", "virtual dataset"])
def test_results_pointing_into_shards_are_refused(finished, tmp_path, kind):
    copy = tmp_path / "smoke"
    shutil.copytree(finished, copy)
    shard = sorted((copy / "shards").glob("*.h5"))[0]
    with h5py.File(copy / "results.h5", "r+") as f:
        group = f["tasks"]["product-global-n2-L1"]
        if kind == "external link":
            group["grad_of_shard"] = h5py.ExternalLink(str(shard), f"{group.name}/grad")
        else:
            layout = h5py.VirtualLayout(shape=(40,), dtype=np.float64)
            layout[:] = h5py.VirtualSource(str(shard), "/tasks/product-global-n2-L1/cost", (40,))
            group.create_virtual_dataset("cost_of_shard", layout)
    result = bpsuite("archive", str(copy), check=False)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("bpsuite: error: results.h5: /tasks/product-global-n2-L1/")
    assert str(shard) in line and line.endswith("archive a consolidated results.h5")
    assert not (tmp_path / "smoke.bpsuite.tar.gz").exists()


def test_archive_of_unfinished_run_is_refused(tmp_path):
    (tmp_path / "job.toml").write_text((JOBS / "smoke.toml").read_text())
    result = bpsuite("archive", str(tmp_path), check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"bpsuite: error: {tmp_path}: no results.h5 (archive a finished run)"
    )


@pytest.mark.parametrize(
    ("contents", "expected"),
    [([b"\x7fELF...N2AER2QV15TransformerAVX2Id..."], "avx2"), ([b"\x7fELF plain"], "generic")],
)
def test_the_aer_build_records_which_kernels_it_runs(tmp_path, monkeypatch, contents, expected):
    """An Aer built with -mavx2 holds its AVX2 transformer; the PyPI wheel does not
    (docs/install.md): the two give other last bits, so runs and archives say which."""
    import importlib.util
    from types import SimpleNamespace

    from suite import provenance

    package = tmp_path / "qiskit_aer"
    (package / "backends").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: SimpleNamespace(origin=str(package / "x.py"))
    )
    assert provenance.aer_kernels() == "unknown"  # no extension to read
    for i, data in enumerate(contents):
        (package / "backends" / f"controller_wrappers{i}.so").write_bytes(data)
    assert provenance.aer_kernels() == expected


def test_a_member_that_changes_while_archived_is_refused(finished, tmp_path):
    """Members are hashed first (the manifest goes first) and streamed after: a file that
    differs by then gives no archive rather than one whose manifest lies."""
    from suite import archive as archive_module

    real = archive_module.sha256_file

    def stale(path):
        return "0" * 64 if path.name == "results.h5" else real(path)

    target = tmp_path / "changed.tar.gz"
    with (
        mock.patch.object(archive_module, "sha256_file", stale),
        pytest.raises(ArchiveError, match=r"results\.h5: changed while it was archived"),
    ):
        archive(finished, target)
    assert not target.exists()
