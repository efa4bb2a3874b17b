#!/usr/bin/python3
"""A task whose first copy hangs gets a speculative copy on an idle worker; when the copy wins,
the hung copy's whole process group is killed, the sweep ends at once, and the file keeps the
winner's result."""
import os
import time

from e2e_common import (Workspace, check, describe, parse_args, process_alive, read_counts,
                        read_results, run_cli)

N_TASKS = 8


def main():
    args = parse_args(__doc__)
    with Workspace("speculation") as work:
        counts = work / "counts"
        os.makedirs(counts)
        out = work / "sweep.h5"
        # Task 0 hangs on its first attempt; the others take 0.1 s, so the median is known soon.
        modes = ",".join(["slowfirst"] + ["sleep"] * (N_TASKS - 1))
        values = ",".join(["7"] + ["0.1"] * (N_TASKS - 1))
        start = time.time()
        result = run_cli(args.mpisweep, ["run", "-o", out, "-p", f"mode={modes}", "-p", f"value:str={values}",
                                         "--zip", "mode,value", "--", args.task, "{mode}", "{value}"],
                         ranks=args.ranks, env={"COUNT_DIR": counts})
        elapsed = time.time() - start
        check(result.returncode == 0, describe(result))
        check(elapsed < 60, f"the sweep waited for the hung copy: {elapsed:.1f} s")
        f = read_results(out)
        check(all(f["tasks"]["status"] == 1), f"status {f['tasks']['status']}")
        check(f["results"]["value"][0] == 7.0, f"task 0 kept result {f['results']['value'][0]}")
        check(f["tasks"]["attempts"][0] >= 2, f"task 0 ran {f['tasks']['attempts'][0]} copies")
        check(read_counts(counts, N_TASKS)[0] >= 2, "task 0 had no second copy")
        for name in ("slow-0", "grandchild-0"):
            pid = int(open(os.path.join(counts, name)).read())
            check(not process_alive(pid), f"the losing copy's process {name} ({pid}) is still alive")
    print("ok")


if __name__ == "__main__":
    main()
