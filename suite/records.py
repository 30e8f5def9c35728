"""The plain records a job expands into: simulator settings and tasks (a leaf module)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

DEFAULT_BATCH = 32
# Task fields that stay out of the stored task spec when empty (runs made before
# they existed have none), and the job folder, which is a property of the machine.
_OPTIONAL_FIELDS = ("options", "observable", "theorem", "shots", "noise")
_LOCAL_FIELDS = ("base_dir",)


@dataclass(frozen=True)
class SimulatorSpec:
    method: str = "statevector"
    device: str = "auto"
    precision: str = "double"


@dataclass(frozen=True)
class Task:
    """One (ansatz, cost or observable, n, depth, ...) point of a sweep."""

    id: str
    ansatz: str  # a built-in family, or "qiskit:NAME", "python:MODULE:FUNCTION", "qasm:PATH"
    cost: str  # global | local | zz | zout, or "observable" for explicit Pauli terms
    qubits: int
    depth: int
    depth_rule: str
    family: str
    parameters: tuple[int, ...]
    n_params: int
    samples: int
    batch: int = DEFAULT_BATCH
    block: int | None = None
    angles: str = "uniform"
    sweep: int = 0
    method: str = "statevector"  # the Aer method of this task ("auto" resolved per task)
    options: str = ""  # builder options as canonical JSON ("" when none)
    observable: str = ""  # the sweep's `observable` as canonical JSON ("" for a named cost)
    theorem: str = ""  # the user's expected law: "exponential" | "polynomial" ("" none)
    shots: int = 0  # measurements per Pauli term and point (0: exact values; docs/shots.md)
    noise: str = ""  # channels after every gate as canonical JSON ("" none; docs/noise.md)
    base_dir: str = ""  # folder of the job file: where python: and qasm: sources are found

    def to_json(self) -> str:
        record = asdict(self)
        for name in _LOCAL_FIELDS:
            record.pop(name)
        for name in _OPTIONAL_FIELDS:
            if not record[name]:
                record.pop(name)
        return json.dumps(record, sort_keys=True)

    @property
    def options_dict(self) -> dict:
        return json.loads(self.options) if self.options else {}
