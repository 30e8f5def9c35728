"""barren-plateau-suite: measure barren plateaus of parametrized quantum circuits.

The package is organised along the one-way data flow of a run::

    spec -> tasks -> work units -> (each rank) parameters -> circuits + shifts
         -> Aer -> gradients -> shard (HDF5) -> merged results.h5

`suite.parallel` is the only module that imports mpi4py.
"""

__version__ = "0.1.0"

SCHEMA = "bpsuite/1"
