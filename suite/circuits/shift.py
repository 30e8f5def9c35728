"""The two-term parameter-shift rule, independent of any simulator.

For a gate exp(−iφP/2) with P a Pauli string, ⟨O⟩ is a sinusoid of period 2π in φ,
so ∂⟨O⟩/∂φ = [⟨O⟩(φ + π/2) − ⟨O⟩(φ − π/2)] / 2 exactly. A trainable parameter θ_k
enters slots φ_s = offset + a_s θ_k + …; by the chain rule

    ∂C/∂θ_k = scale · Σ_{s ∋ k} a_s · [v(φ + π/2 e_s) − v(φ − π/2 e_s)] / 2

for a cost C = offset + scale · v. Engines compute the differences
v(φ + π/2 e_s) − v(φ − π/2 e_s) for the slots `ShiftRule.slots`; `gradient`
combines them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHIFT = math.pi / 2


@dataclass(frozen=True)
class ShiftRule:
    """Which slots to shift for the differentiated parameters, and with what weight."""

    slots: tuple[int, ...]  # one entry per occurrence r, in order
    owner: tuple[int, ...]  # per occurrence: the column (position in param_index) it feeds
    weight: tuple[float, ...]  # per occurrence: a_s
    columns: int  # K, the differentiated parameters

    @classmethod
    def of(cls, occurrences: list[list[tuple[int, float]]]) -> ShiftRule:
        """From the (slot, a) occurrences of each differentiated parameter."""
        slots, owner, weight = [], [], []
        for column, found in enumerate(occurrences):
            for slot, a in found:
                slots.append(slot)
                owner.append(column)
                weight.append(a)
        return cls(tuple(slots), tuple(owner), tuple(weight), len(occurrences))

    def points(self, angles: np.ndarray) -> np.ndarray:
        """All points to evaluate, (B·(1 + 2R), S): per sample φ, φ + s e_r0, φ − s e_r0, …"""
        batch, width = angles.shape
        rows = 1 + 2 * len(self.slots)
        points = np.repeat(angles[:, None, :], rows, axis=1)
        for r, slot in enumerate(self.slots):
            points[:, 1 + 2 * r, slot] += SHIFT
            points[:, 2 + 2 * r, slot] -= SHIFT
        return points.reshape(batch * rows, width)

    def gradient(self, differences: np.ndarray, scale: float) -> np.ndarray:
        """∂C/∂θ (B, K) from the differences (B, R) of each occurrence."""
        grad = np.zeros((differences.shape[0], self.columns))
        for r, (column, a) in enumerate(zip(self.owner, self.weight, strict=True)):
            grad[:, column] += differences[:, r] if a == 1.0 else a * differences[:, r]
        return scale * grad / 2.0

    def variance(self, variances: np.ndarray, scale: float) -> np.ndarray:
        """Var of ∂C/∂θ (B, K) when each difference r has independent noise of variance
        `variances[:, r]` (B, R): the weights of `gradient`, squared (finite shots)."""
        out = np.zeros((variances.shape[0], self.columns))
        for r, (column, a) in enumerate(zip(self.owner, self.weight, strict=True)):
            out[:, column] += a * a * variances[:, r]
        return scale * scale * out / 4.0
