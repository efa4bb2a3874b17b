"""Makes the results files the Python tests read, with real sweeps under mpirun, and tells the
tests where the executables are. Every test script takes the same arguments:

    --basic-sweep PATH   examples/basic_sweep (lr logspace(-5,-3,5) x momentum 0,0.5,0.9 x seed 0..3)
    --mpisweep PATH      the mpisweep command
    --task PATH          tests/e2e/sweep_task.sh
    --probe PATH         tests/mpi/sweep_probe (x in range(0, --tasks), result x2 = 2x)
    --crash-probe PATH   tests/mpi/crash_probe (x in range(0, --tasks); results x2 = 2x,
                         x3 = 3x (int), s = "v<x>", arr = [x, x+0.5], late = x+1 from the
                         second half on)
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from procs import live_pids, read_proc  # noqa: E402

ARGS = None

# What examples/basic_sweep sweeps, in grid order.
BASIC_LR = [1e-5, 10 ** -4.5, 1e-4, 10 ** -3.5, 1e-3]
BASIC_MOMENTUM = [0.0, 0.5, 0.9]
BASIC_SEED = [0, 1, 2, 3]


def parse_args():
    """Reads the executables from argv and leaves the rest to unittest."""
    global ARGS
    ap = argparse.ArgumentParser(add_help=False)
    for name in ("--basic-sweep", "--mpisweep", "--task", "--probe"):
        ap.add_argument(name, required=True)
    ap.add_argument("--crash-probe")
    ARGS, rest = ap.parse_known_args()
    return [sys.argv[0]] + rest


def mpirun(ranks, cmd):
    return ["mpirun", "-n", str(ranks), "--oversubscribe"] + [str(c) for c in cmd]


def run(cmd, expect=(0,), timeout=120):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode not in expect:
        raise AssertionError(f"{' '.join(cmd)}: exit code {result.returncode}, expected {expect}\n"
                             f"--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}")
    return result


class Workspace:
    """A temporary folder, removed at the end unless MPISWEEP_KEEP_TEST_FILES is set."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=f"mpisweep-{prefix}-")

    def __truediv__(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        if os.environ.get("MPISWEEP_KEEP_TEST_FILES"):
            print(f"(test files kept in {self.path})", file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def basic_sweep(path, ranks=3):
    """The basic example's 60 tasks, all done."""
    run(mpirun(ranks, [ARGS.basic_sweep, "--output", path]))
    return path


# The CLI sweep of tests/e2e/e2e_posthoc: loss = (x-2)^2 + y over x in range(0,5) (ints)
# and y in {0.5, 1.5}; task x=4, y=1.5 fails with exit code 3.
LOSS_X = [0, 1, 2, 3, 4]
LOSS_Y = [0.5, 1.5]


def loss_sweep(path, ranks=3):
    run(mpirun(ranks, [ARGS.mpisweep, "run", "-o", path, "--max-attempts", "1",
                       "-p", "x=range(0,5)", "-p", "y=0.5,1.5", "--", ARGS.task, "loss", "{x}", "{y}"]),
        expect=(1,))
    return path


CURVE_X, CURVE_SEED = range(4), range(3)


def curve(x, seed):
    """What sweep_task.sh curve x seed returns as its curve: 1 + (7x + 13 seed) % 8 points."""
    return [(k - x) ** 2 + seed / 2 for k in range(1 + (7 * x + 13 * seed) % 8)]


def curve_sweep(path, ranks=3):
    """x in 0..3 times seed in 0..2: a curve of its own length per task (curve()), its last
    point as loss, and converged (a bool: at least 5 points)."""
    run(mpirun(ranks, [ARGS.mpisweep, "run", "-o", path, "-p", "x=range(0,4)", "-p", "seed=range(0,3)",
                       "--", ARGS.task, "curve", "{x}", "{seed}"]))
    return path


def zip_sweep(path, ranks=3):
    """a=1,2,3 zipped with b=p,q,r, times c=0,1: two dimensions (a|b, c); sweep_task.sh json
    gives value=a, twice=2a, label='v<a>' and pair=[a, 1.5]."""
    run(mpirun(ranks, [ARGS.mpisweep, "run", "-o", path, "-p", "a=1,2,3", "-p", "b=p,q,r",
                       "--zip", "a,b", "-p", "c=0,1", "--", ARGS.task, "json", "{a}"]))
    return path


def processes_with(marker):
    """Ids of the live (not zombie) processes whose command line contains `marker`."""
    return live_pids(lambda pid: marker in read_proc(pid, "cmdline").decode(errors="replace"))


def kill_sweep(job, marker):
    """SIGKILL to the job's process group (mpirun and the ranks it started), then to any rank
    of it that outlived mpirun (its command line holds `marker`, the unique results path),
    and wait until none is left: the file then no longer changes."""
    try:
        os.killpg(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended meanwhile
    job.wait()
    deadline = time.time() + 20
    while True:
        left = [pid for pid in processes_with(marker) if pid != os.getpid()]
        if not left:
            return
        if time.time() > deadline:
            raise AssertionError(f"processes {left} of the killed sweep are still alive")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
