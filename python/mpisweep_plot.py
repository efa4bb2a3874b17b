#!/usr/bin/env python3
"""Alias of ``mpisweep.plot`` (the plot script moved into the ``mpisweep`` package): both
``python3 python/mpisweep_plot.py sweep.h5 --metric loss --x lr`` and
``import mpisweep_plot`` keep working. New code: ``python3 -m mpisweep.plot ...``."""
import sys

from mpisweep import plot as _plot

if __name__ == "__main__":
    sys.exit(_plot.main())
sys.modules[__name__] = _plot
