"""Journal records laid over the settled rows, as src/store/results_overlay.cpp lays them: a
task not in the file gets a row (its params from the grid); a record replaces its row's task
info and sets the results it has; a result the file has no column for yet gets the column the
file would give it; a value that does not fit its column is left out (an int goes into a float
column as a float; an array of another length makes an array column variable-length)."""
from __future__ import annotations

import numpy as np

from ._rows import TASK_COLUMNS, TASK_DEFAULTS, Settled


def _kind_of(value) -> str:
    if isinstance(value, np.ndarray):
        return "array" if len(value) else "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    return "int" if isinstance(value, int) else "float"


def _missing(kind: str, rows: int, width: int = 0) -> np.ndarray:
    if kind == "array":
        return np.full((rows, width), np.nan)
    if kind == "list":
        out = np.empty(rows, dtype=object)
        for i in range(rows):
            out[i] = np.zeros(0)
        return out
    if kind == "str":
        return np.full(rows, "", dtype=object)
    if kind == "float":
        return np.full(rows, np.nan)
    return np.zeros(rows, dtype=bool if kind == "bool" else np.int64)


def as_lists(values: np.ndarray) -> np.ndarray:
    """An [rows, k] array column as one array per row (a row of NaNs, the fill, is empty)."""
    out = np.empty(len(values), dtype=object)
    for i, row in enumerate(values):
        out[i] = np.zeros(0) if np.isnan(row).all() else np.array(row, dtype=np.float64)
    return out


def _set(s: Settled, name: str, row: int, value) -> None:
    kind, column = s.kinds[name], s.results[name]
    given = _kind_of(value)
    if kind == "array" and given in ("array", "list") and len(value) != column.shape[1]:
        column = s.results[name] = as_lists(column)
        kind = s.kinds[name] = "list"
    if kind == "list" and given in ("array", "list"):
        column[row] = np.asarray(value, dtype=np.float64)
    elif kind == "array" and given == "array":
        column[row, :] = value
    elif kind == given or (kind == "float" and given == "int"):
        column[row] = value


def _add_rows(s: Settled, new_ids: np.ndarray) -> None:
    """Rows for tasks the file has none for, then every column in id order again."""
    k = len(new_ids)
    s.ids = np.concatenate([s.ids, new_ids])
    for name in TASK_COLUMNS:
        dtype, default = TASK_DEFAULTS[name]
        s.tasks[name] = np.concatenate([s.tasks.get(name, np.zeros(0, dtype=dtype)),
                                        np.full(k, default, dtype=dtype)])
    for name, values in s.grid.params(new_ids.astype(np.uint64)).items():
        s.params[name] = np.concatenate([s.params[name], values]) if len(s.params[name]) else values
    for name, column in s.results.items():
        width = column.shape[1] if column.ndim == 2 else 0
        s.results[name] = np.concatenate([column, _missing(s.kinds[name], k, width)])
    order = np.argsort(s.ids, kind="stable")
    s.ids = s.ids[order]
    for table in (s.tasks, s.params, s.results):
        for name in table:
            table[name] = table[name][order]


def overlay(s: Settled, records) -> int:
    """Lays `records` (decoded journal records, in order) over `s`; returns how many."""
    records = [r for r in records if r[0] < s.n]
    if not records:
        return 0
    ids = np.array([r[0] for r in records], dtype=np.int64)
    where = np.searchsorted(s.ids, ids)
    known = (where < len(s.ids)) & (s.ids[np.minimum(where, max(len(s.ids) - 1, 0))] == ids) \
        if len(s.ids) else np.zeros(len(ids), dtype=bool)
    if not known.all():
        _add_rows(s, np.unique(ids[~known]))
    rows = np.searchsorted(s.ids, ids)
    index_of = {host: i for i, host in enumerate(s.nodes)}
    for row, r in zip(rows, records):
        host = r[5]
        if host and host not in index_of:
            index_of[host] = len(s.nodes)
            s.nodes.append(host)
        info = {"status": r[1], "attempts": r[2], "worker": r[3], "device": r[4],
                "node": index_of[host] if host else -1, "start": r[6], "wall_s": r[7],
                "exit_code": r[8], "error": r[9]}
        for name, value in info.items():
            s.tasks[name][row] = value
        for name, value in r[10]:
            if name not in s.results:
                kind = _kind_of(value)
                s.results[name] = _missing(kind, len(s.ids), len(value) if kind == "array" else 0)
                s.kinds[name] = kind
            _set(s, name, row, value)
    return len(records)
