#!/usr/bin/python3
"""Item 2 of issue 12: a hung worker rank. One worker rank and its running task are
SIGSTOPped (a hung node: nothing there moves, nothing dies). With --heartbeat-timeout 5 the
master declares it lost, its tasks run on the others, and once every task is done the master
closes the file and ends the job (MPI_Abort with the normal code, 0) instead of waiting for it.
While the sweep runs, `mpisweep status --running` lists the lost rank (its node, silent since
when): every task waits at a gate the test opens only once it has seen that line.
Exactly once from the tasks' own log: the stopped task never finished, every task finished
once elsewhere, and the file holds those executions' results. A bad --heartbeat-timeout is a
usage error (exit 2) naming the option."""
import os
import re
import signal
import socket
import time

from faults_common import (Workspace, check, check_exactly_once, check_no_survivors, finish, mpisweep_lines,
                           open_gates, parse_args, process_alive, rank_pids, run_cli, start, sweep_env, wait_for)


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def task_processes(folder):
    """(task id, shell pid) of each task waiting at its gate, from its pid file."""
    out = []
    for name in os.listdir(folder):
        if name.startswith("pid-"):
            with open(os.path.join(folder, name)) as f:
                parts = f.read().split()
            if len(parts) == 1 and process_alive(int(parts[0])):
                out.append((int(name[len("pid-"):].split(".")[0]), int(parts[0])))
    return out


def running_view(args, out, want, job, timeout=60):
    """The output of `status --running` once want(stdout) holds."""
    deadline = time.time() + timeout
    while True:
        shown = run_cli(args.mpisweep, ["status", out, "--running"]).stdout
        if want(shown):
            return shown
        if job.poll() is not None:
            raise AssertionError(f"the sweep ended (exit {job.returncode}) early:\n{job.stderr.read()}")
        check(time.time() < deadline, f"status --running never showed what was wanted; it shows:\n{shown}")
        time.sleep(0.1)


def main():
    args = parse_args(__doc__)
    with Workspace("hung") as work:
        bad = run_cli(args.mpisweep, ["run", "-o", work / "b.h5", "--heartbeat-timeout", "soon", "-p", "x=1", "--",
                                      "true"])
        check(bad.returncode == 2 and "--heartbeat-timeout" in bad.stderr,
              f"a bad --heartbeat-timeout is a usage error naming it: {bad.returncode} {bad.stderr}")

        n_tasks = 8 * (args.ranks - 1)
        out = work / "o.h5"
        host = socket.gethostname()
        sweep = ["run", "-o", out, "--progress", "0", "--heartbeat-timeout", "5", "-p", f"x=range(0,{n_tasks})",
                 "--", args.task, "staged", str(n_tasks)]
        job = start(args.mpisweep, sweep, args.ranks, sweep_env(work))
        wait_for(lambda: len(task_processes(work.path)) >= 1, "a task running", job=job)
        task, shell = task_processes(work.path)[0]
        rank = parent_of(shell)
        check(rank in rank_pids(job, args.mpisweep), f"task {shell} runs under a rank")
        held_by = re.compile(rf"^{task}\s.*\srank (\d+) on {re.escape(host)}\s", re.M)
        mpi_rank = held_by.search(running_view(args, out, held_by.search, job)).group(1)
        for pid in (rank, shell):
            os.kill(pid, signal.SIGSTOP)
        lost = re.compile(rf"^rank {mpi_rank} on {re.escape(host)}: lost: silent for (\S+) \(since "
                          rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC; a hung node or rank", re.M)
        shown = running_view(args, out, lost.search, job)
        check(sum(line.startswith("rank ") for line in shown.splitlines()) == 1, f"only the lost rank:\n{shown}")
        open_gates(work, 0, 0)
        # Before the fix the master waited for the stopped rank's Bye forever.
        code, err = finish(job, timeout=150)
        lines = "\n".join(mpisweep_lines(err))
        check(code == 0, f"every task done: the normal exit code, got {code}:\n{err}")
        check("declared lost" in lines, f"the lost rank is named:\n{lines}")
        check("ending the job with MPI_Abort(0)" in lines, f"how the job ends is said:\n{lines}")
        check_exactly_once(work / "exec.log", out, n_tasks)
        check_no_survivors([shell], within=10)
    print("ok")


if __name__ == "__main__":
    main()
