"""Python builders for tests/test_user_circuits.py: `(n, depth, **options) -> QuantumCircuit`.

Used as `ansatz = "python:user_builders:FUNCTION"` from a job file in this folder.
"""

from __future__ import annotations

import math

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector


def tied(n, depth, offset=0.3):
    """Layers of RY on every qubit; a shared angle g in RZ(2g + offset) and in every RZZ
    (coefficient 1/2); a per-layer angle b in RX(−b)."""
    qc = QuantumCircuit(n)
    g = Parameter("g")
    for layer in range(depth):
        a = ParameterVector(f"a{layer}", n)
        b = Parameter(f"b{layer}")
        for q in range(n):
            qc.ry(a[q], q)
        qc.rz(2 * g + offset, 0)
        qc.rx(-b, n - 1)
        for q in range(n - 1):
            qc.rzz(0.5 * g, q, q + 1)
        qc.h(1)
        qc.cx(0, 1)
        qc.rz(0.7, 1)  # a fixed, non-Clifford gate
    return qc


def clifford_tied(n, depth):
    """Clifford at Clifford angles: integer slopes, offsets on the π/2 grid, H, CX, S."""
    qc = QuantumCircuit(n)
    g = Parameter("g")
    qc.h(range(n))
    for layer in range(depth):
        a = ParameterVector(f"a{layer}", n)
        for q in range(n):
            qc.ry(a[q], q)
        qc.rz(2 * g + math.pi / 2, 0)
        qc.rx(-a[0], n - 1)
        for q in range(n - 1):
            qc.rzz(g, q, q + 1)
        qc.cx(n - 1, 0)
        qc.s(1)
    return qc


def raising(n, depth):
    raise ValueError(f"this builder refuses n={n}\nsecond line")


def wrong_width(n, depth):
    qc = QuantumCircuit(n + 1)
    qc.rx(Parameter("a"), 0)
    return qc


def not_a_circuit(n, depth):
    return "circuit"


def with_u(n, depth):
    a = Parameter("a")
    qc = QuantumCircuit(n)
    qc.ry(Parameter("b"), 0)
    qc.u(a, 0.0, 0.0, 1)
    return qc


def with_crx(n, depth):
    a = Parameter("a")
    qc = QuantumCircuit(n)
    qc.h(0)
    qc.crx(a, 0, 1)
    return qc


def squared(n, depth):
    a = Parameter("a")
    qc = QuantumCircuit(n)
    qc.rx(a * a, 0)
    return qc


def sine(n, depth):
    a = Parameter("a")
    qc = QuantumCircuit(n)
    qc.rx(a.sin(), 0)
    return qc


def many_gates(n, depth):
    """Every kind of trainable rotation (p, u1, rxx, ryy, rzx, rzz, rx of a sum of
    parameters, Pauli evolutions of commuting strings), fixed gates that Aer's statevector
    method has no instruction for (ch, iswap, dcx, cs, xx_plus_yy, a Pauli evolution), and
    a user gate that borrows the name "rx" for RY(2t)."""
    from qiskit.circuit import Gate
    from qiskit.circuit.library import PauliEvolutionGate, U1Gate, XXPlusYYGate
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(n)
    a, b, c, d, e, f, t = (Parameter(x) for x in "abcdeft")
    qc.h(range(n))
    qc.p(a, 0)
    qc.rx(a + 2 * b - 0.1, 1)
    qc.ch(0, 1)
    qc.rxx(b, 0, 1)
    qc.iswap(1, 2)
    qc.ryy(-c, 1, 2)
    qc.dcx(2, 0)
    qc.rzx(0.5 * c, 2, 0)
    qc.cs(0, 2)
    qc.append(U1Gate(d), [2])
    qc.append(XXPlusYYGate(0.3, 0.2), [0, 1])
    qc.rzz(d, 0, n - 1)
    qc.append(PauliEvolutionGate(SparsePauliOp(["XX", "YY"], [0.5, -1.5]), time=e), [1, 2])
    qc.append(PauliEvolutionGate(SparsePauliOp(["XIZ"]), time=3 * f + 0.2), [0, 1, 2])
    qc.append(PauliEvolutionGate(SparsePauliOp(["XY", "ZZ"], [0.4, 0.3]), time=0.7), [0, 2])
    impostor = Gate("rx", 1, [t])
    body = QuantumCircuit(1)
    body.ry(2 * t, 0)
    impostor.definition = body
    qc.append(impostor, [1])
    return qc


def noncommuting(n, depth):
    """A fixed evolution under XX + ZI: not a product of rotations."""
    from qiskit.circuit.library import PauliEvolutionGate
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(n)
    qc.ry(Parameter("a"), 0)
    qc.append(PauliEvolutionGate(SparsePauliOp(["XX", "ZI"], [0.4, 0.3]), time=0.7), [0, 1])
    return qc


def opaque(n, depth):
    """A gate with neither a standard class nor a definition."""
    from qiskit.circuit import Gate

    qc = QuantumCircuit(n)
    qc.ry(Parameter("a"), 0)
    qc.append(Gate("mystery", 1, []), [1])
    return qc
