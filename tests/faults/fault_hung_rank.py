#!/usr/bin/python3
"""Item 2 of issue 12: a hung worker rank. One worker rank and its running task are
SIGSTOPped (a hung node: nothing there moves, nothing dies). With --heartbeat-timeout 5 the
master declares it lost, its tasks run on the others, and once every task is done the master
closes the file and ends the job (MPI_Abort with the normal code, 0) instead of waiting for it.
Exactly once from the tasks' own log: the stopped task never finished, every task finished
once elsewhere, and the file holds those executions' results. A bad --heartbeat-timeout is a
usage error (exit 2) naming the option."""
import os
import signal

from faults_common import (Workspace, check, check_exactly_once, check_no_survivors, finish, mpisweep_lines,
                           parse_args, process_alive, rank_pids, run_cli, start, sweep_env, wait_for)


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def task_processes(folder):
    """(shell, sleep) pids of each running nap task, from its pid file (finished ones left out)."""
    out = []
    for name in os.listdir(folder):
        if name.startswith("pid-"):
            with open(os.path.join(folder, name)) as f:
                parts = f.read().split()
            if len(parts) == 2 and process_alive(int(parts[1])):
                out.append((int(parts[0]), int(parts[1])))
    return out


def main():
    args = parse_args(__doc__)
    with Workspace("hung") as work:
        bad = run_cli(args.mpisweep, ["run", "-o", work / "b.h5", "--heartbeat-timeout", "soon", "-p", "x=1", "--",
                                      "true"])
        check(bad.returncode == 2 and "--heartbeat-timeout" in bad.stderr,
              f"a bad --heartbeat-timeout is a usage error naming it: {bad.returncode} {bad.stderr}")

        n_tasks = 8 * (args.ranks - 1)
        out = work / "o.h5"
        sweep = ["run", "-o", out, "--progress", "0", "--heartbeat-timeout", "5", "-p", f"x=range(0,{n_tasks})",
                 "--", args.task, "nap", "1"]
        job = start(args.mpisweep, sweep, args.ranks, sweep_env(work))
        wait_for(lambda: len(task_processes(work.path)) >= 1, "a task running", job=job)
        shell, child = task_processes(work.path)[0]
        rank = parent_of(shell)
        check(rank in rank_pids(job, args.mpisweep), f"task {shell} runs under a rank")
        for pid in (rank, shell, child):
            os.kill(pid, signal.SIGSTOP)
        # Before the fix the master waited for the stopped rank's Bye forever.
        code, err = finish(job, timeout=150)
        lines = "\n".join(mpisweep_lines(err))
        check(code == 0, f"every task done: the normal exit code, got {code}:\n{err}")
        check("declared lost" in lines, f"the lost rank is named:\n{lines}")
        check("ending the job with MPI_Abort(0)" in lines, f"how the job ends is said:\n{lines}")
        check_exactly_once(work / "exec.log", out, n_tasks)
        check_no_survivors([shell, child], within=10)
    print("ok")


if __name__ == "__main__":
    main()
