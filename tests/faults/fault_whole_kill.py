#!/usr/bin/python3
"""Item 5 of issue 12: a result that reached the master is in the journal before that worker
gets more work, so a whole-job SIGKILL (mpirun, every rank and every task at once) loses at
most the tasks still in flight, never seconds of finished work. A sweep of 20-60 ms commands
is killed at several moments (after a number of tasks finished by their own execution log:
counts, not times), resumed after each kill, and run to its end. At each kill, the tasks
started in that run that a resume does not see as done (the file and its journal, decoded
independently by tests/support/journal_reader.py) are at most the tasks the workers can hold,
workers x (1 + prefetch); `mpisweep status` agrees with the journal. In the end every task is
done once in the file, and finished again only if its first execution was among those lost."""
import os
import re
import sys

from faults_common import (Workspace, check, check_exactly_once, job_processes, kill_session, parse_args, read_log,
                           read_results, run_cli, start, sweep_env, wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_reader import settled  # noqa: E402

PREFETCH = 1


def status_done(mpisweep, path):
    """The done count `mpisweep status` prints for `path`."""
    result = run_cli(mpisweep, ["status", path])
    check(result.returncode == 0, f"status of the killed file failed:\n{result.stderr}")
    match = re.search(r"^done\s+(\d+)$", result.stdout, re.MULTILINE)
    check(match is not None, f"no 'done' line in the status output:\n{result.stdout}")
    return int(match.group(1))


def killed_run(args, work, out, run_args, kill_after, workers):
    """Starts a run, SIGKILLs the whole job once `kill_after` tasks finished in it, checks
    what was lost, and returns the tasks that finished in it but were lost."""
    log = work / "exec.log"
    before = len(read_log(log))

    def this_run():
        return read_log(log)[before:]

    job = start(args.mpisweep, run_args, args.ranks, sweep_env(work))
    wait_for(lambda: sum(e[0] == "end" for e in this_run()) >= kill_after,
             f"{kill_after} tasks to finish", job=job)
    kill_session(job)
    # A task the workers started between kill_session's look at the session and their own
    # death runs on until its rank's guardian ends it, and may finish first: what ended is
    # read once every process of the job is gone.
    wait_for(lambda: not job_processes(work), "every process of the killed job to be gone", timeout=30)
    done, torn = settled(str(out))
    started = [e[1] for e in this_run() if e[0] == "start"]
    ended = [e[1] for e in this_run() if e[0] == "end"]
    lost = [t for t in started if t not in done]
    in_flight = workers * (1 + PREFETCH)
    check(len(lost) <= in_flight,
          f"kill after {kill_after} finished: {len(started)} tasks started in this run, {len(lost)} of them not "
          f"in the file or its journal (tasks {sorted(lost)}); at most the {in_flight} the {workers} workers can "
          f"hold may be lost")
    if not torn:
        check(status_done(args.mpisweep, out) == len(done),
              f"mpisweep status disagrees with the file and journal ({len(done)} done)")
    return [t for t in ended if t not in done]


def main():
    args = parse_args(__doc__)
    check(args.ranks >= 2, "this test needs mpirun with 2 or more ranks")
    workers = args.ranks - 1
    n_tasks = 40 * workers
    with Workspace("whole-kill") as work:
        out = work / "k.h5"
        sweep = ["-o", out, "--progress", "0", "--prefetch", str(PREFETCH), "--no-speculation",
                 "-p", f"x=range(0,{n_tasks})", "--", args.task, "short", "0"]
        lost_after_end = []
        first = True
        # Early in a run and later: before and after the HDF5 file's first flushes.
        for kill_after in (3 * workers, 8 * workers, 15 * workers):
            run_args = ["run"] + (["--resume"] if not first else []) + sweep
            lost_after_end += killed_run(args, work, out, run_args, kill_after, workers)
            first = False
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=sweep_env(work))
        check(resumed.returncode == 0, f"the last resume exits 0:\n{resumed.stderr}")
        check_exactly_once(work / "exec.log", out, n_tasks, allowed_repeats=len(lost_after_end))
        attempts = read_results(out)["tasks"]["attempts"]
        check(all(attempts == 1), f"attempts in the file: {attempts}")
    print("ok")


if __name__ == "__main__":
    main()
