"""mpisweep for Python: run a function over a parameter grid on MPI ranks (``run``, on the
C++ engine), read the results file (``load``, ``grid_array``) and plot it (``mpisweep.plot``).

The reader needs h5py, numpy and pandas; it is imported on first use, so ``import mpisweep``
stays cheap on ranks that never read a file. See docs/python.md.
"""
import importlib

from .sweep import Cancelled, SpecError, run

# Names of mpisweep.results offered at the top level, imported when first asked for.
_RESULTS_NAMES = ("load", "grid_array", "grid_axes", "open_results", "read_spec", "Dim",
                  "UnknownMetric", "UnreadableResults", "STATUS_NAMES", "TASK_COLUMNS")

__all__ = ["run", "Cancelled", "SpecError"] + list(_RESULTS_NAMES) + ["results", "plot"]


def __getattr__(name):
    if name in _RESULTS_NAMES:
        return getattr(importlib.import_module(".results", __name__), name)
    if name in ("results", "plot"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'mpisweep' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
