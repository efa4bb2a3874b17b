#!/usr/bin/python3
"""Files of format_version 1 (tests/data/format1.h5 and its journal, written by the store of
main at 0130cf8; tests/data/make_format1.cpp.txt made them): 48 tasks over a, b, flag, lr;
tasks 0..33 settled (30 and 31 failed), 34..47 pending; results loss = 1/(1+id), steps =
10 id, tag = t<id>, curve = [id, 2 id, 0.5]. status, best, export, show and the Python reader
read it; --resume runs the pending tasks, whose curves have other lengths (the [48, 3] column
becomes variable-length, the old rows kept), and makes it a version 2 file."""
import csv
import io
import os
import re
import shutil
import stat
import sys

import h5py
import numpy as np

from e2e_common import Workspace, check, describe, parse_args, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
FIXTURE = os.path.join(HERE, "..", "data", "format1.h5")
AXES = ["-p", "a=range(0,4)", "-p", "b=x,y,z", "-p", "flag=false,true", "-p", "lr=0.1,0.2"]
DONE = [i for i in range(34) if i not in (30, 31)]


def counts(mpisweep, path):
    m = run_cli(mpisweep, ["status", path])
    check(m.returncode == 0, describe(m))
    return {s: int(n) for s, n in re.findall(r"^(done|failed|pending)\s+(\d+)$", m.stdout, re.MULTILINE)}


def check_read(mpisweep, path):
    check(counts(mpisweep, path) == {"done": 32, "failed": 2, "pending": 14}, "status of the format 1 file")
    m = run_cli(mpisweep, ["best", path, "--metric", "loss", "-n", "3"])
    check(m.returncode == 0 and re.search(r"^1\s+33\s+2\s+z\s+false\s+0\.2\s+0\.0294118$", m.stdout, re.MULTILINE),
          describe(m))
    m = run_cli(mpisweep, ["best", path, "--metric", "curve", "-n", "2"])
    check(m.returncode == 0 and re.search(r"^1\s+0\s+0\s+x\s+false\s+0\.1\s+0\s+0$", m.stdout, re.MULTILINE)
          and re.search(r"^2\s+1\s+0\s+x\s+false\s+0\.2\s+0\.5\s+2$", m.stdout, re.MULTILINE), describe(m))
    m = run_cli(mpisweep, ["export", path, "--csv", "-"])
    rows = list(csv.DictReader(io.StringIO(m.stdout)))
    check(m.returncode == 0 and [int(r["task_id"]) for r in rows] == list(range(34)), describe(m))
    check(rows[5]["curve[1]"] == "10" and rows[5]["tag"] == "t5" and rows[30]["status"] == "failed", str(rows[5]))
    m = run_cli(mpisweep, ["show", path, "--task", "40"])
    check(m.returncode == 0 and ": pending" in m.stdout and "a = 3" in m.stdout and "b = y" in m.stdout
          and "flag = false" in m.stdout, describe(m))
    m = run_cli(mpisweep, ["show", path, "--task", "30"])
    check(m.returncode == 0 and ": failed" in m.stdout and "task 30 refused" in m.stdout, describe(m))
    import mpisweep as py
    df = py.load(path)
    check(df.index.tolist() == list(range(34)) and df["flag"].dtype == bool, str(df.dtypes))
    check(np.allclose(df.loc[DONE, "loss"], [1 / (1 + i) for i in DONE]), "load(): loss")


def main():
    args = parse_args(__doc__)
    with Workspace("format1") as work:
        path = work / "old.h5"
        shutil.copy(FIXTURE, path)
        shutil.copy(FIXTURE + ".journal", path + ".journal")
        with h5py.File(path, "r") as f:
            check(int(f.attrs["format_version"]) == 1, "the fixture is not a version 1 file")
        check_read(args.mpisweep, path)

        task = work / "task.sh"  # curves of length a + 1: 1 to 4 points (no 'steps': int64, which JSON is not)
        with open(task, "w") as f:
            f.write('#!/bin/sh\nawk -v a="$1" \'BEGIN { printf "{\\"loss\\": 0.25, \\"tag\\": \\"r\\", '
                    '\\"curve\\": ["; for (k = 0; k <= a; k++) printf "%s%d", (k ? ", " : ""), k; '
                    'printf "]}\\n" }\' > "$MPISWEEP_OUTPUT"\n')
        os.chmod(task, os.stat(task).st_mode | stat.S_IXUSR)
        with h5py.File(path, "r+") as f:  # resume checks the command line: the fixture's was "./task"
            f.attrs["command"] = ""
        m = run_cli(args.mpisweep, ["run", "-o", path, "--resume", "--progress", "0"] + AXES + ["--", task, "{a}"],
                    ranks=args.ranks)
        check(m.returncode == 1, f"the two failed tasks stay failed, so exit code 1:\n{describe(m)}")
        check(counts(args.mpisweep, path) == {"done": 46, "failed": 2, "pending": 0}, "status after resume")
        with h5py.File(path, "r") as f:
            check(int(f.attrs["format_version"]) == 2, "a resumed version 1 file is version 2")
            curve = f["results/curve"]
            check(h5py.check_vlen_dtype(curve.dtype) is not None, f"/results/curve is {curve.dtype}")
            check(curve[5].tolist() == [5.0, 10.0, 0.5] and curve[40].tolist() == [0, 1, 2, 3]
                  and curve[34].tolist() == [0, 1, 2], f"curves {curve[5]}, {curve[40]}, {curve[34]}")
            check(f["results/loss"][0] == 1.0 and f["results/loss"][40] == 0.25, "loss rows")
            check(f["params/a"][40] == 3 and f["params/b"].asstr()[40] == "y", "params of a resumed row")
    print("ok")


if __name__ == "__main__":
    main()
