"""The engines, and the one function that chooses among them per task.

| engine     | Aer method                        | takes                                      |
|------------|-----------------------------------|--------------------------------------------|
| stabilizer | stabilizer                        | Clifford circuits at Clifford angles       |
| cones      | statevector                       | Pauli sums whose light cones pay off       |
| template   | statevector, matrix_product_state | everything else                            |

A new engine is a subclass of `suite.engines.base.Engine` added to `ENGINES` and to
`choose`; the runner only ever calls `prepare` and the prepared engine.
"""

from __future__ import annotations

from suite.engines.base import Engine, Prepared, Workload
from suite.engines.cones import MIN_SAVING, ConeEngine
from suite.engines.stabilizer import StabilizerEngine
from suite.engines.template import TemplateEngine

ENGINES: dict[str, Engine] = {
    e.name: e for e in (StabilizerEngine(), ConeEngine(), TemplateEngine())
}


def method_for(workload: Workload, requested: str) -> str:
    """The Aer method of a task: "auto" picks stabilizer wherever it is exact.

    Raises ValueError("key: problem") when `requested` is stabilizer and the task is not
    Clifford.
    """
    if requested not in ("auto", "stabilizer"):
        return requested
    refusal = ENGINES["stabilizer"].refusal(workload)
    if requested == "auto":
        return "statevector" if refusal else "stabilizer"
    if refusal:
        raise MethodRefused(*refusal)
    return requested


class MethodRefused(ValueError):
    """The requested method cannot run a task: `key` is the sweep key to blame."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def choose(workload: Workload) -> Engine:
    """The engine of a task (its method is already resolved): the same on every rank."""
    method = workload.task.method
    if method == "stabilizer":
        return ENGINES["stabilizer"]
    template = ENGINES["template"]
    cones = ENGINES["cones"]
    if (
        method == "statevector"
        and cones.refusal(workload) is None
        and MIN_SAVING * cones.work(workload) < template.work(workload)
    ):
        return cones
    return template


def memory_bytes(workload: Workload, precision: str, available: int) -> tuple[int, Engine]:
    """Peak memory of the task on its engine; cones are planned only when the whole
    statevector would not fit in `available` bytes."""
    method = workload.task.method
    if method == "stabilizer":
        engine = ENGINES["stabilizer"]
    else:
        engine = ENGINES["template"]
        if engine.memory_bytes(workload, precision) > available:
            engine = choose(workload)
    return engine.memory_bytes(workload, precision), engine


def prepare(task) -> Prepared:
    """Choose the engine of `task` and build its per-task state."""
    workload = Workload(task)
    return choose(workload).prepare(workload)
