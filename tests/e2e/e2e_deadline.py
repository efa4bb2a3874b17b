#!/usr/bin/python3
"""--deadline: a sweep with more work than time ends by itself before the deadline, with exit
75; no task was cut (every task that started finished and is done in the file), the rest is
pending, and --resume finishes each remaining task exactly once. A bad --deadline is one
line naming the option and the accepted forms, exit 2, and no file is made."""
import glob
import os
import subprocess
import time

from e2e_common import Workspace, check, command, describe, parse_args, read_counts, read_results, run_cli

TASKS = 40


def main():
    args = parse_args(__doc__)
    with Workspace("deadline") as work:
        out = work / "sweep.h5"
        bad = run_cli(args.mpisweep, ["run", "-o", out, "--deadline", "soon", "-p", "i=range(0,3)", "--", "true"],
                      ranks=args.ranks)
        check(bad.returncode == 2 and "--deadline 'soon'" in bad.stderr and "+2h" in bad.stderr,
              f"a bad --deadline:\n{describe(bad)}")
        check(not os.path.exists(out), "a bad --deadline made a results file")

        counts = work / "counts"
        os.makedirs(counts)
        deadline = time.time() + 9
        sweep = ["run", "-o", out, "--progress", "0", "--no-speculation", "-p", f"i=range(0,{TASKS})"]
        program = ["--", args.task, "nap", "0.5"]
        first = run_cli(args.mpisweep, sweep + ["--deadline", f"{deadline:.3f}", "--deadline-margin", "3"] + program,
                        ranks=args.ranks, env={"COUNT_DIR": counts})
        ended = time.time()
        check(first.returncode == 75, f"a sweep that runs out of time exits 75:\n{describe(first)}")
        # The margin (3 s) covers closing the file and mpirun ending the job.
        check(ended < deadline, f"the sweep ended {ended - deadline:.2f} s after the deadline")
        check("stopped before the deadline" in first.stderr and "--resume" in first.stderr,
              f"no line on the deadline and how to resume:\n{first.stderr}")
        status = read_results(out)["tasks"]["status"]
        started = {int(os.path.basename(p)[4:].split(".")[0]) for p in glob.glob(os.path.join(counts, "pid-*"))}
        done = {t for t in range(TASKS) if status[t] == 1}
        check(started == done, f"tasks cut by the deadline (started, not done): {sorted(started - done)}")
        check(0 < len(done) < TASKS, f"expected some tasks done and some pending, got {len(done)} done")

        again = work / "again"
        os.makedirs(again)
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep[1:] + program, ranks=args.ranks,
                          env={"COUNT_DIR": again, "NAP_SECONDS": "0.02"})
        check(resumed.returncode == 0, f"resume:\n{describe(resumed)}")
        runs = read_counts(again, TASKS)
        for t in range(TASKS):
            check(runs[t] == (0 if t in done else 1), f"task {t} ran {runs[t]} times in the resume")
        print(f"deadline: {len(done)} of {TASKS} done, ended {deadline - ended:.2f} s before the deadline")
    print("ok")


if __name__ == "__main__":
    main()
