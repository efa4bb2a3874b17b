#!/usr/bin/python3
"""Item 6 of issue 12: errors of the surroundings are not task failures. Tasks that print (a
success that prints nothing writes no log). A log folder removed
during the sweep is made again: every task done exactly once, none failed, even with
--max-attempts 1. A log folder that cannot be made again (a file in its place): each worker
says so in one line naming the path and errno and stops taking tasks, no attempt is counted,
the sweep ends with 75, and once the path is fixed --resume finishes exactly once."""
import os
import shutil

from faults_common import (Workspace, check, check_exactly_once, ended, finish, mpisweep_lines, open_gates, parse_args,
                           read_results, run_cli, start, sweep_env, wait_for)

N = 30


def removed_folder(args):
    with Workspace("log-removed") as work:
        out = work / "r.h5"
        logs = out + ".logs"
        sweep = ["-o", out, "--progress", "0", "--max-attempts", "1", "-p", f"x=range(0,{N})", "--", args.task,
                 "loud", "5"]
        job = start(args.mpisweep, ["run"] + sweep, args.ranks, sweep_env(work))
        for k in range(3):
            open_gates(work, k, k)
            wait_for(lambda: len(ended(work / "exec.log")) >= 5 * k + 3, f"{5 * k + 3} tasks finished", job=job)
            shutil.rmtree(logs, ignore_errors=True)
        open_gates(work, 3, N)
        code, err = finish(job)
        check(code == 0, f"a sweep whose log folder was removed ends well, got {code}:\n{err}")
        data = read_results(out)
        check(sum(data["tasks"]["status"] == 2) == 0, "no task failed")
        check(os.path.isdir(logs), "the log folder was made again")
        check_exactly_once(work / "exec.log", out, N)


def unmakeable_folder(args):
    with Workspace("log-blocked") as work:
        out = work / "b.h5"
        logs = out + ".logs"
        sweep = ["-o", out, "--progress", "0", "--max-attempts", "1", "-p", f"x=range(0,{N})", "--", args.task,
                 "loud", "5"]
        job = start(args.mpisweep, ["run"] + sweep, args.ranks, sweep_env(work))
        open_gates(work, 0, 0)
        wait_for(lambda: len(ended(work / "exec.log")) >= 3, "three tasks finished", job=job)
        shutil.rmtree(logs, ignore_errors=True)
        with open(logs, "w") as f:
            f.write("not a folder\n")
        open_gates(work, 1, N)
        code, err = finish(job)
        lines = mpisweep_lines(err)
        check(code == 75, f"the sweep ends with 75 when no worker can run tasks, got {code}:\n{err}")
        said = [line for line in lines if f"cannot create log folder '{logs}'" in line and "errno" in line]
        check(said, f"a line names the log folder and the errno:\n{err}")
        check(any("--resume" in line for line in lines), f"the last line says to resume:\n{err}")
        data = read_results(out)
        check(sum(data["tasks"]["status"] == 2) == 0, f"no task failed for good:\n{err}")
        os.remove(logs)
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=sweep_env(work))
        check(resumed.returncode == 0, f"--resume after the fix finishes:\n{resumed.stderr}")
        check_exactly_once(work / "exec.log", out, N)


def main():
    args = parse_args(__doc__)
    removed_folder(args)
    unmakeable_folder(args)
    print("ok")


if __name__ == "__main__":
    main()
