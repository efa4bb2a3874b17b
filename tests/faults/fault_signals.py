#!/usr/bin/python3
"""Item 4 of issue 12: any number of stop signals at any moment end the sweep with 75, never
by the signal itself, and leave a file that --resume finishes exactly once (by the tasks'
own execution log). Under mpirun: bursts of SIGUSR1 to mpirun (which passes them on) while
the ranks start and while tasks run, and bursts of SIGTERM/SIGINT/SIGHUP/SIGUSR1 straight to
every rank (as Slurm signals a step's tasks). Alone: bursts of all four to the process."""
import os
import random
import signal
import time

from faults_common import (Workspace, catches, check, check_exactly_once, ended_and_reaped, finish, open_gates, parse_args,
                           rank_pids, run_cli, start, sweep_env, wait_for)

N = 16
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1]


def burst(rng, send, count, signals):
    for k in range(count):
        send(rng.choice(signals))
        if k + 1 < count:
            time.sleep(rng.uniform(0.005, 0.06))


def send_to_ranks(job, mpisweep):
    def send(sig):
        for pid in rank_pids(job, mpisweep):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    return send


def one_round(args, rng, name, when, target, count):
    with Workspace(f"signals-{name}") as work:
        out = work / "s.h5"
        sweep = ["-o", out, "--progress", "0", "--no-speculation", "-p", f"x=range(0,{N})", "--", args.task,
                 "staged", "2"]
        job = start(args.mpisweep, ["run"] + sweep, args.ranks, sweep_env(work))
        ranks = max(args.ranks, 1)
        if when == "starting":
            # As soon as every rank has its handlers (the first thing mpisweep does, about a
            # millisecond after exec; before that a signal ends any program): the ranks may
            # still be in MPI_Init, or opening the file.
            def started():
                pids = rank_pids(job, args.mpisweep)
                return len(pids) >= ranks and all(catches(p, signal.SIGUSR1) for p in pids)
            wait_for(started, "the ranks to start", job=job)
        else:
            open_gates(work, 0, 0)  # tasks 0 and 1; the others wait: the sweep cannot end first
            # Reaped too: a task that logged its end but has not exited yet is cancelled by
            # the drain and runs again (seen once in CI under load).
            wait_for(lambda: ended_and_reaped(work / "exec.log", 2), "two tasks finished and reaped", job=job)
        if target == "mpirun":
            burst(rng, job.send_signal, count, [signal.SIGUSR1])
        elif target == "ranks":
            burst(rng, send_to_ranks(job, args.mpisweep), count, STOP_SIGNALS)
        else:
            burst(rng, job.send_signal, count, STOP_SIGNALS)
        code, err = finish(job)
        check(code == 75, f"{name}: {count} signal(s) to {target} while {when} end with 75, got {code}:\n{err}")
        open_gates(work, 0, N)
        resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=sweep_env(work))
        check(resumed.returncode == 0, f"{name}: the stopped file resumes:\n{resumed.stderr}")
        check_exactly_once(work / "exec.log", out, N)


def main():
    args = parse_args(__doc__)
    rng = random.Random(1200 + args.ranks)
    if args.ranks > 0:
        rounds = [("start-burst", "starting", "mpirun", 3), ("one", "running", "mpirun", 1),
                  ("burst", "running", "mpirun", 4), ("ranks", "running", "ranks", 3)]
    else:
        rounds = [("start-burst", "starting", "self", 3), ("one", "running", "self", 1),
                  ("burst", "running", "self", 5)]
    for name, when, target, count in rounds:
        one_round(args, rng, name, when, target, count)
    print("ok")


if __name__ == "__main__":
    main()
