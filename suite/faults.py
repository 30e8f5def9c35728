"""Fault injection for tests of failure handling (off unless BPSUITE_FAULT is set).

BPSUITE_FAULT="ACTION@RANK:BATCH[,…]" makes rank RANK, after writing its
BATCH-th batch (1-based), either raise an exception (`raise`), SIGKILL itself
(`kill`), or send itself SIGTERM (`term`). Tests use it to fail or kill ranks
at chosen points; production runs never set it.
"""

from __future__ import annotations

import os
import signal

ACTIONS = ("raise", "kill", "term")


class InjectedFault(RuntimeError):
    """The failure a test asked for."""


def _parse(text: str) -> list[tuple[str, int, int]]:
    faults = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            action, where = item.split("@")
            rank, batch = (int(x) for x in where.split(":"))
        except ValueError:
            raise ValueError(
                f"BPSUITE_FAULT: cannot read '{item}' (want ACTION@RANK:BATCH)"
            ) from None
        if action not in ACTIONS:
            raise ValueError(
                f"BPSUITE_FAULT: unknown action '{action}' (allowed: {', '.join(ACTIONS)})"
            )
        faults.append((action, rank, batch))
    return faults


def after_batch(rank: int, batches_done: int) -> None:
    """Called by the run loop after each batch is written."""
    text = os.environ.get("BPSUITE_FAULT")
    if not text:
        return
    for action, fault_rank, batch in _parse(text):
        if fault_rank != rank or batch != batches_done:
            continue
        if action == "raise":
            raise InjectedFault(f"injected fault after batch {batch}")
        os.kill(os.getpid(), signal.SIGKILL if action == "kill" else signal.SIGTERM)
