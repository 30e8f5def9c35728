"""`ansatz = "qasm:PATH"`: one OpenQASM 3 file per n, trainable angles as `input` parameters.

PATH is relative to the job file's folder and may hold `{n}` and `{depth}`.
"""

from __future__ import annotations

from pathlib import Path

from qiskit import QuantumCircuit

from suite.errors import CircuitError


def path(template: str, base_dir: str, n: int, depth: int) -> Path:
    try:
        name = template.format(n=n, depth=depth)
    except (KeyError, IndexError, ValueError) as exc:
        raise CircuitError(
            f"'{template}': only {{n}} and {{depth}} may be filled in ({exc})"
        ) from None
    result = Path(name)
    return result if result.is_absolute() else Path(base_dir or ".") / result


def build(template: str, base_dir: str, n: int, depth: int) -> QuantumCircuit:
    file = path(template, base_dir, n, depth)
    try:
        text = file.read_text()
    except OSError as exc:
        raise CircuitError(f"cannot read OpenQASM file {file}: {exc.strerror}") from None
    try:
        from qiskit import qasm3

        circuit = qasm3.loads(text)
    except ImportError as exc:
        raise CircuitError(f"reading OpenQASM 3 needs qiskit-qasm3-import ({exc})") from None
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CircuitError(f"{file}: not valid OpenQASM 3: {message}") from None
    return circuit
