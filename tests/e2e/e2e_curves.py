#!/usr/bin/python3
"""Curves that stop early and booleans: sweep_task.sh curve over x in 0..3, seed in 0..2
returns a curve of its own length (1 + (7x + 13 seed) % 8 points, point k = (k - x)^2 +
seed/2), its last point as loss, and converged = at least 5 points. h5py reads the curve row
by row at each row's length and converged as bool; `best --metric curve` ranks by each
curve's best point and says at which index; `--mean-over seed` ranks x by the mean over the
seeds (element-wise for curves) with the spread and count; export and show print them."""
import csv
import io
import json
import math
import re
import statistics

import h5py
import numpy as np

from e2e_common import Workspace, check, describe, parse_args, run_cli

XS, SEEDS = range(4), range(3)


def curve(x, seed):
    n = 1 + (7 * x + 13 * seed) % 8
    return [(k - x) ** 2 + seed / 2 for k in range(n)]


def table_rows(text):
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if re.fullmatch(r"[- ]+", line) and "-" in line)
    return [line.split() for line in lines[rule + 1:] if line.strip()]


def best(mpisweep, path, *extra):
    m = run_cli(mpisweep, ["best", path, "-n", "100"] + list(extra))
    check(m.returncode == 0, describe(m))
    return m.stdout, table_rows(m.stdout)


def check_best_tasks(mpisweep, path, points, maximize):
    text, rows = best(mpisweep, path, "--metric", "curve", *(["--max"] if maximize else []))
    pick = max if maximize else min
    want = []
    for task, (x, seed) in enumerate(points):
        values = curve(x, seed)
        value = pick(values)
        want.append((value, task, values.index(value)))
    want.sort(key=lambda w: (-w[0] if maximize else w[0], w[1]))
    check(len(rows) == len(points), f"best --metric curve listed {len(rows)} rows:\n{text}")
    check(("highest" if maximize else "lowest") + " element" in text and "index" in text, text)
    for row, (value, task, index) in zip(rows, want):
        check(row[1] == str(task) and math.isclose(float(row[4]), value) and row[5] == str(index),
              f"best row {row}, expected task {task} value {value} at index {index}:\n{text}")


def check_mean_over(mpisweep, path):
    # Scalar: loss (the last point) averaged over the seeds of each x.
    text, rows = best(mpisweep, path, "--metric", "loss", "--mean-over", "seed")
    want = []
    for x in XS:
        losses = [curve(x, s)[-1] for s in SEEDS]
        want.append((statistics.mean(losses), statistics.stdev(losses), x))
    want.sort()
    check("averaged over seed" in text and rows and len(rows[0]) == 5, text)  # #, x, mean, std, n
    for row, (mean, std, x) in zip(rows, want):
        check(row[1] == str(x) and math.isclose(float(row[2]), mean, rel_tol=1e-5)
              and math.isclose(float(row[3]), std, rel_tol=1e-2) and row[4] == "3", f"row {row}, want {x, mean, std}")
    # Curves: the element-wise mean over the seeds that reach each index, then its lowest point.
    text, rows = best(mpisweep, path, "--metric", "curve", "--mean-over", "seed")
    want = []
    for x in XS:
        curves = [curve(x, s) for s in SEEDS]
        means = [statistics.mean([c[k] for c in curves if k < len(c)]) for k in range(max(map(len, curves)))]
        k = means.index(min(means))
        want.append((means[k], x, k, sum(1 for c in curves if k < len(c))))
    want.sort()
    for row, (mean, x, k, n) in zip(rows, want):
        check(row[1] == str(x) and math.isclose(float(row[2]), mean, rel_tol=1e-5) and row[4] == str(n)
              and row[5] == str(k), f"row {row}, want x={x} mean {mean} n={n} index {k}:\n{text}")
    m = run_cli(mpisweep, ["best", path, "--metric", "loss", "--mean-over", "lr"])
    check(m.returncode == 2 and "no axis 'lr'" in m.stderr and "x, seed" in m.stderr, describe(m))


def main():
    args = parse_args(__doc__)
    points = [(x, s) for x in XS for s in SEEDS]
    with Workspace("curves") as work:
        out = work / "curves.h5"
        m = run_cli(args.mpisweep, ["run", "-o", out, "--progress", "0", "-p", f"x=range(0,{len(XS)})",
                                    "-p", f"seed=range(0,{len(SEEDS)})", "--", args.task, "curve", "{x}", "{seed}"],
                    ranks=args.ranks)
        check(m.returncode == 0, describe(m))
        with h5py.File(out, "r") as f:
            check(h5py.check_vlen_dtype(f["results/curve"].dtype) == np.dtype("float64"),
                  f"/results/curve is {f['results/curve'].dtype}, expected variable-length float64")
            check(f["results/converged"].dtype == bool, f"/results/converged is {f['results/converged'].dtype}")
            for task, (x, seed) in enumerate(points):
                row = f["results/curve"][task]
                check(row.tolist() == curve(x, seed), f"h5py row {task}: {row}, expected {curve(x, seed)}")
                check(bool(f["results/converged"][task]) == (len(curve(x, seed)) >= 5), f"converged of {task}")
        check_best_tasks(args.mpisweep, out, points, maximize=False)
        check_best_tasks(args.mpisweep, out, points, maximize=True)
        check_mean_over(args.mpisweep, out)

        m = run_cli(args.mpisweep, ["export", out, "--csv", "-"])
        check(m.returncode == 0, describe(m))
        rows = list(csv.DictReader(io.StringIO(m.stdout)))
        check(len(rows) == len(points), f"{len(rows)} CSV rows")
        for task, row in enumerate(rows):
            x, seed = points[task]
            check(json.loads(row["curve"]) == curve(x, seed), f"CSV curve of {task}: {row['curve']}")
            check(row["converged"] == ("true" if len(curve(x, seed)) >= 5 else "false"), f"CSV row {row}")
        m = run_cli(args.mpisweep, ["show", out, "--task", "11"])  # x = 3, seed = 2: 8 points
        check(m.returncode == 0 and "curve = [10, 5, 2, 1, 2, 5, 10, 17]" in m.stdout
              and "converged = true" in m.stdout, describe(m))
    print("ok")


if __name__ == "__main__":
    main()
