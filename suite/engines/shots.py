"""Finite shots: estimates of v from exact per-term values, drawn like real measurements.

Each term P_t of v = Σ_t c_t ⟨P_t⟩ is measured N times in its own basis; an outcome is
+1 with probability p_t = (1 + ⟨P_t⟩)/2, so the k_t outcomes +1 of N shots are
Binomial(N, p_t) and the estimate of ⟨P_t⟩ is m_t = 2 k_t/N − 1. Drawing k_t from the
exact ⟨P_t⟩ is therefore distributed exactly as N real shots. The global projector Π is
one term with p = ⟨Π⟩ (outcome "all zeros"): Π = (I + (2Π − I))/2.

Var(m_t) = (1 − ⟨P_t⟩²)/N, and E[(1 − m_t²)/(N − 1)] = Var(m_t) (docs/shots.md derives
it), so each estimate comes with an unbiased estimate of its own shot-noise variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suite.circuits.observables import Observable


@dataclass(frozen=True)
class MeasuredTerms:
    """v = constant + Σ_t coefficients[t] · m_t, m_t the ±1 mean of term t's shots."""

    constant: float
    coefficients: np.ndarray  # (T,)
    projector: bool

    def plus_probability(self, saved: np.ndarray) -> np.ndarray:
        """P(outcome +1) per term from the saved exact values (…, T): ⟨Π⟩ itself for the
        projector, (1 + ⟨P⟩)/2 for a Pauli term; clipped against rounding."""
        p = saved if self.projector else (1.0 + saved) / 2.0
        return np.clip(p, 0.0, 1.0)


def measured_terms(observable: Observable) -> MeasuredTerms:
    """How v of `observable` is measured: its Pauli terms, or the projector as one term."""
    if observable.projector:
        return MeasuredTerms(0.5, np.array([0.5]), projector=True)
    coefficients = np.array([c for _, _, c in observable.terms], dtype=np.float64)
    return MeasuredTerms(0.0, coefficients, projector=False)


def estimate(
    saved: np.ndarray,
    terms: MeasuredTerms,
    shots: int,
    streams: list[np.random.Generator],
) -> tuple[np.ndarray, np.ndarray]:
    """Shot estimates of v and unbiased estimates of their variance, both (B, R).

    `saved` (B, R, T) holds the exact per-term values at R points of each of B samples;
    sample b draws all its outcomes from `streams[b]`, points then terms in order.
    """
    if shots < 2:
        raise ValueError(f"shots must be ≥ 2 to estimate their own noise, got {shots}")
    p = terms.plus_probability(saved)
    counts = np.stack([stream.binomial(shots, p[b]) for b, stream in enumerate(streams)])
    m = 2.0 * counts / shots - 1.0
    value = terms.constant + m @ terms.coefficients
    variance = ((1.0 - m * m) / (shots - 1)) @ (terms.coefficients**2)
    return value, variance
