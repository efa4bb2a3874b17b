"""Alias of ``mpisweep.results`` (the reader moved into the ``mpisweep`` package): old
scripts that ``import mpisweep_results`` get that module itself. New code:
``import mpisweep; mpisweep.load(path)``."""
import sys

from mpisweep import results as _results

sys.modules[__name__] = _results
