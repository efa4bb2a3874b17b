"""The grid of a results file from its root attribute ``spec`` (Grid::to_json of the C++
side): the value of any axis at any task, computed as src/grid/grid.cpp computes it, so that
the params of a task the file holds no row for (a pending one, or one only the journal has)
and the coordinates of every dimension cost what the axes hold, never what the grid holds."""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Dict, List

import numpy as np

_DTYPES = {"int": np.int64, "float": np.float64, "str": object, "bool": bool}


def _to_chars(d: float) -> str:
    """std::to_chars of a double: the shortest digits that read back, fixed or scientific,
    whichever is shorter (fixed on a tie)."""
    if math.isnan(d):
        return "nan"
    if math.isinf(d):
        return "inf" if d > 0 else "-inf"
    sign, digits, exponent = Decimal(repr(d)).normalize().as_tuple()
    text = "".join(map(str, digits))
    if int(text) == 0:
        return "-0" if sign else "0"
    n = len(text)
    if exponent >= 0:
        fixed = text + "0" * exponent
    elif n > -exponent:
        fixed = text[:n + exponent] + "." + text[n + exponent:]
    else:
        fixed = "0." + "0" * (-exponent - n) + text
    power = exponent + n - 1
    scientific = text[0] + ("." + text[1:] if n > 1 else "") + f"e{'-' if power < 0 else '+'}{abs(power):02d}"
    best = fixed if len(fixed) <= len(scientific) else scientific
    return ("-" if sign else "") + best


def _pow10(x: float) -> float:
    if x == math.trunc(x) and abs(x) <= 22:
        p = 10.0 ** int(abs(x))  # exact: 10^k for k <= 22 is a double
        return 1 / p if x < 0 else p
    return math.pow(10.0, x)


def _linspace(a: float, b: float, n: int, i: np.ndarray) -> np.ndarray:
    out = a + (b - a) * i.astype(np.float64) / float(max(n - 1, 1))
    out[i == 0] = a
    if n > 1:
        out[i == n - 1] = b
    return out


def _convert(values: np.ndarray, natural: str, wanted: str) -> np.ndarray:
    if wanted == natural:
        return values
    if wanted == "str":
        if natural == "float":
            return np.array([_to_chars(float(v)) for v in values], dtype=object)
        return np.array([str(v).lower() if natural == "bool" else str(v) for v in values], dtype=object)
    if wanted == "bool":
        return values == 1
    return values.astype(_DTYPES[wanted])


def axis_values(axis: dict, index: np.ndarray) -> np.ndarray:
    """Values `index` (an array of positions along the axis) of one axis of the spec."""
    kind, wanted = axis.get("kind"), axis.get("type", "float")
    index = np.asarray(index, dtype=np.uint64)
    if kind == "list":
        values = axis["values"]
        table = np.empty(len(values), dtype=_DTYPES[wanted])
        table[:] = values
        return table[index.astype(np.int64)]
    if kind == "range":
        start, step = np.uint64(int(axis["start"]) % 2**64), np.uint64(int(axis["step"]) % 2**64)
        with np.errstate(over="ignore"):
            values = (start + index * step).astype(np.int64)  # wraps in uint64, as the C++ does
        return _convert(values, "int", wanted)
    a, b, n = float(axis["a"]), float(axis["b"]), int(axis["size"])
    values = _linspace(a, b, n, index)
    if kind == "logspace":
        values = np.array([_pow10(v) for v in values], dtype=np.float64)
    elif kind != "linspace":
        raise ValueError(f"axis '{axis.get('name')}' has kind {kind!r}, which this reader does not know")
    return _convert(values, "float", wanted)


class Grid:
    """Axes, dimensions (a zip group is one) and strides of a spec: task ids run in
    nested-loop order, the last dimension fastest."""

    def __init__(self, spec: dict):
        self.axes: List[dict] = list(spec.get("axes", []))
        order = [a["name"] for a in self.axes]
        group_of = {}
        for group in spec.get("zip", []):
            for name in group:
                group_of[name] = sorted(group, key=order.index)
        self.dims: List[List[str]] = []  # member axis names of each dimension
        seen = set()
        for axis in self.axes:
            if axis["name"] in seen:
                continue
            members = group_of.get(axis["name"]) or [axis["name"]]
            seen.update(members)
            self.dims.append(members)
        self.by_name = {a["name"]: a for a in self.axes}
        self.sizes = [int(self.by_name[m[0]]["size"]) for m in self.dims]
        self.strides = []
        stride = 1
        for size in reversed(self.sizes):
            self.strides.insert(0, stride)
            stride *= size
        self.n = stride if self.dims else 0

    def dim_of(self, name: str) -> int:
        return next(d for d, members in enumerate(self.dims) if name in members)

    def params(self, ids: np.ndarray) -> Dict[str, np.ndarray]:
        """The value of every axis at tasks `ids`, in grid order."""
        ids = np.asarray(ids, dtype=np.uint64)
        out = {}
        for axis in self.axes:
            d = self.dim_of(axis["name"])
            digit = ids // np.uint64(self.strides[d]) % np.uint64(self.sizes[d])
            out[axis["name"]] = axis_values(axis, digit)
        return out

    def coords(self, d: int) -> Dict[str, np.ndarray]:
        """The values of the axes of dimension `d` along it."""
        index = np.arange(self.sizes[d], dtype=np.uint64)
        return {m: axis_values(self.by_name[m], index) for m in self.dims[d]}
