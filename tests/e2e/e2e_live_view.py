#!/usr/bin/python3
"""A running sweep seen from outside: `mpisweep status FILE --running` lists each running task
(id first, params, rank, node, attempt, elapsed), the queued copies and the retired worker;
--log-tasks prints a line per task start and finish; once the sweep ends the owner record that
holds the live view is gone. The tasks wait for a file the test creates, so nothing here
depends on timing."""
import os
import re
import socket
import subprocess
import time

from e2e_common import Workspace, check, command, describe, parse_args, run_cli

WAIT = 'while [ ! -e "$RELEASE" ]; do sleep 0.05; done'
# Task 0 fails at once on its first attempt (its worker is then retired: --max-worker-errors 1);
# every other attempt waits for the release file.
TASK = f'if [ "$0" = 0 ] && [ "$MPISWEEP_ATTEMPT" = 1 ]; then echo "no luck" >&2; exit 1; fi; {WAIT}'


def running_view(mpisweep, out, want, job, deadline):
    """`status --running` until `want(stdout)` holds (or the sweep ended, or the deadline passed)."""
    while True:
        shown = run_cli(mpisweep, ["status", out, "--running"])
        if shown.returncode == 0 and want(shown.stdout) or job.poll() is not None or time.time() > deadline:
            return shown
        time.sleep(0.2)


def main():
    args = parse_args(__doc__)
    check(args.ranks >= 3, "needs two workers at least")
    with Workspace("live-view") as work:
        out = work / "sweep.h5"
        release = work / "release"
        env = dict(os.environ, RELEASE=release)
        cmd = command(args.mpisweep, ["run", "-o", out, "--progress", "0", "--log-tasks", "--max-worker-errors", "1",
                                      "-p", "x=range(0,4)", "--", "/bin/sh", "-c", TASK, "{x}"], args.ranks)
        job = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            host = socket.gethostname()
            task_line = re.compile(rf"^(\d+)\s+x=(\d+)\s+rank (\d+) on {re.escape(host)}\s+attempt (\d+)\s+(\S+)$")
            # Task 0 failed and its worker was retired: it still finishes the copy it began
            # next; the other worker runs one and holds one more.
            shown = running_view(args.mpisweep, out,
                                 lambda s: "retired" in s and sum(bool(task_line.match(l)) for l in s.splitlines()) == 2,
                                 job, time.time() + 60)
            if job.poll() is not None:
                raise AssertionError(f"the sweep ended early (exit code {job.returncode}):\n{job.stderr.read()}")
            lines = shown.stdout.splitlines()
            check(shown.returncode == 0 and lines[0].startswith("running: 2 task(s) on 2 worker(s), 0 done"),
                  describe(shown))
            tasks = [task_line.match(l).groups() for l in lines if task_line.match(l)]
            check(len(tasks) == 2, f"two running tasks expected:\n{shown.stdout}")
            check(sorted(rank for _, _, rank, _, _ in tasks) == ["1", "2"], f"one per worker:\n{shown.stdout}")
            for task, x, _, attempt, elapsed in tasks:
                check(task == x and task in "123" and attempt == "1", f"running line of task {task}:\n{shown.stdout}")
                check(re.fullmatch(r"\d+(\.\d+)?s|\d+m\d\ds", elapsed) is not None, f"elapsed {elapsed!r}")
            check("queued on workers, not started: 1 copies" in lines, f"queued:\n{shown.stdout}")
            retired = [l for l in lines if l.startswith("rank ") and ": retired " in l]
            check(len(retired) == 1 and "1 failures in a row" in retired[0] and "exit code 1" in retired[0] and
                  "no luck" in retired[0], f"retired worker (one line):\n{shown.stdout}")
            check(os.path.exists(f"{out}.owner") and not os.path.exists(f"{out}.live"),
                  "the live view is in the owner record beside the results file, not a file of its own")
        finally:
            open(release, "w").close()
            try:
                stdout, stderr = job.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                job.kill()
                raise
        check(job.returncode == 0, f"exit code {job.returncode}:\n{stderr}")
        check(not os.path.exists(f"{out}.owner"), "the owner record and its live view must be removed at the end")
        after = run_cli(args.mpisweep, ["status", out, "--running"])
        check(after.returncode == 0 and after.stdout.startswith("no sweep is running"), describe(after))

        # --log-tasks: every task started and finished, k counting the settled tasks 1..4.
        log = [l[len("mpisweep: "):] for l in stderr.splitlines() if l.startswith("mpisweep: [")]
        started = [l for l in log if " started on " in l]
        done = [l for l in log if " done in " in l]
        check(sorted(int(l.split()[2]) for l in done) == [0, 1, 2, 3], f"done lines:\n{stderr}")
        check([int(l[1:l.index("/")]) for l in done] == [1, 2, 3, 4], f"[k/N] of the done lines:\n{stderr}")
        check(all("/4] task " in l for l in log), f"N of every line:\n{stderr}")
        check(all(re.search(rf"done in \d+\.\d s on {re.escape(host)} rank [12]$", l) for l in done), f"{done}")
        check({int(l.split()[2]) for l in started} == {0, 1, 2, 3}, f"every task started:\n{stderr}")
        check(any(" task 0 started on " in l and "(attempt 2)" in l for l in started),
              f"task 0's second attempt started:\n{stderr}")
        failed = [l for l in log if " failed in " in l]
        check(len(failed) == 1 and failed[0].startswith("[0/4] task 0 failed in ") and
              "(attempt 1, it runs again): exit code 1" in failed[0], f"failure line:\n{stderr}")
    print("ok")


if __name__ == "__main__":
    main()
