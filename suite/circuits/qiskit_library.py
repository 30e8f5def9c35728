"""`ansatz = "qiskit:NAME"`: a function of Qiskit's circuit library, with the sweep's options.

The sweep's n goes to `num_qubits`, its depth to `reps`; `cost_operator` and
`mixer_operator` (QAOA) are given like an observable and become SparsePauliOps at n.
Options are checked against the function's signature before anything is built.
"""

from __future__ import annotations

import inspect
from typing import Any

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from suite.circuits import observables
from suite.errors import CircuitError

# Arguments the suite fills in itself.
RESERVED = ("num_qubits", "reps")
OPERATOR_OPTIONS = ("cost_operator", "mixer_operator", "operators")


def function(name: str):
    """The library function `name`, or a CircuitError naming close matches."""
    from qiskit.circuit import library

    candidate = getattr(library, name, None)
    if candidate is None or not inspect.isfunction(candidate) or not name.islower():
        known = sorted(n for n, f in vars(library).items() if n.islower() and inspect.isfunction(f))
        close = [n for n in known if name.split("_")[0] in n][:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CircuitError(f"'{name}' is not a function of qiskit.circuit.library{hint}")
    return candidate


def check_options(name: str, options: dict[str, Any]) -> None:
    """Refuse options the function does not take, before any circuit is built."""
    parameters = inspect.signature(function(name)).parameters
    for key in options:
        if key in RESERVED:
            raise CircuitError(
                f"option '{key}' is set by the sweep (qubits → num_qubits, depth → reps)"
            )
        if key not in parameters:
            allowed = ", ".join(p for p in parameters if p not in RESERVED)
            raise CircuitError(
                f"qiskit.circuit.library.{name} takes no option '{key}' (it takes: {allowed})"
            )


def build(name: str, n: int, depth: int, options: dict[str, Any]) -> QuantumCircuit:
    """Call the library function at n qubits and `depth` repetitions."""
    check_options(name, options)
    fn = function(name)
    parameters = inspect.signature(fn).parameters
    kwargs = dict(options)
    for key in OPERATOR_OPTIONS:
        if key in kwargs:
            try:
                terms, constant = observables.pauli_terms(kwargs[key], n)
            except CircuitError as exc:
                raise CircuitError(f"option '{key}': {exc}") from None
            operator = SparsePauliOp.from_sparse_list(list(terms), n)
            if constant:
                operator = operator + SparsePauliOp("I" * n, constant)
            kwargs[key] = operator
    if "num_qubits" in parameters:
        kwargs["num_qubits"] = n
    if "reps" in parameters:
        kwargs["reps"] = depth
    try:
        circuit = fn(**kwargs)
    except Exception as exc:  # the library's own message says what is wrong
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CircuitError(f"qiskit.circuit.library.{name} failed at n={n}: {message}") from None
    if not isinstance(circuit, QuantumCircuit):
        raise CircuitError(f"qiskit.circuit.library.{name} did not return a QuantumCircuit")
    return circuit
