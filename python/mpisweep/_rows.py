"""The settled rows of a results file, as the C++ reader reads them (src/store/results_reader.cpp,
results_file_rows.cpp, results_overlay.cpp): /tasks/status where the file stores it (its
allocated chunks), every column at the done and failed rows, a block at a time, then the
journal's records the file may not hold yet laid over them. What it costs follows the tasks
settled, not the grid: a 10^15-point grid with 10^6 tasks done reads 10^6 rows."""
from __future__ import annotations

import errno
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import h5py
import numpy as np

from ._grid import Grid
from ._journal import Journal, UnreadableResults, read_journal

#: The /tasks datasets, in the order load() puts them after params and results.
TASK_COLUMNS = ("status", "attempts", "worker", "device", "node", "start", "wall_s",
                "exit_code", "error")
# What a task column holds for a row no record has touched (as a new results file has).
TASK_DEFAULTS = {"status": (np.int8, 0), "attempts": (np.int32, 0), "worker": (np.int32, -1),
                 "device": (np.int32, -1), "node": (np.int32, -1), "start": (np.float64, np.nan),
                 "wall_s": (np.float64, np.nan), "exit_code": (np.int32, 0), "error": (object, "")}
FORMAT_VERSIONS = (1, 2)
_BLOCK_ROWS = 1 << 20
_READ_RETRIES = 5


class DamagedFile(Exception):
    """The HDF5 file cannot be read (torn by a kill, truncated): its journal may stand in."""

    def __init__(self, what, foreign=False):
        super().__init__(what)
        self.foreign = foreign


@dataclass
class Settled:
    """The done and failed tasks of a results file, ascending by id, column by column."""
    path: str
    n: int
    grid: Grid
    attrs: dict
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tasks: Dict[str, np.ndarray] = field(default_factory=dict)
    params: Dict[str, np.ndarray] = field(default_factory=dict)
    results: Dict[str, np.ndarray] = field(default_factory=dict)
    kinds: Dict[str, str] = field(default_factory=dict)  # float, int, str, bool, array, list
    nodes: List[str] = field(default_factory=list)
    journal_records: int = 0
    from_journal_only: bool = False
    file_problem: str = ""


def open_results(path: str) -> h5py.File:
    """Opens a results file read-only, without HDF5 file locking (so a running sweep's file
    opens too)."""
    try:
        return h5py.File(path, "r", locking=False)
    except (TypeError, ValueError):
        # h5py < 3.5 has no locking argument, and HDF5 < 1.10.7 no API for it (ValueError);
        # both read HDF5_USE_FILE_LOCKING when a file opens. Set it for this open only, so
        # that sweeps started later from this process still lock their files.
        before = os.environ.get("HDF5_USE_FILE_LOCKING")
        os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
        try:
            return h5py.File(path, "r")
        finally:
            if before is None:
                del os.environ["HDF5_USE_FILE_LOCKING"]
            else:
                os.environ["HDF5_USE_FILE_LOCKING"] = before


def text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check_format(f: h5py.File, path: str) -> int:
    fmt = text(f.attrs.get("format", ""))
    if fmt != "mpisweep":
        raise UnreadableResults(f"'{path}' is not an mpisweep results file (no root attribute "
                                f"format=\"mpisweep\")")
    if "format_version" not in f.attrs:
        raise DamagedFile("it has no root attribute format_version")
    version = int(f.attrs["format_version"])
    if version not in FORMAT_VERSIONS:
        writer = text(f.attrs.get("mpisweep_version", ""))
        raise UnreadableResults(
            f"'{path}' has format_version {version}, which this reader cannot read (it reads "
            f"versions {FORMAT_VERSIONS[0]} to {FORMAT_VERSIONS[-1]}): use "
            f"{'mpisweep ' + writer if writer else 'the mpisweep that wrote it'} or a newer one")
    return version


def allocated_rows(ds) -> List[tuple]:
    """(first, count) of the rows of `ds` in allocated chunks, ascending, neighbours merged:
    found by bisection over HDF5's chunk index (its i-th entry costs a walk from the start in
    HDF5 1.10, so a run of chunks without gaps is known from its ends), as
    src/store/h5_chunks.cpp does."""
    n = ds.shape[0]
    if n == 0:
        return []
    if ds.chunks is None:
        return [(0, n)] if ds.id.get_storage_size() > 0 else []
    rows = ds.chunks[0]
    count = ds.id.get_num_chunks()
    if count == 0:
        return []

    def at(i):
        return ds.id.get_chunk_info(i).chunk_offset[0] // rows

    runs, todo, ordered = [], [((0, count - 1), (at(0), at(count - 1)))], True
    while todo and ordered:
        (lo, hi), (p_lo, p_hi) = todo.pop()
        if p_hi < p_lo or p_hi - p_lo < hi - lo:
            ordered = False
        elif p_hi - p_lo == hi - lo:
            runs.append((p_lo, p_hi - p_lo + 1))
        elif hi - lo == 1:
            runs += [(p_lo, 1), (p_hi, 1)]
        else:
            mid = (lo + hi) // 2
            p_mid = at(mid)
            todo += [((mid, hi), (p_mid, p_hi)), ((lo, mid), (p_lo, p_mid))]
    if not ordered:
        runs = [(at(i), 1) for i in range(count)]
    ranges = []
    for first, chunks in sorted(runs):
        begin, end = first * rows, min(n, (first + chunks) * rows)
        if begin >= n:
            continue
        if ranges and ranges[-1][0] + ranges[-1][1] >= begin:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][0] + ranges[-1][1], end) - ranges[-1][0])
        else:
            ranges.append((begin, end - begin))
    return ranges


def result_kind(ds) -> Optional[str]:
    if ds.ndim == 2:
        return "array" if ds.dtype.kind == "f" else None
    if ds.ndim != 1:
        return None
    if h5py.check_string_dtype(ds.dtype) is not None:
        return "str"
    vlen = h5py.check_vlen_dtype(ds.dtype)
    if vlen is not None:
        return "list" if np.dtype(vlen).kind == "f" else None
    if ds.dtype == bool:
        return "bool"
    return {"f": "float", "i": "int", "u": "int"}.get(ds.dtype.kind)


def _read_block(ds, kind, first, count, picks):
    if kind == "str":
        return np.array(ds.asstr()[first:first + count], dtype=object)[picks]
    if kind == "list":
        block = ds[first:first + count]
        out = np.empty(len(picks), dtype=object)
        for k, p in enumerate(picks):
            out[k] = np.asarray(block[p], dtype=np.float64)
        return out
    return ds[first:first + count][picks]


def _sources(f, grid: Grid):
    """(name, dataset, kind) of every task, param and result column the table reads."""
    def need(name):
        if name not in f:
            raise DamagedFile(f"it has no dataset /{name}")
        return f[name]
    tasks = [(name, need("tasks/" + name), "str" if name == "error" else "num")
             for name in TASK_COLUMNS if name != "status"]
    params = [(a["name"], need("params/" + a["name"]), "str" if a.get("type") == "str" else "num")
              for a in grid.axes]
    if "results" not in f:
        raise DamagedFile("it has no group /results")
    results = []
    for name, ds in f["results"].items():
        if not isinstance(ds, h5py.Dataset):
            # h5py gives None for a link it cannot open: a running sweep is mid-flush
            # (the caller retries), or the file is damaged.
            raise DamagedFile(f"/results/{name} cannot be opened as a dataset")
        kind = result_kind(ds)
        if kind is None or ds.shape[0] != grid.n:
            raise DamagedFile(f"/results/{name} is not a column mpisweep writes")
        results.append((name, ds, kind))
    return tasks, params, results


def read_file(f, path: str) -> Settled:
    """The settled rows of an open file. Raises DamagedFile (the journal may stand in) or
    UnreadableResults."""
    check_format(f, path)
    attrs = {k: (text(v) if isinstance(v, (bytes, str)) else v) for k, v in f.attrs.items()}
    if "n_tasks" not in attrs or "spec" not in attrs:
        raise DamagedFile(f"it has no root attribute {'n_tasks' if 'n_tasks' not in attrs else 'spec'}")
    try:
        grid = Grid(json.loads(attrs["spec"]))
    except (ValueError, KeyError, TypeError) as e:
        raise DamagedFile(f"its root attribute spec is not a grid ({e})")
    n = int(attrs["n_tasks"])
    if grid.n != n:
        raise DamagedFile(f"its root attribute n_tasks is {n} but its grid has {grid.n} points")
    if "tasks/status" not in f:
        raise DamagedFile("it has no dataset /tasks/status")
    status_ds = f["tasks/status"]
    tasks, params, results = _sources(f, grid)
    pieces = {"ids": [], "status": []}
    for first, count in allocated_rows(status_ds):
        for block_first in range(first, first + count, _BLOCK_ROWS):
            block_count = min(_BLOCK_ROWS, first + count - block_first)
            status = status_ds[block_first:block_first + block_count].astype(np.int8)
            picks = np.nonzero(status)[0]
            if len(picks) == 0:
                continue
            if ((status[picks] != 1) & (status[picks] != 2)).any():
                raise DamagedFile("/tasks/status holds a value that is not 0, 1 or 2")
            pieces["ids"].append(picks.astype(np.int64) + block_first)
            pieces["status"].append(status[picks])
            for tag, columns in (("t", tasks), ("p", params), ("r", results)):
                for name, ds, kind in columns:
                    pieces.setdefault((tag, name), []).append(
                        _read_block(ds, kind, block_first, block_count, picks))
    return _assemble(path, n, grid, attrs, f, pieces, tasks, params, results)


def _assemble(path, n, grid, attrs, f, pieces, tasks, params, results) -> Settled:
    def joined(key, dtype=None, shape=()):
        parts = pieces.get(key, [])
        if parts:
            return np.concatenate(parts)
        return np.zeros((0,) + shape, dtype=dtype if dtype is not None else np.float64)
    out = Settled(path, n, grid, attrs)
    out.ids = joined("ids", np.int64)
    out.tasks["status"] = joined("status", np.int8)
    for name, ds, kind in tasks:
        out.tasks[name] = joined(("t", name), object if kind == "str" else ds.dtype)
    for name, ds, kind in params:
        out.params[name] = joined(("p", name), object if kind == "str" else ds.dtype)
    for name, ds, kind in results:
        values = joined(("r", name), object if kind in ("str", "list") else ds.dtype, ds.shape[1:])
        out.results[name], out.kinds[name] = values, kind
    out.nodes = [text(h) for h in f["nodes"][:]] if "nodes" in f else []
    return out


def _from_journal(path: str, journal: Journal, problem: str) -> Settled:
    if journal.spec is None:
        raise UnreadableResults(f"the journal beside '{path}' holds no grid this reader reads")
    grid = Grid(journal.spec)
    attrs = dict(journal.header, spec="", journal_id=journal.file_id)
    out = Settled(path, grid.n, grid, attrs, from_journal_only=True, file_problem=problem)
    for name, (dtype, _) in TASK_DEFAULTS.items():
        out.tasks[name] = np.zeros(0, dtype=dtype)
    for name, values in grid.params(np.zeros(0, dtype=np.uint64)).items():
        out.params[name] = values
    return out


def _damaged_message(path, problem: DamagedFile, journal: Optional[Journal]) -> str:
    if problem.foreign and journal is None:
        return f"'{path}' is not an HDF5 file; expected a results file written by 'mpisweep run'"
    head = f"'{path}' is damaged ({problem}) and "
    if journal is not None:
        return head + ("its journal cannot stand in (it was started after rows were written): "
                       "restore the file from a copy, or start over with 'mpisweep run --force'")
    return head + ("there is no journal beside it to rebuild it from: restore it from a copy, or "
                   "start over with 'mpisweep run --force'")


def _read_file_retrying(path: str) -> Settled:
    """read_file; a sweep flushing the file meanwhile can make a read fail, so a few tries."""
    if not h5py.is_hdf5(path):
        raise DamagedFile("it is not an HDF5 file", foreign=True)
    for attempt in range(_READ_RETRIES):
        try:
            try:
                f = open_results(path)
            except OSError as e:
                raise DamagedFile(f"HDF5 cannot open it: {e}")
            with f:
                return read_file(f, path)
        except (DamagedFile, OSError, KeyError, RuntimeError):
            if attempt == _READ_RETRIES - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def read(path: str, journal: bool = True) -> Settled:
    """The settled rows of `path` with its journal laid over (journal=False: the file
    alone). Raises UnreadableResults (a ValueError) with one line saying what to do, and
    FileNotFoundError when there is no such file."""
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"cannot open '{path}': no such file; expected a "
                                f"results file written by 'mpisweep run'", path)
    if os.path.isdir(path):
        raise UnreadableResults(f"'{path}' is a folder; expected a results file written by 'mpisweep run'")
    from ._overlay import overlay
    for _ in range(_READ_RETRIES):
        before = read_journal(path) if journal else None
        start = before.committed_end if before is not None else 0
        try:
            out = _read_file_retrying(path)
        except DamagedFile as problem:
            if before is None or not before.since_creation:
                raise UnreadableResults(_damaged_message(path, problem, before))
            out, start = _from_journal(path, before, str(problem)), 0
        if not journal:
            return out
        after = read_journal(path)
        if before is not None and after is None and not out.from_journal_only:
            continue  # the sweep finished and removed its journal while we read: read again
        if after is not None:
            file_id = int(out.attrs.get("journal_id", 0))
            if out.from_journal_only or after.file_id == file_id:
                out.journal_records = overlay(out, after.records(start))
            else:
                warnings.warn(f"{after.path}: ignored, it belongs to another file at this path "
                              f"(journal_id {after.file_id}, the file's is {file_id})", stacklevel=3)
        return out
    raise AssertionError("unreachable")
