#!/usr/bin/python3
"""status, best, export and show on a file whose answers the test knows: loss = (x-2)^2 + y
over x in 0..4, y in {0.5, 1.5}, where x=4, y=1.5 fails with exit code 3."""
import csv
import math
import re

import h5py

from e2e_common import Workspace, check, describe, parse_args, read_results, run_cli

XS = range(5)
YS = [0.5, 1.5]


def expected_loss(x, y):
    return (x - 2) ** 2 + y


def table_rows(text):
    """Rows of a table printed by the CLI: the lines after the dashed rule, split on spaces."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if re.fullmatch(r"[- ]+", line) and "-" in line)
    return [line.split() for line in lines[rule + 1:] if line.strip()]


def main():
    args = parse_args(__doc__)
    with Workspace("posthoc") as work:
        out = work / "sweep.h5"
        # No speculation: an idle worker may otherwise start a second copy of the failing
        # task (the last one, slower than most), and its attempts would be 2, not 1.
        result = run_cli(args.mpisweep, ["run", "-o", out, "--max-attempts", "1", "--no-speculation",
                                         "-p", "x=range(0,5)", "-p", "y=0.5,1.5", "--", args.task, "loss", "{x}",
                                         "{y}"], ranks=args.ranks)
        check(result.returncode == 1, f"one task fails, so exit code 1:\n{describe(result)}")
        points = [(x, y) for x in XS for y in YS]  # task ids: last axis fastest
        failed_task = points.index((4, 1.5))
        f = read_results(out)
        m = run_cli(args.mpisweep, ["status", out])

        # status: counts by state, the failure with its error, time spent.
        check(m.returncode == 0, describe(m))
        for state, n in (("done", 9), ("failed", 1), ("pending", 0)):
            check(re.search(rf"^{state}\s+{n}$", m.stdout, re.MULTILINE), f"status lacks '{state} {n}':\n{m.stdout}")
        check(f"task {failed_task} (x=4, y=1.5): 1 attempt, exit code 3" in m.stdout, m.stdout)
        check("refusing x=4, y=1.5" in m.stdout, f"status must show the failure's stderr:\n{m.stdout}")
        check("time: " in m.stdout and "10 finished tasks" in m.stdout, m.stdout)

        # best: the k smallest (or largest) losses of the done tasks, ties by task id.
        done = [(expected_loss(x, y), task) for task, (x, y) in enumerate(points) if task != failed_task]
        for extra, reverse in (([], False), (["--max"], True)):
            m = run_cli(args.mpisweep, ["best", out, "--metric", "loss", "-n", "4"] + extra)
            check(m.returncode == 0, describe(m))
            want = sorted(done, key=lambda lt: (-lt[0] if reverse else lt[0], lt[1]))[:4]
            rows = table_rows(m.stdout)
            check(len(rows) == 4, f"best -n 4 printed {len(rows)} rows:\n{m.stdout}")
            for rank, (row, (loss, task)) in enumerate(zip(rows, want), start=1):
                x, y = points[task]
                check(row[:4] == [str(rank), str(task), str(x), str(y)], f"best row {row}, expected task {task}")
                check(math.isclose(float(row[4]), loss, rel_tol=1e-5), f"best row {row}: loss {loss}")

        # export: one row per task, lining up with the HDF5 file.
        m = run_cli(args.mpisweep, ["export", out, "--csv", work / "sweep.csv"])
        check(m.returncode == 0, describe(m))
        with open(work / "sweep.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        check(len(rows) == len(points), f"{len(rows)} CSV rows")
        check(list(rows[0].keys()) == ["task_id", "x", "y", "loss", "tag", "status", "attempts", "worker",
                                       "device", "node", "start", "wall_s", "exit_code", "error"],
              f"CSV columns {list(rows[0].keys())}")
        for task, row in enumerate(rows):
            x, y = points[task]
            check(row["task_id"] == str(task) and row["x"] == str(x) and float(row["y"]) == y, f"row {row}")
            check(row["worker"] == str(f["tasks"]["worker"][task]), f"row {task}: worker {row['worker']}")
            check(float(row["wall_s"]) == f["tasks"]["wall_s"][task], f"row {task}: wall_s {row['wall_s']}")
            if task == failed_task:
                check(row["status"] == "failed" and row["exit_code"] == "3" and row["loss"] == "", f"row {row}")
                check("refusing x=4, y=1.5" in row["error"], f"row {task}: error {row['error']!r}")
            else:
                check(row["status"] == "done" and row["error"] == "" and row["tag"] == f"t{x}", f"row {row}")
                check(float(row["loss"]) == expected_loss(x, y), f"row {task}: loss {row['loss']}")
        m = run_cli(args.mpisweep, ["export", out, "--csv", "-"])
        with open(work / "sweep.csv") as fh:
            check(m.returncode == 0 and m.stdout == fh.read(), "--csv - must print the same CSV")

        # show: one task, done and failed.
        m = run_cli(args.mpisweep, ["show", out, "--task", "3"])
        check(m.returncode == 0, describe(m))
        for phrase in ("task 3 of 10", ": done", "x = 1", "y = 1.5", "loss = 2.5", "tag = t1", "attempts: 1",
                       "exit code: 0"):
            check(phrase in m.stdout, f"show --task 3 lacks '{phrase}':\n{m.stdout}")
        # It printed nothing: no output to point at (a silent success leaves no log).
        check("mpisweep log" not in m.stdout, f"show --task 3 points at output it has not:\n{m.stdout}")
        m = run_cli(args.mpisweep, ["show", out, "--task", str(failed_task)])
        for phrase in (": failed", "exit code: 3", "error:", "refusing x=4, y=1.5",
                       f"mpisweep log {out} --task {failed_task}", "attempt 1: run run-"):
            check(phrase in m.stdout, f"show of the failed task lacks '{phrase}':\n{m.stdout}")

        # Wrong use: one line, exit code 2.
        not_sweep = work / "other.h5"
        with h5py.File(not_sweep, "w") as h:
            h["x"] = [1, 2]
        with open(work / "text.h5", "w") as fh:
            fh.write("not hdf5\n")
        cases = [
            (["best", out, "--metric", "acc"], "no result 'acc'", "its results are: loss, tag"),
            (["best", out, "--metric", "tag"], "result 'tag' holds strings", "expected numbers or arrays of numbers"),
            (["best", out, "--metric", "loss", "-n", "0"], "-n: expected an integer >= 1", "got '0'"),
            (["best", out], "--metric is required", "mpisweep best --help"),
            (["show", out, "--task", "10"], "task 10 is out of range", "holds tasks 0..9"),
            (["show", out, "--task", "x"], "expected a task id", "got 'x'"),
            (["status", work / "missing.h5"], "no such file", "expected a results file"),
            (["status", not_sweep], "not an mpisweep results file", "format=\"mpisweep\""),
            (["status", work / "text.h5"], "is not an HDF5 file", "expected a results file"),
            (["status", out, "--bogus"], "unknown option '--bogus'", "mpisweep status --help"),
            (["export", out, "--csv", work / "no/such/dir/x.csv"], "folder", "does not exist"),
            (["frobnicate"], "unknown command 'frobnicate'", "expected run, status, best, export, show or log"),
        ]
        for cli_args, *phrases in cases:
            m = run_cli(args.mpisweep, cli_args)
            lines = m.stderr.splitlines()
            check(m.returncode == 2, f"{cli_args}: expected exit code 2:\n{describe(m)}")
            check(len(lines) == 1 and lines[0].startswith("mpisweep: "), f"{cli_args}: one line expected:\n{m.stderr}")
            for phrase in phrases:
                check(phrase in lines[0], f"{cli_args}: message lacks '{phrase}': {lines[0]}")
    print("ok")


if __name__ == "__main__":
    main()
