"""Job specs: every bad input stops before any work with one line naming the key."""

from __future__ import annotations

import pytest

from helpers import JOBS, bpsuite, one_line_cli_error, one_line_refusal
from suite.spec import SpecError, evaluate_depth, load_spec, parse_spec

GOOD = """
name = "t"
seed = 1
samples = 10
[[sweep]]
ansatz = "product"
cost = ["global", "local"]
qubits = [2, 4]
"""

BAD = [
    # (replace this, by this, expected fragment of the error)
    ('ansatz = "product"', 'ansatz = "prodct"', "sweep[0].ansatz: unknown ansatz 'prodct'"),
    ("seed = 1", 'seed = 1\ncolour = "red"', "colour: unknown key"),
    ("qubits = [2, 4]", "qubits = [2, 4]\nshot = 100", "sweep[0].shot: unknown key"),
    ("samples = 10", 'samples = "ten"', "samples: must be an integer, got 'ten'"),
    ("samples = 10", "samples = 0", "samples: must be ≥ 1, got 0"),
    ("samples = 10", "samples = -5", "samples: must be ≥ 1, got -5"),
    ("qubits = [2, 4]", "qubits = [1, 4]", "sweep[0].qubits: must be ≥ 2, got 1"),
    ("qubits = [2, 4]", "qubits = [2.5]", "sweep[0].qubits: must be an integer, got 2.5"),
    ("qubits = [2, 4]", "qubits = [40]", "sweep[0].qubits: a double-precision statevector of 40"),
    (
        "qubits = [2, 4]",
        "qubits = [2, 4]\nparameters = [4]",
        "sweep[0].parameters: index 4 out of range: the circuit at n=2, depth=1 has 2 parameters",
    ),
    (
        "qubits = [2, 4]",
        'qubits = [2, 4]\nparameters = "some"',
        "'some' is neither first, middle, last, all nor a parameter name",
    ),
    ("qubits = [2, 4]", "qubits = [2, 4]\ndepth = 3", "depth must be 1"),
    ('cost = ["global", "local"]', 'cost = "energy"', "sweep[0].cost: unknown value 'energy'"),
    ('name = "t"', 'name = "a b"', "name: must be a non-empty string without spaces"),
    ('name = "t"\n', "", "name: missing"),
    ("seed = 1\n", "", "seed: missing"),
    (
        "qubits = [2, 4]",
        'qubits = [2, 4]\n[simulator]\nmethod = "exact"',
        "simulator.method: unknown value 'exact'",
    ),
    ("qubits = [2, 4]", "qubits = []", "sweep[0].qubits: must not be an empty list"),
    (
        "qubits = [2, 4]",
        'qubits = [2, 4]\n[simulator]\nmethod = "stabilizer"',
        'sweep[0].angles: method = "stabilizer" needs angles = "clifford"',
    ),
    (
        'ansatz = "product"\ncost = ["global", "local"]\nqubits = [2, 4]',
        'ansatz = "mcclean"\ncost = "zz"\nqubits = [2, 4]\ndepth = 2\nangles = "clifford"'
        '\n[simulator]\nmethod = "stabilizer"',
        'sweep[0].ansatz: method = "stabilizer" cannot simulate mcclean: it has a fixed RY(π/4)',
    ),
    (
        "qubits = [2, 4]",
        'qubits = [2, 4]\nangles = "clifford"\n[simulator]\nmethod = "stabilizer"\ndevice = "GPU"',
        'simulator.device: "GPU" with method = "stabilizer"',
    ),
    ('ansatz = "product"', 'ansatz = "mcclean"', "mcclean with n=2: 'depth' is missing"),
    ('ansatz = "product"', 'ansatz = "mcclean"\ndepth = "10*m"', "unknown name 'm'"),
    ('ansatz = "product"', 'ansatz = "mcclean"\ndepth = "n/3"', "not a whole number of layers"),
    ('ansatz = "product"', 'ansatz = "mcclean"\ndepth = "__import__(1)"', "unknown name"),
    ('ansatz = "product"', 'ansatz = "qcnn"', "cost 'global' is not defined for qcnn"),
    ('ansatz = "product"', 'ansatz = "alternating"\ndepth = 2\nblock = 3', "block must be even"),
    (
        'ansatz = "product"',
        'ansatz = "alternating"\ndepth = 2',
        "qubits must be a multiple of block=2 and at least 4",
    ),
    ("qubits = [2, 4]", "qubits = [2, 4]\nblock = 2", "'block' applies to the alternating"),
    ("samples = 10", "samples = 10\n=", "not valid TOML"),
]


def test_good_spec_expands_into_tasks():
    spec = parse_spec(GOOD, "good.toml")
    assert [t.id for t in spec.tasks] == [
        "product-global-n2-L1",
        "product-global-n4-L1",
        "product-local-n2-L1",
        "product-local-n4-L1",
    ]
    assert spec.tasks[0].family == "product-global-L1"
    assert all(t.parameters == (0,) for t in spec.tasks)


@pytest.mark.parametrize(("old", "new", "fragment"), BAD)
def test_bad_spec_gives_one_line_naming_the_key(old, new, fragment):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    message = one_line_refusal(
        SpecError, "bad.toml: ", parse_spec, text, "bad.toml", memory_bytes=24 << 30
    )
    assert fragment in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('name = "t"\nseed = 1\nsamples = 3\nsweep = 3', "sweep: must be an array of tables"),
        ('name = "t"\nseed = 1\nsamples = 3', "sweep: missing"),
    ],
)
def test_sweep_table_shape(text, fragment):
    with pytest.raises(SpecError, match=fragment):
        parse_spec(text, "bad.toml")


def test_duplicate_tasks_across_sweeps_are_an_error():
    text = GOOD + '[[sweep]]\nansatz = "product"\ncost = "local"\nqubits = 4\n'
    with pytest.raises(SpecError, match=r"sweep\[1\]: task product-local-n4-L1 is also produced"):
        parse_spec(text, "dup.toml")


def test_depth_formulas():
    assert evaluate_depth("10*n", 4) == 40
    assert evaluate_depth("ceil(log2(n))", 5) == 3
    assert evaluate_depth("3", 9) == 3
    with pytest.raises(ValueError):
        evaluate_depth("n.__class__", 3)


def test_parameter_words_resolve_per_task():
    text = GOOD.replace("qubits = [2, 4]", 'qubits = [4]\nparameters = "all"')
    assert parse_spec(text).tasks[0].parameters == (0, 1, 2, 3)
    for word, expected in (("middle", (2,)), ("last", (3,)), ("first", (0,))):
        text = GOOD.replace("qubits = [2, 4]", f'qubits = [4]\nparameters = "{word}"')
        assert parse_spec(text).tasks[0].parameters == expected


def test_every_job_in_jobs_dir_is_valid():
    files = sorted(JOBS.glob("*.toml"))
    assert files, "jobs/ holds no job"
    for path in files:
        spec = load_spec(path)
        assert spec.tasks


def test_cli_refuses_bad_spec_before_any_work(tmp_path, write_job):
    job = write_job(GOOD.replace("qubits = [2, 4]", "qubits = [2, 4]\nparameters = [7]"))
    out = tmp_path / "run"
    line = one_line_cli_error(bpsuite("run", str(job), "--out", str(out), check=False), 2)
    assert "sweep[0].parameters: index 7 out of range" in line
    assert str(job) in line
    assert not out.exists()


def test_missing_job_file_is_one_line(tmp_path):
    result = bpsuite("run", str(tmp_path / "nope.toml"), check=False)
    assert "cannot read job file" in one_line_cli_error(result, 2)


def test_a_wide_mps_task_is_planned_with_a_finite_weight():
    """The work model is a statevector's (2^n amplitudes); an MPS task of 1100 qubits passes
    the spec, and planning its units must not overflow (it once ended a run in
    "Numerical result out of range")."""
    import math

    from suite.runner import plan_units

    spec = parse_spec(
        """
name = "mps-wide"
seed = 1
samples = 2
[[sweep]]
ansatz = "product"
cost = "local"
qubits = 1100
[simulator]
method = "matrix_product_state"
"""
    )
    (unit,) = plan_units(spec, {})
    assert math.isfinite(unit.weight) and unit.weight > 0


def test_ranks_that_resolve_a_task_differently_stop_in_one_line():
    """Each rank validates the spec on its node; "auto" depends on what is installed there,
    so a rank that would run a task on another engine stops the job before any work."""
    from suite.runner import same_methods

    spec = parse_spec(
        """
name = "nodes"
seed = 1
samples = 2
[[sweep]]
ansatz = "product"
cost = "local"
qubits = [2, 4]
""",
        "nodes.toml",
    )
    same_methods(spec, [["statevector", "statevector"]] * 3)
    with pytest.raises(SpecError) as error:
        same_methods(spec, [["statevector", "statevector"], ["statevector", "adjoint"]])
    message = str(error.value)
    assert "\n" not in message and message.startswith("nodes.toml: task product-local-n4-L1")
    assert "'statevector' on rank 0 but 'adjoint' on rank 1" in message
