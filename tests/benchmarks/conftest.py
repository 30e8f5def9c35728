"""Benchmark settings, recorded in every saved benchmark's machine info.

`--benchmark-autosave` then stores, beside pytest-benchmark's own machine info, the Aer
version, device, method and threads the peer benchmarks ran with, the CPU model and the
peers' versions, so that `--benchmark-compare` shows whether two baselines are comparable.
"""

from __future__ import annotations

import os

import pytest

from suite.engines.aer import Resolved, make_simulator
from suite.provenance import cpu_model, package_version

# Per core: one thread for the suite's Aer path and its peers (docs/performance.md).
PER_CORE = Resolved(method="statevector", device="CPU", precision="double", threads=1)
PEERS = ("qiskit", "qiskit-aer", "qiskit-machine-learning", "pennylane", "pennylane-lightning")


def pytest_benchmark_update_machine_info(config, machine_info: dict) -> None:
    machine_info["bpsuite"] = {
        **PER_CORE.as_dict(),
        "cpu_model": cpu_model(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        "BPSUITE_THREADS": os.environ.get("BPSUITE_THREADS", "unset"),
        **{name: package_version(name) for name in PEERS},
    }


@pytest.fixture(scope="session")
def per_core_simulator():
    """The suite's Aer simulator on one thread, as `bpsuite run` makes it."""

    def make(qubits: int):
        return make_simulator(PER_CORE, qubits)

    return make
