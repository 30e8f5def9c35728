"""Cost functions: what Aer saves, and the affine map from it to C.

Each cost is C = offset + scale · v, where v is one value Aer saves at the
end of the circuit. The parameter-shift rule then gives
∂C/∂θ = scale · (v(θ + π/2) − v(θ − π/2)) / 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.library import SaveAmplitudesSquared, SaveExpectationValue

NAMES = ("global", "local", "zz", "zout")
LABEL = "v"

DESCRIPTIONS = {
    "global": "C_G = 1 − |⟨0…0|ψ⟩|² (Cerezo et al. global projector cost)",
    "local": "C_L = 1 − (1/n) Σ_j ⟨(I + Z_j)/2⟩ (Cerezo et al. local projector cost)",
    "zz": "C = ⟨Z_0 Z_1⟩ (McClean et al.)",
    "zout": "C = ⟨Z_out⟩ on the ansatz's output qubit (QCNN: the last qubit left)",
}


@dataclass(frozen=True)
class Cost:
    name: str
    offset: float
    scale: float

    def attach(self, qc: QuantumCircuit, output_qubit: int) -> None:
        """Append the save instruction of v to `qc` (in place)."""
        n = qc.num_qubits
        if self.name == "global":
            qc.append(SaveAmplitudesSquared(n, [0], label=LABEL), qc.qubits)
            return
        if self.name == "local":
            operator, qubits = self.observable(n, output_qubit), list(range(n))
        elif self.name == "zz":
            operator, qubits = SparsePauliOp("ZZ"), [0, 1]
        else:
            operator, qubits = SparsePauliOp("Z"), [output_qubit]
        qc.append(SaveExpectationValue(operator, label=LABEL), [qc.qubits[q] for q in qubits])

    def observable(self, n: int, output_qubit: int) -> SparsePauliOp:
        """v as an operator (for exports and reference computations)."""
        if self.name == "global":
            proj = SparsePauliOp("I" * n)
            for j in range(n):
                proj = proj.compose(
                    SparsePauliOp.from_sparse_list([("", [], 0.5), ("Z", [j], 0.5)], n)
                )
            return proj.simplify()
        if self.name == "local":
            return SparsePauliOp.from_sparse_list([("Z", [j], 1.0) for j in range(n)], n)
        if self.name == "zz":
            return SparsePauliOp.from_sparse_list([("ZZ", [0, 1], 1.0)], n)
        return SparsePauliOp.from_sparse_list([("Z", [output_qubit], 1.0)], n)


def cost(name: str, n: int) -> Cost:
    """The cost `name` on n qubits."""
    if name == "global":
        return Cost(name, 1.0, -1.0)
    if name == "local":
        return Cost(name, 0.5, -0.5 / n)
    if name in ("zz", "zout"):
        return Cost(name, 0.0, 1.0)
    raise ValueError(f"unknown cost '{name}'")
