"""Large n against the memory-bandwidth bound (issue 9: n ≥ 18 within 2× of it).

In one test, for the McClean circuit with L = n layers, cost ⟨Z0 Z1⟩, K = 1 (d/dθ0), on
one thread and on all threads of the rank:

(a) the machine's sustained memory bandwidth, measured with numpy on the same threads:
    in-place passes over doubles (every byte read once and written once, as a gate
    does), best of 3 before and 3 after the timing, on an array far larger than the
    caches (`memory`) and on one the size of the statevector (`state`, which at
    n = 18–20 fits in the caches);
(b) the time per sample of the suite's engine (`gradient_batch`, as `bpsuite run` calls
    it: the registry's engine and simulator; with several threads also the "experiments"
    layout, one thread per experiment, the alternative to the rank's own);
(c) the bound: the gate applications Aer performs per sample times the bytes each
    moves (a gate on 2^w amplitudes reads and writes 16·2^w bytes; a save reads them)
    divided by the bandwidth. Gate applications are counted two ways from the circuits
    the engine hands to Aer, per experiment (1 + 2K per sample): `gates`, the circuit's
    own gates, and `fused`, the operations Aer applies after gate fusion (its
    `fusion_verbose` metadata).

The ratio time / bound goes to the benchmark's extra_info and to the terminal; speed is
never asserted. What is asserted: the gradients equal the template engine's within the
rounding bound, the counting run equals the timed one bit for bit, and the "experiments"
layout equals one thread bit for bit.

CI (`--benchmark-disable`, the default) runs n = 18 with 1 sample, once; the full
measurement (n = 18 and 20, 2 samples, 3 rounds) runs with `--benchmark-enable`:

    .venv/bin/python -m pytest tests/benchmarks/test_bench_bandwidth.py --benchmark-enable -s
"""

from __future__ import annotations

import dataclasses
import functools
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from helpers import rounding_bound
from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved, make_simulator, threads_per_rank
from suite.engines.base import gradient_batch
from suite.engines.registry import ENGINES, prepare
from suite.spec import parse_spec

CI_QUBITS, FULL_QUBITS = (18,), (18, 20)
MEMORY_BYTES = 1 << 30  # 1 GiB: beyond every cache (lscpu reports a 480 MiB L3 here)
PASSES_BYTES = 1 << 30  # bytes passed over per bandwidth measurement (about 0.1 s)
AMPLITUDE = 16  # bytes of one complex double
# How a rank's threads meet the experiments: "rank" as make_simulator sets them (from 14
# qubits, all threads on one statevector at a time), or "experiments": one thread per
# experiment, as many experiments at once as threads (the alternative measured here).
LAYOUTS = ("rank", "experiments")


def benchmark_enabled(config) -> bool:
    """pytest-benchmark's own rule: --benchmark-disable (our default) unless --benchmark-enable."""
    return not config.getoption("benchmark_disable") or config.getoption("benchmark_enable")


def pytest_generate_tests(metafunc) -> None:
    if "bandwidth_case" in metafunc.fixturenames:
        full = benchmark_enabled(metafunc.config)
        samples = 2 if full else 1
        cases = [
            (n, t, layout, samples)
            for n in (FULL_QUBITS if full else CI_QUBITS)
            for t in sorted({1, threads_per_rank()})
            for layout in (LAYOUTS if t > 1 else LAYOUTS[:1])
        ]
        ids = [f"n{n}-threads{t}-{layout}" for n, t, layout, _ in cases]
        metafunc.parametrize("bandwidth_case", cases, ids=ids)


@functools.cache
def mcclean(n: int, samples: int):
    spec = parse_spec(
        f'name = "bandwidth"\nseed = 5\nsamples = {samples}\n[[sweep]]\nansatz = "mcclean"\n'
        f'cost = "zz"\nqubits = {n}\ndepth = {n}\nparameters = [0]\n'
    )
    task = spec.tasks[0]
    theta, axes = draw_samples(spec.seed, task, np.arange(samples), True)
    return task, theta, axes


def simulator_for(prepared, threads: int, layout: str):
    simulator = prepared.simulator(Resolved("statevector", "CPU", "double", threads))
    if layout == "experiments":
        simulator.set_options(max_parallel_experiments=threads)
    return simulator


@functools.cache
def one_thread_gradient(n: int, samples: int) -> np.ndarray:
    """The suite's gradients on one thread: the bits every layout of one thread per
    experiment must give."""
    task, theta, axes = mcclean(n, samples)
    prepared = prepare(task)
    return gradient_batch(prepared, simulator_for(prepared, 1, "rank"), theta, axes).grad


@functools.cache
def template_gradient(n: int, samples: int) -> np.ndarray:
    """The same gradients from the whole circuit (template engine), independent of cones."""
    task, theta, axes = mcclean(n, samples)
    workload = prepare(task).workload
    prepared = ENGINES["template"].prepare(workload)
    resolved = Resolved("statevector", "CPU", "double", threads_per_rank())
    return gradient_batch(prepared, make_simulator(resolved, n), theta, axes).grad


def stream_bandwidth(nbytes: int, threads: int, repeats: int = 3) -> float:
    """Bytes read + written per second by in-place passes over `nbytes` of doubles, split
    among `threads` (numpy releases the GIL in ufunc loops); best of `repeats`."""
    data = np.ones(nbytes // 8)
    chunks = np.array_split(data, threads)
    passes = max(1, PASSES_BYTES // nbytes)

    def stream(chunk: np.ndarray) -> None:
        for _ in range(passes):
            np.negative(chunk, out=chunk)

    best = np.inf
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(stream, chunks))
            best = min(best, time.perf_counter() - start)
    return 2 * nbytes * passes / best


class CountingSimulator:
    """Passes `run` on to an Aer simulator with fusion_verbose and keeps what ran."""

    def __init__(self, simulator) -> None:
        self.simulator = simulator
        simulator.set_options(fusion_verbose=True)
        self.runs: list[tuple[list, list, object]] = []

    def run(self, circuits, parameter_binds):
        circuits = circuits if isinstance(circuits, list) else [circuits]
        job = self.simulator.run(circuits, parameter_binds=parameter_binds)
        self.runs.append((circuits, parameter_binds, job.result()))
        return job


def is_save(name: str) -> bool:
    return name.startswith("save_")


@dataclasses.dataclass
class Traffic:
    """Bytes the recorded experiments must move: circuit gates, and Aer's fused ops."""

    experiments: int = 0
    gates: int = 0
    fused: int = 0
    gate_bytes: int = 0
    fused_bytes: int = 0

    def add(self, circuit, metadata: dict) -> None:
        size = AMPLITUDE << circuit.num_qubits
        gates = sum(not is_save(i.operation.name) for i in circuit.data)
        saves = len(circuit.data) - gates
        fusion = metadata.get("fusion", {})
        fused = gates
        if fusion.get("applied"):
            fused = sum(not is_save(op["name"]) for op in fusion["output_ops"])
        self.experiments += 1
        self.gates += gates
        self.fused += fused
        self.gate_bytes += (2 * gates + saves) * size
        self.fused_bytes += (2 * fused + saves) * size


def traffic(counting: CountingSimulator) -> Traffic:
    total = Traffic()
    for circuits, binds, result in counting.runs:
        experiments = iter(result.results)
        for circuit, bind in zip(circuits, binds, strict=True):
            points = len(next(iter(bind.values()))) if bind else 1
            for _ in range(points):
                total.add(circuit, next(experiments).metadata)
        assert next(experiments, None) is None, "Aer returned more experiments than it ran"
    return total


def test_time_against_the_bandwidth_bound(benchmark, bandwidth_case, capsys):
    n, threads, layout, samples = bandwidth_case
    benchmark.group = f"bandwidth mcclean K=1 n={n}"
    task, theta, axes = mcclean(n, samples)
    prepared = prepare(task)

    counting = CountingSimulator(simulator_for(prepared, threads, layout))
    counted = gradient_batch(prepared, counting, theta, axes)
    moved = traffic(counting)
    assert moved.experiments == samples * (1 + 2 * len(task.parameters))
    assert 0 < moved.fused <= moved.gates

    # Bandwidth before and after the timing, best of both: others' jobs on the cores only
    # ever lower it, and a burst of them during one measurement would inflate the ratio.
    memory = stream_bandwidth(MEMORY_BYTES, threads)
    simulator = simulator_for(prepared, threads, layout)
    seconds: list[float] = []

    def timed():
        start = time.perf_counter()
        result = gradient_batch(prepared, simulator, theta, axes)
        seconds.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(timed, rounds=3 if benchmark.enabled else 1)
    np.testing.assert_array_equal(result.grad, counted.grad)
    # Cone circuits and the whole circuit apply equal gates in another order: rounding only.
    tolerance = rounding_bound(task)
    np.testing.assert_allclose(result.grad, template_gradient(n, samples), rtol=0, atol=tolerance)
    if layout == "experiments" and moved.experiments >= threads:
        # Aer gives each experiment threads // (experiments at once) = 1 thread: the same
        # single-threaded sums as one thread, so the same bits (the "rank" layout sums the
        # expectation value over its threads and moves the last bits: docs/performance.md).
        np.testing.assert_array_equal(result.grad, one_thread_gradient(n, samples))

    per_sample = min(seconds) / samples
    memory = max(memory, stream_bandwidth(MEMORY_BYTES, threads))
    state = stream_bandwidth(AMPLITUDE << n, threads)
    info = {
        "engine": prepared.describe(),
        "threads": threads,
        "layout": layout,
        "samples": samples,
        "seconds_per_sample": per_sample,
        "bandwidth_memory_GBps": memory / 1e9,
        "bandwidth_state_GBps": state / 1e9,
        "gates_per_sample": moved.gates / samples,
        "fused_ops_per_sample": moved.fused / samples,
        "bound_seconds": moved.gate_bytes / samples / memory,
        "ratio": per_sample * samples * memory / moved.gate_bytes,
        "ratio_state_bandwidth": per_sample * samples * state / moved.gate_bytes,
        "ratio_fused": per_sample * samples * memory / moved.fused_bytes,
    }
    benchmark.extra_info.update(info)
    with capsys.disabled():
        print(
            f"\nbandwidth n={n} threads={threads} ({layout}): {per_sample:.3f} s/sample, "
            f"{info['gates_per_sample']:.0f} gates ({info['fused_ops_per_sample']:.0f} fused) "
            f"per sample, memory {info['bandwidth_memory_GBps']:.1f} GB/s "
            f"(state-sized {info['bandwidth_state_GBps']:.1f}), bound "
            f"{info['bound_seconds']:.3f} s, time/bound {info['ratio']:.2f} "
            f"(state-sized bandwidth {info['ratio_state_bandwidth']:.2f}, "
            f"fused ops {info['ratio_fused']:.2f})"
        )
