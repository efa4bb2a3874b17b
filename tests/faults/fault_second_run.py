#!/usr/bin/python3
"""Item 1 of issue 12: while a sweep runs on a file, a second run on the same file (plain,
--resume, --force) is refused with one line naming the owner and exit 2; nothing of it runs,
the file and its journal stay the same files, and the first sweep finishes exactly once.
`mpisweep status` keeps working on the running sweep."""
import os

from faults_common import (Workspace, check, check_exactly_once, finish, mpisweep_lines, open_gates, parse_args,
                           rank_pids, read_log, run_cli, start, sweep_env, wait_for)

N = 24


def main():
    args = parse_args(__doc__)
    with Workspace("second-run") as work:
        out = work / "same.h5"
        sweep = ["-o", out, "--progress", "0", "-p", f"x=range(0,{N})", "--", args.task, "staged", str(N)]
        env = sweep_env(work)
        first = start(args.mpisweep, ["run"] + sweep, args.ranks, env)
        # Its tasks wait for the gate: it cannot end before the second runs are done.
        wait_for(lambda: len(read_log(work / "exec.log")) >= 1, "a task started", job=first)
        file_inode, journal_inode = os.stat(out).st_ino, os.stat(out + ".journal").st_ino
        master_pids = {str(p) for p in rank_pids(first, args.mpisweep)}
        for extra in ([], ["--resume"], ["--force"]):
            second = run_cli(args.mpisweep, ["run"] + extra + sweep, ranks=args.ranks,
                             env=sweep_env(work, {"SECOND_RUN": "1"}))
            lines = mpisweep_lines(second.stderr)
            check(second.returncode == 2, f"a second run {extra} exits 2:\n{second.stderr}")
            check(len(lines) == 1 and "is in use by the sweep of pid" in lines[0] and "--break-lock" in lines[0],
                  f"one line naming the owner for {extra}, got {lines}")
            pid = lines[0].split("pid ")[1].split()[0]
            check(pid in master_pids, f"the line names rank 0 of the running sweep ({master_pids}): {lines[0]}")
            check(os.stat(out).st_ino == file_inode and os.stat(out + ".journal").st_ino == journal_inode,
                  f"the second run {extra} replaced the file or its journal")
        check(os.path.exists(out + ".owner"), "a running sweep keeps an owner record beside its file")
        status = run_cli(args.mpisweep, ["status", out])
        check(status.returncode == 0, f"status works on the running sweep:\n{status.stderr}")
        open_gates(work, 0, 0)
        code, err = finish(first)
        check(code == 0, f"the first sweep ends well: exit {code}\n{err}")
        check(os.stat(out).st_ino == file_inode, "the first sweep's file is still the same file")
        check(not os.path.exists(out + ".owner"), "the owner record is removed when the sweep ends")
        check_exactly_once(work / "exec.log", out, N)
    print("ok")


if __name__ == "__main__":
    main()
