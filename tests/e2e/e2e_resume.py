#!/usr/bin/python3
"""The whole job killed with SIGKILL part-way, then --resume: the post-hoc commands read the
killed file, and in the end every task is done exactly once: the resumed run ran exactly the
tasks the file still had pending, each once, and none that the file had as done. "Done in the
file" is what a resume sees: the HDF5 file plus the journal's records that a kill kept from
reaching it (decoded independently by tests/support/journal_reader.py)."""
import os
import re
import signal
import subprocess
import sys
import time

from e2e_common import (Workspace, check, command, describe, parse_args, read_counts, read_results,
                        run_cli)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_reader import settled  # noqa: E402

N_TASKS = 60
TASK_SECONDS = 0.3


def processes_of_session(session):
    """Pids of the processes in a session (the job, its ranks and their tasks)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def kill_session(session):
    """SIGKILL to every process of the session, until none is left: a job that died at once."""
    deadline = time.time() + 20
    while True:
        pids = processes_of_session(session)
        if not pids:
            return
        check(time.time() < deadline, f"processes {pids} survive SIGKILL")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def status_counts(mpisweep, path):
    """Counts by state as `mpisweep status` prints them (it reads a file a sweep still writes)."""
    result = run_cli(mpisweep, ["status", path])
    if result.returncode != 0:
        return None
    counts = {}
    for state in ("done", "failed", "pending"):
        match = re.search(rf"^{state}\s+(\d+)$", result.stdout, re.MULTILINE)
        check(match is not None, f"no '{state}' line in status output:\n{result.stdout}")
        counts[state] = int(match.group(1))
    return counts


def main():
    args = parse_args(__doc__)
    with Workspace("resume") as work:
        out = work / "sweep.h5"
        first, second = work / "first", work / "second"
        os.makedirs(first)
        os.makedirs(second)
        sweep = ["run", "-o", out, "--no-speculation", "-p", f"i=range(0,{N_TASKS})", "-p", f"d={TASK_SECONDS}",
                 "--", args.task, "sleep", "{d}"]

        env = dict(os.environ, COUNT_DIR=first)
        job = subprocess.Popen(command(args.mpisweep, sweep, args.ranks), env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Kill once the file holds some finished tasks (flushed every 2 s).
        deadline = time.time() + 60
        while True:
            check(job.poll() is None, f"the sweep ended before it was killed (exit code {job.poll()})")
            check(time.time() < deadline, "no task reached the file within 60 s")
            counts = status_counts(args.mpisweep, out) if os.path.exists(out) else None
            if counts and counts["done"] >= 3:
                break
            time.sleep(0.1)
        kill_session(job.pid)
        job.wait()

        done_before, _ = settled(str(out))
        pending = set(range(N_TASKS)) - done_before
        check(done_before and pending, f"kill too early or too late: {len(done_before)} done, {len(pending)} pending")

        # The post-hoc commands work on the killed file and agree with it.
        counts = status_counts(args.mpisweep, out)
        check(counts == {"done": len(done_before), "failed": 0, "pending": len(pending)},
              f"status of the killed file {counts}, file has {len(done_before)} done, {len(pending)} pending")
        csv = run_cli(args.mpisweep, ["export", out, "--csv", work / "killed.csv"])
        check(csv.returncode == 0, describe(csv))
        with open(work / "killed.csv") as f:
            rows = f.read().splitlines()
        check(len(rows) == len(done_before) + 1, f"export of the killed file has {len(rows)} lines")
        check(sum(",done," in r for r in rows) == len(done_before), "export disagrees on done tasks")
        csv = run_cli(args.mpisweep, ["export", out, "--pending", "--csv", work / "killed-all.csv"])
        check(csv.returncode == 0, describe(csv))
        with open(work / "killed-all.csv") as f:
            rows = f.read().splitlines()
        check(len(rows) == N_TASKS + 1, f"export --pending of the killed file has {len(rows)} lines")
        check(sum(",pending," in r for r in rows) == len(pending), "export --pending disagrees on pending tasks")
        show = run_cli(args.mpisweep, ["show", out, "--task", str(min(pending))])
        check(show.returncode == 0 and "pending" in show.stdout, describe(show))

        resumed = run_cli(args.mpisweep, sweep, ranks=args.ranks, env={"COUNT_DIR": second})
        check(resumed.returncode == 2 and "already exists" in resumed.stderr,
              f"a run without --resume must refuse the existing file:\n{describe(resumed)}")
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep[1:], ranks=args.ranks,
                          env={"COUNT_DIR": second})
        check(resumed.returncode == 0, describe(resumed))

        final = read_results(out)
        check(all(final["tasks"]["status"] == 1), f"not all done after resume: {final['tasks']['status']}")
        check(all(final["tasks"]["attempts"] == 1), f"attempts {final['tasks']['attempts']}")
        check(all(final["results"]["slept"] == TASK_SECONDS), "a task lost its result")
        ran_first, ran_second = read_counts(first, N_TASKS), read_counts(second, N_TASKS)
        for task in range(N_TASKS):
            if task in done_before:
                check(ran_first[task] == 1 and ran_second[task] == 0,
                      f"task {task} was done in the file but ran {ran_first[task]} + {ran_second[task]} times")
            else:
                check(ran_second[task] == 1, f"pending task {task} ran {ran_second[task]} times in the resumed run")
        counts = status_counts(args.mpisweep, out)
        check(counts == {"done": N_TASKS, "failed": 0, "pending": 0}, f"final status {counts}")
    print("ok")


if __name__ == "__main__":
    main()
