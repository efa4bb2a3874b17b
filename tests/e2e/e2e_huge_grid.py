#!/usr/bin/python3
"""A 10^15-point grid (three axes of 100,000 values) starts, runs, drains with exit code 75 on
SIGUSR1 to mpirun, and resumes (and drains again): the file holds the chunks of the tasks
that settled and nothing else (megabytes, not petabytes), status/best/export/show read it, the
Python reader loads its settled rows and refuses a dense array of the grid, and no task that
settled runs again (counted by the tasks themselves)."""
import os
import re
import signal
import subprocess
import sys
import time

from e2e_common import Workspace, check, command, describe, parse_args, run_cli

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

N = 100000 ** 3
EXIT_INTERRUPTED = 75


def started(counts):
    return {int(name[len("task-"):]) for name in os.listdir(counts) if name.startswith("task-")}


def run_until(args, sweep, counts, at_least):
    """Runs the sweep until at least `at_least` tasks started, then SIGUSR1 to mpirun."""
    job = subprocess.Popen(command(args.mpisweep, sweep, args.ranks), env=dict(os.environ, COUNT_DIR=counts),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 90
    while len(started(counts)) < at_least:
        if job.poll() is not None:
            raise AssertionError(f"the sweep ended on its own (exit {job.returncode}):\n{job.stderr.read()}")
        check(time.time() < deadline, f"fewer than {at_least} tasks started within 90 s")
        time.sleep(0.05)
    os.kill(job.pid, signal.SIGUSR1)
    try:
        _, err = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError("the sweep did not drain within 60 s of SIGUSR1")
    check(job.returncode == EXIT_INTERRUPTED, f"drained sweep exited {job.returncode}, expected 75:\n{err}")


def status_counts(args, out):
    m = run_cli(args.mpisweep, ["status", out])
    check(m.returncode == 0, describe(m))
    counts = {state: int(n) for state, n in re.findall(r"^(done|failed|pending)\s+(\d+)$", m.stdout, re.MULTILINE)}
    check(f"{N} tasks over 3 parameters" in m.stdout, m.stdout)
    return counts


def main():
    args = parse_args(__doc__)
    with Workspace("huge") as work:
        out, counts = work / "huge.h5", work / "counts"
        os.makedirs(counts)
        axes = ["-p", "a=range(0,100000)", "-p", "b=range(0,100000)", "-p", "c=range(0,100000)"]
        sweep = ["run", "-o", out, "--progress", "0", "--no-speculation"] + axes + ["--", args.task, "json", "{c}"]
        run_until(args, sweep, counts, 200)
        first = status_counts(args, out)
        check(first["done"] >= 150 and first["failed"] == 0 and first["done"] + first["pending"] == N,
              f"after the first drain: {first}")
        size = os.path.getsize(out)
        check(size < 32 * 1024 * 1024, f"the file is {size} bytes after {first['done']} tasks of {N}")
        ran_first = started(counts)
        import mpisweep
        done_first = set(mpisweep.load(out).index)
        check(len(done_first) == first["done"], f"load() after the first drain: {len(done_first)} rows")

        run_until(args, ["run", "-o", out, "--resume"] + sweep[3:], counts, len(ran_first) + 200)
        second = status_counts(args, out)
        check(second["done"] >= first["done"] + 150 and second["done"] + second["pending"] == N,
              f"after the resume: {second}, before {first}")
        check(os.path.getsize(out) < 32 * 1024 * 1024, f"the file is {os.path.getsize(out)} bytes")

        df = mpisweep.load(out)
        check(len(df) == second["done"] and (df["status"] == "done").all(), f"load(): {len(df)} rows")
        check((df["value"] == df["c"]).all() and (df["twice"] == 2 * df["c"]).all(), "load(): values")
        check(done_first <= set(df.index), "tasks done in the first run are not done after the resume")
        for task in df.index:  # run once; twice only when the first drain stopped it
            with open(os.path.join(counts, f"task-{task}")) as f:
                starts = len(f.read().split())
            limit = 1 if task in done_first else 2
            check(1 <= starts <= limit, f"task {task} started {starts} times (done in the first run: "
                                        f"{task in done_first})")
        try:
            mpisweep.grid_array(out, "value")
            raise AssertionError("grid_array of a 10^15-point grid did not refuse")
        except MemoryError as e:
            check("load()" in str(e) and "1,000,000,000,000,000 grid points" in str(e), str(e))

        m = run_cli(args.mpisweep, ["show", out, "--task", str(N - 1)])
        check(m.returncode == 0 and ": pending" in m.stdout and "a = 99999" in m.stdout, describe(m))
        m = run_cli(args.mpisweep, ["best", out, "--metric", "value", "--max", "-n", "3"])
        check(m.returncode == 0 and f"of {second['done']} done tasks" in m.stdout, describe(m))
        m = run_cli(args.mpisweep, ["export", out, "--csv", "-"])
        check(m.returncode == 0 and len(m.stdout.splitlines()) == second["done"] + 1, "export rows")
        m = run_cli(args.mpisweep, ["export", out, "--pending", "--csv", "-"])
        check(m.returncode == 2 and "leave out --pending" in m.stderr, describe(m))
    print("ok")


if __name__ == "__main__":
    main()
