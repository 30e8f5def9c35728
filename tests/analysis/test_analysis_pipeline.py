"""End to end: analyze_runs on synthetic run directories."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import SynthTask, normal_law, warmup_tasks, write_results

from analysis import AnalysisError, analyze_runs, format_verdicts
from analysis.pipeline import build_summary

ANALYSIS_DIR = Path(__file__).resolve().parents[2] / "analysis"

TASK_KEYS = {
    "task",
    "ansatz",
    "cost",
    "qubits",
    "depth",
    "family",
    "samples",
    "variance",
    "variance_ci",
    "mean",
    "kurtosis",
    "effective_sample_size",
    "heavy_tail_warning",
    "heavy_tail_reason",
    "precision_floor_flag",
    "exact",
    "exact_within_ci",
    "ln_variance_ci",
}
FIT_KEYS = {"family", "model", "rate", "rate_ci", "verdict"}


def _job_tasks() -> list[SynthTask]:
    tasks = warmup_tasks((2, 4, 6, 8), samples=600)
    tasks += [
        SynthTask(
            "mcclean", "zz", 4, normal_law(lambda n: 0.05), depth=d, depth_rule=str(d), samples=200
        )
        for d in (2, 8, 40)
    ]
    tasks.append(SynthTask("qcnn", "zout", 8, normal_law(lambda n: 0.01), k=3, samples=200))
    return tasks


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run = tmp_path_factory.mktemp("job") / "run"
    write_results(run, _job_tasks())
    return run, analyze_runs([run])


def test_files_written_and_contract_keys(analysed: tuple[Path, dict]) -> None:
    run, summary = analysed
    out = run / "analysis"
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    assert {"tasks", "fits", "timing", "depth_sweeps", "runs", "settings"} <= set(summary)
    assert len(summary["tasks"]) == len(_job_tasks())
    for t in summary["tasks"]:
        assert set(t) >= TASK_KEYS, TASK_KEYS - set(t)
        lo, hi = t["variance_ci"]
        assert lo < t["variance"] < hi
        assert np.allclose(np.exp(t["ln_variance_ci"]), t["variance_ci"])
    for f in summary["fits"]:
        assert set(f) >= FIT_KEYS
        assert f["verdict"] in ("confirmed", "contradicted", "inconclusive")
    verdicts = [f for f in summary["fits"] if f["kind"] == "verdict"]
    assert {v["family"] for v in verdicts} >= {"product-global-L1", "product-local-L1"}
    models = {(f["family"], f["model"]) for f in summary["fits"] if f["kind"] == "fit"}
    assert ("product-global-L1", "exponential") in models
    assert ("product-global-L1", "polynomial") in models


def test_multi_parameter_task_has_parameters(analysed: tuple[Path, dict]) -> None:
    _, summary = analysed
    q = next(t for t in summary["tasks"] if t["ansatz"] == "qcnn")
    assert [p["param_index"] for p in q["parameters"]] == [0, 1, 2]
    assert q["parameters"][0]["variance"] == q["variance"]
    single = next(t for t in summary["tasks"] if t["ansatz"] == "product")
    assert "parameters" not in single


def test_report_and_figures(analysed: tuple[Path, dict]) -> None:
    run, summary = analysed
    out = run / "analysis"
    report = (out / "report.md").read_text()
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert "figures/variance_vs_qubits_product.png" in refs
    assert "figures/variance_vs_depth.png" in refs
    assert "figures/rank_time.png" in refs
    assert "figures/throughput_vs_qubits.png" in refs
    for ref in refs:
        png = out / ref
        assert png.is_file() and png.stat().st_size > 1000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for t in summary["tasks"]:
        assert t["task"] in report
    assert "synthetic" in report and "MPICH" in report and "git revision" in report


def test_depth_sweep_and_timing(analysed: tuple[Path, dict]) -> None:
    _, summary = analysed
    sweep = next(s for s in summary["depth_sweeps"] if s["ansatz"] == "mcclean")
    assert sweep["depths"] == [2, 8, 40]
    assert sweep["deep_limit"] == pytest.approx(16 / (3 * 255))
    assert sweep["slope_per_layer"] is not None
    timing = summary["timing"]
    run = timing["runs"][0]
    assert run["mpi_size"] == 2 and len(run["ranks"]) == 2
    assert run["load_balance"] >= 1.0
    assert sum(run["split"].values()) == pytest.approx(1.0)
    assert all(t["samples_per_second"] > 0 for t in timing["tasks"])
    assert timing["strong_scaling"] == []


def test_format_verdicts(analysed: tuple[Path, dict]) -> None:
    _, summary = analysed
    text = format_verdicts(summary)
    assert "product-global-n4-L1" in text
    assert "product-global-L1" in text
    assert "confirmed" in text


def test_deterministic_given_seed(tmp_path: Path) -> None:
    write_results(tmp_path / "run", warmup_tasks((2, 4, 6), samples=300))
    a = analyze_runs([tmp_path / "run"], out_dir=tmp_path / "a", seed=3)
    b = analyze_runs([tmp_path / "run"], out_dir=tmp_path / "b", seed=3)
    assert (tmp_path / "a" / "summary.json").read_bytes() == (
        tmp_path / "b" / "summary.json"
    ).read_bytes()
    c = build_summary([tmp_path / "run"], seed=4)
    assert a == b
    assert a["tasks"][0]["variance"] == c["tasks"][0]["variance"]
    assert a["tasks"][0]["variance_ci"] != c["tasks"][0]["variance_ci"]
    assert not (tmp_path / "run" / "analysis").exists()


def test_combining_runs_concatenates_and_dedups(tmp_path: Path) -> None:
    law = normal_law(lambda n: 0.1)
    write_results(tmp_path / "a", [SynthTask("product", "local", 4, law, samples=300)])
    write_results(tmp_path / "b", [SynthTask("product", "local", 4, law, samples=300, start=200)])
    write_results(tmp_path / "all", [SynthTask("product", "local", 4, law, samples=500)])
    combined = build_summary([tmp_path / "a", tmp_path / "b"], n_resamples=200)
    whole = build_summary([tmp_path / "all"], n_resamples=200)
    t, w = combined["tasks"][0], whole["tasks"][0]
    assert t["samples"] == 500
    assert t["variance"] == pytest.approx(w["variance"], rel=1e-12)
    assert len(t["runs"]) == 2


def test_combining_conflicting_samples_fails(tmp_path: Path) -> None:
    law = normal_law(lambda n: 0.1)
    write_results(tmp_path / "a", [SynthTask("product", "local", 4, law)], seed=1)
    write_results(tmp_path / "b", [SynthTask("product", "local", 4, law)], seed=2)
    with pytest.raises(AnalysisError, match="sample 0 differs"):
        build_summary([tmp_path / "a", tmp_path / "b"])


def test_strong_scaling_across_rank_counts(tmp_path: Path) -> None:
    tasks = warmup_tasks((2, 4), samples=200)
    write_results(tmp_path / "n1", tasks, mpi_size=1)
    write_results(tmp_path / "n2", tasks, mpi_size=2)
    write_results(tmp_path / "n4", tasks, mpi_size=4)
    summary = analyze_runs([tmp_path / "n1", tmp_path / "n2", tmp_path / "n4"])
    assert all(t["samples"] == 200 for t in summary["tasks"])
    (table,) = summary["timing"]["strong_scaling"]
    points = table["points"]
    assert [p["mpi_size"] for p in points] == [1, 2, 4]
    assert points[0]["efficiency"] == pytest.approx(1.0)
    assert 0.7 < points[2]["efficiency"] <= 1.0
    assert points[2]["speedup"] > 2.5
    assert (tmp_path / "n1" / "analysis" / "figures" / "strong_scaling.png").is_file()


def test_missing_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match=r"results\.h5: results file not found"):
        analyze_runs([tmp_path / "nowhere"])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "results.h5").write_text("not hdf5")
    with pytest.raises(AnalysisError, match="cannot open as HDF5"):
        analyze_runs([tmp_path / "junk"])
    write_results(tmp_path / "old", warmup_tasks((2,), samples=10))
    with h5py.File(tmp_path / "old" / "results.h5", "a") as f:
        f.attrs["schema"] = "bpsuite/0"
    with pytest.raises(AnalysisError, match="schema is 'bpsuite/0'"):
        analyze_runs([tmp_path / "old"])
    write_results(tmp_path / "nograd", warmup_tasks((2,), samples=10))
    with h5py.File(tmp_path / "nograd" / "results.h5", "a") as f:
        del f["tasks/product-global-n2-L1/grad"]
    with pytest.raises(AnalysisError, match="grad is missing"):
        analyze_runs([tmp_path / "nograd"])
    with pytest.raises(AnalysisError):
        analyze_runs([])


def test_error_message_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError) as info:
        analyze_runs([tmp_path / "nowhere"])
    assert "\n" not in str(info.value) and "nowhere" in str(info.value)


def test_no_forbidden_imports() -> None:
    forbidden = {"mpi4py", "qiskit", "qiskit_aer", "suite"}
    for path in ANALYSIS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, (path.name, name)
    code = (
        "import sys, analysis, analysis.figures, analysis.report;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('mpi4py', 'qiskit', 'qiskit_aer', 'suite')]; print(bad); sys.exit(bool(bad))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ANALYSIS_DIR.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_degenerate_tasks_do_not_crash(tmp_path: Path) -> None:
    """Zero variance, two samples, no per-sample timing and no /timing table."""
    zero = SynthTask("product", "global", 30, lambda rng, n, s: np.zeros(s), samples=50)
    two = SynthTask("product", "global", 40, normal_law(lambda n: 1.0), samples=2)
    ok = SynthTask("product", "global", 2, normal_law(lambda n: 0.05), samples=100)
    write_results(tmp_path / "run", [zero, two, ok])
    with h5py.File(tmp_path / "run" / "results.h5", "a") as f:
        del f["timing"]
        del f["tasks/product-global-n2-L1/time_simulate"]
        del f["tasks/product-global-n2-L1/rank"]
    summary = analyze_runs([tmp_path / "run"])
    by_n = {t["qubits"]: t for t in summary["tasks"]}
    assert by_n[30]["variance"] == 0.0 and by_n[30]["precision_floor_flag"] is True
    assert by_n[30]["variance_ci"] is None
    assert by_n[40]["variance"] is not None and by_n[40]["variance_ci"] is None
    verdict = next(f for f in summary["fits"] if f["kind"] == "verdict")
    assert verdict["verdict"] == "inconclusive" and verdict["sizes_used"] == [2]
    assert (tmp_path / "run" / "analysis" / "report.md").is_file()
    assert "product-global-n30-L1" in format_verdicts(summary)
