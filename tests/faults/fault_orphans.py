#!/usr/bin/python3
"""Item 3 of issue 12: a task's process group never outlives its worker. One worker rank is
SIGKILLed while every worker runs a long task (a shell with a child): that worker's task and
its child end too (the guardian of the rank kills the group), and so do the others' when
mpirun ends the job. Without mpirun, the lone process is SIGKILLed the same way."""
import os
import signal

from faults_common import (Workspace, check, check_no_survivors, finish, parse_args, pids_in, rank_pids, start,
                           sweep_env, wait_for)


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def main():
    args = parse_args(__doc__)
    with Workspace("orphans") as work:
        out = work / "o.h5"
        workers = max(args.ranks - 1, 1)
        sweep = ["run", "-o", out, "--progress", "0", "-p", "x=range(0,20)", "--", args.task, "nap", "37"]
        job = start(args.mpisweep, sweep, args.ranks, sweep_env(work))
        wait_for(lambda: len(pids_in(work.path, "pid-*")) >= 2 * workers, "every worker running a task", job=job)
        task_pids = pids_in(work.path, "pid-*")
        ranks = set(rank_pids(job, args.mpisweep))
        victim = parent_of(task_pids[0])
        check(victim in ranks, f"task {task_pids[0]} runs under a rank ({victim} not in {ranks})")
        victims_tasks = [p for p in task_pids if p == task_pids[0] or parent_of_safe(p) == task_pids[0]]
        os.kill(victim, signal.SIGKILL)
        # The dead rank's own task first: nobody but its guardian can end it.
        check_no_survivors(victims_tasks, within=10)
        finish(job, timeout=60)
        check_no_survivors(task_pids, within=10)
    print("ok")


def parent_of_safe(pid):
    try:
        return parent_of(pid)
    except (FileNotFoundError, ProcessLookupError):
        return -1


if __name__ == "__main__":
    main()
