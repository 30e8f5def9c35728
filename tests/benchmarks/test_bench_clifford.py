"""The stabilizer method's engines side by side (issue 9: qcnn at n = 4096).

Group `qcnn zout clifford n=…`: the same batch of Clifford-angle samples on Aer's tableau
(`stabilizer`, the peer: Aer's own Clifford simulator) and on Pauli propagation
(`pauli-propagation`, numpy), one thread each; the gradients must be identical (exact
values). The ratio of the two means is the engine's speed-up (docs/large-n.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from suite.circuits.sampling import draw_samples
from suite.engines.aer import Resolved
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES
from suite.spec import parse_spec

ONE_THREAD = Resolved(method="stabilizer", device="CPU", precision="double", threads=1)
SAMPLES = 16


def _batch(n: int, engine: str):
    spec = parse_spec(
        f"""
name = "bench-clifford"
seed = 4096
samples = {SAMPLES}
[[sweep]]
ansatz = "qcnn"
cost = "zout"
qubits = {n}
angles = "clifford"
[simulator]
method = "stabilizer"
"""
    )
    (task,) = spec.tasks
    theta, _ = draw_samples(spec.seed, task, np.arange(SAMPLES), False)
    prepared = ENGINES[engine].prepare(Workload(task))
    simulator = prepared.simulator(ONE_THREAD.for_task(task))
    return lambda: gradient_batch(prepared, simulator, theta)


@pytest.mark.parametrize("n", [64, 256])
def test_qcnn_on_both_engines(benchmark, n):
    benchmark.group = f"qcnn zout clifford n={n}"
    reference = _batch(n, "stabilizer")()
    result = benchmark(_batch(n, "pauli-propagation"))
    assert np.array_equal(result.grad, reference.grad)
    assert np.array_equal(result.cost, reference.cost)


@pytest.mark.parametrize("n", [64, 256])
def test_qcnn_on_the_tableau(benchmark, n):
    benchmark.group = f"qcnn zout clifford n={n}"
    result = benchmark(_batch(n, "stabilizer"))
    assert result.grad.shape == (SAMPLES, 1)
