"""Family verdicts from synthetic data with known laws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import SynthTask, normal_law, warmup_tasks, write_results

from analysis import fits as fitmod
from analysis.pipeline import build_summary
from analysis.theory import theorem_for
from analysis.verdict import CONTRADICTION_P, Z_STRICT, FamilyPoint, evaluate_family


def _verdicts(tmp_path: Path, tasks: list[SynthTask], **kw) -> dict[str, dict]:
    write_results(tmp_path / "run", tasks, **kw)
    summary = build_summary([tmp_path / "run"], n_resamples=500)
    return {f["family"]: f for f in summary["fits"] if f["kind"] == "verdict"}


def _family(ansatz: str, cost: str, sizes, variance, samples: int = 1000, **kw):
    return [SynthTask(ansatz, cost, n, normal_law(variance), samples=samples, **kw) for n in sizes]


def test_exact_warmup_variances_confirmed(tmp_path: Path) -> None:
    v = _verdicts(tmp_path, warmup_tasks((2, 4, 6, 8, 10)))
    glob, loc = v["product-global-L1"], v["product-local-L1"]
    assert glob["verdict"] == "confirmed", glob["reason"]
    assert glob["exact_rate_within_ci"] is True
    assert abs(glob["rate"] - math.log(8 / 3)) < 0.1
    assert loc["verdict"] == "confirmed", loc["reason"]
    assert loc["exact_rate_within_ci"] is True
    assert abs(loc["rate"] - 2.0) < 0.1


def test_true_warmup_distributions_confirmed(tmp_path: Path) -> None:
    """The real heavy-tailed warm-up gradients: heavy sizes are left out, not misread.

    With S = 2000 the global cost keeps S_eff ≥ 100 up to n ≈ 6 (S_eff ≈ 2S/(κ − 1),
    κ = 1.5·(35/18)^(n−1)); n = 8, 10, 12 have S_eff ≈ 25, 7, 2 and are excluded.
    """
    v = _verdicts(tmp_path, warmup_tasks((2, 3, 4, 5, 6, 8, 10, 12), gaussian=False))
    glob = v["product-global-L1"]
    assert glob["verdict"] == "confirmed", glob["reason"]
    assert {8, 10, 12} <= {e["qubits"] for e in glob["excluded"] if e["reason"] == "heavy tails"}
    assert v["product-local-L1"]["verdict"] == "confirmed"


def test_wrong_law_contradicted(tmp_path: Path) -> None:
    sizes = (2, 4, 6, 8, 10)
    tasks = _family("product", "global", sizes, lambda n: 1 / (8 * n * n))
    tasks += _family("product", "local", sizes, lambda n: 0.125 * 0.375 ** (n - 1))
    tasks += _family("qcnn", "zout", sizes, lambda n: 0.5 * np.exp(-1.2 * n))
    v = _verdicts(tmp_path, tasks)
    for family in ("product-global-L1", "product-local-L1", "qcnn-zout-L1"):
        assert v[family]["verdict"] == "contradicted", (family, v[family]["reason"])


def test_wrong_rate_contradicted(tmp_path: Path) -> None:
    """Exponential, as the theorem says, but with rate 1.5 instead of ln(8/3)."""
    tasks = _family("product", "global", (2, 4, 6, 8), lambda n: 0.3 * np.exp(-1.5 * n))
    v = _verdicts(tmp_path, tasks)["product-global-L1"]
    assert v["verdict"] == "contradicted"
    assert "excluded" in v["reason"] and v["exact_rate_p"] < 1e-3


def test_two_sizes_too_few(tmp_path: Path) -> None:
    v = _verdicts(tmp_path, _family("alternating", "global", (4, 6), lambda n: 2.0**-n))
    entry = v["alternating-global-L1"]
    assert entry["verdict"] == "inconclusive"
    assert entry["reason"].startswith("too few sizes")


def test_huge_intervals_inconclusive(tmp_path: Path) -> None:
    tasks = _family("alternating", "global", (2, 4, 6, 8), lambda n: np.exp(-0.05 * n), samples=20)
    entry = _verdicts(tmp_path, tasks)["alternating-global-L1"]
    assert entry["verdict"] == "inconclusive"
    assert entry["reason"].startswith("intervals too wide"), entry["reason"]


def test_no_theorem_still_fitted(tmp_path: Path) -> None:
    write_results(tmp_path / "run", _family("mystery", "xx", (2, 3, 4, 5), lambda n: 3.0**-n))
    summary = build_summary([tmp_path / "run"], n_resamples=300)
    fits = [f for f in summary["fits"] if f["family"] == "mystery-xx-L1"]
    verdict = next(f for f in fits if f["kind"] == "verdict")
    assert verdict["verdict"] == "measured"
    assert verdict["reason"].startswith("no theorem for this family: exponential preferred")
    assert verdict["preferred_model"] == "exponential"
    exp = next(f for f in fits if f["model"] == "exponential" and f["kind"] == "fit")
    assert abs(exp["rate"] - math.log(3)) < 0.1


def test_mcclean_shallow_polynomial_is_not_converged(tmp_path: Path) -> None:
    tasks = [
        SynthTask(
            "mcclean",
            "zz",
            n,
            normal_law(lambda n: 0.5 / n**2),
            depth=n,
            depth_rule="n",
            samples=2000,
        )
        for n in (2, 4, 6, 8, 10)
    ]
    entry = _verdicts(tmp_path, tasks)["mcclean-zz-Ln"]
    assert entry["verdict"] == "inconclusive"
    assert entry["reason"].startswith("depth too small to have converged")


def test_mcclean_deep_limit_confirmed(tmp_path: Path) -> None:
    tasks = [
        SynthTask(
            "mcclean",
            "zz",
            n,
            normal_law(lambda n: 2**n / (3 * (4**n - 1))),
            depth=10 * n,
            depth_rule="10*n",
            samples=3000,
        )
        for n in (2, 4, 6, 8)
    ]
    write_results(tmp_path / "run", tasks)
    summary = build_summary([tmp_path / "run"], n_resamples=500)
    verdict = next(f for f in summary["fits"] if f["kind"] == "verdict")
    assert verdict["verdict"] == "confirmed", verdict["reason"]
    for t in summary["tasks"]:
        assert t["exact"] == t["deep_limit"]
    # Each 95 % interval misses with probability 0.05: 2+ misses of 4 has p ≈ 1.4 %.
    assert sum(t["exact_within_ci"] for t in summary["tasks"]) >= 3


def test_alternating_local_linear_depth_inconclusive(tmp_path: Path) -> None:
    tasks = [
        SynthTask(
            "alternating", "local", n, normal_law(lambda n: 1 / n**2), depth=n, depth_rule="n"
        )
        for n in (4, 6, 8, 10)
    ]
    entry = _verdicts(tmp_path, tasks)["alternating-local-Ln"]
    assert entry["verdict"] == "inconclusive"
    assert "faster than log n" in entry["reason"]


def test_noise_is_not_checked_against_noiseless_theorem(tmp_path: Path) -> None:
    tasks = _family(
        "product",
        "local",
        (2, 4, 6, 8),
        lambda n: 1 / (8 * n * n),
        spec_extra={"noise": {"depolarizing": 0.01}},
    )
    write_results(tmp_path / "run", tasks)
    summary = build_summary([tmp_path / "run"], n_resamples=300)
    verdict = next(f for f in summary["fits"] if f["kind"] == "verdict")
    assert verdict["verdict"] == "inconclusive" and "noise" in verdict["reason"]
    assert all(t["exact"] is None for t in summary["tasks"])


def test_precision_floor_points_excluded(tmp_path: Path) -> None:
    tasks = _family(
        "product",
        "global",
        (2, 4, 6, 8, 10, 12),
        lambda n: 1e-20 if n == 12 else 0.125 * 0.375 ** (n - 1),
        samples=2000,
    )
    write_results(tmp_path / "run", tasks, precision="single")
    summary = build_summary([tmp_path / "run"], n_resamples=300)
    t12 = next(t for t in summary["tasks"] if t["qubits"] == 12)
    assert t12["precision_floor_flag"] is True
    verdict = next(f for f in summary["fits"] if f["kind"] == "verdict")
    assert 12 not in verdict["sizes_used"]
    assert verdict["verdict"] == "confirmed"


def _local_law_points(rate: float, se: float = 0.02) -> list[FamilyPoint]:
    """Noise-free points ln Var = ln(1/8) − rate·ln n at n = 2…8, each with error se."""
    return [
        FamilyPoint(
            f"product-local-n{n}-L1",
            n,
            1,
            math.log(0.125) - rate * math.log(n),
            se,
            heavy_tail=False,
            at_floor=False,
            exact=1.0 / (8.0 * n * n),
        )
        for n in range(2, 9)
    ]


def _judge(points: list[FamilyPoint]) -> dict:
    theorem = theorem_for("product", "local")
    return evaluate_family("product-local-L1", "product", "local", "1", points, theorem, [])[-1]


def _rate_se(se: float = 0.02) -> float:
    n = np.arange(2, 9, dtype=float)
    return fitmod.fit_model("polynomial", n, -2 * np.log(n), np.full(n.size, se)).rate_se


def test_mild_tension_does_not_contradict() -> None:
    """The exact exponent 2.5 se away (p ≈ 0.012): confirmed, with the tension reported."""
    entry = _judge(_local_law_points(2.0 + 2.5 * _rate_se()))
    assert entry["verdict"] == "confirmed", entry["reason"]
    assert entry["exact_rate_within_ci"] is False
    assert abs(entry["exact_rate_z"] - 2.5) < 1e-6
    assert 0.01 < entry["exact_rate_p"] < 0.015
    assert len(entry["tension"]) >= 1 and "outside the 95% interval" in entry["tension"][0]
    assert "tension:" in entry["reason"]


def test_strong_evidence_contradicts() -> None:
    """The exact exponent excluded at p < 0.001 (z = 3.5 > 3.29): contradicted."""
    entry = _judge(_local_law_points(2.0 + 3.5 * _rate_se()))
    assert Z_STRICT < 3.5
    assert entry["verdict"] == "contradicted", entry["reason"]
    assert entry["exact_rate_p"] < CONTRADICTION_P


def test_exact_points_no_tension() -> None:
    entry = _judge(_local_law_points(2.0))
    assert entry["verdict"] == "confirmed" and entry["tension"] == []
    assert entry["exact_law_p"] == 1.0 and entry["exact_law_points"] == 7


def test_alternative_preferred_mildly_is_tension_only() -> None:
    """Exactly exponential points, with error bars chosen so that the polynomial theorem's
    model misses them by Δχ² = 6 (p ≈ 0.014 for χ²_1): tension, no contradiction. With
    error bars √(6/12) times smaller (Δχ² = 12, p ≈ 5e-4) the verdict is contradicted."""
    theorem = theorem_for("qcnn", "zout")  # polynomial, no exact rate
    n = np.arange(4, 12, dtype=float)
    y = -1.0 - 0.3 * n
    unit = fitmod.fit_model("polynomial", n, y, np.ones(n.size)).chi2  # χ² at se = 1

    def judge(delta_chi2: float) -> dict:
        se = math.sqrt(unit / delta_chi2)
        pts = [
            FamilyPoint(f"qcnn-zout-n{k:.0f}-L1", int(k), 1, float(v), se, False, False)
            for k, v in zip(n, y, strict=True)
        ]
        return evaluate_family("qcnn-zout-L1", "qcnn", "zout", "1", pts, theorem, [])[-1]

    mild = judge(6.0)
    assert mild["alternative_p"] == pytest.approx(0.0143, abs=1e-3)
    assert mild["verdict"] != "contradicted", mild["reason"]
    assert any("fits better" in t for t in mild["tension"])
    strong = judge(12.0)
    assert strong["alternative_p"] < CONTRADICTION_P
    assert strong["verdict"] == "contradicted"


def test_growing_variance_contradicts_only_a_decay() -> None:
    """Var growing with n contradicts an exponential-decay theorem, not an Ω(1/poly n) bound."""
    n = np.arange(4, 12)
    for ansatz, cost, verdict in (("alternating", "global", "contradicted"), ("qcnn", "zout", "?")):
        rate = -0.3 if ansatz == "alternating" else -0.8
        x = n if ansatz == "alternating" else np.log(n)
        pts = [
            FamilyPoint(
                f"{ansatz}-{cost}-n{k}-L1", int(k), 1, float(-1 - rate * v), 0.05, False, False
            )
            for k, v in zip(n, x, strict=True)
        ]
        theorem = theorem_for(ansatz, cost)
        entry = evaluate_family(f"{ansatz}-{cost}-L1", ansatz, cost, "1", pts, theorem, [])[-1]
        if verdict == "contradicted":
            assert entry["verdict"] == "contradicted" and "grows" in entry["reason"]
        else:
            assert entry["verdict"] != "contradicted", entry["reason"]
