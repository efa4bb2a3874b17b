#!/usr/bin/python3
"""Stopping the sweep itself (SIGTERM to mpirun, which passes it on to the ranks; SIGINT to a
lone mpisweep, as Ctrl-C does) stops the running tasks and their children too, although
each task runs in a process group of its own; the stopped file then resumes."""
import glob
import os
import signal
import subprocess
import time

from e2e_common import Workspace, check, check_no_survivors, command, describe, parse_args, pids_in, run_cli


def main():
    args = parse_args(__doc__)
    with Workspace("interrupt") as work:
        counts = work / "counts"
        os.makedirs(counts)
        out = work / "sweep.h5"
        workers = max(args.ranks - 1, 1)
        sweep = ["run", "-o", out, "--progress", "0", "-p", "i=range(0,10)", "--", args.task, "wait", "{i}"]
        job = subprocess.Popen(command(args.mpisweep, sweep, args.ranks), env=dict(os.environ, COUNT_DIR=counts),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while len(glob.glob(os.path.join(counts, "running-*"))) < workers:
            check(job.poll() is None and time.time() < deadline, "the tasks did not start")
            time.sleep(0.05)
        time.sleep(0.2)  # the pid files are complete
        job.send_signal(signal.SIGTERM if args.ranks > 0 else signal.SIGINT)
        try:
            job.wait(timeout=30)
        except subprocess.TimeoutExpired:
            job.kill()
            raise AssertionError("the sweep did not stop within 30 s of the signal")
        # 75: stopped early, resumable. mpirun itself exits 1 after passing SIGTERM on.
        expected = (1, 75) if args.ranks > 0 else (75,)
        check(job.returncode in expected, f"a stopped sweep exits {expected}, got {job.returncode}")
        check_no_survivors(pids_in(counts, "running-*"))
        if os.path.exists(out):
            # The file of the stopped sweep resumes (every task still pending, as none finished).
            for path in glob.glob(os.path.join(counts, "*")):
                os.remove(path)
            resumed = run_cli(args.mpisweep, ["run", "--resume", "--timeout", "0.2", "--kill-grace", "0.1",
                                              "--max-attempts", "1", "--max-worker-errors", "0"] + sweep[1:],
                              ranks=args.ranks, env={"COUNT_DIR": counts})
            check(resumed.returncode == 1, f"resume after the stop (every task times out):\n{describe(resumed)}")
    print("ok")


if __name__ == "__main__":
    main()
