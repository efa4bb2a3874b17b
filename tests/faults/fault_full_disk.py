#!/usr/bin/python3
"""Item 6 of issue 12: a full disk. The task output folder (--log-dir) is on a small tmpfs
that a file fills up mid-sweep, while the tasks write 20 KB each to stdout: each worker says
in one line which file it cannot write and errno 28, no attempt is counted, no task fails,
the sweep ends with 75, and once the space is back --resume finishes, each task exactly once
by the tasks' own log. Skipped (with a line saying so) where a tmpfs cannot be mounted.
(A full disk under the results file itself is not covered here: see docs/cli.md, Faults.)"""
import os

from faults_common import (Workspace, check, check_exactly_once, ended, fill, finish, mpisweep_lines, open_gates,
                           parse_args, read_results, run_cli, small_disk, start, sweep_env, wait_for)

N = 30


def main():
    args = parse_args(__doc__)
    with Workspace("full-disk") as work, small_disk(work, "16m") as (disk, why):
        if disk is None:
            print(f"skipped: a full disk (cannot mount a tmpfs: {why})")
            return
        out = work / "f.h5"
        sweep = ["-o", out, "--progress", "0", "--log-dir", os.path.join(disk, "logs"), "--max-attempts", "1",
                 "-p", f"x=range(0,{N})", "--", args.task, "loud", "5"]
        job = start(args.mpisweep, ["run"] + sweep, args.ranks, sweep_env(work))
        open_gates(work, 0, 0)
        wait_for(lambda: len(ended(work / "exec.log")) >= 3, "three tasks finished", job=job)
        filler = fill(disk)
        open_gates(work, 1, N)
        code, err = finish(job)
        lines = mpisweep_lines(err)
        check(code == 75, f"a full disk ends the sweep with 75, got {code}:\n{err}")
        said = [line for line in lines if "No space left on device (errno 28)" in line and str(disk) in line]
        check(said, f"a line names the file on the full disk and errno 28:\n{err}")
        check(any("--resume" in line for line in lines), f"the last line says to resume:\n{err}")
        check(sum(read_results(out)["tasks"]["status"] == 2) == 0, f"no task failed for good:\n{err}")
        os.remove(filler)
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=sweep_env(work))
        check(resumed.returncode == 0, f"--resume once the space is back finishes:\n{resumed.stderr}")
        check_exactly_once(work / "exec.log", out, N)
    print("ok")


if __name__ == "__main__":
    main()
