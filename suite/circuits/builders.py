"""Builders: the `ansatz` of a sweep → the circuit of a task, as data.

| ansatz                      | builder                                                   |
|-----------------------------|-----------------------------------------------------------|
| product, mcclean, …         | a built-in family (`suite.circuits.families`)            |
| qiskit:NAME                 | a function of qiskit.circuit.library (depth → reps)       |
| python:MODULE:FUNCTION      | a user's `(n, depth, **options) -> QuantumCircuit`        |
| qasm:PATH                   | an OpenQASM 3 file per n (`{n}`, `{depth}` in PATH)       |

Trainable parameters of a user's circuit are numbered in `circuit.parameters` order.
`describe` caches per process, since a task is described once for validation and once
for its engine.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit

from suite.circuits import python_source, qasm_source, qiskit_library
from suite.circuits.description import ParametrizedCircuit, describe
from suite.circuits.families import FAMILIES
from suite.errors import CircuitError
from suite.records import Task

PREFIXES = ("qiskit", "python", "qasm")


@dataclass(frozen=True)
class Source:
    """Where a sweep's circuits come from."""

    ansatz: str
    kind: str  # "family" | "qiskit" | "python" | "qasm"
    target: str

    @property
    def short(self) -> str:
        """A name for task ids: the family, function or file name."""
        if self.kind == "family":
            return self.target
        if self.kind == "python":
            name = self.target.partition(":")[2]
        elif self.kind == "qasm":
            name = self.target.rsplit("/", 1)[-1].removesuffix(".qasm")
            name = re.sub(r"[-_]?n?\{n\}|[-_]?L?\{depth\}", "", name) or "qasm"
        else:
            name = self.target
        return re.sub(r"[^A-Za-z0-9_.]+", "_", name)

    @property
    def builtin(self) -> bool:
        return self.kind == "family"


def source(ansatz: str) -> Source:
    """Parse an `ansatz` value; CircuitError for an unknown family or prefix."""
    if ansatz in FAMILIES:
        return Source(ansatz, "family", ansatz)
    prefix, sep, target = ansatz.partition(":")
    if not sep or prefix not in PREFIXES:
        raise CircuitError(
            f"unknown ansatz '{ansatz}' (built-in: {', '.join(FAMILIES)}; or "
            "qiskit:NAME, python:MODULE:FUNCTION, qasm:PATH)"
        )
    if not target:
        raise CircuitError(f"'{ansatz}' names no {prefix} source")
    if prefix == "qiskit":
        qiskit_library.function(target)  # unknown names fail here, before any build
    return Source(ansatz, prefix, target)


def check_options(src: Source, options: dict[str, Any]) -> None:
    """Options a builder cannot take, found before any circuit is built."""
    if not options:
        return
    if src.kind == "qiskit":
        qiskit_library.check_options(src.target, options)
    elif src.kind in ("family", "qasm"):
        raise CircuitError(
            f"'options' do not apply to {src.ansatz} "
            "(only qiskit: and python: builders take options)"
        )


def user_circuit(task: Task) -> QuantumCircuit:
    """The user's circuit of a task (qiskit:, python: and qasm: sources)."""
    src = source(task.ansatz)
    options = task.options_dict
    if src.kind == "qiskit":
        circuit = qiskit_library.build(src.target, task.qubits, task.depth, options)
    elif src.kind == "python":
        circuit = python_source.build(src.target, task.base_dir, task.qubits, task.depth, options)
    elif src.kind == "qasm":
        circuit = qasm_source.build(src.target, task.base_dir, task.qubits, task.depth)
    else:
        raise CircuitError(f"{task.ansatz} is a built-in family")
    if circuit.num_qubits != task.qubits:
        raise CircuitError(
            f"{task.ansatz} gave a circuit of {circuit.num_qubits} qubits "
            f"for qubits = {task.qubits}"
        )
    return circuit


CACHED_CIRCUITS = 64
_cache: OrderedDict[tuple, ParametrizedCircuit] = OrderedDict()


def _circuit_key(task: Task) -> tuple:
    """What determines a task's circuit: not its cost, parameters, method or samples, so
    validation and the run build each circuit once. A user's circuit also fixes n_params."""
    builtin = task.ansatz in FAMILIES
    return (
        task.ansatz,
        task.qubits,
        task.depth,
        task.block,
        task.options,
        task.base_dir,
        task.n_params if builtin else None,
    )


def circuit_of(task: Task) -> ParametrizedCircuit:
    """The task's circuit as data (cached per process, least recently used dropped)."""
    key = _circuit_key(task)
    found = _cache.get(key)
    if found is not None:
        _cache.move_to_end(key)
        return found
    src = source(task.ansatz)
    if src.builtin:
        found = FAMILIES[src.target].describe(task)
    else:
        circuit = user_circuit(task)
        found = describe(circuit, list(circuit.parameters))
    _cache[key] = found
    if len(_cache) > CACHED_CIRCUITS:
        _cache.popitem(last=False)
    return found


def never_clifford(task: Task) -> str | None:
    """Why a task's circuits are not Clifford at any angles, when its builder knows it
    without a build (a built-in family's fixed non-Clifford gate or random axes); None
    says only that the circuit itself must be checked."""
    family = FAMILIES.get(task.ansatz)
    if family is None:
        return None
    return family.non_clifford or (
        "random rotation axes per sample" if family.random_axes else None
    )


def output_qubit(task: Task) -> int:
    """The qubit a `zout` cost measures: a built-in family knows it without a build."""
    family = FAMILIES.get(task.ansatz)
    return family.output_qubit(task.qubits) if family else circuit_of(task).output_qubit


def random_axes(task: Task) -> bool:
    """Whether the task's samples draw rotation axes (McClean), without building it."""
    family = FAMILIES.get(task.ansatz)
    return family is not None and family.random_axes


def source_files(task: Task) -> list[str]:
    """Files of the job's folder that a task's circuit is read from, relative to it.

    A run directory keeps a copy of each beside its job.toml, so that `status`,
    `verify`, `circuit` and archives rebuild user circuits from the run alone.
    """
    src = source(task.ansatz)
    base = Path(task.base_dir or ".")
    if src.kind == "qasm":
        relative = Path(src.target.format(n=task.qubits, depth=task.depth))
        return [] if relative.is_absolute() else [relative.as_posix()]
    if src.kind == "python":
        module = src.target.partition(":")[0].replace(".", "/")
        for candidate in (Path(module + ".py"), Path(module)):
            if (base / candidate).exists():
                if candidate.suffix == ".py":
                    return [candidate.as_posix()]
                return sorted(
                    p.relative_to(base).as_posix()
                    for p in (base / candidate).rglob("*.py")
                    if "__pycache__" not in p.parts
                )
    return []
