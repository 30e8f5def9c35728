"""The Clifford route: Aer's stabilizer method at Clifford angles (suite/engines/stabilizer.py).

Checks, from the parts up: every gate translation equals its rotation up to a
global phase; every circuit the route builds equals the family's circuit up to
a global phase; stabilizer gradients and costs equal statevector ones on the
same samples; bad specs stop with one line; real runs at n = 64 … 256 agree
with the exact warm-up variance and, through the light cone, with statevector.
"""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator
from qiskit_aer import AerSimulator

from helpers import assert_same_numbers, bpsuite, one_line_refusal, run_text
from suite.circuits.families import FAMILIES
from suite.circuits.sampling import draw_samples
from suite.circuits.shift import ShiftRule
from suite.engines import stabilizer
from suite.engines.aer import Resolved, make_simulator
from suite.engines.base import Workload, gradient_batch
from suite.engines.registry import ENGINES, prepare
from suite.spec import SpecError, parse_spec

STATEVECTOR = Resolved("statevector", "CPU", "double", 1)
STABILIZER = Resolved("stabilizer", "CPU", "double", 1)


def job(sweeps: str, method: str = "stabilizer", samples: int = 8) -> str:
    return (
        f'name = "c"\nseed = 11\nsamples = {samples}\n{sweeps}\n[simulator]\nmethod = "{method}"\n'
    )


def sweep(**keys) -> str:
    lines = ["[[sweep]]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in keys.items()]
    return "\n".join(lines) + "\n"


# --- translations -----------------------------------------------------------------


@pytest.mark.parametrize("pauli", ["X", "Y", "Z", "ZZ", "XX", "YY", "ZX"])
@pytest.mark.parametrize("turns", [0, 1, 2, 3, 4, -1])
def test_translation_equals_rotation_up_to_phase(pauli, turns):
    width = len(pauli)
    rotation = QuantumCircuit(width)
    getattr(rotation, "r" + pauli.lower())(turns * math.pi / 2, *range(width))
    gates = QuantumCircuit(width)
    for name, operands in stabilizer.translation(pauli, turns):
        getattr(gates, name)(*operands)
    assert Operator(gates).equiv(Operator(rotation))
    # the split the circuits rely on: Pauli part first, then the Clifford part at odd turns
    names = [name for name, _ in stabilizer.translation(pauli, turns)]
    paulis = sum(letter != "I" for letter in stabilizer.PAULI_PART[pauli][turns % 4])
    assert all(name in ("x", "y", "z") for name in names[:paulis])
    odd = [name for name, _ in stabilizer.CLIFFORD_PART[pauli]] if turns % 2 else []
    assert names[paulis:] == odd


def test_every_gate_name_is_in_aers_stabilizer_basis():
    basis = set(AerSimulator(method="stabilizer").configuration().basis_gates)
    assert set(stabilizer.GATES) | {"pauli"} <= basis


FIXED_GATES = """
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter


def with_fixed(n, depth, gate, *angles):
    qc = QuantumCircuit(n)
    qc.rx(Parameter("a"), 0)
    getattr(qc, gate)(*angles, 0)
    return qc


def ry_pi(n, depth):
    return with_fixed(n, depth, "ry", 3.141592653589793)


def ry_quarter(n, depth):
    return with_fixed(n, depth, "ry", 3.141592653589793 / 4)


def t(n, depth):
    return with_fixed(n, depth, "t")
"""


def test_fixed_gates_at_other_angles_are_not_clifford(tmp_path):
    (tmp_path / "fixed_gates.py").write_text(FIXED_GATES)

    def workload(function: str) -> Workload:
        text = job(
            sweep(ansatz=f"python:fixed_gates:{function}", cost="zout", qubits=2, depth=1),
            method="statevector",
        )
        return Workload(parse_spec(text, "f.toml", base_dir=str(tmp_path)).tasks[0])

    # Clifford: the fixed RY(π) is recorded as its translation, after the trainable RX
    assert stabilizer.record(workload("ry_pi")) == [
        ("rot", "X", 0, (0,)),
        ("fixed", (("y", (0,)),)),
    ]
    with pytest.raises(stabilizer.NotCliffordError, match="not Clifford"):
        stabilizer.record(workload("ry_quarter"))
    with pytest.raises(stabilizer.NotCliffordError, match="has no Clifford translation"):
        stabilizer.record(workload("t"))


# --- circuits ------------------------------------------------------------------------

SMALL = job(
    sweep(
        ansatz="product",
        cost=["global", "local", "zz", "zout"],
        qubits=[2, 3, 4, 6],
        angles="clifford",
        parameters="all",
    )
    + sweep(
        ansatz="alternating",
        cost=["global", "local"],
        qubits=[4, 6],
        depth=[1, 3],
        angles="clifford",
        parameters="all",
    )
    + sweep(
        ansatz="alternating",
        cost=["local", "zz", "zout"],
        qubits=8,
        depth=2,
        block=4,
        angles="clifford",
        parameters="all",
    )
    + sweep(ansatz="qcnn", cost="zout", qubits=[2, 3, 4, 5, 6], angles="clifford", parameters="all")
    + sweep(  # RXX rotations: the two-qubit translations beyond ZZ
        ansatz="matchgate",
        cost=["global", "local", "zout"],
        qubits=[3, 4],
        depth=2,
        angles="clifford",
        parameters="all",
    )
)


def small_tasks():
    return parse_spec(SMALL, "small.toml").tasks


def without_saves(qc: QuantumCircuit) -> QuantumCircuit:
    out = qc.copy_empty_like()
    for instruction in qc.data:
        if not instruction.operation.name.startswith("save"):
            out.append(instruction)
    return out


@pytest.mark.parametrize("task", [t for t in small_tasks() if t.qubits <= 6], ids=lambda t: t.id)
def test_route_circuits_equal_family_circuits_up_to_phase(task):
    theta, _ = draw_samples(5, task, np.arange(3), False)
    workload = Workload(task)
    circuit = workload.circuit
    rule = ShiftRule.of([circuit.occurrences(k) for k in task.parameters[:2]])
    points = rule.points(circuit.angles(theta))  # slot angles: θ itself for built-in families
    built = stabilizer.plan(workload).circuits(points)
    for point, qc in zip(points, built, strict=True):
        reference = FAMILIES[task.ansatz].bound_circuit(task, point)
        assert Operator(without_saves(qc)).equiv(Operator(reference))


@pytest.mark.parametrize("task", small_tasks(), ids=lambda t: t.id)
def test_stabilizer_equals_statevector_on_the_same_samples(task):
    assert task.method == "stabilizer"
    theta, _ = draw_samples(11, task, np.arange(8), False)
    prepared = prepare(task)
    assert prepared.engine.name in ("stabilizer", "cones-stabilizer", "pauli-propagation")
    full = ENGINES["template"].prepare(Workload(task))  # the whole circuit, parametrized
    exact = gradient_batch(full, make_simulator(STATEVECTOR, task.qubits), theta)
    route = gradient_batch(prepared, make_simulator(STABILIZER, task.qubits), theta)
    np.testing.assert_allclose(route.grad, exact.grad, rtol=0, atol=1e-12)
    np.testing.assert_allclose(route.cost, exact.cost, rtol=0, atol=1e-12)


def test_global_cost_is_exact_at_large_n():
    """|⟨0…0|ψ⟩|² from the tableau at n = 300, where it is 2^-k, far below any tolerance.

    Product ansatz: v = ∏ cos²(θ_j/2) and ∂C_G/∂θ₁ = ½ sin θ₁ ∏_{j>1} cos²(θ_j/2), with
    cos²(qπ/4) ∈ {1, ½, 0, ½} and sin(qπ/2) ∈ {0, 1, 0, −1} exactly. Angles avoid π except
    where set, so the values are powers of 2 down to 2^-300 (the gradient, read from v at
    the shifted points, keeps them; C = 1 − v in double precision does not).
    """
    n = 300
    task = parse_spec(
        job(sweep(ansatz="product", cost="global", qubits=n, angles="clifford")), "g.toml"
    ).tasks[0]
    rng = np.random.default_rng(3)
    theta = rng.choice([0.0, math.pi / 2, 3 * math.pi / 2], size=(6, n))
    theta[:, 0] = [math.pi / 2, 3 * math.pi / 2, 0.0, math.pi / 2, math.pi / 2, 0.0]
    theta[3, 1:] = 0.0  # v = ½ at the unshifted point: not every value is tiny
    theta[4, 7] = math.pi  # v = 0 at every point of this sample
    result = gradient_batch(prepare(task), make_simulator(STABILIZER, n), theta)
    turns = np.rint(theta / (math.pi / 2)).astype(int) % 4
    cos2 = np.array([1.0, 0.5, 0.0, 0.5])[turns]
    sin = np.array([0.0, 1.0, 0.0, -1.0])[turns[:, 0]]
    expected_grad = 0.5 * sin * np.prod(cos2[:, 1:], axis=1)
    assert np.all(expected_grad[[0, 1, 3]] != 0) and 0 < abs(expected_grad[0]) < 1e-40
    assert expected_grad[4] == 0
    np.testing.assert_allclose(result.grad[:, 0], expected_grad, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(result.cost, 1 - np.prod(cos2, axis=1))


def test_uniform_angles_are_refused_by_the_kernel():
    task = parse_spec(
        job(sweep(ansatz="product", cost="local", qubits=3, angles="clifford")), "k.toml"
    ).tasks[0]
    theta = np.array([[0.3, 1.0, 2.0]])
    with pytest.raises(stabilizer.NotCliffordError, match="not a multiple of π/2"):
        gradient_batch(prepare(task), make_simulator(STABILIZER, 3), theta)


def test_a_sample_gives_the_same_bits_in_any_batch():
    """What makes runs rank-independent: Aer's value for one circuit ignores the others."""
    task = parse_spec(
        job(
            sweep(
                ansatz="alternating",
                cost="local",
                qubits=16,
                depth=2,
                angles="clifford",
                parameters=[0, 5],
            )
        ),
        "b.toml",
    ).tasks[0]
    theta, _ = draw_samples(11, task, np.arange(8), False)
    prepared = prepare(task)
    simulator = make_simulator(Resolved("stabilizer", "CPU", "double", 2), task.qubits)
    whole = gradient_batch(prepared, simulator, theta)
    for k in (0, 5):
        alone = gradient_batch(prepared, simulator, theta[k : k + 1])
        assert np.array_equal(alone.grad[0], whole.grad[k])
        assert np.array_equal(alone.cost[0], whole.cost[k])


# --- specs ---------------------------------------------------------------------------

BAD = [
    (
        job(sweep(ansatz="product", cost="local", qubits=4)),
        'sweep[0].angles: method = "stabilizer" needs angles = "clifford" (got \'uniform\')',
    ),
    (
        job(
            sweep(ansatz="product", cost="local", qubits=4, angles="clifford")
            + sweep(ansatz="qcnn", cost="zout", qubits=8)
        ),
        'sweep[1].angles: method = "stabilizer" needs angles = "clifford"',
    ),
    (
        job(sweep(ansatz="mcclean", cost="zz", qubits=4, depth=3, angles="clifford")),
        'sweep[0].ansatz: method = "stabilizer" cannot simulate mcclean: it has a fixed '
        "RY(π/4) layer",
    ),
    (
        job(sweep(ansatz="product", cost="local", qubits=4, angles="clifford")).replace(
            'method = "stabilizer"', 'method = "stabilizer"\ndevice = "GPU"'
        ),
        'simulator.device: "GPU" with method = "stabilizer"',
    ),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_stabilizer_specs_give_one_line(text, fragment):
    message = one_line_refusal(
        SpecError, "bad.toml: ", parse_spec, text, "bad.toml", memory_bytes=24 << 30
    )
    assert fragment in message, message


def test_stabilizer_has_no_statevector_memory_limit():
    text = job(
        sweep(ansatz="product", cost=["global", "local"], qubits=[40, 2000], angles="clifford")
    )
    spec = parse_spec(text, "big.toml", memory_bytes=1 << 30)
    assert {t.method for t in spec.tasks} == {"stabilizer"}


def test_auto_picks_stabilizer_per_task_where_it_is_exact():
    text = job(
        sweep(ansatz="product", cost=["global", "local"], qubits=40, angles="clifford")
        + sweep(ansatz="product", cost="local", qubits=4)
        + sweep(ansatz="mcclean", cost="zz", qubits=4, depth=3, angles="clifford")
        + sweep(ansatz="qcnn", cost="zout", qubits=8, angles=["uniform", "clifford"]),
        method="auto",
    )
    methods = {t.id: t.method for t in parse_spec(text, "auto.toml", memory_bytes=1 << 30).tasks}
    assert methods == {
        "product-global-n40-L1-clifford": "stabilizer",
        "product-local-n40-L1-clifford": "stabilizer",
        "product-local-n4-L1": "statevector",
        "mcclean-zz-n4-L3-clifford": "statevector",
        "qcnn-zout-n8-L3": "statevector",
        "qcnn-zout-n8-L3-clifford": "stabilizer",
    }
    # the statevector memory check still applies to tasks that auto sends to statevector
    # (a global cost: a local one would fit through its light cones, suite/engines/cones.py)
    with pytest.raises(SpecError, match=r"sweep\[0\]\.qubits: a double-precision statevector"):
        parse_spec(
            job(sweep(ansatz="product", cost="global", qubits=40), method="auto"),
            "auto.toml",
            memory_bytes=1 << 30,
        )


# --- real runs at large n ---------------------------------------------------------

RUN_SAMPLES = 512
RUN_QUBITS = (64, 256)
Z = 4.0
LARGE = f"""
name = "clifford-large"
seed = 20230301
samples = {RUN_SAMPLES}
batch = 128
[[sweep]]
ansatz = "product"
cost = "local"
qubits = {list(RUN_QUBITS)}
angles = "clifford"
[[sweep]]
ansatz = "alternating"
cost = "local"
qubits = 64
depth = 2
block = 2
angles = "clifford"
parameters = [0, 1, 64]
samples = 128
batch = 64
[simulator]
method = "stabilizer"
"""


@pytest.fixture(scope="module")
def large_run(tmp_path_factory):
    return run_text(LARGE, tmp_path_factory.mktemp("clifford"))


def warmup_local_moments(n: int) -> tuple[float, float]:
    """E[g²] and E[g⁴] of g = sin θ₁ / (2n) for θ₁ uniform on {0, π/2, π, 3π/2}."""
    return 1 / (8 * n**2), 1 / (32 * n**4)


@pytest.mark.parametrize("n", RUN_QUBITS)
def test_large_n_warmup_variance_matches_exact(large_run, n):
    """Product ansatz, local cost, Clifford angles, S = 512 samples at n = 64 and 256.

    g = ∂C_L/∂θ₁ = sin θ₁ / (2n), and sin θ₁ takes the values 0, 1, 0, −1 with
    probability 1/4 each, so g ∈ {0, ±1/(2n)} with P(g = 0) = 1/2, P(g = ±1/(2n)) = 1/4:

        E[g] = 0,   σ² = E[g²] = (1/2)·1/(4n²) = 1/(8n²)   (the uniform-angle value),
        μ₄ = E[g⁴] = (1/2)·1/(16n⁴) = 1/(32n⁴)            (kurtosis μ₄/σ⁴ = 2; 3/2 for
                                                           uniform angles).

    The unbiased sample variance s² of S i.i.d. samples has
    Var(s²) = μ₄/S − σ⁴ (S − 3)/(S (S − 1)) exactly, here
    ≈ (μ₄ − σ⁴)/S = 1/(64 n⁴ S): a relative standard error 1/√S = 4.4 %. s² is a
    mean of bounded terms, close to normal at S = 512; we allow Z = 4 standard
    errors, a two-sided tail of 6e-5 per check — a derived bound, not a tuned one.
    """
    with h5py.File(large_run / "results.h5") as f:
        group = f["tasks"][f"product-local-n{n}-L1-clifford"]
        grad, theta, cost = group["grad"][:, 0], group["theta"][:], group["cost"][:]
    assert grad.shape == (RUN_SAMPLES,)
    second, fourth = warmup_local_moments(n)
    s = RUN_SAMPLES
    standard_error = math.sqrt(fourth / s - second**2 * (s - 3) / (s * (s - 1)))
    measured = np.var(grad, ddof=1)
    assert abs(measured - second) <= Z * standard_error, (measured, second, standard_error)
    # beyond statistics: every sample equals its exact value
    np.testing.assert_allclose(grad, np.sin(theta[:, 0]) / (2 * n), rtol=0, atol=1e-15)
    exact_cost = 1 - np.mean(np.cos(theta / 2) ** 2, axis=1)
    np.testing.assert_allclose(cost, exact_cost, rtol=0, atol=1e-12)


def test_large_n_alternating_agrees_with_statevector_through_the_light_cone(large_run):
    """Alternating, depth 2, blocks of 2, n = 64 against a statevector of 8 qubits.

    With C_L = 1/2 − (1/2n) Σ_j ⟨Z_j⟩, n·∂C_L/∂θ_k = −½ ∂(Σ_j ⟨Z_j⟩)/∂θ_k depends only
    on the gates in the light cones of the Z_j that θ_k reaches. For θ₀ and θ₁ (qubits
    0, 1 of layer 0) and θ₆₄ (qubit 1 of layer 1) that is qubits 0…3: layer-0 blocks
    [0,1], [2,3], layer-1 block [1,2]. The same gates with the same angles sit in the
    8-qubit circuit, where layer 1 starts at parameter 8 instead of 64. So
    64·grad(n=64) = 8·grad(n=8) sample by sample, the right side from a statevector.
    """
    with h5py.File(large_run / "results.h5") as f:
        group = f["tasks"]["alternating-local-n64-L2-m2-clifford"]
        theta, grad = group["theta"][:], group["grad"][:]
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    np.testing.assert_array_equal(4 * 64 * grad, np.round(4 * 64 * grad))  # v ∈ ℤ
    small = parse_spec(
        job(
            sweep(
                ansatz="alternating",
                cost="local",
                qubits=8,
                depth=2,
                angles="clifford",
                parameters=[0, 1, 8],
            ),
            method="statevector",
        ),
        "small.toml",
    ).tasks[0]
    mapped = np.concatenate([theta[:, 0:8], theta[:, 64:70]], axis=1)
    assert mapped.shape[1] == small.n_params
    exact = gradient_batch(prepare(small), make_simulator(STATEVECTOR, 8), mapped)
    np.testing.assert_allclose(64 * grad, 8 * exact.grad, rtol=0, atol=1e-12)


@pytest.mark.mpi
def test_rank_count_does_not_change_any_number_on_the_clifford_route(tmp_path):
    """method = "auto" mixing stabilizer and statevector tasks, 1 and 2 ranks, bit for bit."""
    text = job(
        sweep(ansatz="product", cost=["local", "global"], qubits=32, angles="clifford")
        + sweep(
            ansatz="alternating",
            cost="local",
            qubits=16,
            depth=2,
            angles="clifford",
            parameters=[0, 7],
        )
        + sweep(ansatz="product", cost="local", qubits=4),
        method="auto",
        samples=24,
    ).replace("samples = 24", "samples = 24\nbatch = 6")
    job_file = tmp_path / "job.toml"
    job_file.write_text(text)
    runs = {}
    for ranks in (1, 2):
        runs[ranks] = tmp_path / f"n{ranks}"
        result = bpsuite("run", str(job_file), "--out", str(runs[ranks]), ranks=ranks)
        assert "auto (stabilizer: 3 task(s), statevector: 1 task(s))" in result.stderr
    assert_same_numbers(runs[2] / "results.h5", runs[1] / "results.h5")


def test_a_tableau_that_cannot_fit_is_refused_before_any_circuit_is_built():
    """n = 2^20 on the stabilizer method: ~2n² bits of tableau, refused in one line (the
    global cost has no light cones; a local cost would run on them: test_sparse_cones.py)."""
    text = job(sweep(ansatz="product", cost="global", qubits=2**20, angles="clifford"))
    one_line_refusal(
        SpecError,
        "big.toml: sweep[0].qubits: a stabilizer tableau of 1048576 qubits",
        parse_spec,
        text,
        "big.toml",
        memory_bytes=24 << 30,
    )
