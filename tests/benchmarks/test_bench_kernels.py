"""Benchmarks of the hot paths (pytest-benchmark).

Disabled by default (each runs once as a test); measure with
`pytest tests/benchmarks --benchmark-enable`, and compare versions with
`--benchmark-autosave` / `--benchmark-compare`.
"""

from __future__ import annotations

import numpy as np
import pytest

from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved, make_simulator, threads_per_rank
from suite.engines.base import gradient_batch
from suite.engines.registry import prepare
from suite.spec import parse_spec
from suite.store import ShardWriter

SPEC = parse_spec("""
name = "bench"
seed = 5
samples = 200
[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = 10
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 6
depth = "10*n"
samples = 20
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = 12
samples = 50
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 16
depth = 4
samples = 10
""")


@pytest.mark.parametrize("task", SPEC.tasks, ids=lambda t: t.id)
def test_gradient_batch(benchmark, task):
    """One Aer call: a batch of samples and all their shifted points."""
    family = FAMILIES[task.ansatz]
    theta, axes = draw_samples(SPEC.seed, task, np.arange(task.samples), family.random_axes)
    prepared = prepare(task)
    resolved = Resolved("statevector", "CPU", "double", threads_per_rank(1))
    simulator = make_simulator(resolved, task.qubits)
    result = benchmark(gradient_batch, prepared, simulator, theta, axes)
    assert result.grad.shape == (task.samples, len(task.parameters))
    assert np.all(np.isfinite(result.grad))


def test_parameter_draws(benchmark):
    """Rank-independent seeding costs one SeedSequence per sample."""
    task = SPEC.task("mcclean-zz-n6-L60")
    theta, axes = benchmark(draw_samples, SPEC.seed, task, np.arange(1000), True)
    assert theta.shape == (1000, 360) and axes.shape == (1000, 360)


def test_shard_append(benchmark, tmp_path):
    """Appending a batch to a SWMR shard, flush included."""
    task = SPEC.task("product-global-n10-L1")
    writer = ShardWriter(
        tmp_path / "shard.h5",
        SPEC,
        {"job_name": "bench"},
        {t.id: t.ansatz == "mcclean" for t in SPEC.tasks},
        chunk=200,
    )
    rows = 200
    columns = {
        "theta": np.zeros((rows, task.n_params)),
        "grad": np.zeros((rows, 1)),
        "cost": np.zeros(rows),
        "axes": None,
        "rank": np.zeros(rows, np.int32),
        "time_simulate": np.zeros(rows),
    }
    counter = iter(range(10**9))

    def append():
        start = next(counter) * rows
        writer.append(task.id, np.arange(start, start + rows), columns)

    benchmark(append)
    writer.close()
