"""The small paper jobs, run for real, end in the verdicts of the theorems they reproduce.

Each job of jobs/ (cerezo2021-warmup, cerezo2021-alternating, mcclean2018, pesah2021-qcnn,
and efficient-su2, a Qiskit library circuit) runs with the CLI under `mpiexec -n 2`, then
`analyze`; the tests read summary.json. The job sizes were chosen from the statistics
(effective sample sizes, expected interval widths; see the comment in each job file), with
the jobs' original seeds. About 3–4 minutes on 2 cores in all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis.theory import LN_8_3
from analysis.verdict import Z_STRICT

pytestmark = [pytest.mark.slow, pytest.mark.mpi]

ROOT = Path(__file__).resolve().parents[1]
JOBS = (
    "cerezo2021-warmup",
    "cerezo2021-alternating",
    "mcclean2018",
    "pesah2021-qcnn",
    "efficient-su2",
)
TIMEOUT = 600  # seconds per command; each job takes 15–70 s


def _mpiexec() -> str:
    path = Path(sys.executable).parent / "mpiexec"
    if not path.exists():
        pytest.fail(f"mpiexec not found next to {sys.executable}: pip install -e '.[test]'")
    return str(path)


def _run(command: list[str]) -> None:
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])


@pytest.fixture(scope="module", params=JOBS)
def summary(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(job name, summary.json) of one paper job, run once per module."""
    job = request.param
    out = tmp_path_factory.mktemp(job) / "run"
    cli = [sys.executable, "-m", "suite.cli"]
    _run(
        [_mpiexec(), "-n", "2", *cli, "run", str(ROOT / "jobs" / f"{job}.toml"), "--out", str(out)]
    )
    _run([*cli, "analyze", str(out)])
    return job, json.loads((out / "analysis" / "summary.json").read_text(encoding="utf-8"))


def _verdicts(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Verdicts of the gradient families (the loss families end in " [loss]")."""
    return {
        f["family"]: f
        for f in summary["fits"]
        if f["kind"] == "verdict" and f["quantity"] == "gradient"
    }


def test_no_loss_family_is_contradicted(summary: tuple[str, dict[str, Any]]) -> None:
    _, s = summary
    loss = [f for f in s["fits"] if f["kind"] == "verdict" and f["quantity"] == "loss"]
    assert loss and not [f["family"] for f in loss if f["verdict"] == "contradicted"]


def _check(entry: dict[str, Any], model: str, min_sizes: int) -> None:
    assert entry["verdict"] == "confirmed", entry["reason"]
    assert entry["expected_model"] == model and entry["model"] == model
    assert entry["preferred_model"] == model
    assert len(entry["sizes_used"]) >= min_sizes, entry["excluded"]


def test_expected_verdicts(summary: tuple[str, dict[str, Any]]) -> None:
    job, s = summary
    v = _verdicts(s)
    assert not [f for f in v.values() if f["verdict"] == "contradicted"]
    assert all(t["samples"] == t["samples_requested"] for t in s["tasks"])
    if job == "cerezo2021-warmup":
        glob, loc = v["product-global-L1"], v["product-local-L1"]
        _check(glob, "exponential", 5)
        lo, hi = glob["rate_ci"]
        assert lo <= LN_8_3 <= hi, (glob["rate"], glob["rate_ci"])
        assert glob["exact_rate_within_ci"] is True
        _check(loc, "polynomial", 11)
        lo, hi = loc["rate_ci"]
        assert lo <= 2.0 <= hi, (loc["rate"], loc["rate_ci"])
        assert loc["exact_rate_within_ci"] is True
    elif job == "cerezo2021-alternating":
        _check(v["alternating-global-Lceil(log2(n))-m2"], "exponential", 3)
        _check(v["alternating-local-Lceil(log2(n))-m2"], "polynomial", 5)
    elif job == "mcclean2018":
        _check(v["mcclean-zz-L10*n"], "exponential", 6)
        (sweep,) = s["depth_sweeps"]
        assert sweep["qubits"] == 4 and sweep["depths"][0] == 1
        assert sweep["deep_limit"] == pytest.approx(2**4 / (3 * (4**4 - 1)))
        # Far above the deep limit at L = 1, consistent with it (|z| < 3.29) from
        # L = 10n = 40 on at the latest, and at the deepest depth.
        assert sweep["deep_limit_z"][0] > Z_STRICT
        assert sweep["deep_limit_reached"] is True
        assert sweep["converged_from_depth"] is not None
        assert sweep["converged_from_depth"] <= 40
        assert sweep["variance"][0] > 3 * sweep["deep_limit"]
    elif job == "pesah2021-qcnn":
        _check(v["qcnn-zout-Lceil(log2(n))"], "polynomial", 5)
    elif job == "efficient-su2":  # a library circuit, checked against the sweeps' `theorem`
        (glob,) = [f for name, f in v.items() if name.startswith("efficient_su2-global-L1-o")]
        (loc,) = [f for name, f in v.items() if name.startswith("efficient_su2-local-L1-o")]
        _check(glob, "exponential", 5)
        _check(loc, "polynomial", 5)
        assert glob["reference"] == loc["reference"] == "named in the job (sweep key `theorem`)"
    else:  # pragma: no cover
        pytest.fail(f"no expectations for {job}")
