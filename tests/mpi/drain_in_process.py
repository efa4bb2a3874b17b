#!/usr/bin/python3
"""In-process tasks (the library API) under a stop signal: tasks that poll cancelled() stop
at once, the sweep exits 75 with the finished results in the file, and --resume runs each
remaining task exactly once; tasks that ignore cancelled() get --drain-grace, then the job
ends with 75 (MPI_Abort) and a file that still opens and resumes."""
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

TASKS = 12


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def launch(probe, ranks, args):
    cmd = [probe] + args
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe"] + cmd
    return cmd


def lines(folder, prefix):
    ids = []
    for path in glob.glob(os.path.join(folder, prefix + "-*.log")):
        with open(path) as f:
            ids += [int(x) for x in f.read().split()]
    return ids


def case(probe, ranks, work, mode, task_ms, grace):
    logs, out = os.path.join(work, mode), os.path.join(work, mode + ".h5")
    os.makedirs(logs)
    common = ["--output", out, "--tasks", str(TASKS), "--mode", mode]
    job = subprocess.Popen(launch(probe, ranks, common + ["--task-ms", str(task_ms), "--log-dir", logs,
                                                          "--drain-grace", str(grace)]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers = max(ranks - 1, 1)
    limit = time.time() + 60
    while len(lines(logs, "start")) < workers + 1:
        if job.poll() is not None:
            raise AssertionError(f"{mode}: the sweep ended before the tasks started:\n{job.stderr.read()}")
        check(time.time() < limit, f"{mode}: tasks did not start within 60 s")
        time.sleep(0.02)
    # SIGUSR1 through mpirun; SIGINT (Ctrl-C) to a lone process.
    sent = time.time()
    job.send_signal(signal.SIGINT if ranks == 1 else signal.SIGUSR1)
    try:
        _, err = job.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError(f"{mode}: no exit within 30 s of the signal")
    took = time.time() - sent
    check(job.returncode == 75, f"{mode}: exit code {job.returncode}, expected 75; stderr:\n{err}")
    check("--resume" in err, f"{mode}: no line on how to resume:\n{err}")
    with h5py.File(out, "r") as f:
        status = f["tasks/status"][:]
        x2 = f["results/x2"][:]
    done = [t for t in range(TASKS) if status[t] == 1]
    check(all(s in (0, 1) for s in status), f"{mode}: a stopped task counted as failed: {list(status)}")
    check(all(x2[t] == 2 * t for t in done), f"{mode}: results of done tasks lost")
    check(len(done) < TASKS, f"{mode}: every task finished; the signal came too late to test anything")
    # Every task recorded done did finish; a task stopped by the drain did not.
    finished = set(lines(logs, "finish"))
    check(set(done) <= finished, f"{mode}: tasks {sorted(set(done) - finished)} done in the file, never finished")

    again = os.path.join(work, mode + "-resume")
    os.makedirs(again)
    resumed = subprocess.run(launch(probe, ranks, common + ["--task-ms", "20", "--log-dir", again, "--resume"]),
                             capture_output=True, text=True, timeout=120)
    check(resumed.returncode == 0, f"{mode}: resume exit code {resumed.returncode}:\n{resumed.stderr}")
    runs = lines(again, "finish")
    for t in range(TASKS):
        want = 0 if t in done else 1
        check(runs.count(t) == want, f"{mode}: task {t} ran {runs.count(t)} times in the resume, expected {want}")
    print(f"{mode} at {ranks} rank(s): exit 75 {took:.2f} s after the signal; {len(done)} done before")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--ranks", type=int, required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mpisweep-drain-inproc-")
    try:
        case(args.probe, args.ranks, work, "poll", 300, 10)
        # Tasks that never look: a grace of 0.5 s, then the job is ended.
        case(args.probe, args.ranks, work, "ignore", 3000, 0.5)
    except BaseException:
        print(f"(test files kept in {work})", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
