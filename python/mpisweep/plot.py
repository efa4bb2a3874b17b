#!/usr/bin/env python3
"""Plot one metric of an mpisweep results file as a PNG.

    python3 -m mpisweep.plot sweep.h5 --metric loss --x lr                    # one line
    python3 -m mpisweep.plot sweep.h5 --metric loss --x lr --series momentum  # a line per momentum
    python3 -m mpisweep.plot sweep.h5 --metric loss --x lr --y momentum       # heatmap
    python3 -m mpisweep.plot sweep.h5 --metric loss --x lr --fix seed=0 -o loss.png

(``python3 python/mpisweep_plot.py ...`` is the same: a thin alias kept for old scripts.)

Axes not plotted are reduced (``--reduce mean`` by default, ignoring missing values) or fixed
to one value with ``--fix name=value``. Axes made by logspace are drawn on a log scale. Failed
tasks are marked (red crosses) and cells without any result are left blank; the metric goes on a
log scale when its values are positive and span more than three decades (``--metric-scale``).
Needs matplotlib (Debian: python3-matplotlib) besides what mpisweep.results needs.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from . import results as msr

REDUCERS = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}


class PlotError(Exception):
    pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="the results file (HDF5)")
    ap.add_argument("--metric", required=True, help="a /results name, or wall_s, attempts ...")
    ap.add_argument("--x", help="the grid axis along the horizontal axis (an array metric, a curve per "
                                "task, has the index in the array there instead)")
    shape = ap.add_mutually_exclusive_group()
    shape.add_argument("--y", help="a second axis: draw a heatmap over x and y")
    shape.add_argument("--series", help="a second axis: one line per value of it")
    ap.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                    help="keep only the tasks where this axis has this value (repeatable)")
    ap.add_argument("--reduce", choices=sorted(REDUCERS), default="mean",
                    help="how to combine the axes not plotted (default: mean)")
    ap.add_argument("--metric-scale", choices=["auto", "linear", "log"], default="auto")
    ap.add_argument("-o", "--output", help="the PNG to write (default: <file>-<metric>.png)")
    ap.add_argument("--size", default="8x5", help="figure size in inches, WxH (default 8x5)")
    ap.add_argument("--dpi", type=int, default=100, help="pixels per inch (default 100)")
    return ap.parse_args(argv)


def find_dim(dims, name):
    for i, d in enumerate(dims):
        if name in d.coords:
            return i
    names = ", ".join(m for d in dims for m in d.coords)
    raise PlotError(f"no axis '{name}' in the grid (axes: {names})")


def match_value(coords, text, name):
    """Index of the coordinate equal to `text` read in the axis's type."""
    for i, v in enumerate(coords):
        if isinstance(v, (bool, np.bool_)):
            if text.lower() in (("true", "1") if v else ("false", "0")):
                return i
        elif isinstance(v, (int, float, np.integer, np.floating)):
            try:
                if np.isclose(float(text), float(v), rtol=1e-9, atol=0):
                    return i
            except ValueError:
                pass
        elif str(v) == text:
            return i
    raise PlotError(f"--fix {name}={text}: no such value (values: "
                    f"{', '.join(map(format_value, coords))})")


def format_value(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def select(array, dims, fixes):
    """Applies --fix: takes one index of each fixed dimension and drops it."""
    keep = list(range(len(dims)))
    index = [slice(None)] * array.ndim
    for item in fixes:
        name, sep, text = item.partition("=")
        if not sep:
            raise PlotError(f"--fix {item}: expected NAME=VALUE")
        d = find_dim(dims, name)
        index[d] = match_value(dims[d].coords[name], text, name)
        keep.remove(d)
    return array[tuple(index)], [dims[d] for d in keep]


def reduce_to(array, dims, wanted, how):
    """Reduces every dimension but `wanted` (in that order); returns the array and the
    names of the reduced axes."""
    positions = [find_dim(dims, w) for w in wanted]
    others = tuple(i for i in range(len(dims)) if i not in positions)
    with np.errstate(all="ignore"), _quiet():
        reduced = REDUCERS[how](array, axis=others) if others else array
    order = sorted(positions)
    reduced = np.moveaxis(reduced, [order.index(p) for p in positions], range(len(positions)))
    return reduced, [dims[i].name for i in others]


def any_over(mask, dims, wanted):
    positions = [find_dim(dims, w) for w in wanted]
    others = tuple(i for i in range(len(dims)) if i not in positions)
    result = mask.any(axis=others) if others else mask
    order = sorted(positions)
    return np.moveaxis(result, [order.index(p) for p in positions], range(len(positions)))


class _quiet:
    """Silences numpy's 'mean of empty slice' for cells without any value."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def is_numeric(coords):
    return coords.dtype.kind in "iuf"


def use_log_metric(values, scale):
    if scale != "auto":
        return scale == "log"
    finite = values[np.isfinite(values)]
    return finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > 1e3


def axis_positions(dim, name, evenly=False):
    """Where to draw the axis values: the values themselves for numbers (a line plot, or a
    logspace axis), else 0..n-1 with the values as tick labels (strings; heatmap cells, which
    then have one width whatever the spacing of the values)."""
    coords = dim.coords[name]
    if is_numeric(coords) and (not evenly or name in dim.logspace):
        return coords.astype(float), None
    return np.arange(len(coords), dtype=float), [format_value(v) for v in coords]


def cell_edges(centres, log):
    """Edges around the cell centres (in log space for logspace axes)."""
    c = np.log10(centres) if log else centres
    if len(c) == 1:
        edges = np.array([c[0] - 0.5, c[0] + 0.5])
    else:
        mid = (c[1:] + c[:-1]) / 2
        edges = np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])
    return 10 ** edges if log else edges


def label_axis(ax, which, name, dim, labels, positions):
    log = name in dim.logspace and labels is None  # a logspace axis forced to str is categorical
    set_scale = ax.set_xscale if which == "x" else ax.set_yscale
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    set_ticks = ax.set_xticks if which == "x" else ax.set_yticks
    if log:
        set_scale("log")
    if labels is not None:
        set_ticks(positions, labels)
    elif len(positions) <= 12 and not log:
        set_ticks(positions, [format_value(v) for v in positions])
    set_label(name + (" (log scale)" if log else ""))


def show_all_x(ax, xpos, log):
    """x limits around every grid value, also those where no task has a value (where only
    failure markers are)."""
    lo, hi = (np.log10(xpos.min()), np.log10(xpos.max())) if log else (xpos.min(), xpos.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    lo, hi = lo - pad, hi + pad
    ax.set_xlim((10 ** lo, 10 ** hi) if log else (lo, hi))


def title(args, reduced, fixes):
    parts = [os.path.basename(args.file)]
    if reduced:
        parts.append(f"{args.reduce} over {', '.join(reduced)}")
    if fixes:
        parts.append(", ".join(fixes))
    return " | ".join(parts)


def make_figure(args):
    """The matplotlib Figure for parsed arguments (see parse_args)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    dims = msr.grid_axes(args.file)
    values = msr.grid_array(args.file, args.metric, xarray=False)
    status = msr.grid_array(args.file, "status", xarray=False)
    if values.dtype == object:
        raise PlotError(f"metric '{args.metric}' holds strings; plot a numeric result")
    if values.ndim > len(dims):
        return curves_figure(args, dims, values, status)
    if not args.x:
        raise PlotError(f"--x is required: the axis along the horizontal axis for '{args.metric}'")
    values, vdims = select(values, dims, args.fix)
    status, _ = select(status, dims, args.fix)
    failed = status == 2
    pending = status == 0

    second = args.y or args.series
    wanted = [args.x] + ([second] if second else [])
    if second and find_dim(vdims, args.x) == find_dim(vdims, second):
        raise PlotError(f"'{args.x}' and '{second}' vary together (a zip group): pick one")
    data, reduced = reduce_to(values, vdims, wanted, args.reduce)
    fail = any_over(failed, vdims, wanted)
    n_failed, n_pending = int(failed.sum()), int(pending.sum())

    width, _, height = args.size.partition("x")
    fig, ax = plt.subplots(figsize=(float(width), float(height)), dpi=args.dpi,
                           layout="constrained")
    xdim = vdims[find_dim(vdims, args.x)]
    xpos, xlabels = axis_positions(xdim, args.x)
    log_metric = use_log_metric(data, args.metric_scale)
    if args.y:
        ydim = vdims[find_dim(vdims, args.y)]
        xpos, xlabels = axis_positions(xdim, args.x, evenly=True)
        ypos, ylabels = axis_positions(ydim, args.y, evenly=True)
        xlog, ylog = args.x in xdim.logspace, args.y in ydim.logspace
        xe = cell_edges(xpos, xlog) if xlabels is None else cell_edges(xpos, False)
        ye = cell_edges(ypos, ylog) if ylabels is None else cell_edges(ypos, False)
        finite = data[np.isfinite(data)]
        norm = LogNorm(finite.min(), finite.max()) if log_metric and finite.size else None
        mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(data).T, cmap="viridis", norm=norm,
                             shading="flat")
        ax.set_facecolor("0.85")  # cells without any result
        fig.colorbar(mesh, ax=ax, label=args.metric + (" (log scale)" if log_metric else ""))
        for i, j in zip(*np.nonzero(np.isinf(data))):  # infinite values: no colour, say so
            ax.text(xpos[i], ypos[j], "+inf" if data[i, j] > 0 else "-inf", ha="center",
                    va="center", fontsize="small")
        fx, fy = np.nonzero(fail)
        if fx.size:
            ax.scatter(xpos[fx], ypos[fy], marker="x", s=80, c="red", linewidths=2,
                       label="some tasks failed")
            ax.legend(loc="lower right", bbox_to_anchor=(1, 1), fontsize="small", frameon=False)
        label_axis(ax, "x", args.x, xdim, xlabels, xpos)
        label_axis(ax, "y", args.y, ydim, ylabels, ypos)
    else:
        if args.series:
            sdim = vdims[find_dim(vdims, args.series)]
            series = [(f"{args.series}={format_value(v)}", data[:, j], fail[:, j])
                      for j, v in enumerate(sdim.coords[args.series])]
        else:
            series = [(args.metric, data, fail)]
        for label, ys, fs in series:
            line, = ax.plot(xpos, ys, marker="o", label=label)
            inf = np.isinf(ys)
            if inf.any():  # off the scale: a triangle on the top (or bottom) edge
                top = ys[inf] > 0
                ax.scatter(xpos[inf], np.where(top, 1.0, 0.0), marker="^", s=60,
                           color=line.get_color(), clip_on=False, zorder=3,
                           transform=ax.get_xaxis_transform())
            if fs.any():
                # a failed cell may have no value: mark it at the bottom of the plot
                at = np.where(np.isfinite(ys), ys, np.nan)
                ax.scatter(xpos[fs & np.isfinite(ys)], at[fs & np.isfinite(ys)], marker="x",
                           s=90, c="red", linewidths=2, zorder=3)
                missing = fs & ~np.isfinite(ys)
                if missing.any():
                    ax.scatter(xpos[missing], np.zeros(int(missing.sum())), marker="x", s=90,
                               c="red", linewidths=2, zorder=3, clip_on=False,
                               transform=ax.get_xaxis_transform())
        show_all_x(ax, xpos, args.x in xdim.logspace and xlabels is None)
        if fail.any():
            ax.scatter([], [], marker="x", c="red", linewidths=2, label="failed tasks")
        if np.isinf(data).any():
            ax.scatter([], [], marker="^", c="0.4", label="infinite (at the edge)")
        if log_metric:
            ax.set_yscale("log")
        ax.set_ylabel(args.metric + (" (log scale)" if log_metric else ""))
        label_axis(ax, "x", args.x, xdim, xlabels, xpos)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    heading = title(args, reduced, args.fix)
    notes = []
    if n_failed:
        notes.append(f"{n_failed} failed")
    if n_pending:
        notes.append(f"{n_pending} pending")
    ax.set_title(heading + (f"\n({', '.join(notes)} of {status.size} tasks)" if notes else ""),
                 fontsize="medium")
    return fig


def point_label(dims, index):
    return ", ".join(f"{m}={format_value(d.coords[m][i])}" for d, i in zip(dims, index) for m in d.coords)


def curves_figure(args, dims, values, status):
    """An array metric (a curve per task): the index in the array along the horizontal axis,
    one line per grid point left after --fix, or with --series one line per value of that
    axis, the curves of the other points combined index by index (--reduce)."""
    import matplotlib.pyplot as plt
    if args.y:
        raise PlotError(f"metric '{args.metric}' is an array per task: draw it as curves (leave out --y)")
    if args.x:
        raise PlotError(f"metric '{args.metric}' is an array per task: the horizontal axis is the index "
                        f"in it (leave out --x)")
    values, vdims = select(values, dims, args.fix)
    status, _ = select(status, dims, args.fix)
    if args.series:
        index = msr.Dim("index", values.shape[-1], coords={"index": np.arange(values.shape[-1])})
        data, reduced = reduce_to(values, vdims + [index],
                                  [args.series, "index"], args.reduce)
        sdim = vdims[find_dim(vdims, args.series)]
        lines = [(f"{args.series}={format_value(v)}", data[j]) for j, v in enumerate(sdim.coords[args.series])]
    else:
        reduced = []
        flat = values.reshape(-1, values.shape[-1])
        lines = [(point_label(vdims, np.unravel_index(k, status.shape)), row) for k, row in enumerate(flat)]
    lines = [(label, ys) for label, ys in lines if np.isfinite(ys).any()]
    if not lines:
        raise PlotError(f"no done task has a value for '{args.metric}'")
    width, _, height = args.size.partition("x")
    fig, ax = plt.subplots(figsize=(float(width), float(height)), dpi=args.dpi, layout="constrained")
    for label, ys in lines:
        keep = np.isfinite(ys)
        ax.plot(np.flatnonzero(keep), ys[keep], marker="o" if keep.sum() < 30 else None, label=label)
    if use_log_metric(np.concatenate([ys for _, ys in lines]), args.metric_scale):
        ax.set_yscale("log")
    ax.set_xlabel(f"index in {args.metric}")
    ax.set_ylabel(args.metric)
    ax.grid(True, which="major", alpha=0.3)
    if len(lines) <= 20:
        ax.legend(fontsize="small")
    notes = [f"{len(lines)} curve{'s' if len(lines) != 1 else ''}"]
    for code, word in ((2, "failed"), (0, "pending")):
        if (status == code).any():
            notes.append(f"{int((status == code).sum())} {word}")
    ax.set_title(f"{args.metric}" + (f" ({args.reduce} over {', '.join(reduced)})" if reduced else "")
                 + (f", {', '.join(args.fix)}" if args.fix else "") + f"\n({', '.join(notes)})", fontsize="medium")
    return fig


def plot(args):
    """Writes the PNG; returns its path."""
    import matplotlib.pyplot as plt
    fig = make_figure(args)
    output = args.output or f"{os.path.splitext(args.file)[0]}-{args.metric}.png"
    try:
        fig.savefig(output, dpi=args.dpi)
    finally:
        plt.close(fig)
    return output


def main(argv=None):
    args = parse_args(argv)
    try:
        output = plot(args)
    except (PlotError, KeyError, ValueError, OSError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"mpisweep_plot: {message}", file=sys.stderr)
        return 2
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
