"""Read an mpisweep results file (HDF5) into pandas and numpy.

Part of the ``mpisweep`` package (``mpisweep.load`` and ``mpisweep.grid_array`` are these);
it needs no build step: with ``python/`` on ``sys.path`` (or the package installed)::

    import mpisweep
    df = mpisweep.load("sweep.h5")                 # one row per task
    loss = mpisweep.grid_array("sweep.h5", "loss")  # N-d array over the grid axes

``import mpisweep_results`` still gives this module (a thin alias kept for old scripts).

Needs h5py, numpy and pandas; :func:`grid_array` returns an ``xarray.DataArray`` when xarray
is installed, a numpy array otherwise (:func:`grid_axes` then tells what each dimension is).
The layout read here is described in ``docs/hdf5-layout.md``.

Unfinished files
    A file whose sweep was killed, or that a sweep is still writing, reads like any other:
    rows of tasks that have not settled are *pending*, and their results are missing (NaN,
    ``<NA>`` or ``None``, see :func:`load`). A sweep writes each batch of results to its
    journal ``<file>.journal`` before the HDF5 file; :func:`load` and :func:`grid_array`
    lay the journal's records that the file may not hold yet over its rows, as
    ``mpisweep status`` and ``export`` do, so they show the same tasks done after a kill
    (``journal=False`` reads the HDF5 file alone). HDF5 1.10 locks a file while a sweep writes it;
    this module opens files with locking turned off for its own reads (h5py's
    ``locking=False``, which h5py 3.5+ with HDF5 1.10.7+ support; else the variable
    ``HDF5_USE_FILE_LOCKING=FALSE`` during the open only), so it can read a running sweep
    while sweeps started from the same Python process still lock their files. A read that
    races with a flush of the sweep is retried a few times.
"""
from __future__ import annotations

import json
import os
import struct
import time
import warnings
import zlib
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


def _read_with_journal(path, gather, journal):
    """(what gather(open file) read, the journal's overlay or None), read as `mpisweep status`
    reads: the journal before the file (its last Commit tells which records the file may
    still be in the middle of writing), the file, then the journal again, whose records from
    that Commit on are laid over what the file held."""
    for _ in range(_READ_RETRIES):
        before = _scan_journal(path) if journal else None
        raw, file_id, n = _retrying(path, lambda f: (gather(f), int(f.attrs.get("journal_id", 0)),
                                                      int(f.attrs["n_tasks"])))
        if not journal:
            return raw, None
        after = _scan_journal(path)
        if before is not None and after is None:
            continue  # the sweep finished and removed its journal while we read: read again
        if after is None:
            return raw, None
        if after.file_id != file_id:
            warnings.warn(f"{_journal_path(path)}: ignored, it belongs to another file at this "
                          f"path (journal_id {after.file_id}, the file's is {file_id})",
                          stacklevel=3)
            return raw, None
        return raw, after.overlay(before.committed_end if before is not None else 0, n)
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


# ---------------------------------------------------------------------------- journal

# The write-ahead journal beside a results file, <file>.journal (byte format in
# docs/hdf5-layout.md): every flush appends a Records frame, writes the rows to the HDF5 file,
# then appends a Commit frame. Records after the last Commit may not be in the file yet.
_JOURNAL_MAGIC = b"MPSWJRN1"
_JOURNAL_VERSION = 1
_FRAME_MAGIC = 0x4A57534D
_FRAME_HEADER = struct.Struct("<IBII")  # magic, kind (1 Records, 2 Commit), length, crc32
_RECORDS, _COMMIT = 1, 2
_RECORD_FIXED = struct.Struct("<QBiii")  # id, status, attempts, worker, device
_RECORD_TIMES = struct.Struct("<ddi")    # start, wall_s, exit_code
_U32 = struct.Struct("<I")


def _journal_path(path: str) -> str:
    return path + ".journal"


class _JournalMalformed(ValueError):
    pass


class _Payload:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def get(self, fmt: struct.Struct):
        if len(self.data) - self.at < fmt.size:
            raise _JournalMalformed("ends inside a field")
        values = fmt.unpack_from(self.data, self.at)
        self.at += fmt.size
        return values

    def text(self) -> str:
        (n,) = self.get(_U32)
        if len(self.data) - self.at < n:
            raise _JournalMalformed("ends inside a string")
        s = self.data[self.at:self.at + n].decode("utf-8", errors="replace")
        self.at += n
        return s


_RESULT_VALUE = {0: struct.Struct("<d"), 1: struct.Struct("<q")}


def _decode_records(payload: bytes):
    """The records of one Records frame: (id, status, attempts, worker, device, node, start,
    wall_s, exit_code, error, [(name, value)]), a value being float, int, str or a float64
    numpy array."""
    b = _Payload(payload)
    out = []
    for _ in range(b.get(_U32)[0]):
        task, status, attempts, worker, device = b.get(_RECORD_FIXED)
        if status not in (1, 2):
            raise _JournalMalformed(f"record status {status}")
        node = b.text()
        start, wall_s, exit_code = b.get(_RECORD_TIMES)
        error = b.text()
        results = []
        for _ in range(b.get(_U32)[0]):
            name = b.text()
            (kind,) = b.get(struct.Struct("<B"))
            if kind in _RESULT_VALUE:
                (value,) = b.get(_RESULT_VALUE[kind])
            elif kind == 2:
                value = b.text()
            elif kind == 3:
                (k,) = b.get(_U32)
                if len(b.data) - b.at < 8 * k:
                    raise _JournalMalformed("ends inside an array")
                value = np.frombuffer(b.data, dtype="<f8", count=k, offset=b.at).astype(float)
                b.at += 8 * k
            else:
                raise _JournalMalformed(f"result type {kind}")
            results.append((name, value))
        out.append((task, status, attempts, worker, device, node, start, wall_s, exit_code,
                    error, results))
    if b.at != len(b.data):
        raise _JournalMalformed("bytes after its records")
    return out


@dataclass
class _JournalScan:
    path: str
    file_id: int
    data: bytes
    frames: List[tuple]   # (kind, offset, end) of every valid frame, in order
    committed_end: int    # offset after the last Commit frame (0 without one)

    def overlay(self, start: int, n: int) -> "_Overlay":
        """The records of every Records frame at offset >= start, in order."""
        records = []
        for kind, offset, end in self.frames:
            if kind != _RECORDS or offset < start:
                continue
            try:
                records += _decode_records(self.data[offset + _FRAME_HEADER.size:end])
            except _JournalMalformed as e:  # its CRC matched: not a torn write
                warnings.warn(f"{self.path}: a records frame at offset {offset} is malformed "
                              f"({e}); the journal is read up to it", stacklevel=4)
                break
        return _Overlay([r for r in records if r[0] < n])


def _scan_journal(path: str) -> Optional[_JournalScan]:
    """The valid frames of the journal beside `path`, or None when there is none or its
    header cannot be read (as `mpisweep status`: the file alone is what there is). A frame
    cut short or with a bad magic or CRC ends the journal (a write torn by a kill)."""
    jpath = _journal_path(path)
    try:
        with open(jpath, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 16 or data[:8] != _JOURNAL_MAGIC:
        return None
    length, crc = struct.unpack_from("<II", data, 8)
    header = data[16:16 + length]
    if len(header) < length or zlib.crc32(header) != crc or len(header) < 20:
        return None
    version, _, file_id = struct.unpack_from("<IQQ", header, 0)
    if version != _JOURNAL_VERSION:
        warnings.warn(f"{jpath}: journal version {version}, this module reads version "
                      f"{_JOURNAL_VERSION}: ignored", stacklevel=4)
        return None
    frames, committed_end, at = [], 0, 16 + length
    view = memoryview(data)
    while len(data) - at >= _FRAME_HEADER.size:
        magic, kind, length, crc = _FRAME_HEADER.unpack_from(data, at)
        end = at + _FRAME_HEADER.size + length
        if magic != _FRAME_MAGIC or kind not in (_RECORDS, _COMMIT) or end > len(data):
            break
        payload = view[at + _FRAME_HEADER.size:end]
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            break
        frames.append((kind, at, end))
        if kind == _COMMIT:
            committed_end = end
        at = end
    return _JournalScan(jpath, file_id, data, frames, committed_end)


# What a task column holds for a row no record has touched (as a new results file has).
_TASK_DEFAULTS = {"status": (np.int8, 0), "attempts": (np.int32, 0), "worker": (np.int32, -1),
                  "device": (np.int32, -1), "node": (np.int32, -1), "start": (np.float64, np.nan),
                  "wall_s": (np.float64, np.nan), "exit_code": (np.int32, 0), "error": (object, "")}


class _Overlay:
    """Journal records laid over columns read from the file, as `mpisweep status` lays them
    (src/cli/journal_overlay.cpp): a later record of a task replaces its task info; a result
    goes into the column of its name, which a result not in the file yet creates with the type
    the file would give it (float64, int64, str, or float64 [N, k] for an array); a value whose
    type does not fit the column is left out (an int goes into a float column as a float)."""

    def __init__(self, records):
        self.records = records
        if records:  # the last record of each task wins
            ids = np.array([r[0] for r in records], dtype=np.int64)
            _, last = np.unique(ids[::-1], return_index=True)
            self.last = len(ids) - 1 - last
            self.rows = ids[self.last]
        else:
            self.last = self.rows = np.array([], dtype=np.int64)

    def __len__(self):
        return len(self.records)

    def tasks(self, tasks: Dict[str, np.ndarray], nodes: List[str], n: int):
        """The task columns (and the host names in /nodes) with the records laid over."""
        if not self.records:
            return tasks, nodes
        out = dict(tasks)
        nodes = list(nodes)
        index_of = {host: i for i, host in enumerate(nodes)}
        picked = [self.records[i] for i in self.last]
        node_index = []
        for r in picked:
            host = r[5]
            if host and host not in index_of:
                index_of[host] = len(nodes)
                nodes.append(host)
            node_index.append(index_of[host] if host else -1)
        fields = {"status": [r[1] for r in picked], "attempts": [r[2] for r in picked],
                  "worker": [r[3] for r in picked], "device": [r[4] for r in picked],
                  "node": node_index, "start": [r[6] for r in picked],
                  "wall_s": [r[7] for r in picked], "exit_code": [r[8] for r in picked],
                  "error": [r[9] for r in picked]}
        for name, values in fields.items():
            dtype, default = _TASK_DEFAULTS[name]
            column = out.get(name)
            column = np.full(n, default, dtype=dtype) if column is None else column.copy()
            column[self.rows] = np.array(values, dtype=column.dtype)
            out[name] = column
        return out, nodes

    def results(self, results: Dict[str, np.ndarray], n: int, only: Optional[str] = None):
        """The result columns with the records' results laid over, new ones after the file's
        (in the order the journal first names them); only the column `only` when given."""
        out = dict(results)
        copied = set()
        for r in self.records:
            row = r[0]
            for name, value in r[10]:
                if only is not None and name != only:
                    continue
                column = out.get(name)
                if column is None:
                    column = out[name] = _new_result_column(value, n)
                    copied.add(name)
                elif name not in copied:
                    column = out[name] = column.copy()
                    copied.add(name)
                _set_value(column, row, value)
        return out


def _new_result_column(value, n: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return np.full((n, len(value)), np.nan)
    if isinstance(value, str):
        return np.full(n, "", dtype=object)
    if isinstance(value, int):
        return np.zeros(n, dtype=np.int64)
    return np.full(n, np.nan)


def _set_value(column: np.ndarray, row: int, value) -> None:
    if isinstance(value, np.ndarray):
        if column.ndim == 2 and column.shape[1] == len(value):
            column[row, :] = value
    elif column.ndim != 1:
        return
    elif isinstance(value, str):
        if column.dtype == object:
            column[row] = value
    elif isinstance(value, int):
        if column.dtype != object:
            column[row] = value  # into a float column as a float
    elif column.dtype.kind == "f":
        column[row] = value


# ---------------------------------------------------------------------------- DataFrame

def _gather_table(f) -> dict:
    """Every column of the file as stored (strings as str objects; /tasks/node as indices
    into /nodes)."""
    tasks = f["tasks"] if "tasks" in f else {}
    return {
        "n": int(f.attrs["n_tasks"]),
        "params": {name: _column(f["params"][name]) for name in f["params"]},
        "results": {name: _column(ds) for name, ds in (f["results"].items() if "results" in f else [])},
        "tasks": {name: _column(tasks[name]) for name in TASK_COLUMNS if name in tasks},
        "nodes": list(_column(f["nodes"])) if "nodes" in f else [],
    }


def _read_frame(table: dict, overlay: Optional["_Overlay"], arrays: str) -> pd.DataFrame:
    n = table["n"]
    tasks, nodes, results = table["tasks"], table["nodes"], table["results"]
    if overlay is not None:
        tasks, nodes = overlay.tasks(tasks, nodes, n)
        results = overlay.results(results, n)
    status = (tasks["status"].astype(np.int8) if "status" in tasks
              else np.zeros(n, dtype=np.int8))
    done = status == 1
    columns: Dict[str, object] = {}

    # As `mpisweep export`: a result named like a param or a task column is results/<name>;
    # a task column named like a param is tasks/<name>.
    reserved = set(table["params"]) | set(TASK_COLUMNS)

    def put(name, values, group):
        taken = name in columns or (group == "results" and name in reserved)
        columns[f"{group}/{name}" if taken else name] = values

    for name, values in table["params"].items():
        put(name, values, "params")

    for name, values in results.items():
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

    for name in TASK_COLUMNS:
        if name == "status":
            values = pd.Categorical.from_codes(status, categories=list(STATUS_NAMES))
        elif name not in tasks:
            continue
        elif name == "node":
            values = np.array([nodes[i] if 0 <= i < len(nodes) else None for i in tasks["node"]],
                              dtype=object)
        elif name == "start":
            values = pd.to_datetime(tasks["start"], unit="s", utc=True)
        else:
            values = tasks[name]
        put(name, values, "tasks")

    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="task"))


def load(path: str, arrays: str = "columns", journal: bool = True) -> pd.DataFrame:
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

    With ``journal=True`` (the default) the records of the sweep's journal
    (``<path>.journal``) that the file may not hold yet, those after its last Commit, are laid
    over the file's rows, as ``mpisweep status``/``export`` do: a killed or running sweep
    reads as those commands show it (task info and results of the journaled tasks; a result
    the file has no column for yet becomes a new column after the file's). ``journal=False``
    reads the HDF5 file alone. A journal whose ``journal_id`` differs from the file's is
    ignored with a warning; a torn tail (a frame cut short by a kill) ends it.
    """
    if arrays not in ("columns", "list"):
        raise ValueError(f"arrays={arrays!r}: expected 'columns' or 'list'")
    table, overlay = _read_with_journal(path, _gather_table, journal)
    return _read_frame(table, overlay, arrays)


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


def _gather_metric(f, metric: str) -> dict:
    """What grid_array needs from the file: the dimensions, the task status and the columns
    that may hold the metric."""
    tasks = f["tasks"] if "tasks" in f else {}
    results = f["results"] if "results" in f else {}
    wanted = {"status", metric} & set(TASK_COLUMNS)
    return {
        "n": int(f.attrs["n_tasks"]),
        "filename": f.filename,
        "dims": _read_dims(f),
        "result_names": list(results),
        "results": {metric: _column(results[metric])} if metric in results else {},
        "tasks": {name: _column(tasks[name]) for name in wanted if name in tasks},
        "param": _column(f["params"][metric]) if metric in f["params"] else None,
    }


def _metric_values(table: dict, overlay: Optional["_Overlay"], metric: str) -> np.ndarray:
    """The metric as float (or object, for strings) with missing rows masked: results of
    tasks not done, task info of pending tasks."""
    n, tasks, results = table["n"], table["tasks"], table["results"]
    names = list(table["result_names"])
    if overlay is not None:
        tasks, _ = overlay.tasks(tasks, [], n)
        results = overlay.results(results, n, only=metric)
        names += [name for r in overlay.records for name, _ in r[10] if name not in names]
    status = (tasks["status"].astype(np.int8) if "status" in tasks
              else np.zeros(n, dtype=np.int8))
    if metric in results:
        values, keep = results[metric], status == 1
    elif metric == "status":
        return status.astype(float)
    elif metric in tasks and metric not in ("error",):
        values, keep = tasks[metric], status != 0
    elif table["param"] is not None:
        values, keep = table["param"], np.ones_like(status, dtype=bool)
    else:
        names = sorted(dict.fromkeys(names))
        raise UnknownMetric(f"no metric '{metric}' in {table['filename']} (results: "
                            f"{', '.join(names) or 'none yet'}; or a task column: status, "
                            f"attempts, worker, device, start, wall_s, exit_code)")
    if values.dtype == object:
        values = values.copy()
        values[~keep] = None
        return values
    values = values.astype(float)
    values[~keep] = np.nan
    return values


def grid_array(path: str, metric: str, xarray: Optional[bool] = None, journal: bool = True):
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

    ``journal`` as in :func:`load`: the journal's records the file may not hold yet are laid
    over it (``journal=False``: the HDF5 file alone).
    """
    table, overlay = _read_with_journal(path, lambda f: _gather_metric(f, metric), journal)
    dims, values = table["dims"], _metric_values(table, overlay, metric)
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
