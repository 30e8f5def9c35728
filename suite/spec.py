"""Job specs: parse a TOML file, validate every key, expand sweeps into tasks.

Every error is a `SpecError` whose message is one line naming the file, the
key and the problem, raised before any work starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.circuits import builders, observables
from suite.circuits.families import FAMILIES
from suite.engines import noise as noise_channels
from suite.engines.adjoint import COPIES
from suite.engines.base import Workload
from suite.engines.registry import MethodRefused, memory_bytes, method_for
from suite.errors import CircuitError, SpecError
from suite.formulas import evaluate_depth
from suite.records import DEFAULT_BATCH, SimulatorSpec, Task

TOP_KEYS = {"name", "seed", "samples", "batch", "description", "sweep", "simulator"}
SWEEP_KEYS = {
    "ansatz",
    "cost",
    "observable",
    "qubits",
    "depth",
    "parameters",
    "block",
    "angles",
    "samples",
    "batch",
    "options",
    "theorem",
    "shots",
    "noise",
}
SIMULATOR_KEYS = {"method", "device", "precision"}
METHODS = (
    "statevector",
    "stabilizer",
    "matrix_product_state",
    "density_matrix",
    "adjoint",
    "auto",
)
DEVICES = ("auto", "CPU", "GPU")
PRECISIONS = ("double", "single")
ANGLE_DISTRIBUTIONS = ("uniform", "clifford")
PARAMETER_WORDS = ("first", "middle", "last", "all")
THEOREMS = ("exponential", "polynomial")

__all__ = ["JobSpec", "SimulatorSpec", "SpecError", "Task", "evaluate_depth", "load_spec"]


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
    base_dir: str = ""  # the job file's folder: python: and qasm: sources are found there
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
    return parse_spec(
        text, source=str(path), memory_bytes=memory_bytes, base_dir=str(path.resolve().parent)
    )


def parse_spec(
    text: str,
    source: str = "<job>",
    memory_bytes: int | None = None,
    base_dir: str | None = None,
) -> JobSpec:
    """Validate TOML text and expand it into tasks (`base_dir`: where user circuits are)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    return _Validator(source, memory_bytes, base_dir or os.getcwd()).job(raw, text)


class _Validator:
    def __init__(self, source: str, memory_bytes: int | None, base_dir: str) -> None:
        self.source = source
        self.memory_bytes = memory_bytes if memory_bytes is not None else physical_memory()
        self.base_dir = base_dir
        self.method_given = False

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
            base_dir=self.base_dir,
        )

    def simulator(self, table: Any) -> SimulatorSpec:
        if not isinstance(table, dict):
            raise self.fail("simulator", "must be a table")
        self.unknown(table, SIMULATOR_KEYS, "simulator")
        self.method_given = "method" in table  # a noisy task without one gets density_matrix
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
        for key in ("ansatz", "qubits"):
            if key not in table:
                raise self.fail(f"{where}.{key}", "missing")
        if ("cost" in table) == ("observable" in table):
            raise self.fail(
                f"{where}.cost",
                "give either `cost` (global, local, zz, zout) or `observable` (Pauli terms)"
                if "cost" in table
                else "missing (or give `observable` with Pauli terms)",
            )
        sources = [
            self.source_of(a, f"{where}.ansatz")
            for a in self.listify(table["ansatz"], f"{where}.ansatz")
        ]
        if "cost" in table:
            costs = [
                (self.choice(c, f"{where}.cost", observables.NAMES), "")
                for c in self.listify(table["cost"], f"{where}.cost")
            ]
        else:
            try:
                costs = [(observables.EXPLICIT, observables.canonical(table["observable"]))]
            except CircuitError as exc:
                raise self.fail(f"{where}.observable", str(exc)) from None
        options = table.get("options", {})
        if not isinstance(options, dict):
            raise self.fail(f"{where}.options", "must be a table, e.g. options = { reps = 2 }")
        for src in sources:
            try:
                builders.check_options(src, options)
            except CircuitError as exc:
                raise self.fail(f"{where}.options", str(exc)) from None
        theorem = table.get("theorem", "")
        if theorem:
            self.choice(theorem, f"{where}.theorem", THEOREMS)
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
        shot_counts = [
            self.shots(s, f"{where}.shots")
            for s in self.listify(table.get("shots", 0), f"{where}.shots")
        ]
        noises = [
            self.noise(v, f"{where}.noise")
            for v in self.listify(table.get("noise", {}), f"{where}.noise")
        ]
        task_samples = self.integer(table.get("samples", samples), f"{where}.samples", minimum=1)
        task_batch = self.integer(table.get("batch", batch), f"{where}.batch", minimum=1)
        common = {
            "options": json.dumps(options, sort_keys=True) if options else "",
            "theorem": theorem,
            "samples": task_samples,
            "batch": task_batch,
            "sweep": index,
            "base_dir": self.base_dir,
        }
        parameters = table.get("parameters", "first")
        tasks = []
        for src, (cost, observable), n, rule, block, angle, shots, noise in itertools.product(
            sources, costs, qubits, depth_rules, blocks, angles, shot_counts, noises
        ):
            tasks.append(
                self.task(
                    where,
                    src,
                    cost,
                    observable,
                    n,
                    rule,
                    block,
                    angle,
                    parameters,
                    {**common, "shots": shots, "noise": noise},
                    simulator,
                )
            )
        return tasks

    def source_of(self, value: Any, where: str) -> builders.Source:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, got {value!r}")
        try:
            return builders.source(value)
        except CircuitError as exc:
            raise self.fail(where, str(exc)) from None

    def shots(self, value: Any, where: str) -> int:
        """Shots per term and point: 0 (exact values) or at least 2 (docs/shots.md)."""
        shots = self.integer(value, where, minimum=0)
        if shots == 1:
            raise self.fail(
                where,
                "must be 0 (exact expectation values) or ≥ 2, got 1 (one shot gives no "
                "estimate of its own shot noise)",
            )
        return shots

    def noise(self, value: Any, where: str) -> str:
        """One noise table, e.g. { depolarizing = 0.01 }, as canonical JSON ("" for {})."""
        if not isinstance(value, dict):
            raise self.fail(
                where,
                f"must be a table such as {{ depolarizing = 0.01 }} or a list of them, "
                f"got {value!r}",
            )
        for name, p in value.items():
            if name not in noise_channels.CHANNELS:
                raise self.fail(
                    f"{where}.{name}",
                    f"unknown channel (allowed: {', '.join(noise_channels.CHANNELS)})",
                )
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
                raise self.fail(f"{where}.{name}", f"must be a probability in [0, 1], got {p!r}")
        return json.dumps({k: float(v) for k, v in value.items()}, sort_keys=True) if value else ""

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
        src: builders.Source,
        cost: str,
        observable: str,
        n: int,
        rule: str | None,
        block: int | None,
        angles: str,
        parameters: Any,
        common: dict[str, Any],
        simulator: SimulatorSpec,
    ) -> Task:
        ansatz = src.ansatz
        if src.builtin:
            family = FAMILIES[src.target]
            block = family.default_block if block is None else block
            try:
                rule = family.check(
                    n=n, depth_rule=rule, block=block, cost=cost if not observable else None
                )
            except ValueError as exc:
                raise self.fail(where, f"{ansatz} with n={n}: {exc}") from None
        else:
            if block is not None:
                raise self.fail(
                    f"{where}.block", f"applies to the alternating ansatz only, not {ansatz}"
                )
            if rule is None:
                if src.kind != "qasm":
                    raise self.fail(
                        f"{where}.depth", f"missing ({ansatz} takes depth as reps / depth)"
                    )
                rule = "1"
        depth = evaluate_depth(rule, n)
        if depth < 1:
            raise self.fail(f"{where}.depth", f"'{rule}' gives depth {depth} at n={n}; must be ≥ 1")
        extras = f"-m{block}" if block is not None else ""
        extras += "" if angles == "uniform" else f"-{angles}"
        extras += f"-s{common['shots']}" if common.get("shots") else ""  # exact tasks keep ids
        extras += noise_suffix(common.get("noise", ""))  # noiseless tasks keep theirs
        if common["options"]:
            extras += "-o" + hashlib.sha256(common["options"].encode()).hexdigest()[:6]
        cost_id = (
            cost if not observable else "obs" + hashlib.sha256(observable.encode()).hexdigest()[:6]
        )
        task = Task(
            id=f"{src.short}-{cost_id}-n{n}-L{depth}{extras}",
            ansatz=ansatz,
            cost=cost,
            qubits=n,
            depth=depth,
            depth_rule=rule,
            family=f"{src.short}-{cost_id}-L{rule.replace(' ', '')}{extras}",
            parameters=(),
            n_params=FAMILIES[src.target].n_params(n=n, depth=depth, block=block)
            if src.builtin
            else 0,
            block=block,
            angles=angles,
            observable=observable,
            **common,
        )
        if simulator.method == "stabilizer":  # before building a circuit of n qubits
            self.memory(
                Workload(dataclasses.replace(task, method="stabilizer")),
                simulator.precision,
                f"{where}.qubits",
            )
        workload = Workload(task)
        if not src.builtin:
            try:
                circuit = workload.circuit
            except CircuitError as exc:
                raise self.fail(
                    f"{where}.ansatz", f"{ansatz} at n={n}, depth={depth}: {exc}"
                ) from None
            task = dataclasses.replace(task, n_params=circuit.n_params)
            workload = Workload(task)
        names = None if src.builtin else workload.circuit.names
        param_index = self.parameters(
            parameters, task.n_params, f"{where}.parameters", n, depth, names
        )
        task = dataclasses.replace(task, parameters=param_index)
        workload = Workload(task)
        try:
            workload.observable  # noqa: B018 - resolves (and checks) the terms at n
        except CircuitError as exc:
            raise self.fail(f"{where}.observable", f"at n={n}: {exc}") from None
        try:
            requested = simulator.method if self.method_given or not task.noise else "auto"
            method = method_for(
                workload, requested, simulator.precision, self.memory_bytes, simulator.device
            )
        except MethodRefused as exc:
            raise self.fail(f"{where}.{exc.key}", str(exc)) from None
        task = dataclasses.replace(task, method=method)
        self.memory(Workload(task), simulator.precision, f"{where}.qubits")
        if task.noise:
            widest = noise_channels.widest_gate(workload.circuit)
            if widest > noise_channels.MAX_GATE_QUBITS:
                raise self.fail(
                    f"{where}.noise",
                    f"{ansatz} at n={n} has a gate on {widest} qubits; noise channels act on "
                    f"gates of at most {noise_channels.MAX_GATE_QUBITS} qubits",
                )
        return task

    def parameters(
        self,
        value: Any,
        n_params: int,
        where: str,
        n: int,
        depth: int,
        names: tuple[str, ...] | None,
    ) -> tuple[int, ...]:
        words = {
            "first": (0,),
            "middle": (n_params // 2,),
            "last": (n_params - 1,),
            "all": range(n_params),  # a range until used (20 M parameters at n = 2^20)
        }
        values = [value] if isinstance(value, str) else self.listify(value, where)
        result: list[int] = []
        for v in values:
            if isinstance(v, str) and v in words:
                result.extend(words[v])
                continue
            if isinstance(v, str):
                if names is None or v not in names:
                    known = (
                        f"parameters: {', '.join(names[:6])}{' …' if len(names) > 6 else ''}"
                        if names
                        else "built-in families number their parameters"
                    )
                    raise self.fail(
                        where,
                        f"'{v}' is neither {', '.join(PARAMETER_WORDS)} nor a parameter name "
                        f"({known})",
                    )
                result.append(names.index(v))
                continue
            k = self.integer(v, where, minimum=0)
            if k >= n_params:
                raise self.fail(
                    where,
                    f"index {k} out of range: the circuit at n={n}, depth={depth} has "
                    f"{n_params} parameters (0…{n_params - 1})",
                )
            result.append(k)
        if len(set(result)) != len(result):
            raise self.fail(where, f"repeated parameter in {values}")
        return tuple(result)

    def memory(self, workload: Workload, precision: str, where: str) -> None:
        """A task must fit this node on its engine: all n qubits, or its widest light cone."""
        task = workload.task
        if task.method not in ("statevector", "stabilizer", "density_matrix", "adjoint"):
            return
        need, engine = memory_bytes(workload, precision, self.memory_bytes)
        if need <= self.memory_bytes:
            return
        n = task.qubits
        if task.method == "stabilizer":
            raise self.fail(
                where,
                f"a stabilizer tableau of {n} qubits needs about {format_bytes(need)}, more than "
                f"this node's {format_bytes(self.memory_bytes)} (use fewer qubits)",
            )
        if task.method == "density_matrix":
            raise self.fail(
                where,
                f"a {precision}-precision density matrix of {n} qubits (noise needs one) needs "
                f"{format_bytes(need)}, more than this node's {format_bytes(self.memory_bytes)} "
                "(use fewer qubits)",
            )
        width = engine.prepare(workload).width if engine.name == "cones" else n
        cones = f" (its widest light cone has {width})" if width < n else ""
        if task.method == "adjoint":
            cones = f" and {COPIES - 1} copies (adjoint differentiation)"
        raise self.fail(
            where,
            f"a {precision}-precision statevector of {n} qubits{cones} needs "
            f"{format_bytes(need)}, more than this node's {format_bytes(self.memory_bytes)} "
            '(use fewer qubits, or method = "matrix_product_state", or angles = '
            '"clifford" with method = "stabilizer")',
        )


def noise_suffix(noise: str) -> str:
    """The task-id part of a noise level, e.g. "-dep0.02-ad0.1" ("" without noise)."""
    short = {"depolarizing": "dep", "amplitude_damping": "ad"}
    channels = noise_channels.parse(noise)
    return "".join(f"-{short[name]}{channels[name]!r}" for name in sorted(channels))


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
