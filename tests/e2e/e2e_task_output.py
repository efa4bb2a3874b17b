#!/usr/bin/python3
"""Where a sweep's task output goes: no file per task in the output folder (every create
counted with inotify: the results file, its journal, the owner record, the log folder and
one stream file per worker; at most 2 + 2 x workers with 2 workers or more; with tasks that
print nothing and succeed, no log folder and no stream at all), every task's
stdout and stderr back from `mpisweep log`, one file per attempt with --per-task-logs, and
`run --dry-run`, which prints the sweep and touches nothing."""
import os
import sys

from e2e_common import Workspace, check, describe, parse_args, read_results, run_cli

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from file_events import FileEvents  # noqa: E402

N = 600


def snapshot(root):
    return sorted(os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files)


def main():
    args = parse_args(__doc__)
    with Workspace("task-output") as work:
        out = work / "sweep.h5"
        sweep = ["-o", out, "--progress", "0", "-p", f"x=range(0,{N // 2})", "-p", "y=a,b", "--",
                 "/bin/sh", "-c", 'echo "out $0 $1"; echo "err $0 $1" >&2', "{x}", "{y}"]

        # --dry-run: the count, the axes, the first commands; nothing written, no MPI.
        before = snapshot(work.path)
        dry = run_cli(args.mpisweep, ["run", "--dry-run"] + sweep)
        check(dry.returncode == 0, f"--dry-run:\n{describe(dry)}")
        for phrase in (f"tasks: {N}", "x  int, 300 values: 0, 1, 2, 3, ..., 299", "y  str, 2 values: a, b",
                       "task 0: /bin/sh -c 'echo \"out $0 $1\"; echo \"err $0 $1\" >&2' 0 a",
                       "task 1: /bin/sh -c 'echo \"out $0 $1\"; echo \"err $0 $1\" >&2' 0 b",
                       "task 4: ", f"... and {N - 5} more", "sweep.h5.logs"):
            check(phrase in dry.stdout, f"--dry-run output lacks {phrase!r}:\n{dry.stdout}")
        check(snapshot(work.path) == before, f"--dry-run wrote files: {snapshot(work.path)}")

        # The sweep, with every file created in the output folder and the log folder counted.
        logs = work / "sweep.h5.logs"
        os.makedirs(logs)  # made here so that inotify watches it from the start
        with FileEvents([work.path, logs]) as events:
            result = run_cli(args.mpisweep, ["run"] + sweep, ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        check(not events.overflowed, "inotify lost events")
        # The results file and its journal (each made under a temporary name and renamed), and
        # the sweep's owner record, which also holds the live view of `status --running`
        # (rewritten in place, removed at the end): 3 creates, whatever the number of tasks.
        made_here = events.created[work.path]
        check(len(made_here) <= 3 and all(n.startswith("sweep.h5") for n in made_here)
              and sum(n == "sweep.h5.owner" for n in made_here) == 1, f"created in the output folder: {made_here}")
        check(not os.path.exists(work / "sweep.h5.owner"), "the owner record is removed at the end")
        workers = max(args.ranks - 1, 1)
        made_in_logs = events.created[logs]
        check(len(made_in_logs) <= workers and all(n.endswith(".log") for n in made_in_logs),
              f"{N} tasks created {len(made_in_logs)} files in the log folder: {made_in_logs}")
        # Every create of the run, the log folder's mkdir (made beforehand here) included:
        # 3 + 1 + workers, within the 2 + 2 x workers from 2 workers on.
        made = len(made_here) + 1 + len(made_in_logs)
        check(made <= 4 + workers, f"{made} creates: {made_here}, the log folder, {made_in_logs}")
        if workers >= 2:
            check(made <= 2 + 2 * workers, f"{made} creates for {workers} workers, more than 2 + 2 x workers")
        check(not events.deleted[logs], f"files deleted in the log folder: {events.deleted[logs]}")
        check((read_results(out)["tasks"]["status"] == 1).all(), "every task done")

        # Each task's output, stdout and stderr apart.
        for task in (0, 1, 77, N - 1):
            x, y = task // 2, "ab"[task % 2]
            for stream, flag in (("out", []), ("err", ["--stderr"])):
                shown = run_cli(args.mpisweep, ["log", out, "--task", str(task)] + flag)
                check(shown.returncode == 0 and shown.stdout == f"{stream} {x} {y}\n",
                      f"log --task {task} {flag}:\n{describe(shown)}")
        # The stream files read as text: each task's output under a header line.
        text = "".join(open(os.path.join(logs, n)).read() for n in made_in_logs)
        for line in ("@@ mpisweep task 77 attempt 1 stdout 9 bytes start ", "\nout 38 b\n", "\nerr 38 b\n",
                     "@@ mpisweep task 77 attempt 1 end done exit 0 wall "):
            check(line in text, f"the stream files lack {line!r}")
        listed = run_cli(args.mpisweep, ["log", out, "--task", "3", "--list"])
        check(listed.returncode == 0 and listed.stdout.startswith("attempt 1: run run-") and
              ", done after " in listed.stdout and "stdout 8 B, stderr 8 B" in listed.stdout,
              f"log --list:\n{describe(listed)}")

        # Wrong use of `mpisweep log`: one line, exit code 2.
        for log_args, phrase in ((["--task", str(N + 5)], f"task {N + 5} has no recorded attempt"),
                                 (["--task", "3", "--attempt", "2"], "--attempt 2 is not one of 1..1"),
                                 (["--task", "x"], "--task: expected an integer >= 0, got 'x'"),
                                 (["--task", "3", "--attempt", "0"], "--attempt: expected an integer >= 1"),
                                 (["--task", "3", "--log-dir", work / "nowhere"], "folder")):
            bad = run_cli(args.mpisweep, ["log", out] + log_args)
            lines = bad.stderr.splitlines()
            check(bad.returncode == 2 and len(lines) == 1 and phrase in lines[0], f"log {log_args}:\n{describe(bad)}")

        # Tasks that print nothing and succeed leave no log at all: no log folder, no stream,
        # so the creates stay within 2 + 2 x workers at one worker too. `mpisweep log` shows
        # the attempt from the results file, with no output.
        quiet = work / "quiet"
        os.makedirs(quiet)
        quiet_file = os.path.join(quiet, "q.h5")
        with FileEvents([quiet]) as events:
            result = run_cli(args.mpisweep, ["run", "-o", quiet_file, "--progress", "0", "-p", "x=range(0,200)",
                                             "--", "true"], ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        made_quiet = events.created[quiet]
        check(len(made_quiet) <= 3 and not os.path.exists(quiet_file + ".logs"),
              f"200 silent tasks created {made_quiet}")
        check(len(made_quiet) <= 2 + 2 * workers, f"{made_quiet}: more than 2 + 2 x {workers} workers")
        shown = run_cli(args.mpisweep, ["log", quiet_file, "--task", "5"])
        check(shown.returncode == 0 and shown.stdout == "" and "printed nothing" in shown.stderr,
              f"log of a silent task:\n{describe(shown)}")
        listed = run_cli(args.mpisweep, ["log", quiet_file, "--task", "5", "--list"])
        lines = listed.stdout.splitlines()
        check(listed.returncode == 0 and len(lines) == 1 and lines[0].startswith("attempt 1: rank ") and
              ", done after " in lines[0] and "stdout 0 B, stderr 0 B" in lines[0], f"log --list:\n{describe(listed)}")

        # --per-task-logs: one file per attempt as well, in a folder per run.
        per_task = work / "per-task"
        small = ["-o", work / "small.h5", "--progress", "0", "--per-task-logs", per_task, "-p", "x=0,1,2", "--",
                 "/bin/sh", "-c", 'echo "hello $0"; echo "oops $0" >&2', "{x}"]
        result = run_cli(args.mpisweep, ["run"] + small, ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        runs = os.listdir(per_task)
        check(len(runs) == 1 and runs[0].startswith("run-"), f"per-task folder holds {runs}")
        for x in range(3):
            stem = os.path.join(per_task, runs[0], f"task-{x}.attempt-1")
            with open(stem + ".out") as f_out, open(stem + ".err") as f_err:
                check(f_out.read() == f"hello {x}\n" and f_err.read() == f"oops {x}\n", f"per-task files of task {x}")
    print("ok")


if __name__ == "__main__":
    main()
