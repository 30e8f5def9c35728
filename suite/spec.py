"""Job specs: parse a TOML file, validate every key, expand sweeps into tasks.

Every error is a `SpecError` whose message is one line naming the file, the
key and the problem, raised before any work starts.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from suite import ansatz as ansatz_mod
from suite import cost as cost_mod

TOP_KEYS = {"name", "seed", "samples", "batch", "description", "sweep", "simulator"}
SWEEP_KEYS = {
    "ansatz",
    "cost",
    "qubits",
    "depth",
    "parameters",
    "block",
    "angles",
    "samples",
    "batch",
}
SIMULATOR_KEYS = {"method", "device", "precision"}
METHODS = ("statevector", "stabilizer", "matrix_product_state", "auto")
DEVICES = ("auto", "CPU", "GPU")
PRECISIONS = ("double", "single")
ANGLE_DISTRIBUTIONS = ("uniform", "clifford")
PARAMETER_WORDS = ("first", "middle", "last", "all")
DEFAULT_BATCH = 32


class SpecError(ValueError):
    """A job spec is invalid; the message is one line naming file and key."""


@dataclass(frozen=True)
class SimulatorSpec:
    method: str = "statevector"
    device: str = "auto"
    precision: str = "double"


@dataclass(frozen=True)
class Task:
    """One (ansatz, cost, n, depth, ...) point of a sweep."""

    id: str
    ansatz: str
    cost: str
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

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class JobSpec:
    name: str
    seed: int
    samples: int
    batch: int
    simulator: SimulatorSpec
    tasks: tuple[Task, ...]
    source: str
    text: str
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sha256(self) -> str:
        """Hash of the validated content (not of comments or formatting)."""
        canonical = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(t.id for t in self.tasks[:8])
        more = " …" if len(self.tasks) > 8 else ""
        raise SpecError(f"{self.source}: no task '{task_id}' (tasks: {known}{more})")


def load_spec(path: str | os.PathLike[str], memory_bytes: int | None = None) -> JobSpec:
    """Read and validate a job file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read job file: {exc.strerror}") from None
    return parse_spec(text, source=str(path), memory_bytes=memory_bytes)


def parse_spec(text: str, source: str = "<job>", memory_bytes: int | None = None) -> JobSpec:
    """Validate TOML text and expand it into tasks."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    return _Validator(source, memory_bytes).job(raw, text)


class _Validator:
    def __init__(self, source: str, memory_bytes: int | None) -> None:
        self.source = source
        self.memory_bytes = memory_bytes if memory_bytes is not None else physical_memory()

    def fail(self, where: str, problem: str) -> SpecError:
        return SpecError(f"{self.source}: {where}: {problem}")

    def unknown(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                raise self.fail(
                    f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )

    def integer(self, value: Any, where: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be ≥ {minimum}, got {value}")
        return value

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, got {value!r}")
        if value not in allowed:
            raise self.fail(where, f"unknown value '{value}' (allowed: {', '.join(allowed)})")
        return value

    def listify(self, value: Any, where: str) -> list[Any]:
        if isinstance(value, list):
            if not value:
                raise self.fail(where, "must not be an empty list")
            return value
        return [value]

    def job(self, raw: dict[str, Any], text: str) -> JobSpec:
        self.unknown(raw, TOP_KEYS, "")
        if "name" not in raw:
            raise self.fail("name", "missing (every job needs a name)")
        name = raw["name"]
        if not isinstance(name, str) or not name or any(c in name for c in "/\\ \t"):
            raise self.fail(
                "name", f"must be a non-empty string without spaces or slashes, got {name!r}"
            )
        if "seed" not in raw:
            raise self.fail("seed", "missing (every job needs a seed, for reproducibility)")
        seed = self.integer(raw["seed"], "seed", minimum=0)
        if "samples" not in raw:
            raise self.fail("samples", "missing (samples per task)")
        samples = self.integer(raw["samples"], "samples", minimum=1)
        batch = self.integer(raw.get("batch", DEFAULT_BATCH), "batch", minimum=1)
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise self.fail("description", "must be a string")
        simulator = self.simulator(raw.get("simulator", {}))
        sweeps = raw.get("sweep")
        if sweeps is None:
            raise self.fail("sweep", "missing (add at least one [[sweep]] table)")
        if not isinstance(sweeps, list) or not all(isinstance(s, dict) for s in sweeps):
            raise self.fail("sweep", "must be an array of tables ([[sweep]])")
        tasks: list[Task] = []
        for index, sweep in enumerate(sweeps):
            tasks.extend(self.sweep(sweep, index, samples, batch, simulator))
        seen: dict[str, int] = {}
        for task in tasks:
            if task.id in seen:
                raise self.fail(
                    f"sweep[{task.sweep}]",
                    f"task {task.id} is also produced by sweep[{seen[task.id]}]",
                )
            seen[task.id] = task.sweep
        return JobSpec(
            name=name,
            seed=seed,
            samples=samples,
            batch=batch,
            simulator=simulator,
            tasks=tuple(tasks),
            source=self.source,
            text=text,
            description=description,
            raw=raw,
        )

    def simulator(self, table: Any) -> SimulatorSpec:
        if not isinstance(table, dict):
            raise self.fail("simulator", "must be a table")
        self.unknown(table, SIMULATOR_KEYS, "simulator")
        spec = SimulatorSpec(
            method=self.choice(table.get("method", "statevector"), "simulator.method", METHODS),
            device=self.choice(table.get("device", "auto"), "simulator.device", DEVICES),
            precision=self.choice(
                table.get("precision", "double"), "simulator.precision", PRECISIONS
            ),
        )
        if spec.method == "stabilizer" and spec.device == "GPU":
            raise self.fail(
                "simulator.device",
                '"GPU" with method = "stabilizer": Aer simulates stabilizer states on the '
                'CPU only (use device = "auto" or "CPU")',
            )
        return spec

    def sweep(
        self,
        table: dict[str, Any],
        index: int,
        samples: int,
        batch: int,
        simulator: SimulatorSpec,
    ) -> list[Task]:
        where = f"sweep[{index}]"
        self.unknown(table, SWEEP_KEYS, where)
        for key in ("ansatz", "cost", "qubits"):
            if key not in table:
                raise self.fail(f"{where}.{key}", "missing")
        ansatzes = [
            self.choice(a, f"{where}.ansatz", ansatz_mod.NAMES)
            for a in self.listify(table["ansatz"], f"{where}.ansatz")
        ]
        costs = [
            self.choice(c, f"{where}.cost", cost_mod.NAMES)
            for c in self.listify(table["cost"], f"{where}.cost")
        ]
        qubits = [
            self.integer(n, f"{where}.qubits", minimum=2)
            for n in self.listify(table["qubits"], f"{where}.qubits")
        ]
        depth_rules = [
            self.depth_rule(d, f"{where}.depth")
            for d in self.listify(table.get("depth"), f"{where}.depth")
        ]
        blocks = [
            None if b is None else self.integer(b, f"{where}.block", minimum=2)
            for b in self.listify(table.get("block"), f"{where}.block")
        ]
        angles = [
            self.choice(a, f"{where}.angles", ANGLE_DISTRIBUTIONS)
            for a in self.listify(table.get("angles", "uniform"), f"{where}.angles")
        ]
        task_samples = self.integer(table.get("samples", samples), f"{where}.samples", minimum=1)
        task_batch = self.integer(table.get("batch", batch), f"{where}.batch", minimum=1)
        parameters = table.get("parameters", "first")
        tasks = []
        for ansatz, cost, n, rule, block, angle in itertools.product(
            ansatzes, costs, qubits, depth_rules, blocks, angles
        ):
            tasks.append(
                self.task(
                    where,
                    index,
                    ansatz,
                    cost,
                    n,
                    rule,
                    block,
                    angle,
                    parameters,
                    task_samples,
                    task_batch,
                    simulator,
                )
            )
        return tasks

    def depth_rule(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.fail(where, f"must be an integer or a formula of n, got {value!r}")
        if isinstance(value, int):
            if value < 1:
                raise self.fail(where, f"must be ≥ 1, got {value}")
            return str(value)
        if isinstance(value, str):
            try:
                evaluate_depth(value, 4)
            except ValueError as exc:
                raise self.fail(where, str(exc)) from None
            return value
        raise self.fail(where, f"must be an integer or a formula of n, got {value!r}")

    def task(
        self,
        where: str,
        index: int,
        ansatz: str,
        cost: str,
        n: int,
        rule: str | None,
        block: int | None,
        angles: str,
        parameters: Any,
        samples: int,
        batch: int,
        simulator: SimulatorSpec,
    ) -> Task:
        family = ansatz_mod.FAMILIES[ansatz]
        block = family.default_block if block is None else block
        try:
            rule = family.check(n=n, depth_rule=rule, block=block, cost=cost)
        except ValueError as exc:
            raise self.fail(where, f"{ansatz} with n={n}: {exc}") from None
        depth = evaluate_depth(rule, n)
        if depth < 1:
            raise self.fail(f"{where}.depth", f"'{rule}' gives depth {depth} at n={n}; must be ≥ 1")
        n_params = family.n_params(n=n, depth=depth, block=block)
        param_index = self.parameters(parameters, n_params, f"{where}.parameters", n, depth)
        method = self.method(simulator.method, ansatz, cost, angles, where)
        extras = f"-m{block}" if block is not None else ""
        extras += "" if angles == "uniform" else f"-{angles}"
        task_id = f"{ansatz}-{cost}-n{n}-L{depth}{extras}"
        family_id = f"{ansatz}-{cost}-L{rule.replace(' ', '')}{extras}"
        task = Task(
            id=task_id,
            ansatz=ansatz,
            cost=cost,
            qubits=n,
            depth=depth,
            depth_rule=rule,
            family=family_id,
            parameters=param_index,
            n_params=n_params,
            samples=samples,
            batch=batch,
            block=block,
            angles=angles,
            sweep=index,
            method=method,
        )
        self.memory(task, simulator.precision, f"{where}.qubits")
        return task

    def parameters(
        self, value: Any, n_params: int, where: str, n: int, depth: int
    ) -> tuple[int, ...]:
        if isinstance(value, str):
            word = self.choice(value, where, PARAMETER_WORDS)
            return {
                "first": (0,),
                "middle": (n_params // 2,),
                "last": (n_params - 1,),
                "all": tuple(range(n_params)),
            }[word]
        values = self.listify(value, where)
        result = []
        for v in values:
            k = self.integer(v, where, minimum=0)
            if k >= n_params:
                raise self.fail(
                    where,
                    f"index {k} out of range: the circuit at n={n}, depth={depth} has "
                    f"{n_params} parameters (0…{n_params - 1})",
                )
            result.append(k)
        if len(set(result)) != len(result):
            raise self.fail(where, f"repeated index in {values}")
        return tuple(result)

    def method(self, method: str, ansatz: str, cost: str, angles: str, where: str) -> str:
        """The Aer method of one task; "auto" picks stabilizer where it is exact."""
        refusal = stabilizer_refusal(ansatz, cost, angles)
        if method == "auto":
            return "statevector" if refusal else "stabilizer"
        if method == "stabilizer" and refusal:
            key, problem = refusal
            raise self.fail(f"{where}.{key}", problem)
        return method

    def memory(self, task: Task, precision: str, where: str) -> None:
        """A statevector task must fit: all n qubits, or its widest light cone."""
        if task.method != "statevector":
            return
        n = task.qubits
        if statevector_bytes(n, precision) <= self.memory_bytes:
            return
        from suite.gradient import statevector_width  # builds the circuit: only when needed

        width = statevector_width(task)
        need = statevector_bytes(width, precision)
        if need > self.memory_bytes:
            cones = f" (its widest light cone has {width})" if width < n else ""
            raise self.fail(
                where,
                f"a {precision}-precision statevector of {n} qubits{cones} needs "
                f"{format_bytes(need)}, more than this node's {format_bytes(self.memory_bytes)} "
                '(use fewer qubits, or method = "matrix_product_state", or angles = '
                '"clifford" with method = "stabilizer")',
            )


# Costs the stabilizer route computes (suite/clifford.py, docs/large-n.md).
STABILIZER_COSTS = ("global", "local", "zz", "zout")


def stabilizer_refusal(ansatz: str, cost: str, angles: str) -> tuple[str, str] | None:
    """Why Aer's stabilizer method cannot run a task: (sweep key, problem), or None."""
    family = ansatz_mod.FAMILIES[ansatz]
    if family.non_clifford:
        return (
            "ansatz",
            f'method = "stabilizer" cannot simulate {ansatz}: it has {family.non_clifford}, '
            "so its circuits are not Clifford at any angles",
        )
    if angles != "clifford":
        return (
            "angles",
            f'method = "stabilizer" needs angles = "clifford" (got \'{angles}\'): other '
            "angles make the rotations non-Clifford gates",
        )
    if cost not in STABILIZER_COSTS:
        return ("cost", f"method = \"stabilizer\" cannot compute cost '{cost}'")
    return None


def statevector_bytes(n: int, precision: str) -> int:
    """Memory of one statevector plus a copy (Aer keeps a buffer for fusion/save)."""
    amplitude = 16 if precision == "double" else 8
    return 2 * amplitude * (1 << n)


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return 1 << 34


def format_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} ZiB"


_DEPTH_FUNCTIONS = {
    "ceil": math.ceil,
    "floor": math.floor,
    "log2": math.log2,
    "log": math.log,
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
    "round": round,
}
_DEPTH_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Pow,
    ast.Mod,
    ast.USub,
    ast.UAdd,
)


def evaluate_depth(rule: str, n: int) -> int:
    """Evaluate a depth formula such as ``"10*n"`` or ``"ceil(log2(n))"`` at n."""
    try:
        tree = ast.parse(rule, mode="eval")
    except SyntaxError:
        raise ValueError(f"'{rule}' is not a formula of n") from None
    for node in ast.walk(tree):
        if not isinstance(node, _DEPTH_NODES):
            raise ValueError(
                f"'{rule}': only numbers, n, + - * / // ** % and "
                f"{', '.join(_DEPTH_FUNCTIONS)} are allowed"
            )
        if isinstance(node, ast.Name) and node.id != "n" and node.id not in _DEPTH_FUNCTIONS:
            raise ValueError(f"'{rule}': unknown name '{node.id}' (the only variable is n)")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"'{rule}': only numbers are allowed as constants")
    try:
        value = eval(
            compile(tree, "<depth>", "eval"), {"__builtins__": {}}, {"n": n, **_DEPTH_FUNCTIONS}
        )
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValueError(f"'{rule}' cannot be evaluated at n={n}: {exc}") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"'{rule}' gives {value} at n={n}, not a whole number of layers")
        value = int(value)
    return int(value)
