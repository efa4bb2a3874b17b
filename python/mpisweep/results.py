"""Read an mpisweep results file (HDF5) into pandas and numpy.

Part of the ``mpisweep`` package (``mpisweep.load`` and ``mpisweep.grid_array`` are these);
it needs no build step: with ``python/`` on ``sys.path`` (or the package installed)::

    import mpisweep
    df = mpisweep.load("sweep.h5")                 # one row per settled task
    loss = mpisweep.grid_array("sweep.h5", "loss")  # N-d array over the grid axes

``import mpisweep_results`` still gives this module (a thin alias kept for old scripts).

Needs h5py, numpy and pandas; :func:`grid_array` returns an ``xarray.DataArray`` when xarray
is installed, a numpy array otherwise (:func:`grid_axes` then tells what each dimension is).
The layout read here is described in ``docs/hdf5-layout.md``; this reader mirrors the C++ one
that ``mpisweep status`` uses (src/store/results_reader.hpp).

Sizes
    A file stores the rows of the tasks that settled (done or failed), not the grid:
    :func:`load` reads those rows only (``pending=True`` adds one row per pending task), so
    it costs what the sweep did, whatever the grid's size. :func:`grid_array` is dense over
    the grid and refuses, with a message, a grid too large for memory.

Unfinished files
    A sweep writes each batch of results to its journal ``<file>.journal`` before the HDF5
    file; :func:`load` and :func:`grid_array` lay the journal's records that the file may not
    hold yet over its rows, as ``mpisweep status`` and ``export`` do, so they show the same
    tasks done after a kill (``journal=False`` reads the HDF5 file alone); a file that cannot
    be read (torn by a kill) is read from its journal alone when the journal holds every record
    since the file was made. Files open with HDF5 locking turned off for this reader's own
    reads, so a running sweep's file can be read; a read racing with a flush is retried.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import h5py
import numpy as np
import pandas as pd

from . import _rows
from ._grid import Grid
from ._journal import UnreadableResults
from ._rows import TASK_COLUMNS, read as _read

__all__ = ["load", "grid_array", "grid_axes", "open_results", "read_spec", "Dim", "UnknownMetric",
           "UnreadableResults", "STATUS_NAMES", "TASK_COLUMNS"]

#: The values of /tasks/status, in code order (pending=0, done=1, failed=2).
STATUS_NAMES = ("pending", "done", "failed")


class UnknownMetric(KeyError):
    """grid_array() was asked for a metric the file does not have."""

    def __str__(self):
        return self.args[0]


def open_results(path: str) -> h5py.File:
    """Opens a results file read-only, without HDF5 file locking (so a running sweep's file
    opens too). Raises ValueError when the file is not an mpisweep results file."""
    f = _rows.open_results(path)
    fmt = _rows.text(f.attrs.get("format", ""))
    if fmt != "mpisweep":
        f.close()
        raise ValueError(f"{path}: not an mpisweep results file (root attribute 'format' is "
                         f"{fmt!r}, expected 'mpisweep')")
    return f


def read_spec(path_or_file) -> Optional[dict]:
    """The grid as written by the sweep (root attribute ``spec``, JSON of Grid::to_json:
    ``{"axes": [{"name", "kind", "type", "size", ...}], "zip": [[names]]}``), or None when
    the file has none."""
    if isinstance(path_or_file, h5py.File):
        raw = path_or_file.attrs.get("spec")
        return json.loads(_rows.text(raw)) if raw is not None and _rows.text(raw) else None
    with open_results(path_or_file) as f:
        return read_spec(f)


def _available_bytes() -> int:
    """Memory this process may fill: MemAvailable, else half the physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _check_fits(what: str, cells: int, bytes_per_cell: int, settled: int, max_bytes: Optional[int]):
    need = cells * bytes_per_cell
    limit = max_bytes if max_bytes is not None else _available_bytes()
    if need > limit:
        raise MemoryError(f"{what}: {cells:,} grid points at {bytes_per_cell} bytes each need "
                          f"{_human(need)}, more than the {_human(limit)} allowed (free memory, or "
                          f"max_bytes): read the {settled:,} settled tasks with load() instead")


# ---------------------------------------------------------------------------- DataFrame

def _with_pending(s: _rows.Settled) -> _rows.Settled:
    """`s` with a row for every task of the grid (pending ones: params, default task info)."""
    from ._overlay import _missing
    ids = np.arange(s.n, dtype=np.int64)
    out = _rows.Settled(s.path, s.n, s.grid, s.attrs, ids=ids, kinds=dict(s.kinds), nodes=s.nodes)
    out.params = s.grid.params(ids.astype(np.uint64))
    for name, (dtype, default) in _rows.TASK_DEFAULTS.items():
        column = np.full(s.n, default, dtype=dtype)
        column[s.ids] = s.tasks[name]
        out.tasks[name] = column
    for name, values in s.results.items():
        column = _missing(s.kinds[name], s.n, values.shape[1] if values.ndim == 2 else 0)
        column[s.ids] = values
        out.results[name] = column
    return out


def _result_column(values: np.ndarray, kind: str, done: np.ndarray):
    """A result column with no value where the task is not done."""
    if kind == "array":
        values = values.astype(float)
        values[~done, :] = np.nan
        return values
    if kind == "list":
        values = values.copy()
        values[~done] = None
        return values
    if kind == "str":
        values = values.copy()
        values[~done] = None
        return values
    if kind == "int":
        return pd.arrays.IntegerArray(values.astype(np.int64), ~done)
    if kind == "bool":
        return pd.arrays.BooleanArray(values.astype(bool), ~done)
    values = values.astype(float)
    values[~done] = np.nan
    return values


def _frame(s: _rows.Settled, arrays: str) -> pd.DataFrame:
    status = s.tasks["status"].astype(np.int8)
    done = status == 1
    columns: Dict[str, object] = {}
    # As `mpisweep export`: a result named like a param or a task column is results/<name>;
    # a task column named like a param is tasks/<name>.
    reserved = set(s.params) | set(TASK_COLUMNS)

    def put(name, values, group):
        taken = name in columns or (group == "results" and name in reserved)
        columns[f"{group}/{name}" if taken else name] = values

    for name, values in s.params.items():
        put(name, values, "params")
    for name, values in s.results.items():
        kind = s.kinds[name]
        values = _result_column(values, kind, done)
        if kind == "array" and arrays == "columns":
            for k in range(values.shape[1]):
                put(f"{name}[{k}]", values[:, k], "results")
        elif kind == "array":
            put(name, list(values), "results")
        else:
            put(name, values, "results")
    nodes = s.nodes
    for name in TASK_COLUMNS:
        values = s.tasks[name]
        if name == "status":
            values = pd.Categorical.from_codes(status, categories=list(STATUS_NAMES))
        elif name == "node":
            values = np.array([nodes[i] if 0 <= i < len(nodes) else None for i in values], dtype=object)
        elif name == "start":
            values = pd.to_datetime(values, unit="s", utc=True)
        put(name, values, "tasks")
    return pd.DataFrame(columns, index=pd.Index(s.ids, name="task"))


def load(path: str, arrays: str = "columns", journal: bool = True, pending: bool = False,
         max_bytes: Optional[int] = None) -> pd.DataFrame:
    """The results file as a DataFrame, one row per settled (done or failed) task, indexed by
    task id (``task``), ascending; ``pending=True`` adds a row for every pending task (params
    and default task info: one row per grid point, refused with a MemoryError when that does
    not fit in ``max_bytes``, by default the memory free).

    Columns, in this order:

    * **params**: one column per grid axis, in grid order, with the axis type (int64,
      float64, bool, str).
    * **results**: one column per /results dataset. Only rows whose task is done hold a
      value; other rows read NaN (float), ``<NA>`` (int and bool columns are pandas' nullable
      ``Int64`` and ``boolean``) or None (strings, variable-length arrays). A fixed-length array
      result ``[N, k]`` becomes k float columns ``name[0]`` .. ``name[k-1]`` with
      ``arrays="columns"`` (the default), or one column holding a numpy array per row with
      ``arrays="list"``; a variable-length array result (a curve that may stop early) is
      always one column holding each row's array at its own length.
    * **task info**: ``status`` (categorical: pending, done, failed), ``attempts``,
      ``worker`` (MPI rank), ``device`` (CUDA ordinal, -1 = CPU), ``node`` (host name from
      /nodes, None while pending), ``start`` (UTC timestamps, NaT while pending), ``wall_s``,
      ``exit_code``, ``error`` ("" unless failed).

    Names follow ``mpisweep export --csv``: a result named like a param or a task column is
    called ``results/<name>``, and a task column named like a param ``tasks/<name>``.

    With ``journal=True`` (the default) the records of the sweep's journal that the file may
    not hold yet are laid over the file's rows, as ``mpisweep status``/``export`` do.
    ``journal=False`` reads the HDF5 file alone. Raises UnreadableResults (a ValueError) for a
    file that cannot be read, with the message ``mpisweep status`` gives.
    """
    if arrays not in ("columns", "list"):
        raise ValueError(f"arrays={arrays!r}: expected 'columns' or 'list'")
    s = _read(path, journal)
    if pending:
        per_row = 8 * (len(s.params) + len(s.results) + len(TASK_COLUMNS))
        _check_fits("load(pending=True)", s.n, per_row, len(s.ids), max_bytes)
        s = _with_pending(s)
    return _frame(s, arrays)


# ---------------------------------------------------------------------------- grid arrays

@dataclass
class Dim:
    """One dimension of :func:`grid_array`: a grid axis, or a zip group of axes that vary
    together (named after its first axis). ``coords`` maps each axis of the dimension to its
    values along it; ``logspace`` names the axes generated by logspace."""
    name: str
    size: int
    coords: Dict[str, np.ndarray] = field(default_factory=dict)
    logspace: List[str] = field(default_factory=list)


def _dims(grid: Grid) -> List[Dim]:
    return [Dim(name=members[0], size=grid.sizes[d], coords=grid.coords(d),
                logspace=[m for m in members if grid.by_name[m].get("kind") == "logspace"])
            for d, members in enumerate(grid.dims)]


def grid_axes(path: str) -> List[Dim]:
    """The dimensions of :func:`grid_array`, in order (the grid's axes, zip groups as one),
    with their values computed from the grid (the file's root attribute ``spec``)."""
    spec = read_spec(path)
    if not spec or not spec.get("axes"):
        raise UnreadableResults(f"'{path}' has no grid (root attribute spec)")
    return _dims(Grid(spec))


def _metric_cells(s: _rows.Settled, metric: str):
    """(values at the settled rows, kind, rows that hold a value) for `metric`."""
    status = s.tasks["status"].astype(np.int8)
    if metric in s.results:
        return s.results[metric], s.kinds[metric], status == 1
    if metric in TASK_COLUMNS and metric not in ("error", "node"):
        return s.tasks[metric], "float", np.ones(len(status), dtype=bool)
    return None, None, None


def grid_array(path: str, metric: str, xarray: Optional[bool] = None, journal: bool = True,
               max_bytes: Optional[int] = None):
    """The metric over the grid: an array with one dimension per grid axis (a zip group is one
    dimension), in grid order, shaped by the axis sizes; an array result adds a last dimension
    ``<metric>_index`` (as long as the longest array: shorter ones, curves that stopped early,
    are padded with NaN).

    ``metric`` is a /results name, a /tasks column (``status`` gives the codes 0 pending,
    1 done, 2 failed; ``wall_s``, ``attempts`` ...) or an axis. Numbers come back as float64
    with NaN where there is no value (a result of a task that is pending or failed; task info
    of a pending task); string results as objects with None. A grid too large for memory
    (``max_bytes``, by default the memory free) raises MemoryError saying so.

    Returns an ``xarray.DataArray`` with the axis values as coordinates (a zip group's other
    axes as extra coordinates along its dimension) when xarray is installed and ``xarray``
    is not False, else a numpy array (see :func:`grid_axes` for its dimensions).
    """
    s = _read(path, journal)
    values, kind, keep = _metric_cells(s, metric)
    if values is None and metric not in s.grid.by_name:
        names = sorted(s.results)
        raise UnknownMetric(f"no metric '{metric}' in {path} (results: {', '.join(names) or 'none yet'}; "
                            f"or a task column: status, attempts, worker, device, start, wall_s, "
                            f"exit_code; or an axis)")
    if kind == "list":
        values = np.array([np.asarray(v, dtype=float) if k else np.zeros(0) for v, k in zip(values, keep)],
                          dtype=object)
        width = max((len(v) for v in values), default=0)
        padded = np.full((len(values), width), np.nan)
        for i, v in enumerate(values):
            padded[i, :len(v)] = v
        values, kind = padded, "array"
    width = values.shape[1] if values is not None and values.ndim == 2 else 1
    _check_fits("grid_array", s.n, 8 * width, len(s.ids), max_bytes)
    if values is None:  # an axis: its value at every point
        cells = s.grid.params(np.arange(s.n, dtype=np.uint64))[metric]
    elif kind == "str":
        cells = np.full(s.n, None, dtype=object)
        cells[s.ids[keep]] = values[keep]
    else:
        cells = np.full((s.n,) + values.shape[1:], np.nan)
        if metric == "status":
            cells[:] = 0
        cells[s.ids[keep]] = values[keep].astype(float)
    dims = _dims(s.grid)
    array = cells.reshape([d.size for d in dims] + list(cells.shape[1:]))
    if xarray is False:
        return array
    try:
        import xarray as xr
    except ImportError:
        if xarray:
            raise
        return array
    names = [d.name for d in dims] + ([f"{metric}_index"] if cells.ndim == 2 else [])
    coords = {m: (d.name, v) for d in dims for m, v in d.coords.items()}
    return xr.DataArray(array, dims=names, coords=coords, name=metric)
