"""Read an mpisweep results file (HDF5) into pandas and numpy.

No build step: put this folder on ``sys.path`` (or copy the file) and::

    import mpisweep_results as msr
    df = msr.load("sweep.h5")                 # one row per task
    loss = msr.grid_array("sweep.h5", "loss")  # N-d array over the grid axes

Needs h5py, numpy and pandas; :func:`grid_array` returns an ``xarray.DataArray`` when xarray
is installed, a numpy array otherwise (:func:`grid_axes` then tells what each dimension is).
The layout read here is described in ``docs/hdf5-layout.md``.

Unfinished files
    A file whose sweep was killed, or that a sweep is still writing, reads like any other:
    rows of tasks that have not settled are *pending*, and their results are missing (NaN,
    ``<NA>`` or ``None``, see :func:`load`). HDF5 1.10 locks a file while a sweep writes it;
    this module opens files with locking turned off for its own reads (h5py's
    ``locking=False``, which h5py 3.5+ with HDF5 1.10.7+ support; else the variable
    ``HDF5_USE_FILE_LOCKING=FALSE`` during the open only), so it can read a running sweep
    while sweeps started from the same Python process still lock their files. A read that
    races with a flush of the sweep is retried a few times.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import h5py
import numpy as np
import pandas as pd

__all__ = ["load", "grid_array", "grid_axes", "open_results", "read_spec", "Dim", "UnknownMetric",
           "STATUS_NAMES", "TASK_COLUMNS"]

#: The values of /tasks/status, in code order (pending=0, done=1, failed=2).
STATUS_NAMES = ("pending", "done", "failed")

#: The /tasks datasets, in the order :func:`load` puts them after params and results.
TASK_COLUMNS = ("status", "attempts", "worker", "device", "node", "start", "wall_s",
                "exit_code", "error")

_READ_RETRIES = 5


class UnknownMetric(KeyError):
    """grid_array() was asked for a metric the file does not have (not retried)."""

    def __str__(self):
        return self.args[0]


def open_results(path: str) -> h5py.File:
    """Opens a results file read-only, without HDF5 file locking (so a running sweep's file
    opens too). Raises ValueError when the file is not an mpisweep results file."""
    try:
        f = h5py.File(path, "r", locking=False)
    except (TypeError, ValueError):
        # h5py < 3.5 has no locking argument, and HDF5 < 1.10.7 no API for it (ValueError);
        # both read HDF5_USE_FILE_LOCKING when a file opens. Set it for this open only, so
        # that sweeps started later from this process still lock their files.
        f = _open_with_locking_variable(path)
    fmt = _text(f.attrs.get("format", ""))
    if fmt != "mpisweep":
        f.close()
        raise ValueError(f"{path}: not an mpisweep results file (root attribute 'format' is "
                         f"{fmt!r}, expected 'mpisweep')")
    return f


def _open_with_locking_variable(path):
    before = os.environ.get("HDF5_USE_FILE_LOCKING")
    os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
    try:
        return h5py.File(path, "r")
    finally:
        if before is None:
            del os.environ["HDF5_USE_FILE_LOCKING"]
        else:
            os.environ["HDF5_USE_FILE_LOCKING"] = before


def _retrying(path, read):
    """Runs read(open file); a sweep flushing the file meanwhile can make a read fail, so
    retry a few times before giving up."""
    for attempt in range(_READ_RETRIES):
        try:
            with open_results(path) as f:
                return read(f)
        except UnknownMetric:
            raise
        except (OSError, KeyError, RuntimeError):
            if attempt == _READ_RETRIES - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _column(ds) -> np.ndarray:
    """A dataset as numpy: strings as str objects, everything else as stored."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.array(ds.asstr()[:], dtype=object)
    return ds[:]


def read_spec(path_or_file) -> Optional[dict]:
    """The grid as written by the sweep (root attribute ``spec``, JSON of Grid::to_json:
    ``{"axes": [{"name", "kind", "type", "size", ...}], "zip": [[names]]}``), or None when
    the file has none."""
    if isinstance(path_or_file, h5py.File):
        raw = path_or_file.attrs.get("spec")
        return json.loads(_text(raw)) if raw is not None and _text(raw) else None
    return _retrying(path_or_file, read_spec)


# ---------------------------------------------------------------------------- DataFrame

def _status_codes(f) -> np.ndarray:
    n = int(f.attrs["n_tasks"])
    if "tasks/status" not in f:
        return np.zeros(n, dtype=np.int8)
    return f["tasks/status"][:].astype(np.int8)


def _read_frame(f, arrays: str) -> pd.DataFrame:
    n = int(f.attrs["n_tasks"])
    status = _status_codes(f)
    done = status == 1
    columns: Dict[str, object] = {}

    # As `mpisweep export`: a result named like a param or a task column is results/<name>;
    # a task column named like a param is tasks/<name>.
    reserved = set(f["params"]) | set(TASK_COLUMNS)

    def put(name, values, group):
        taken = name in columns or (group == "results" and name in reserved)
        columns[f"{group}/{name}" if taken else name] = values

    for name in f["params"]:
        put(name, _column(f["params"][name]), "params")

    results = f["results"] if "results" in f else {}
    for name in results:
        ds = results[name]
        values = _column(ds)
        if values.ndim == 2:
            values = values.astype(float)
            values[~done, :] = np.nan
            if arrays == "list":
                put(name, [row for row in values], "results")
            else:
                for k in range(values.shape[1]):
                    put(f"{name}[{k}]", values[:, k], "results")
        elif values.dtype == object:  # strings: None where there is no result
            values = values.copy()
            values[~done] = None
            put(name, values, "results")
        elif np.issubdtype(values.dtype, np.integer):
            put(name, pd.arrays.IntegerArray(values.astype(np.int64), ~done), "results")
        else:
            values = values.astype(float)
            values[~done] = np.nan
            put(name, values, "results")

    tasks = f["tasks"] if "tasks" in f else {}
    for name in TASK_COLUMNS:
        if name == "status":
            values = pd.Categorical.from_codes(status, categories=list(STATUS_NAMES))
        elif name not in tasks:
            continue
        elif name == "node":
            hosts = _column(f["nodes"]) if "nodes" in f else np.array([], dtype=object)
            index = tasks["node"][:]
            names = np.array([hosts[i] if 0 <= i < len(hosts) else None for i in index],
                             dtype=object)
            values = names
        elif name == "start":
            values = pd.to_datetime(tasks["start"][:], unit="s", utc=True)
        else:
            values = _column(tasks[name])
        put(name, values, "tasks")

    df = pd.DataFrame(columns, index=pd.RangeIndex(n, name="task"))
    return df


def load(path: str, arrays: str = "columns") -> pd.DataFrame:
    """The results file as a DataFrame, one row per task, indexed by task id (``task``).

    Columns, in this order:

    * **params**: one column per grid axis, in grid order, with the axis type (int64,
      float64, bool, str).
    * **results**: one column per /results dataset. Only rows whose task is done hold a
      value; pending and failed rows read NaN (float), ``<NA>`` (int columns become pandas'
      nullable ``Int64``) or None (strings). An array result ``[N, k]`` becomes k float
      columns ``name[0]`` .. ``name[k-1]`` with ``arrays="columns"`` (the default), or one
      column holding a numpy array per row with ``arrays="list"``.
    * **task info**: ``status`` (categorical: pending, done, failed), ``attempts``,
      ``worker`` (MPI rank), ``device`` (CUDA ordinal, -1 = CPU), ``node`` (host name from
      /nodes, None while pending), ``start`` (UTC timestamps, NaT while pending), ``wall_s``,
      ``exit_code``, ``error`` ("" unless failed).

    Names follow ``mpisweep export --csv``: a result named like a param or a task column is
    called ``results/<name>`` (a result ``seed`` beside a param ``seed``), and a task column
    named like a param ``tasks/<name>``.
    """
    if arrays not in ("columns", "list"):
        raise ValueError(f"arrays={arrays!r}: expected 'columns' or 'list'")
    return _retrying(path, lambda f: _read_frame(f, arrays))


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


def _dims_from_spec(spec: dict, params: Dict[str, np.ndarray], n: int) -> List[Dim]:
    axes = spec.get("axes", [])
    by_name = {a["name"]: a for a in axes}
    group_of = {}
    for group in spec.get("zip", []):
        for name in group:
            group_of[name] = group
    dims: List[Dim] = []
    seen = set()
    for axis in axes:  # a zip group sits where its first axis was declared
        name = axis["name"]
        if name in seen:
            continue
        order = [a["name"] for a in axes]
        members = sorted(group_of.get(name) or [name], key=order.index)
        seen.update(members)
        dims.append(Dim(name=members[0], size=int(axis["size"]),
                        coords={m: None for m in members},
                        logspace=[m for m in members if by_name[m].get("kind") == "logspace"]))
    stride = n
    for dim in dims:  # nested-loop order: the last dimension varies fastest
        stride //= max(dim.size, 1)
        for m in dim.coords:
            dim.coords[m] = params[m][0: stride * dim.size: stride] if stride else params[m][:0]
    return dims


def _dims_from_params(params: Dict[str, np.ndarray], n: int) -> List[Dim]:
    """Without a spec: an axis's stride is the first row where its value changes; axes with
    equal strides vary together (a zip group); the radix of a dimension is the ratio of the
    strides around it."""
    strides = {}
    for name, values in params.items():
        change = np.nonzero(values != values[0])[0] if n else np.array([])
        strides[name] = int(change[0]) if len(change) else n
    order = sorted(dict.fromkeys(strides.values()), reverse=True)
    dims: List[Dim] = []
    previous = n
    for s in order:
        members = [m for m in params if strides[m] == s]
        size = previous // s if s else 0
        if s == n and size == 1 and len(members) > 1:  # constant axes: one dimension each
            for m in members:
                dims.append(Dim(name=m, size=1, coords={m: params[m][:1]}))
        else:
            dims.append(Dim(name=members[0], size=size,
                            coords={m: params[m][0: s * size: s] for m in members}))
        previous = s
    if int(np.prod([d.size for d in dims])) != n:
        raise ValueError("cannot tell the grid from /params (no 'spec' attribute and the "
                         "params do not form a nested-loop product)")
    return dims


def _read_dims(f) -> List[Dim]:
    n = int(f.attrs["n_tasks"])
    params = {k: _column(f["params"][k]) for k in f["params"]}
    spec = read_spec(f)
    if spec and spec.get("axes"):
        return _dims_from_spec(spec, params, n)
    return _dims_from_params(params, n)


def grid_axes(path: str) -> List[Dim]:
    """The dimensions of :func:`grid_array`, in order (the grid's axes, zip groups as one)."""
    return _retrying(path, _read_dims)


def _metric_values(f, metric: str, status: np.ndarray) -> np.ndarray:
    """The metric as float (or object, for strings) with missing rows masked: results of
    tasks not done, task info of pending tasks."""
    if "results" in f and metric in f["results"]:
        values, keep = _column(f["results"][metric]), status == 1
    elif metric == "status":
        return status.astype(float)
    elif "tasks" in f and metric in f["tasks"] and metric not in ("error",):
        values, keep = _column(f["tasks"][metric]), status != 0
    elif metric in f["params"]:
        values, keep = _column(f["params"][metric]), np.ones_like(status, dtype=bool)
    else:
        have = sorted(f["results"]) if "results" in f else []
        raise UnknownMetric(f"no metric '{metric}' in {f.filename} (results: "
                       f"{', '.join(have) or 'none yet'}; or a task column: status, attempts, "
                       f"worker, device, start, wall_s, exit_code)")
    if values.dtype == object:
        values = values.copy()
        values[~keep] = None
        return values
    values = values.astype(float)
    values[~keep] = np.nan
    return values


def grid_array(path: str, metric: str, xarray: Optional[bool] = None):
    """The metric over the grid: an array with one dimension per grid axis (a zip group is
    one dimension), in grid order, shaped by the axis sizes; an array result ``[N, k]`` adds
    a last dimension ``<metric>_index`` of size k.

    ``metric`` is a /results name, or a /tasks column (``status`` gives the codes 0 pending,
    1 done, 2 failed; ``wall_s``, ``attempts`` ...). Numbers come back as float64 with NaN
    where there is no value (a result of a task that is pending or failed; task info of a
    pending task); string results as objects with None.

    Returns an ``xarray.DataArray`` with the axis values as coordinates (a zip group's other
    axes as extra coordinates along its dimension) when xarray is installed and ``xarray``
    is not False, else a numpy array (see :func:`grid_axes` for its dimensions).
    """
    def read(f):
        status = _status_codes(f)
        return _read_dims(f), _metric_values(f, metric, status)

    dims, values = _retrying(path, read)
    shape = [d.size for d in dims] + list(values.shape[1:])
    array = values.reshape(shape)
    if xarray is False:
        return array
    try:
        import xarray as xr
    except ImportError:
        if xarray:
            raise
        return array
    names = [d.name for d in dims] + ([f"{metric}_index"] if values.ndim == 2 else [])
    coords = {m: (d.name, v) for d in dims for m, v in d.coords.items()}
    return xr.DataArray(array, dims=names, coords=coords, name=metric)
