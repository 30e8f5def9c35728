"""The built-in circuit families. Gate order and parameter numbering: docs/circuits.md.

Every trainable parameter θ_k sits in exactly one gate exp(−iθ_k P/2) with P
a Pauli string, so the two-term parameter-shift rule is exact.

A family gives two views of a circuit:

* `template(task)`: one parametrized circuit for a whole batch of samples.
  Per-sample structure (McClean's random axes) enters as extra parameters
  bound per sample (one `u` gate per random-axis rotation, its angles computed
  in numpy: `suite.circuits.description.u_angles`), so a batch of samples and
  all their shifted points is one Aer call.
* `bound_circuit(task, theta, axes)`: the plain circuit of one sample with
  the gates a reader expects (rx/ry/rz), for OpenQASM export and for tests
  that cross-check the template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector

from suite.circuits.description import ParametrizedCircuit, describe

if TYPE_CHECKING:
    from suite.records import Task

AXIS_NAMES = ("X", "Y", "Z")


@dataclass
class Template:
    """A parametrized circuit for a batch of samples of one task."""

    circuit: QuantumCircuit
    theta: ParameterVector
    structure: list[Parameter] = field(default_factory=list)  # per-sample, not trainable


class Family:
    """Base class of a circuit family."""

    name = ""
    random_axes = False
    default_depth: str | None = None
    default_block: int | None = None
    costs: tuple[str, ...] = ("global", "local", "zz", "zout")
    # A fixed gate that is not Clifford (None: with angles in {0, π/2, π, 3π/2} every
    # circuit of the family is Clifford and Aer's stabilizer method can run it).
    non_clifford: str | None = None

    def check(self, n: int, depth_rule: str | None, block: int | None, cost: str | None) -> str:
        """Validate family-specific keys; return the depth rule to use (cost None: an
        explicit observable, which every family takes)."""
        if cost is not None and cost not in self.costs:
            raise ValueError(
                f"cost '{cost}' is not defined for {self.name} (allowed: {', '.join(self.costs)})"
            )
        if block is not None:
            raise ValueError("'block' applies to the alternating ansatz only")
        if depth_rule is None:
            if self.default_depth is None:
                raise ValueError("'depth' is missing")
            return self.default_depth
        return depth_rule

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        raise NotImplementedError

    def output_qubit(self, n: int) -> int:
        """Qubit measured by the single-qubit cost `zout`."""
        return 0

    def template(self, task: Task) -> Template:
        theta = ParameterVector("theta", task.n_params)
        qc = QuantumCircuit(task.qubits, name=task.id)
        self._build(qc, task, theta, _plain_rotation)
        return Template(qc, theta)

    def describe(self, task: Task) -> ParametrizedCircuit:
        """The family's circuit for `task` as data (`suite.circuits.description`)."""
        template = self.template(task)
        return describe(
            template.circuit,
            list(template.theta),
            bind=lambda theta, axes=None: self.bound_circuit(task, theta, axes),
            structure=template.structure,
            random_axes=self.random_axes,
            output_qubit=self.output_qubit(task.qubits),
            non_clifford=self.non_clifford,
        )

    def bound_circuit(
        self, task: Task, theta: np.ndarray, axes: np.ndarray | None = None
    ) -> QuantumCircuit:
        qc = QuantumCircuit(task.qubits, name=task.id)
        self._build(qc, task, list(map(float, theta)), _plain_rotation)
        return qc

    def _build(self, qc: QuantumCircuit, task: Task, theta, rotation) -> None:
        raise NotImplementedError


def _plain_rotation(qc: QuantumCircuit, pauli: str, angle, qubit: int) -> None:
    getattr(qc, "r" + pauli.lower())(angle, qubit)


class Product(Family):
    """Cerezo et al. warm-up: RX(θ_j) on qubit j of |0…0⟩."""

    name = "product"
    default_depth = "1"

    def check(self, n: int, depth_rule: str | None, block: int | None, cost: str | None) -> str:
        rule = super().check(n, depth_rule, block, cost)
        if rule != "1":
            raise ValueError("depth must be 1 (the product ansatz is a single layer)")
        return rule

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        return n

    def _build(self, qc, task, theta, rotation) -> None:
        for j in range(task.qubits):
            rotation(qc, "X", theta[j], j)


class McClean(Family):
    """McClean et al. 2018: RY(π/4) layer, then L layers of R_P(θ) + CZ ladder."""

    name = "mcclean"
    random_axes = True
    non_clifford = "a fixed RY(π/4) layer"

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        return n * depth

    def _layers(self, qc, task, theta, rotate) -> None:
        n = task.qubits
        for q in range(n):
            qc.ry(math.pi / 4, q)
        for layer in range(task.depth):
            for q in range(n):
                rotate(layer * n + q, q)
            for q in range(n - 1):
                qc.cz(q, q + 1)

    def template(self, task: Task) -> Template:
        """R_P(θ_i) as u(θ_i, b_i, c_i): `describe` reads it as a random-axis rotation whose
        u angles are computed per sample from (θ_i, P) (one gate, plain parameters)."""
        theta = ParameterVector("theta", task.n_params)
        b = [Parameter(f"b[{i}]") for i in range(task.n_params)]
        c = [Parameter(f"c[{i}]") for i in range(task.n_params)]
        qc = QuantumCircuit(task.qubits, name=task.id)

        def rotate(i: int, q: int) -> None:
            qc.u(theta[i], b[i], c[i], q)

        self._layers(qc, task, theta, rotate)
        return Template(qc, theta, b + c)

    def bound_circuit(self, task, theta, axes=None) -> QuantumCircuit:
        if axes is None:
            raise ValueError("mcclean circuits need the sample's axes")
        qc = QuantumCircuit(task.qubits, name=task.id)

        def rotate(i: int, q: int) -> None:
            _plain_rotation(qc, AXIS_NAMES[int(axes[i])], float(theta[i]), q)

        self._layers(qc, task, theta, rotate)
        return qc


class Alternating(Family):
    """Cerezo et al. alternating layered ansatz with m-qubit blocks.

    Even layers tile the qubits with blocks [i·m, (i+1)·m); odd layers are
    shifted by m/2 and keep only blocks that fit (no wrap-around). A block is
    RY on each of its qubits, then CZ(q, q+1) along the block.
    """

    name = "alternating"
    default_block = 2

    def check(self, n: int, depth_rule: str | None, block: int | None, cost: str | None) -> str:
        m = block or self.default_block
        if m % 2:
            raise ValueError(f"block must be even, got {m}")
        if n % m or n < 2 * m:
            raise ValueError(f"qubits must be a multiple of block={m} and at least {2 * m}")
        return super().check(n, depth_rule, None, cost)

    @staticmethod
    def layer_start(m: int, layer: int) -> int:
        """First qubit of the layer's first block: odd layers are shifted by m/2."""
        return 0 if layer % 2 == 0 else m // 2

    @classmethod
    def blocks(cls, n: int, m: int, layer: int) -> list[range]:
        return [range(s, s + m) for s in range(cls.layer_start(m, layer), n - m + 1, m)]

    @classmethod
    def block_count(cls, n: int, m: int, layer: int) -> int:
        """len(blocks(n, m, layer)), without listing them (n = 2^20 has 2^19 per layer)."""
        return len(range(cls.layer_start(m, layer), n - m + 1, m))

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        m = block or 2
        return m * sum(self.block_count(n, m, layer) for layer in range(depth))

    def _build(self, qc, task, theta, rotation) -> None:
        m = task.block or 2
        k = 0
        for layer in range(task.depth):
            for block in self.blocks(task.qubits, m, layer):
                for q in block:
                    rotation(qc, "Y", theta[k], q)
                    k += 1
                for q in block[:-1]:
                    qc.cz(q, q + 1)


class QCNN(Family):
    """Pesah et al. quantum convolutional network, ceil(log2 n) levels.

    A level acts on the active qubits A: convolution blocks on pairs
    (A0,A1),(A2,A3),… then (A1,A2),(A3,A4),…; a block is RX, RX, RZZ, RY, RY
    (five parameters). Pooling pairs (A0,A1),(A2,A3),… with RX(θ) on the
    first, RY(θ) on the second, CX(first → second); the first is discarded.
    The output qubit is the one left at the end: n − 1.
    """

    name = "qcnn"
    default_depth = "ceil(log2(n))"
    costs = ("zout",)

    def check(self, n: int, depth_rule: str | None, block: int | None, cost: str | None) -> str:
        rule = super().check(n, depth_rule, block, cost)
        if rule.replace(" ", "") != self.default_depth:
            raise ValueError("depth is fixed by n (ceil(log2(n)) levels); remove 'depth'")
        return rule

    @staticmethod
    def levels(n: int) -> list[list[int]]:
        active = list(range(n))
        result = []
        while len(active) > 1:
            result.append(active)
            kept = [active[i + 1] for i in range(0, len(active) - 1, 2)]
            if len(active) % 2:
                kept.append(active[-1])
            active = kept
        return result

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        total = 0
        for active in self.levels(n):
            pairs = len(active) // 2 + (len(active) - 1) // 2
            total += 5 * pairs + 2 * (len(active) // 2)
        return total

    def output_qubit(self, n: int) -> int:
        return n - 1

    def _build(self, qc, task, theta, rotation) -> None:
        k = 0
        for active in self.levels(task.qubits):
            for start in (0, 1):
                for i in range(start, len(active) - 1, 2):
                    a, b = active[i], active[i + 1]
                    rotation(qc, "X", theta[k], a)
                    rotation(qc, "X", theta[k + 1], b)
                    qc.rzz(theta[k + 2], a, b)
                    rotation(qc, "Y", theta[k + 3], a)
                    rotation(qc, "Y", theta[k + 4], b)
                    k += 5
            for i in range(0, len(active) - 1, 2):
                a, b = active[i], active[i + 1]
                rotation(qc, "X", theta[k], a)
                rotation(qc, "Y", theta[k + 1], b)
                qc.cx(a, b)
                k += 2


class Matchgate(Family):
    """Free fermions: L layers of RZ(θ) on every qubit, then RXX(θ) on (j, j+1), even j
    first, then odd j (a brick wall, open chain).

    The generators Z_j and X_j X_{j+1} are Majorana bilinears (Jordan–Wigner), so the
    dynamical Lie algebra is so(2n), of dimension n(2n − 1), not su(2^n): a deep
    circuit is a 2-design on the free-fermion group only (Ragone et al. 2024), and
    ⟨Z_k⟩ keeps a variance ~ 1/n where a universal circuit's is ~ 2^−n.
    """

    name = "matchgate"

    def n_params(self, n: int, depth: int, block: int | None) -> int:
        return depth * (2 * n - 1)

    def _build(self, qc, task, theta, rotation) -> None:
        n = task.qubits
        k = 0
        for _ in range(task.depth):
            for q in range(n):
                rotation(qc, "Z", theta[k], q)
                k += 1
            for start in (0, 1):
                for j in range(start, n - 1, 2):
                    qc.rxx(theta[k], j, j + 1)
                    k += 1


FAMILIES: dict[str, Family] = {
    f.name: f for f in (Product(), McClean(), Alternating(), QCNN(), Matchgate())
}
NAMES = tuple(FAMILIES)


def family(name: str) -> Family:
    return FAMILIES[name]
