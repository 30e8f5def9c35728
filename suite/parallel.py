"""The only module that talks to MPI.

`World` wraps ``mpi4py.MPI.COMM_WORLD`` when mpi4py is importable and falls
back to a single-process world otherwise, so kernels and tests never need
MPI. Everything that crosses ranks goes through the few collectives below.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
ABORT_GRACE_SECONDS = 0.5  # before MPI_Abort: let the launcher forward the last lines


@dataclass
class World:
    """Rank, size and the collectives the runner needs."""

    rank: int
    size: int
    local_rank: int
    local_size: int
    library: str
    _comm: Any = None

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self._comm is not None:
            self._comm.Barrier()

    def bcast(self, value: T, root: int = 0) -> T:
        if self._comm is None:
            return value
        return self._comm.bcast(value, root=root)

    def allgather(self, value: T) -> list[T]:
        if self._comm is None:
            return [value]
        return self._comm.allgather(value)

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is true on any rank."""
        return any(self.allgather(bool(flag)))

    def abort(self, code: int) -> None:
        """End every rank of the job now (no collective can hang afterwards)."""
        sys.stdout.flush()
        sys.stderr.flush()
        if self._comm is not None and self.size > 1:
            # The launcher forwards our stderr through its proxy; an immediate Abort can
            # kill the proxy before it has passed on the error line (seen with MPICH's
            # hydra under load). A moment's grace keeps the one line that says why.
            time.sleep(ABORT_GRACE_SECONDS)
            self._comm.Abort(code)
        os._exit(code)

    def agree(self, fn: Callable[[], T]) -> T:
        """Run `fn` on every rank; if it raises on any rank, raise on all.

        Each rank raises its own exception when it has one, otherwise a
        RuntimeError naming the first failing rank, so no rank proceeds to a
        collective that the failing ranks will never reach.
        """
        try:
            result, error = fn(), None
        except Exception as exc:
            result, error = None, exc
        messages = self.allgather(None if error is None else f"{error}")
        if error is not None:
            raise error
        for rank, message in enumerate(messages):
            if message is not None:
                raise RemoteRankError(rank, message)
        return result  # type: ignore[return-value]


class RemoteRankError(RuntimeError):
    """Another rank failed; this rank stops with it."""

    def __init__(self, rank: int, message: str) -> None:
        super().__init__(f"rank {rank}: {message}")
        self.rank = rank


def _mpi_library(mpi: Any) -> str:
    try:
        return mpi.Get_library_version().strip().splitlines()[0].strip()
    except Exception:
        return "unknown MPI"


def world(use_mpi: bool = True) -> World:
    """The world of this process: MPI's when available, else a single rank."""
    if use_mpi and os.environ.get("BPSUITE_NO_MPI") != "1":
        try:
            from mpi4py import MPI
        except ImportError:
            MPI = None
        if MPI is not None:
            comm = MPI.COMM_WORLD
            local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
            w = World(
                rank=comm.Get_rank(),
                size=comm.Get_size(),
                local_rank=local.Get_rank(),
                local_size=local.Get_size(),
                library=_mpi_library(MPI),
                _comm=comm,
            )
            local.Free()
            return w
    return World(rank=0, size=1, local_rank=0, local_size=1, library="none")


def mpi_library_version() -> str:
    """MPI library name without initialising a world, or "none"."""
    try:
        from mpi4py import MPI
    except ImportError:
        return "none"
    return _mpi_library(MPI)
