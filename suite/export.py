"""`bpsuite circuit`: one sample's bound circuit as OpenQASM, to recompute elsewhere."""

from __future__ import annotations

from pathlib import Path

from suite.ansatz import FAMILIES
from suite.cost import DESCRIPTIONS, cost
from suite.sampling import draw_sample
from suite.spec import SpecError, load_spec


def circuit_qasm(job: Path, task_id: str, sample: int, qasm3: bool = False) -> str:
    spec = load_spec(job)
    task = spec.task(task_id)
    if not 0 <= sample < task.samples:
        raise SpecError(
            f"{job}: --sample {sample} out of range for task {task_id} (0…{task.samples - 1})"
        )
    family = FAMILIES[task.ansatz]
    theta, axes = draw_sample(spec.seed, task, sample, family.random_axes)
    qc = family.bound_circuit(task, theta, axes)
    output = family.output_qubit(task.qubits)
    c = cost(task.cost, task.qubits)
    observable = c.observable(task.qubits, output)
    terms = " + ".join(f"{coef.real!r}·{label}" for label, coef in observable.to_list())
    if qasm3:
        from qiskit import qasm3 as exporter
    else:
        from qiskit import qasm2 as exporter
    header = [
        f"// bpsuite job '{spec.name}' seed {spec.seed}, task {task.id}, sample {sample}",
        f"// cost: {DESCRIPTIONS[task.cost]}",
        f"// C = {c.offset!r} + ({c.scale!r}) * <O>, O = {terms}",
        "//   (Pauli labels read right to left: qubit 0 is the rightmost letter)",
        f"// derivatives taken w.r.t. theta[{', '.join(map(str, task.parameters))}]",
        "// theta = [" + ", ".join(repr(float(t)) for t in theta) + "]",
    ]
    if axes is not None:
        header.append("// axes = [" + "".join("XYZ"[a] for a in axes) + "]")
    return "\n".join(header) + "\n" + exporter.dumps(qc) + "\n"
