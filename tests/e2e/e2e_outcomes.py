#!/usr/bin/python3
"""A sweep of a program that succeeds, writes JSON, crashes, exits non-zero, hangs past the
timeout, writes malformed JSON or sleeps: each task lands in the file with the right status,
exit code, attempts, results and error, and ran as often as the file says."""
import math
import os
import socket

from e2e_common import (Workspace, check, describe, parse_args, process_alive, read_counts,
                        read_results, run_cli)

# (mode, value) per task, zipped: task i runs `sweep_task.sh MODE VALUE`.
CASES = [("ok", 1), ("json", 2), ("json", 5), ("crash", 4), ("fail", 5), ("hang", 6),
         ("badjson", 7), ("sleep", 0.3)]
MAX_ATTEMPTS = 2


def main():
    args = parse_args(__doc__)
    with Workspace("outcomes") as work:
        counts = work / "counts"
        os.makedirs(counts)
        out = work / "sweep.h5"
        modes = ",".join(m for m, _ in CASES)
        values = ",".join(str(v) for _, v in CASES)
        result = run_cli(args.mpisweep, [
            "run", "-o", out, "--max-attempts", str(MAX_ATTEMPTS), "--timeout", "1", "--kill-grace", "0.5",
            "--no-speculation", "--max-worker-errors", "0", "-p", f"mode={modes}", "-p", f"value:str={values}", "--zip", "mode,value",
            "--", args.task, "{mode}", "{value}"], ranks=args.ranks, env={"COUNT_DIR": counts})
        # Exit code 1: the sweep ended and some tasks failed for good.
        check(result.returncode == 1, f"expected exit code 1 (tasks failed):\n{describe(result)}")

        f = read_results(out)
        n = len(CASES)
        check(f["attrs"]["n_tasks"] == n, f"n_tasks {f['attrs']['n_tasks']}")
        check(list(f["params"]["mode"]) == [m for m, _ in CASES], f"params/mode {f['params']['mode']}")
        status, exit_code = f["tasks"]["status"], f["tasks"]["exit_code"]
        attempts, error = f["tasks"]["attempts"], f["tasks"]["error"]
        expected = {  # mode -> (status, exit code, attempts, phrases of the error)
            "ok": (1, 0, 1, []),
            "json": (1, 0, 1, []),
            "sleep": (1, 0, 1, []),
            "crash": (2, -11, MAX_ATTEMPTS, ["signal 11 (SIGSEGV)", "about to crash on 4"]),
            "fail": (2, 3, MAX_ATTEMPTS, ["exit code 3", "something went wrong with 5"]),
            "hang": (2, -15, MAX_ATTEMPTS, ["timed out after 1 s", "SIGTERM", "hanging"]),
            "badjson": (2, 0, MAX_ATTEMPTS, ["malformed JSON", "line 2", "task-6.attempt-2.json"]),
        }
        for task, (mode, _) in enumerate(CASES):
            want_status, want_code, want_attempts, phrases = expected[mode]
            where = f"task {task} ({mode})"
            check(status[task] == want_status, f"{where}: status {status[task]}, expected {want_status}")
            check(exit_code[task] == want_code, f"{where}: exit code {exit_code[task]}, expected {want_code}")
            check(attempts[task] == want_attempts, f"{where}: attempts {attempts[task]}, expected {want_attempts}")
            for phrase in phrases:
                check(phrase in error[task], f"{where}: error lacks '{phrase}':\n{error[task]}")
            if want_status == 1:
                check(error[task] == "", f"{where}: done but error '{error[task]}'")
            # Every attempt's stdout and stderr are kept: `mpisweep log --list` has one line each.
            listed = run_cli(args.mpisweep, ["log", out, "--task", str(task), "--list"])
            check(listed.returncode == 0, f"{where}: log --list\n{describe(listed)}")
            lines = listed.stdout.splitlines()
            check(len(lines) == want_attempts, f"{where}: {len(lines)} attempts listed:\n{listed.stdout}")
        # The program ran exactly as often as the file says.
        ran = read_counts(counts, n)
        check(list(ran) == list(attempts), f"invocations {list(ran)} != attempts {list(attempts)}")

        # Results: numbers (integers too) as float64, strings, arrays of numbers.
        res = f["results"]
        check(set(res) == {"value", "twice", "label", "pair", "slept"}, f"result columns {sorted(res)}")
        check(res["value"].dtype.kind == "f" and res["twice"].dtype.kind == "f", "numbers must be float64")
        check(res["value"][1] == 2.0 and res["twice"][2] == 10.0, f"value {res['value']}, twice {res['twice']}")
        check(res["label"][1] == "v2" and res["label"][2] == "v5", f"label {res['label']}")
        check(list(res["pair"][2]) == [5.0, 1.5], f"pair {res['pair']}")
        check(res["slept"][7] == 0.3, f"slept {res['slept']}")
        check(math.isnan(res["value"][0]) and math.isnan(res["value"][3]), "rows without a value must be NaN")

        # Timing and placement.
        wall = f["tasks"]["wall_s"]
        check(wall[7] >= 0.3, f"the sleep task took {wall[7]} s")
        check(1.0 <= wall[5] < 5.0, f"the hung task was stopped after {wall[5]} s (timeout 1 s)")
        workers = f["tasks"]["worker"]
        first_worker = 1 if args.ranks > 1 else 0
        check(all(first_worker <= w < max(args.ranks, 1) for w in workers), f"workers {list(workers)}")
        check(list(f["tasks"]["device"]) == [-1] * n, "no GPU here: every task on CPU")
        check(f["nodes"] == [socket.gethostname()], f"nodes {f['nodes']}")
        # The hung task's background child died with its process group.
        grandchild = int(open(os.path.join(counts, "grandchild-5")).read())
        check(not process_alive(grandchild), f"grandchild {grandchild} of the hung task is still alive")
        # Output as the programs wrote it, stdout and stderr apart.
        for task, stream, text in ((0, [], "ok 1\n"), (3, ["--stderr"], "about to crash on 4\n"),
                                   (5, ["--stderr"], "hanging\n")):
            shown = run_cli(args.mpisweep, ["log", out, "--task", str(task)] + stream)
            check(shown.returncode == 0 and shown.stdout == text, f"log --task {task} {stream}:\n{describe(shown)}")
        # No file per task: one stream file per worker that ran a task, nothing else (the
        # result files went to node-local storage and were removed).
        logs = sorted(os.listdir(work / "sweep.h5.logs"))
        workers = max(args.ranks - 1, 1)
        check(len(logs) <= workers and all(n.endswith(".log") for n in logs),
              f"log folder holds {logs}; expected at most one stream file per worker")

        # --resume alone has nothing to do; --retry-failed reruns exactly the failed tasks.
        sweep_args = result.args[result.args.index("run") + 1:]
        again = run_cli(args.mpisweep, ["run", "--resume"] + sweep_args, ranks=args.ranks, env={"COUNT_DIR": counts})
        check(again.returncode == 1, f"resume of a finished sweep:\n{describe(again)}")
        check(list(read_counts(counts, n)) == list(attempts), "a plain --resume ran tasks again")
        again = run_cli(args.mpisweep, ["run", "--resume", "--retry-failed"] + sweep_args, ranks=args.ranks,
                        env={"COUNT_DIR": counts})
        check(again.returncode == 1, f"resume --retry-failed:\n{describe(again)}")
        retried = read_results(out)
        for task, (mode, _) in enumerate(CASES):
            failed = expected[mode][0] == 2
            want = 2 * MAX_ATTEMPTS if failed else 1  # attempts add up over runs
            check(retried["tasks"]["attempts"][task] == want,
                  f"task {task} ({mode}): attempts {retried['tasks']['attempts'][task]} after the retry, expected {want}")
            check(read_counts(counts, n)[task] == want, f"task {task} ({mode}) ran {read_counts(counts, n)[task]} times")
            check(retried["tasks"]["status"][task] == expected[mode][0], f"task {task}: status changed")
        # `mpisweep log` numbers the attempts across the runs: the failing task ran twice in
        # the first run and twice in the retry, and attempt k prints its k-th invocation.
        fail_task = [m for m, _ in CASES].index("fail")
        listed = run_cli(args.mpisweep, ["log", out, "--task", str(fail_task), "--list"])
        check(len(listed.stdout.splitlines()) == 2 * MAX_ATTEMPTS, f"attempts after the retry:\n{listed.stdout}")
        for k in range(1, 2 * MAX_ATTEMPTS + 1):
            shown = run_cli(args.mpisweep, ["log", out, "--task", str(fail_task), "--attempt", str(k)])
            check(shown.returncode == 0 and shown.stdout == f"invocation {k}\n", f"--attempt {k}:\n{describe(shown)}")
            err = run_cli(args.mpisweep, ["log", out, "--task", str(fail_task), "--attempt", str(k), "--stderr"])
            check("something went wrong with 5" in err.stdout, f"--attempt {k} --stderr:\n{describe(err)}")
        last = run_cli(args.mpisweep, ["log", out, "--task", str(fail_task)])
        check(last.stdout == f"invocation {2 * MAX_ATTEMPTS}\n", f"the last attempt by default:\n{describe(last)}")
    print("ok")


if __name__ == "__main__":
    main()
