#!/usr/bin/python3
"""A sweep killed with SIGKILL part-way resumes and finishes only what was left.

Starts `mpirun -n RANKS sweep_probe` in its own process group, waits until the results file
holds some finished tasks, kills the whole group with SIGKILL, checks the file opens (h5dump
and h5py), then resumes and checks: every task done exactly once in the file, the resumed run
ran exactly the tasks the killed run had left pending, each once. "Done after the kill" is
what a resume sees: the file plus the journal records a kill kept from reaching it.
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_reader import settled  # noqa: E402


def read_calls(log_dir):
    calls = []
    for path in glob.glob(os.path.join(log_dir, "rank-*.log")):
        with open(path) as f:
            calls += [int(line) for line in f if line.strip()]
    return calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--tasks", type=int, default=300)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mpisweep-resume-")
    results = os.path.join(work, "sweep.h5")
    first_logs, second_logs = os.path.join(work, "first"), os.path.join(work, "second")
    os.makedirs(first_logs)
    os.makedirs(second_logs)
    mpirun = ["mpirun", "-n", str(args.ranks), "--oversubscribe", args.probe,
              "--output", results, "--tasks", str(args.tasks), "--sleep-ms", "10", "--flush-rows", "16"]

    job = subprocess.Popen(mpirun + ["--log-dir", first_logs], start_new_session=True)
    deadline = time.time() + 60
    # Kill once a third of the tasks ran (the file is flushed every 16 results or 100 ms).
    while len(read_calls(first_logs)) < args.tasks // 3:
        if job.poll() is not None or time.time() > deadline:
            sys.exit(f"the sweep ended or stalled before it could be killed (rc={job.poll()})")
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    subprocess.run(["pkill", "-9", "-f", results], check=False)  # any rank that outlived mpirun
    time.sleep(0.2)

    dump = subprocess.run(["h5dump", "-H", results], capture_output=True, text=True)
    assert dump.returncode == 0, f"h5dump failed on the killed file:\n{dump.stderr}"
    with h5py.File(results, "r") as f:
        f["tasks/status"][:]
    done_before, _ = settled(results)
    pending_before = set(range(args.tasks)) - done_before
    assert 0 < len(done_before) < args.tasks, f"kill came too late or too early: {len(done_before)} done"
    print(f"killed with {len(done_before)}/{args.tasks} tasks in the file")

    rc = subprocess.run(mpirun + ["--log-dir", second_logs, "--resume"]).returncode
    assert rc == 0, f"resume exited {rc}"
    with h5py.File(results, "r") as f:
        status = f["tasks/status"][:]
        x2 = f["results/x2"][:]
        x = f["params/x"][:]
    assert (status == 1).all(), f"{(status != 1).sum()} tasks not done after resume"
    assert np.array_equal(x2, 2.0 * x), "results do not line up with params"
    second = read_calls(second_logs)
    assert len(second) == len(set(second)), "a task ran twice during the resume"
    assert set(second) == pending_before, (
        f"resume ran {len(set(second) - pending_before)} finished task(s) again and missed "
        f"{len(pending_before - set(second))} pending one(s)")
    print(f"resumed: ran the {len(second)} pending tasks once each; all {args.tasks} done")
    shutil.rmtree(work)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
