"""Shared helpers of the end-to-end tests: run the `mpisweep` command (alone or under
mpirun), read a results file with h5py, fail with a clear message."""
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


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--mpisweep", required=True, help="the mpisweep executable")
    ap.add_argument("--task", required=True, help="tests/e2e/sweep_task.sh")
    ap.add_argument("--ranks", type=int, default=0, help="MPI ranks (0: no mpirun)")
    return ap.parse_args()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Workspace:
    """A temporary folder, removed when the test passes and kept (and named) when it fails."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=f"mpisweep-{prefix}-")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print(f"(test files kept in {self.path})", file=sys.stderr)
        return False

    def __truediv__(self, name):
        return os.path.join(self.path, name)


def command(mpisweep, args, ranks=0):
    cmd = [mpisweep] + list(args)
    if ranks > 0:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe"] + cmd
    return cmd


def run_cli(mpisweep, args, ranks=0, env=None, cwd=None, timeout=150):
    """Runs mpisweep (under mpirun when ranks > 0) and returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(command(mpisweep, args, ranks), capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


def describe(result):
    return f"exit code {result.returncode}\n--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}"


def read_results(path):
    """The results file as plain Python/numpy values: params, results, tasks, nodes, attrs."""
    with h5py.File(path, "r") as f:
        def column(ds):
            if h5py.check_string_dtype(ds.dtype) is not None:
                return [s for s in ds.asstr()[:]]
            return ds[:]
        return {
            "attrs": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()},
            "params": {k: column(f["params"][k]) for k in f["params"]},
            "results": {k: column(f["results"][k]) for k in f["results"]},
            "tasks": {k: column(f["tasks"][k]) for k in f["tasks"]},
            "nodes": [s for s in f["nodes"].asstr()[:]],
        }


def read_counts(count_dir, n_tasks):
    """How many times each task's program started (sweep_task.sh appends a line per start)."""
    counts = np.zeros(n_tasks, dtype=int)
    for task in range(n_tasks):
        path = os.path.join(count_dir, f"task-{task}")
        if os.path.exists(path):
            with open(path) as f:
                counts[task] = sum(1 for line in f if line.strip())
    return counts


def process_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def pids_in(folder, pattern):
    """The pids that tasks wrote (one or more per line) into the files `pattern` of folder."""
    pids = []
    for path in glob.glob(os.path.join(folder, pattern)):
        with open(path) as f:
            pids += [int(p) for p in f.read().split()]
    return pids


def check_no_survivors(pids, within=5):
    """Fails when any of pids is still alive `within` seconds from now; kills those first,
    so they are not left behind even when the test fails."""
    deadline = time.time() + within
    while any(process_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    alive = [p for p in pids if process_alive(p)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    check(not alive, f"task processes {alive} outlived the stopped sweep")
