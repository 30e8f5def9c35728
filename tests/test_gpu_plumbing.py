"""`device = "GPU"` without a GPU: the plumbing that can be checked here.

No GPU and no GPU build of Aer exist on this machine (Aer's CPU build even refuses the
option `target_gpus`), so these tests record the options the suite hands to
`AerSimulator` instead of running it, and check the errors a user gets where the GPU is
missing. What has not run on a GPU is listed in docs/running.md and docs/adjoint.md.
"""

from __future__ import annotations

import pytest

from helpers import one_line_refusal
from suite.engines import aer
from suite.engines.aer import Resolved, make_simulator, resolve
from suite.records import SimulatorSpec


class Recorder:
    """Stands in for AerSimulator: keeps the keyword arguments it was built with."""

    def __init__(self, **options):
        self.options = options


@pytest.fixture
def recorded(monkeypatch):
    import qiskit_aer

    monkeypatch.setattr(qiskit_aer, "AerSimulator", Recorder)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def build(qubits: int, local_rank: int = 0, method: str = "statevector", threads: int = 4):
        resolved = Resolved(method=method, device="GPU", precision="single", threads=threads)
        return make_simulator(resolved, qubits, local_rank).options

    return build


@pytest.mark.parametrize("qubits", [8, 20])
def test_each_rank_takes_the_gpu_of_its_node_local_rank(recorded, qubits):
    options = recorded(qubits, local_rank=3)
    assert options["device"] == "GPU"
    assert options["target_gpus"] == [3]
    assert options["precision"] == "single"
    # many parameter sets per call: batched over experiments, bound inside Aer
    assert options["max_parallel_experiments"] == 4
    assert options["runtime_parameter_bind_enable"] is True


def test_a_launcher_that_already_picked_the_gpu_is_respected(recorded, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    assert "target_gpus" not in recorded(12, local_rank=1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert recorded(12, local_rank=1)["target_gpus"] == [1]


def test_stabilizer_tasks_stay_on_the_cpu(recorded):
    options = recorded(64, method="stabilizer")
    assert options["device"] == "CPU"
    assert "target_gpus" not in options


def test_gpu_requested_without_one_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(aer, "available_devices", lambda: ("CPU",))
    message = one_line_refusal(RuntimeError, "", resolve, SimulatorSpec(device="GPU"), threads=1)
    assert 'simulator.device = "GPU"' in message and "qiskit-aer-gpu" in message


def test_auto_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(aer, "available_devices", lambda: ("CPU",))
    assert resolve(SimulatorSpec(device="auto"), threads=2).device == "CPU"
    monkeypatch.setattr(aer, "available_devices", lambda: ("CPU", "GPU"))
    assert resolve(SimulatorSpec(device="auto"), threads=2).device == "GPU"


def test_a_run_on_a_missing_gpu_stops_before_any_work(tmp_path, capsys):
    """The real CLI on this GPU-less machine: one line, no shard written."""
    from suite.cli import main

    job = tmp_path / "job.toml"
    job.write_text(
        'name = "gpu"\nseed = 1\nsamples = 4\n[[sweep]]\nansatz = "product"\n'
        'cost = "local"\nqubits = 2\n[simulator]\ndevice = "GPU"\n'
    )
    out = tmp_path / "run"
    assert main(["run", str(job), "--out", str(out)]) != 0
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "qiskit-aer-gpu" in errors[0], errors
    assert not list(out.glob("shards/*.h5"))


@pytest.mark.parametrize(
    ("qubits", "method", "device", "expected"),
    [
        (8, "statevector", "CPU", "2 threads, one experiment each"),
        (20, "statevector", "CPU", "2 threads inside one state"),
        (8, "density_matrix", "CPU", "2 threads inside one state"),  # 4^8 entries
        (20, "statevector", "GPU", "2 threads, one experiment each"),
        (512, "stabilizer", "CPU", "2 threads, one experiment each"),
    ],
)
def test_the_logged_layout_is_the_one_aer_gets(recorded, qubits, method, device, expected):
    """`bpsuite run` logs how a rank's threads serve each task; the text and the options
    come from one decision (`experiments_in_parallel`)."""
    resolved = Resolved(method=method, device=device, precision="double", threads=2)
    assert aer.layout(resolved, qubits) == expected
    options = make_simulator(resolved, qubits).options
    parallel = options["max_parallel_experiments"] == 2
    assert parallel == expected.endswith("one experiment each")


@pytest.mark.parametrize("lightning_gpu", ["lightning.gpu", ""])
def test_an_auto_adjoint_task_never_needs_a_missing_lightning_gpu(monkeypatch, lightning_gpu):
    """On a GPU node (device resolved to "GPU" for Aer) a task that "auto" gave to the
    adjoint engine takes a Lightning GPU device if one exists, else lightning.qubit."""
    import dataclasses

    from suite.engines import adjoint
    from suite.spec import parse_spec

    monkeypatch.setattr(adjoint, "lightning_device", lambda device, gpu=False: lightning_gpu)
    rank = Resolved(method="auto", device="GPU", precision="double", threads=2)
    task = dataclasses.replace(parse_spec(ADJOINT_JOB).tasks[0], method="adjoint")
    expected = "GPU" if lightning_gpu else "CPU"
    assert rank.for_task(task).device == expected
    statevector = dataclasses.replace(task, method="statevector")
    assert rank.for_task(statevector).device == "GPU"


@pytest.mark.parametrize("lightning_gpu", ["lightning.kokkos", ""])
def test_auto_with_gpu_requested_picks_adjoint_only_with_a_lightning_gpu(
    monkeypatch, lightning_gpu
):
    pytest.importorskip("pennylane_lightning", reason="the adjoint engine needs Lightning")
    from suite.engines import registry
    from suite.spec import parse_spec

    monkeypatch.setattr(registry, "lightning_device", lambda device, gpu=False: lightning_gpu)
    task = parse_spec(ADJOINT_JOB).tasks[0]  # "auto" on the CPU: adjoint pays (K = all)
    assert task.method == "adjoint"
    gpu = parse_spec(ADJOINT_JOB.replace('device = "CPU"', 'device = "GPU"')).tasks[0]
    assert gpu.method == ("adjoint" if lightning_gpu else "statevector")


ADJOINT_JOB = """
name = "auto-adjoint"
seed = 1
samples = 4
[[sweep]]
ansatz = "mcclean"
cost = "zz"
qubits = 10
depth = 10
parameters = "all"
[simulator]
method = "auto"
device = "CPU"
"""
