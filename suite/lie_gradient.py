"""Gradient variances of deep circuits from the dynamical Lie algebra (docs/lie.md).

For ℓ(θ) = Tr[O U_B e^{−iθP/2} U_A ρ U_A† e^{iθP/2} U_B†], ∂ℓ = ⟨U_A ρ U_A†, i[O', P/2]⟩ with
O' = U_B† O U_B and ⟨X, Y⟩ = Tr(XY). When O ∈ ig (Fontana et al. 2024; Larocca et al.
2022) and a deep part of the circuit acts as a 2-design on each simple ideal g_j of g,
Schur's lemma on the adjoint representation gives E[r rᵀ] = ‖x_j‖²/dim g_j on g_j for a
rotated x, and the cross terms between ideals vanish. Three cases, by where the gate
sits (P_g(X) = ‖X_g‖², Hilbert–Schmidt):

- middle (deep before and after): Var = Σ_j P_j(ρ) P_j(O) a_j(P) / dim g_j², where
  a_j(P) = Σ_B ‖i[P/2, B]‖² over an orthonormal basis of g_j = the number of basis
  strings of g_j that anticommute with P;
- first (every trainable gate before it commutes with it, so it can move to the start):
  Var = Σ_j ‖(i[P/2, ρ])_j‖² P_j(O) / dim g_j, with
  ‖(i[P/2, ρ])_j‖² = 2⁻ⁿ Σ ⟨PR⟩² over the strings R of g_j that anticommute with P;
- last (every trainable gate after it commutes with it): Var = Σ_j P_j(ρ) ‖(i[O, P/2])_j‖²
  / dim g_j, with
  ‖(i[O, P/2])_j‖² = 2ⁿ Σ c_{PR}² over the same R (O = Σ c_Q Q).

Universal circuits (su(2ⁿ)) reproduce McClean et al.'s deep limits: the first parameter
(1/3)·2ⁿ/(4ⁿ − 1) after RY(π/4) on |0…0⟩ with a random axis, a middle one
2^(2n−1)/((2ⁿ + 1)(4ⁿ − 1)). The center commutes with P and contributes nothing. A
parameter θ_k entering its gate as φ = a θ_k + b has a² times the variance in φ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from suite import lie

FIRST, MIDDLE, LAST = "first", "middle", "last"


@dataclass
class IdealData:
    """One Pauli-spanned simple ideal: its strings and the weights of ρ and O on it."""

    rows: np.ndarray
    rho_weight: float  # Σ Tr(Rρ)² over its strings (P_j(ρ) = 2⁻ⁿ · this)
    obs_weight: float  # Σ (Tr(RO)/2ⁿ)² / 4^e over its strings (P_j(O) = 2^(n+2e) · this)


@dataclass
class ClosureModel:
    """g from the closure: a sum of Pauli-spanned simple ideals (and a center)."""

    n: int
    ideals: list[IdealData]
    basis: np.ndarray
    obs_values: np.ndarray  # Tr(R O)/2ⁿ / 2^e per basis string
    exponent: int  # e
    state: Callable[[np.ndarray], np.ndarray | None]  # ⟨Q⟩ (or |⟨Q⟩|) of the frame's ρ

    def variance(self, position: str, p: np.ndarray) -> float | None:
        total = 0.0
        for ideal in self.ideals:
            partners = ideal.rows[lie.anticommute(ideal.rows, p[None, :])]
            dim = len(ideal.rows)
            if position == MIDDLE:
                term = ideal.rho_weight * ideal.obs_weight * len(partners) / dim**2
            elif position == FIRST:
                values = self.state(partners ^ p) if len(partners) else np.zeros(0)
                if values is None:
                    return None
                term = float(np.dot(values, values)) * ideal.obs_weight / dim
            else:
                index = lie.lookup(partners ^ p, self.basis)
                c = np.where(index >= 0, self.obs_values[index], 0.0)
                term = ideal.rho_weight * float(np.dot(c, c)) / dim
            total += term
        return lie.scaled(total, 2 * self.exponent)


@dataclass
class UniversalModel:
    """g = su(2ⁿ), known from the generators without a closure (any n)."""

    n: int
    purity_rho: float
    purity_obs: float  # P_g(O) of the traceless part (scale apart)
    obs_weight: Callable[[np.ndarray], float]  # ‖i[O, P/2]‖² for a string P
    state: Callable[[np.ndarray], np.ndarray | None]

    def variance(self, position: str, p: np.ndarray) -> float | None:
        n = self.n
        inverse_dim = math.ldexp(1.0 / (1.0 - math.ldexp(1.0, -2 * n)), -2 * n)  # 1/(4ⁿ−1)
        if position == MIDDLE:  # a(P) = 4ⁿ/2 strings anticommute with P
            return self.purity_rho * self.purity_obs * 0.5 * inverse_dim / (1 - 4.0**-n)
        if position == FIRST:  # pure ρ: ‖i[P/2, ρ]‖² = (1 − ⟨P⟩²)/2
            values = self.state(p[None, :])
            if values is None:
                return None
            return (1.0 - float(values[0]) ** 2) / 2 * self.purity_obs * inverse_dim
        return self.purity_rho * self.obs_weight(p) * inverse_dim


def _blocking(frame, others: list[tuple[int, int, int]], rows: np.ndarray) -> int:
    """How many of the trainable gates `others` fail to commute with the gate of `rows`
    (any of its axes). A gate that commutes with every gate before it can be moved to
    the start: for the formulas it is `first` (likewise `last`), as are all first-layer
    gates of a layered circuit on disjoint qubits."""
    count = 0
    for _, start, size in others:
        strings = frame.generators[start : start + size]
        if lie.anticommute(strings[:, None, :], rows[None, :, :]).any():
            count += 1
    return count


def predictions(task, circuit, frame, model, scale: float) -> list[dict[str, Any]]:
    """Per differentiated parameter of `task`: where its gate sits and the predicted
    gradient variance (None, with a note, where the formulas do not apply)."""
    where = {slot: r for r, (slot, _, _) in enumerate(frame.order)}
    out = []
    for k in task.parameters:
        entry: dict[str, Any] = {
            "param_index": int(k),
            "position": None,
            "rotations_before": None,
            "rotations_after": None,
            "variance": None,
            "note": None,
        }
        out.append(entry)
        occurrences = circuit.occurrences(k)
        if len(occurrences) != 1:
            entry["note"] = f"θ_{k} drives {len(occurrences)} gates: no single-gate formula"
            continue
        slot, a = occurrences[0]
        r = where.get(slot)
        if r is None:
            entry["note"] = "the gate of this parameter is not in the algebra's frame"
            continue
        _, start, count = frame.order[r]
        rows = frame.generators[start : start + count]
        before = _blocking(frame, frame.order[:r], rows)
        after = _blocking(frame, frame.order[r + 1 :], rows)
        entry["rotations_before"], entry["rotations_after"] = before, after
        if before == 0 and after == 0:
            entry["note"] = "every other trainable gate commutes with it: no deep part"
            continue
        position = FIRST if before == 0 else LAST if after == 0 else MIDDLE
        entry["position"] = position
        values = [model.variance(position, row) for row in rows]
        if any(v is None for v in values):
            entry["note"] = "the initial state's ⟨P⟩ is not available for this circuit"
            continue
        # a random axis: the mean over X, Y, Z; the chain rule: a² for φ = aθ + b
        entry["variance"] = scale**2 * a**2 * math.fsum(values) / len(values)
    return out
