#!/usr/bin/python3
"""Stopping a sweep early keeps it resumable: a stop signal (SIGUSR1 or SIGTERM to mpirun,
SIGUSR1 to one worker only, SIGINT to a lone mpisweep) drains the whole sweep: finished
results are in the file, running tasks are stopped (no task process survives) and stay
pending, mpisweep exits 75, and --resume runs each remaining task exactly once. A second
signal ends the sweep at once, even with tasks that ignore SIGTERM."""
import glob
import os
import signal
import subprocess
import time

from e2e_common import (Workspace, check, check_no_survivors, command, describe, parse_args, pids_in,
                        read_counts, read_results, run_cli)

TASKS = 12
EXIT_INTERRUPTED = 75


def child_pids(pid):
    """Direct children of pid (the ranks under mpirun)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_for_starts(job, counts, n):
    deadline = time.time() + 60
    while len(glob.glob(os.path.join(counts, "pid-*"))) < n:
        if job.poll() is not None:
            raise AssertionError(f"the sweep ended before {n} tasks started:\n{job.stderr.read()}")
        check(time.time() < deadline, f"fewer than {n} tasks started within 60 s")
        time.sleep(0.02)
    time.sleep(0.1)  # the pid files are complete


def stop_and_wait(job, signals, target=None):
    """Sends each signal (0.5 s apart) to target (default: the job) and waits for the end."""
    start = time.time()
    for k, sig in enumerate(signals):
        if k > 0:
            time.sleep(0.5)
        os.kill(target or job.pid, sig)
    try:
        _, err = job.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError("the sweep did not stop within 30 s of the signal")
    return time.time() - start, err


def scenario(args, work, name, mode, signals, to_worker=False, extra=(), mpirun_exit=(EXIT_INTERRUPTED,),
             resume=True):
    counts, out = work / f"{name}-counts", work / f"{name}.h5"
    os.makedirs(counts)
    workers = max(args.ranks - 1, 1)
    sweep = ["run", "-o", out, "--progress", "0", "--no-speculation", "-p", f"i=range(0,{TASKS})"] + list(extra)
    program = ["--", args.task, mode, "0.4" if mode == "nap" else "100"]
    job = subprocess.Popen(command(args.mpisweep, sweep + program, args.ranks),
                           env=dict(os.environ, COUNT_DIR=counts), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    # Some tasks finish before the signal, some are running when it comes.
    wait_for_starts(job, counts, workers + (workers if mode == "nap" else 0))
    target = None
    if to_worker:
        ranks = child_pids(job.pid)
        check(len(ranks) == args.ranks, f"expected {args.ranks} rank processes under mpirun, found {ranks}")
        target = max(ranks)  # the last rank started: a worker, never the master
    took, err = stop_and_wait(job, signals, target)
    expected = mpirun_exit if args.ranks > 0 else (EXIT_INTERRUPTED,)
    check(job.returncode in expected,
          f"{name}: exit code {job.returncode}, expected {expected}; stderr:\n{err}")
    check("run the same command again with --resume" in err, f"{name}: no line on how to resume:\n{err}")
    check_no_survivors(pids_in(counts, "pid-*"))

    # The file opens; finished tasks have their results, the rest is pending.
    r = read_results(out)
    status = r["tasks"]["status"]
    done = [t for t in range(TASKS) if status[t] == 1]
    check(all(s in (0, 1) for s in status), f"{name}: a stopped task counted as failed: {list(status)}")
    check(0 < len(done) < TASKS if mode == "nap" else len(done) == 0,
          f"{name}: unexpected done tasks {done} after the stop")
    if mode == "nap":
        check(all(r["results"]["slept"][t] == 0.4 for t in done), f"{name}: results of done tasks lost")

    if not resume:
        print(f"{name}: exit {job.returncode} {took:.2f} s after the signal, {len(done)} done before")
        return
    # --resume runs every remaining task exactly once, and no finished one again.
    again = work / f"{name}-resume"
    os.makedirs(again)
    resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep[1:] + program,
                      ranks=args.ranks, env={"COUNT_DIR": again, "NAP_SECONDS": "0.05"})
    check(resumed.returncode == 0, f"{name}: resume:\n{describe(resumed)}")
    runs = read_counts(again, TASKS)
    for t in range(TASKS):
        check(runs[t] == (0 if t in done else 1), f"{name}: task {t} ran {runs[t]} times in the resume")
    check(all(s == 1 for s in read_results(out)["tasks"]["status"]), f"{name}: tasks left after the resume")
    print(f"{name}: exit {job.returncode} {took:.2f} s after the signal, {len(done)} done before")


def main():
    args = parse_args(__doc__)
    with Workspace("drain") as work:
        # Each mpirun costs 1-2 s here: the full set at 3 ranks, the signal that must travel
        # between ranks at 5, fewer resumes where another case covers them.
        stubborn = ["--kill-grace", "30", "--drain-grace", "60"]
        if args.ranks == 0:
            scenario(args, work, "sigint", "nap", [signal.SIGINT])
            scenario(args, work, "twice", "stubborn", [signal.SIGINT, signal.SIGINT], extra=stubborn, resume=False)
        elif args.ranks <= 3:
            scenario(args, work, "usr1", "nap", [signal.SIGUSR1])
            scenario(args, work, "worker-usr1", "nap", [signal.SIGUSR1], to_worker=True)
            # mpirun passes SIGTERM on odls_base_sigkill_timeout (1 s) later, SIGKILL as long
            # after that, and exits 1 itself whatever the ranks return.
            scenario(args, work, "sigterm", "nap", [signal.SIGTERM], mpirun_exit=(1, EXIT_INTERRUPTED), resume=False)
            scenario(args, work, "twice", "stubborn", [signal.SIGUSR1, signal.SIGUSR1], extra=stubborn)
        else:
            scenario(args, work, "usr1", "nap", [signal.SIGUSR1], resume=False)
            scenario(args, work, "worker-usr1", "nap", [signal.SIGUSR1], to_worker=True)
    print("ok")


if __name__ == "__main__":
    main()
