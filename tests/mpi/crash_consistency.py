#!/usr/bin/python3
"""Crash consistency: SIGKILL of every process at random moments loses no settled task.

Runs crash_probe under mpirun (its own process group) with tiny flush batches, kills the
whole group with SIGKILL at a random moment, and after each kill:
  - checks whether the results file opens and reads whole with h5py as it is (a kill inside
    an HDF5 write may leave it torn: counted, then repaired by the next resume);
  - works out which tasks are settled: those done in the journal (decoded here, independently
    of the C++ code) or, when there is no journal, in the file;
  - resumes (which repairs a torn file), and later kills again.
When a run finishes on its own, the file is checked whole and a new round starts (--force),
until KILLS kill points were tried. Checks, for every kill point: no task settled before it
is missing afterwards or runs again (tasks lost = 0); at the end of each round every task is
done, with the expected value of every result. The seed is printed: --seed repeats a run.
"""
import argparse
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_reader import read_file, settled  # noqa: E402


def read_calls(log_dir):
    calls = []
    for path in glob.glob(os.path.join(log_dir, "rank-*.log")):
        with open(path) as f:
            calls += [int(line) for line in f if line.strip().isdigit()]
    return calls


def check_complete(results, tasks):
    with h5py.File(results, "r") as f:
        status = f["tasks/status"][:]
        x = f["params/x"][:]
        assert (status == 1).all(), f"{(status != 1).sum()} tasks not done at the end"
        assert np.array_equal(f["results/x2"][:], 2.0 * x), "x2 differs from 2x"
        assert np.array_equal(f["results/x3"][:], 3 * x), "x3 differs from 3x"
        s = [v.decode() if isinstance(v, bytes) else v for v in f["results/s"][:]]
        assert s == [f"v{i}" for i in x], "s differs from 'v<x>'"
        assert np.array_equal(f["results/arr"][:], np.stack([x, x + 0.5], axis=1)), "arr differs"
        late = f["results/late"][:]
        half = tasks // 2
        assert np.isnan(late[:half]).all() and np.array_equal(late[half:], x[half:] + 1.0), "late differs"
    assert not os.path.exists(results + ".journal"), "the journal outlived a complete sweep"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--tasks", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)
    print(f"seed {seed} (--seed {seed} repeats the kill moments)", flush=True)

    work = tempfile.mkdtemp(prefix="mpisweep-crash-")
    results = os.path.join(work, "sweep.h5")
    base = ["mpirun", "-n", str(args.ranks), "--oversubscribe", args.probe, "--output", results,
            "--tasks", str(args.tasks), "--sleep-us", "1000", "--flush-rows", "5", "--flush-ms", "5"]
    kills = torn = lost = rounds = runs = rebuilt = 0
    prior = set()          # tasks settled so far in this round
    settled_at = {}        # task -> run index after which it was settled
    started = time.time()
    fresh = True
    while True:
        logs = os.path.join(work, f"run-{runs}")
        os.makedirs(logs)
        command = base + ["--log-dir", logs] + (["--force"] if fresh else ["--resume"])
        job = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE, text=True)
        # Mostly once tasks run (kills inside flushes); some while the ranks start and the
        # file is opened (kills inside a resume's rebuild).
        launched = time.time()
        if rng.random() < 0.2:
            delay = rng.uniform(0.0, 1.5)
        else:
            while job.poll() is None and not read_calls(logs) and time.time() - launched < 30:
                time.sleep(0.01)
            delay = time.time() - launched + rng.uniform(0.0, 0.4)
        try:
            job.wait(timeout=max(0.0, launched + delay - time.time()))
        except subprocess.TimeoutExpired:
            pass
        finished = job.poll() is not None
        if not finished and kills < args.kills:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
            # Any rank that outlived mpirun (the path is unique to this test).
            subprocess.run(["pkill", "-9", "-f", results], check=False)
        elif not finished:
            job.wait()  # enough kill points: let this round finish
        stderr = job.stderr.read()
        rebuilt += stderr.count("rebuilding it from its journal")
        ran = read_calls(logs)
        again = [t for t in ran if t in settled_at]
        if again:
            lost += len(set(again))
            print(f"run {runs}: {len(set(again))} settled task(s) ran again, e.g. {sorted(set(again))[:5]}")
        if job.returncode == 0:
            check_complete(results, args.tasks)
            rounds += 1
            print(f"run {runs}: round {rounds} complete after {kills} kill points so far; "
                  f"{len(ran)} calls in this run", flush=True)
            runs += 1
            if kills >= args.kills:
                break
            fresh, prior, settled_at = True, set(), {}
            continue
        if job.returncode != -signal.SIGKILL and job.returncode != 137:
            sys.exit(f"run {runs} exited {job.returncode} before it was killed:\n{stderr}")
        kills += 1
        time.sleep(0.05)
        is_torn = os.path.exists(results) and read_file(results) is None
        torn += is_torn
        now, _ = settled(results)
        missing = prior - now
        if missing:
            lost += len(missing)
            print(f"kill {kills}: {len(missing)} settled task(s) disappeared, e.g. {sorted(missing)[:5]}")
        for t in now - prior:
            settled_at[t] = runs
        print(f"kill {kills} after {delay:.2f} s: {len(now)}/{args.tasks} settled, file "
              f"{'TORN (repaired by the resume)' if is_torn else 'reads whole'}", flush=True)
        prior = now
        fresh = not os.path.exists(results)
        runs += 1

    # Every kill's resume must have repaired what was torn: the last run finished on the file.
    print(f"kill points tried: {kills}; tasks lost: {lost}; files torn before repair: {torn}; "
          f"resumes that rebuilt the file from its journal: {rebuilt}; rounds completed: {rounds}; "
          f"{time.time() - started:.1f} s")
    shutil.rmtree(work)
    if lost:
        sys.exit(f"FAILED: {lost} task(s) lost")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
