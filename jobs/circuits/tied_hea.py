"""An example builder for `ansatz = "python:tied_hea:tied_hea"` (docs/your-circuit.md).

A hardware-efficient ansatz whose layers share their angles across qubits in
pairs: qubits 2j and 2j+1 of a layer rotate by the same RY angle, so each
parameter sits in two gates and the suite differentiates it by the chain rule.
"""

from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector


def tied_hea(n: int, depth: int, entangler: str = "cz") -> QuantumCircuit:
    """`depth` layers of RY (tied in pairs) and RZ rotations, then a ladder of `entangler`."""
    if entangler not in ("cz", "cx"):
        raise ValueError(f"entangler must be 'cz' or 'cx', got {entangler!r}")
    pairs = (n + 1) // 2
    ry = ParameterVector("a", depth * pairs)
    rz = ParameterVector("b", depth * n)
    qc = QuantumCircuit(n)
    for layer in range(depth):
        for q in range(n):
            qc.ry(ry[layer * pairs + q // 2], q)
            qc.rz(rz[layer * n + q], q)
        for q in range(n - 1):
            getattr(qc, entangler)(q, q + 1)
    return qc
