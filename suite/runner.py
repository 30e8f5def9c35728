"""The run loop: plan work units, compute them on this rank, write, merge.

Everything that crosses ranks goes through `suite.parallel.World`; the
kernels (`suite.engines`) see arrays only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite import faults
from suite.circuits.builders import random_axes, source_files
from suite.engines.adjoint import HINT
from suite.engines.aer import Resolved, resolve, threads_per_rank
from suite.engines.base import Prepared
from suite.engines.registry import adjoint_missed, gradient_bounds, prepare, sample_work
from suite.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, RunError, SpecError
from suite.parallel import World
from suite.provenance import provenance
from suite.spec import JobSpec, load_spec, parse_spec, physical_memory
from suite.store import (
    ShardWriter,
    done_samples,
    merge,
    quarantine_damaged,
    recorded_methods,
    shard_path,
)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


@dataclass(frozen=True)
class Unit:
    """A contiguous piece of one task's missing samples."""

    task_id: str
    samples: np.ndarray
    weight: float


def log(message: str) -> None:
    """One line on stderr, in one write so lines of several ranks don't interleave."""
    sys.stderr.write(f"[bpsuite] {message}\n")
    sys.stderr.flush()


def log_error(message: str) -> None:
    """`bpsuite: error: …` in one write, so that other ranks' lines cannot split it."""
    sys.stderr.write(f"bpsuite: error: {message}\n")
    sys.stderr.flush()


def check_launch(world: World, environ: dict[str, str] | None = None) -> None:
    """Refuse N Slurm tasks that each see an MPI world of one (a PMI mismatch).

    Each of them would compute every sample and write the same shard.
    """
    env = os.environ if environ is None else environ
    step_tasks = env.get("SLURM_STEP_NUM_TASKS", "")
    if world.size == 1 and step_tasks.isdigit() and int(step_tasks) > 1:
        raise RunError(
            f"srun started {step_tasks} tasks but each sees an MPI world of size 1: "
            "mpi4py's MPI library does not speak this srun's PMI; launch with "
            "`srun --mpi=pmi2 …` (or the plugin your MPI was built for: `srun --mpi=list`), "
            f"or with `mpiexec -n {step_tasks} bpsuite run …` inside the allocation"
        )


def plan_units(spec: JobSpec, done: dict[str, np.ndarray]) -> list[Unit]:
    """Split every task's missing samples into batches of the task's `batch`, each weighted
    by its engine's work model (`Engine.work`) for balancing them across ranks."""
    units = []
    for task in spec.tasks:
        missing = np.setdiff1d(np.arange(task.samples), done.get(task.id, np.empty(0, np.int64)))
        per_sample = sample_work(task) if len(missing) else 0.0
        for start in range(0, len(missing), task.batch):
            chunk = missing[start : start + task.batch]
            units.append(Unit(task.id, chunk, per_sample * len(chunk)))
    return units


def assign_units(units: list[Unit], size: int) -> list[list[Unit]]:
    """Longest-processing-time-first assignment; deterministic for a given size."""
    order = sorted(range(len(units)), key=lambda i: (-units[i].weight, i))
    loads = [0.0] * size
    shares: list[list[int]] = [[] for _ in range(size)]
    for i in order:
        r = min(range(size), key=lambda k: (loads[k], k))
        loads[r] += units[i].weight
        shares[r].append(i)
    return [[units[i] for i in sorted(share)] for share in shares]


def announcer(shares: list[list[Unit]], rank: int) -> frozenset[str]:
    """The tasks whose engine `rank` logs: those whose first unit it computes, so that
    every task with work left is logged once, whichever rank the balance gives it to."""
    first: dict[str, tuple[int, int]] = {}
    for r, share in enumerate(shares):
        for unit in share:
            key = (int(unit.samples[0]), r)
            first[unit.task_id] = min(first.get(unit.task_id, key), key)
    return frozenset(task for task, (_, r) in first.items() if r == rank)


class StopFlag:
    """Set by SIGTERM / SIGUSR1 / SIGINT; checked at batch boundaries."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signum

    @property
    def set(self) -> bool:
        return self.signal is not None


class RunLock:
    """An exclusive lock on DIR/.lock, held by rank 0 for the whole run."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".lock"
        self.handle = None

    def acquire(self) -> None:
        self.handle = open(self.path, "a+")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise RunError(f"{self.path.parent}: a run is already active here ({holder})") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()} on {os.uname().nodename}\n")
        self.handle.flush()

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()


def job_sources(spec: JobSpec) -> list[str]:
    """The circuit sources of a job (python modules, QASM files), relative to its folder."""
    return sorted({f for task in spec.tasks for f in source_files(task)})


def prepare_run_dir(run_dir: Path, spec: JobSpec) -> None:
    """Create DIR, DIR/job.toml and copies of the job's circuit sources, or check that
    DIR holds this same job with the same sources."""
    job_file = run_dir / "job.toml"
    base = Path(spec.base_dir)
    if job_file.exists():
        existing = parse_spec(job_file.read_text(), source=str(job_file), base_dir=str(run_dir))
        if existing.sha256 != spec.sha256:
            raise RunError(
                f"{run_dir}: holds a different job ('{existing.name}', spec "
                f"{existing.sha256[:12]} ≠ {spec.sha256[:12]}); choose another --out"
            )
        if base.resolve() != run_dir.resolve():
            for name in job_sources(spec):
                if (base / name).read_bytes() != (run_dir / name).read_bytes():
                    raise RunError(
                        f"{run_dir}: circuit source {name} changed since this run started "
                        "(its samples would mix two circuits); choose another --out"
                    )
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "shards").mkdir(exist_ok=True)
    for name in job_sources(spec):
        target = run_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / name, target)
    job_file.write_text(spec.text)


def check_methods(run_dir: Path, spec: JobSpec) -> None:
    """A resumed task keeps the method it started with ("auto" may choose otherwise on
    another machine, e.g. without PennyLane Lightning), or the run stops in one line."""
    recorded = recorded_methods(run_dir)
    for task in spec.tasks:
        before = recorded.get(task.id, task.method)
        if before != task.method:
            raise RunError(
                f"{run_dir}: task {task.id} was computed with method '{before}' but now "
                f"resolves to '{task.method}' (its samples would mix two engines); restore "
                "the environment it started in or choose another --out"
            )


@dataclass
class RankReport:
    samples: int
    wall: float
    simulate: float
    io: float


def compute_units(
    spec: JobSpec,
    units: list[Unit],
    writer: ShardWriter,
    resolved: Resolved,
    world: World,
    stop: StopFlag,
    attempt: int,
    announce: frozenset[str] = frozenset(),
) -> RankReport:
    """This rank's loop: one Aer call and one shard append per unit. The rank logs how it
    simulates the tasks in `announce` (each task is announced by one rank)."""
    prepared: dict[str, Prepared] = {}
    simulators: dict[tuple[str, str, int], object] = {}  # per (engine, method, width)
    total = sum(len(u.samples) for u in units)
    done = 0
    simulate = io = 0.0
    start = time.perf_counter()
    last_report = start
    for index, unit in enumerate(units):
        if stop.set:
            break
        task = spec.task(unit.task_id)
        if task.id not in prepared:
            prepared[task.id] = prepare(task)
            if task.id in announce:
                how = prepared[task.id].parallelism(resolved.for_task(task))
                who = f"rank {world.rank}: " if world.size > 1 else ""
                log(f"{who}{task.id}: {prepared[task.id].describe()}; {how} per rank")
        engine = prepared[task.id]
        key = (engine.engine.name, task.method, engine.width)
        if key not in simulators:
            simulators[key] = engine.simulator(resolved.for_task(task), world.local_rank)
        theta, axes, result = engine.sample_batch(simulators[key], spec.seed, unit.samples)
        simulate += result.simulate_seconds
        per_sample = result.simulate_seconds / len(unit.samples)
        columns = {
            "theta": theta,
            "grad": result.grad,
            "cost": result.cost,
            "axes": axes,
            "rank": np.full(len(unit.samples), world.rank, dtype=np.int32),
            "time_simulate": np.full(len(unit.samples), per_sample),
            "grad_shot_variance": result.grad_shot_variance,
            "cost_shot_variance": result.cost_shot_variance,
        }
        t0 = time.perf_counter()
        writer.append(task.id, unit.samples, columns)
        done += len(unit.samples)
        wall = time.perf_counter() - start
        writer.timing(
            {
                "rank": world.rank,
                "attempt": attempt,
                "mpi_size": world.size,
                "threads": resolved.threads,
                "samples": done,
                "wall_seconds": wall,
                "simulate_seconds": simulate,
                "io_seconds": io + time.perf_counter() - t0,
            }
        )
        io += time.perf_counter() - t0
        faults.after_batch(world.rank, index + 1)
        now = time.perf_counter()
        if world.is_root and (now - last_report > 2.0 or index == len(units) - 1):
            last_report = now
            rate = done / max(now - start, 1e-9)
            eta = (total - done) / rate if rate > 0 else float("inf")
            log(
                f"rank 0: {done}/{total} samples ({index + 1}/{len(units)} batches), "
                f"{rate:.1f} samples/s, ETA {eta:.0f} s — {task.id}"
            )
    return RankReport(done, time.perf_counter() - start, simulate, io)


def same_methods(spec: JobSpec, per_rank: list[list[str]]) -> None:
    """Every rank must resolve every task to the same method (each validates the spec on
    its own node: "auto" depends on installed libraries and memory); else one line."""
    for rank, methods in enumerate(per_rank):
        for task, mine, theirs in zip(spec.tasks, per_rank[0], methods, strict=True):
            if mine != theirs:
                raise SpecError(
                    f"{spec.source}: task {task.id} resolves to method {mine!r} on rank 0 but "
                    f"{theirs!r} on rank {rank} (their nodes differ in installed libraries "
                    "or memory); set simulator.method to a method both can run"
                )


def describe_methods(spec: JobSpec, resolved: Resolved) -> str:
    """The job's method; for "auto" (or noisy tasks on density matrices), what each task
    runs on."""
    if all(task.method == resolved.method for task in spec.tasks):
        return resolved.method
    counts = Counter(task.method for task in spec.tasks)
    per_method = ", ".join(f"{m}: {c} task(s)" for m, c in sorted(counts.items()))
    return f"{resolved.method} ({per_method})"


def run(job_path: Path, out_dir: Path | None, world: World) -> int:
    """`bpsuite run`: the same call on every rank. Returns the exit status."""
    check_launch(world)
    spec = world.agree(lambda: load_spec(job_path))
    world.agree(lambda: same_methods(spec, world.allgather([t.method for t in spec.tasks])))
    run_dir = Path(out_dir) if out_dir is not None else Path("runs") / spec.name
    lock = RunLock(run_dir)

    def setup() -> None:
        if world.is_root:
            prepare_run_dir(run_dir, spec)
            lock.acquire()

    world.agree(setup)
    try:
        return _run_locked(spec, run_dir, world)
    finally:
        lock.release()


def _run_locked(spec: JobSpec, run_dir: Path, world: World) -> int:
    threads = threads_per_rank(world.local_size)
    resolved = world.agree(lambda: resolve(spec.simulator, threads))

    def scan() -> tuple[dict[str, np.ndarray], int, list[str]] | None:
        if not world.is_root:
            return None
        damaged = quarantine_damaged(run_dir)
        done, attempt, warnings = done_samples(run_dir)
        check_methods(run_dir, spec)
        return done, attempt, damaged + warnings

    done, attempt, warnings = world.bcast(world.agree(scan))
    # |∂C/∂θ| bounds for results.h5 (the analysis's one-sided bound), before any work
    bounds = world.agree(lambda: gradient_bounds(spec.tasks) if world.is_root else None)
    units = plan_units(spec, done)
    shares = assign_units(units, world.size)
    mine = shares[world.rank]
    total = sum(t.samples for t in spec.tasks)
    missing = sum(len(u.samples) for u in units)
    if world.is_root:
        for warning in warnings:
            log(f"warning: {warning}")
        missed = adjoint_missed(spec.tasks, spec.simulator, physical_memory()) if missing else []
        if missed:
            log(
                f"note: {len(missed)} task(s) ({', '.join(missed[:3])}"
                f"{', …' if len(missed) > 3 else ''}) would run on the faster adjoint engine, "
                f"which needs PennyLane Lightning ({HINT}); they run on Aer's statevector"
            )
        log(
            f"job '{spec.name}': {len(spec.tasks)} tasks, {total} samples, "
            f"{total - missing} already done; {world.size} rank(s) × {resolved.threads} "
            f"thread(s), Aer {describe_methods(spec, resolved)}/{resolved.device}/"
            f"{resolved.precision}, "
            f"attempt {attempt}, out {run_dir}"
        )
    prov = provenance(spec, resolved.as_dict(), world.library, world.size)
    stop = StopFlag()
    stop.install()
    report = None
    try:
        if units:
            writer = ShardWriter(
                shard_path(run_dir, world.rank, attempt),
                spec,
                {**prov, "rank": world.rank, "attempt": attempt},
                {t.id: random_axes(t) for t in spec.tasks},
                chunk=max(t.batch for t in spec.tasks),
            )
            try:
                announce = announcer(shares, world.rank)
                report = compute_units(spec, mine, writer, resolved, world, stop, attempt, announce)
            finally:
                writer.close()
    except Exception as exc:
        if world.size > 1:
            log_error(f"rank {world.rank}: {exc}")
            world.abort(EXIT_FAILED)
        raise
    finally:
        stop.restore()
    interrupted = world.any(stop.set)
    if interrupted:
        if stop.set:
            name = signal.Signals(stop.signal).name  # type: ignore[arg-type]
            log(
                f"rank {world.rank}: stopped by {name} after "
                f"{report.samples if report else 0} samples; shard flushed"
            )
        if world.is_root:
            log(f"interrupted: run the same command again to finish (exit {EXIT_INTERRUPTED})")
        return EXIT_INTERRUPTED
    counts = world.agree(lambda: merge(run_dir, spec, prov, bounds) if world.is_root else None)
    if world.is_root:
        reports = world.allgather(report)
    else:
        world.allgather(report)
        return EXIT_OK
    wall = max((r.wall for r in reports if r), default=0.0)
    log(
        f"done: {sum(counts.values())} samples in {len(counts)} tasks → {run_dir / 'results.h5'}"
        f" ({missing} computed now in {wall:.1f} s)"
    )
    return EXIT_OK


__all__ = ["EXIT_INTERRUPTED", "RunError", "SpecError", "run"]
