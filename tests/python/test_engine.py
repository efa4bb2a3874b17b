#!/usr/bin/python3
"""mpisweep.run on real MPI ranks: sweep_program.py started alone (`python3 sweep.py`, one
process) or under `mpirun -n RANKS`, checked from outside through the logs its tasks write
(each task appends its own execution lines) and the results file read back with h5py and
mpisweep.load.

    test_engine.py --ranks N [--mpisweep CLI] [unittest args]
"""
import argparse
import glob
import os
import re
import signal
import subprocess
import sys
import time
import unittest
from collections import Counter

import h5py
import numpy as np

import mpisweep  # from PYTHONPATH (the build tree), before sweeps puts the source tree first
import sweeps  # noqa: E402

sys.path.insert(0, os.path.join(sweeps.HERE, "..", "support"))
from journal_reader import settled  # noqa: E402

ap = argparse.ArgumentParser(add_help=False)
ap.add_argument("--ranks", type=int, required=True)
ap.add_argument("--mpisweep", help="the mpisweep command, for `status --running` on a Python sweep")
ARGS, REST = ap.parse_known_args()
PROGRAM = os.path.join(sweeps.HERE, "sweep_program.py")
WORKERS = max(ARGS.ranks - 1, 1)
WORKER_RANKS = list(range(1, ARGS.ranks)) if ARGS.ranks > 1 else [0]


def launch(args):
    """`python3 sweep_program.py ...` alone for one rank, under mpirun for more."""
    cmd = [sys.executable, PROGRAM] + [str(a) for a in args]
    return sweeps.mpirun(ARGS.ranks, cmd) if ARGS.ranks > 1 else cmd


def lines(log_dir, pattern="rank-*.log"):
    out = []
    for path in glob.glob(os.path.join(log_dir, pattern)):
        with open(path) as f:
            out += [line.split() for line in f if line.strip()]
    return out


def events(log_dir, kind):
    """(task, attempt, rank, token) of every `kind` line of the task logs."""
    return [(int(t), int(a), int(r), tok) for k, t, a, r, tok in lines(log_dir) if k == kind]


def codes(log_dir):
    out = {}
    for path in glob.glob(os.path.join(log_dir, "code-*")):
        with open(path) as f:
            out[int(os.path.basename(path)[5:])] = int(f.read())
    return out


class Engine(unittest.TestCase):
    def setUp(self):
        self.work = sweeps.Workspace("py-engine")
        self.addCleanup(self.work.cleanup)

    def sweep(self, name, *args, expect=(0,), timeout=180, env=None):
        logs = self.work / (name + "-logs")
        os.makedirs(logs, exist_ok=True)
        result = subprocess.run(launch(["--output", self.work / (name + ".h5"), "--log-dir", logs] + list(args)),
                                capture_output=True, text=True, timeout=timeout,
                                env=None if env is None else dict(os.environ, **env))
        self.assertIn(result.returncode, expect, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return logs, result

    def check_same_code_everywhere(self, logs, code):
        self.assertEqual(codes(logs), {r: code for r in range(ARGS.ranks)})

    def check_setup_and_teardown(self, logs, tasks_seen):
        """setup once per worker rank, its state (a token) in every task that rank ran, and
        teardown once per worker with that state."""
        setups = lines(logs, "setup.log")
        self.assertEqual(sorted(int(r) for r, _ in setups), WORKER_RANKS, f"setup calls: {setups}")
        token_of = {int(r): tok for r, tok in setups}
        for task, attempt, rank, token in tasks_seen:
            self.assertEqual(token, token_of[rank], f"task {task} on rank {rank} saw another worker's state")
        downs = lines(logs, "teardown.log")
        self.assertEqual(sorted(int(r) for r, _, _ in downs), WORKER_RANKS, f"teardown calls: {downs}")
        ran = Counter(rank for _, _, rank, _ in tasks_seen)
        for rank, token, count in downs:
            self.assertEqual(token, token_of[int(rank)], "teardown got another state than setup made")
            self.assertEqual(int(count), ran[int(rank)], f"rank {rank}: state counted {count} tasks")

    def test_every_task_once_with_state_numpy_results_and_on_result(self):
        n = 60
        logs, _ = self.sweep("basic", "--tasks", n)
        self.check_same_code_everywhere(logs, 0)
        finished = events(logs, "finish")
        self.assertEqual(sorted(t for t, *_ in finished), list(range(n)), "a task ran twice or never")
        self.assertEqual(sorted((t, a) for t, a, *_ in events(logs, "start")), [(t, 1) for t in range(n)])
        self.check_setup_and_teardown(logs, events(logs, "start"))
        on_result = lines(logs, "on_result.log")
        self.assertEqual(sorted(int(t) for t, _ in on_result), list(range(n)), "on_result missed or repeated")
        self.assertTrue(all(float(v) == 2.0 * int(t) for t, v in on_result), on_result[:5])

        path = self.work / "basic.h5"
        with h5py.File(path, "r") as f:
            self.assertTrue((f["tasks/status"][:] == 1).all())
            ranks_in_file = f["tasks/worker"][:]
        self.assertEqual(set(ranks_in_file), set(WORKER_RANKS) if n >= WORKERS else set(ranks_in_file))
        df = mpisweep.load(path)
        x = np.arange(n)
        np.testing.assert_array_equal(df["x"], x)
        np.testing.assert_array_equal(df["x2"], 2.0 * x)
        np.testing.assert_array_equal(df["i32"].to_numpy(dtype=np.int64), x)
        np.testing.assert_array_equal(df["f32"], x / 2)
        np.testing.assert_array_equal(df["even"].to_numpy(dtype=bool), x % 2 == 0)
        np.testing.assert_array_equal(df["flag"].to_numpy(dtype=bool), x % 3 == 0)
        with h5py.File(path, "r") as f:  # Python and numpy bools are stored as bool
            self.assertEqual(f["results/even"].dtype, bool)
            self.assertEqual(f["results/flag"].dtype, bool)
        self.assertEqual(list(df["name"]), [f"v{i}" for i in x])
        for k in range(3):
            np.testing.assert_array_equal(df[f"trio[{k}]"], k * x)
        np.testing.assert_array_equal(df["pair[0]"], x)
        np.testing.assert_array_equal(df["pair[1]"], 0.5)
        np.testing.assert_array_equal(df["u8[0]"], x % 256)
        self.assertNotIn("skipped", df.columns, "a None result became a column")
        token_of = {int(r): tok for r, tok in lines(logs, "setup.log")}
        self.assertTrue(all(df.at[t, "token"] == token_of[df.at[t, "worker"]] for t in x))

    def test_exceptions_are_retried_then_kept_with_their_text(self):
        n = 21
        logs, _ = self.sweep("errors", "--tasks", n, "--mode", "errors", expect=(1,))
        self.check_same_code_everywhere(logs, 1)
        raised = Counter(t for t, *_ in events(logs, "raise"))
        finished = Counter(t for t, *_ in events(logs, "finish"))
        always = [x for x in range(n) if x % 7 == 3]
        once = [x for x in range(n) if x % 7 == 5]
        self.assertEqual({t: raised[t] for t in always}, {t: 3 for t in always}, "not retried 3 times")
        self.assertEqual({t: raised[t] for t in once}, {t: 1 for t in once})
        self.assertEqual(sorted(finished), [x for x in range(n) if x not in always])
        self.assertTrue(all(c == 1 for c in finished.values()), finished)
        df = mpisweep.load(self.work / "errors.h5")
        for t in always:
            self.assertEqual(df.at[t, "status"], "failed")
            self.assertEqual(df.at[t, "attempts"], 3)
            error = df.at[t, "error"]
            self.assertTrue(error.startswith(f"ValueError: bad x={t} on attempt 3"), error)
            self.assertIn("sweep_program.py", error)
            self.assertIn("in task", error)
            self.assertIn('raise ValueError(f"bad x={x} on attempt {ctx.attempt}")', error)
        for t in once:
            self.assertEqual((df.at[t, "status"], df.at[t, "attempts"], df.at[t, "error"]), ("done", 2, ""))

    def test_drain_on_signal_then_resume_runs_each_task_once(self):
        n = 40
        logs = self.work / "drain-logs"
        os.makedirs(logs)
        out = self.work / "drain.h5"
        args = ["--output", out, "--mode", "slow", "--tasks", n, "--task-ms", 150]
        job = subprocess.Popen(launch(args + ["--log-dir", logs]), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while len(events(logs, "finish")) < WORKERS + 1:
            self.assertIsNone(job.poll(), "the sweep ended before it could be signalled")
            self.assertLess(time.time(), deadline, "no task finished within 120 s")
            time.sleep(0.02)
        # Ctrl-C to a lone python process (Python's own SIGINT handler must not turn it into a
        # KeyboardInterrupt); SIGUSR1 to mpirun, which passes it to the ranks.
        job.send_signal(signal.SIGINT if ARGS.ranks == 1 else signal.SIGUSR1)
        stdout, stderr = job.communicate(timeout=60)
        self.assertEqual(job.returncode, 75, stderr)
        self.assertNotIn("KeyboardInterrupt", stderr)
        self.assertIn("resume", stderr)
        self.check_same_code_everywhere(logs, 75)
        self.check_setup_and_teardown(logs, events(logs, "start"))
        done_before = settled(out)[0]
        self.assertLess(len(done_before), n, "every task finished: the signal came too late")
        self.assertEqual(done_before, {t for t, *_ in events(logs, "finish")},
                         "the file's done tasks are not those that finished")

        again = self.work / "drain-resume-logs"
        os.makedirs(again)
        resumed = subprocess.run(launch(args + ["--log-dir", again, "--resume"]), capture_output=True,
                                 text=True, timeout=180)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.check_same_code_everywhere(again, 0)
        runs = Counter(t for t, *_ in events(logs, "finish") + events(again, "finish"))
        self.assertEqual(runs, Counter(range(n)), "a task finished twice or never over the two runs")
        with h5py.File(out, "r") as f:
            self.assertTrue((f["tasks/status"][:] == 1).all())
            np.testing.assert_array_equal(f["results/x2"][:], 2.0 * np.arange(n))

    def test_status_running_shows_what_a_python_sweep_runs(self):
        """The live view is the runtime's, so a Python sweep has one: `mpisweep status FILE
        --running` lists the task each worker runs while the tasks wait (2 min each, until
        the drain stops them)."""
        if not ARGS.mpisweep:
            self.skipTest("needs --mpisweep")
        logs = self.work / "live-logs"
        os.makedirs(logs)
        out = self.work / "live.h5"
        args = ["--output", out, "--mode", "slow", "--tasks", 2 * WORKERS, "--task-ms", 120000, "--log-dir", logs]
        job = subprocess.Popen(launch(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        task_line = re.compile(r"^(\d+)\s+x=(\d+)\s+rank (\d+) on \S+\s+attempt 1\s+\S+$")
        deadline = time.time() + 120
        try:
            while True:
                shown = sweeps.run([ARGS.mpisweep, "status", out, "--running"])
                rows = [m.groups() for m in map(task_line.match, shown.stdout.splitlines()) if m]
                if len(rows) == WORKERS:
                    break
                self.assertIsNone(job.poll(), "the sweep ended before status --running saw it")
                self.assertLess(time.time(), deadline, f"status --running never showed the tasks:\n{shown.stdout}")
                time.sleep(0.1)
            self.assertTrue(shown.stdout.startswith(f"running: {WORKERS} task(s) on {WORKERS} worker(s), 0 done"),
                            shown.stdout)
            self.assertEqual(sorted(int(rank) for *_, rank in rows), WORKER_RANKS, shown.stdout)
            self.assertTrue(all(task == x for task, x, _ in rows), shown.stdout)
        finally:
            job.send_signal(signal.SIGINT if ARGS.ranks == 1 else signal.SIGUSR1)
            _, stderr = job.communicate(timeout=60)
        self.assertEqual(job.returncode, 75, stderr)
        after = sweeps.run([ARGS.mpisweep, "status", out, "--running"])
        self.assertTrue(after.stdout.startswith("no sweep is running"), after.stdout)

    def test_sigkill_then_resume_runs_what_was_pending(self):
        n = 120
        logs = self.work / "kill-logs"
        os.makedirs(logs)
        out = self.work / "kill.h5"
        # Results reach the journal every 0.1 s (--flush-interval): kill a while after a third
        # of the tasks finished, so that some are settled and most are not.
        args = ["--output", out, "--mode", "slow", "--tasks", n, "--task-ms", 20, "--flush-interval", 0.1]
        job = subprocess.Popen(launch(args + ["--log-dir", logs]), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while len(events(logs, "finish")) < n // 3:
            self.assertIsNone(job.poll(), "the sweep ended before it could be killed")
            self.assertLess(time.time(), deadline, "too slow to reach a third of the tasks")
            time.sleep(0.02)
        time.sleep(0.3)
        sweeps.kill_sweep(job, out)
        done_before = settled(out)[0]
        self.assertTrue(0 < len(done_before) < n, len(done_before))
        self.assertLessEqual(done_before, {t for t, *_ in events(logs, "finish")})

        again = self.work / "kill-resume-logs"
        os.makedirs(again)
        resumed = subprocess.run(launch(args + ["--log-dir", again, "--resume"]), capture_output=True,
                                 text=True, timeout=180)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        second = Counter(t for t, *_ in events(again, "finish"))
        self.assertEqual(second, Counter(set(range(n)) - done_before),
                         "the resume ran a settled task again or missed a pending one")
        with h5py.File(out, "r") as f:
            self.assertTrue((f["tasks/status"][:] == 1).all())
            np.testing.assert_array_equal(f["results/x2"][:], 2.0 * np.arange(n))

    def test_mpi4py_in_either_import_order_and_two_sweeps(self):
        for order in ("first", "after"):
            logs, result = self.sweep("mpi4py-" + order, "--tasks", 10, "--mpi4py", order, "--sweeps", 2)
            self.check_same_code_everywhere(logs, 0)
            self.assertEqual(Counter(t for t, *_ in events(logs, "finish")), Counter(list(range(10)) * 2))
            self.assertNotIn("abnormal", result.stderr)
            for path in (self.work / f"mpi4py-{order}.h5", self.work / f"mpi4py-{order}.h5.1"):
                with h5py.File(path, "r") as f:
                    self.assertTrue((f["tasks/status"][:] == 1).all(), path)

    def test_every_form_of_axis_and_a_zip_group(self):
        logs, _ = self.sweep("forms", "--tasks", 2, "--grid-forms")
        self.check_same_code_everywhere(logs, 0)
        lr, ab, c, flag, x = [0.01, 0.1, 1.0], [(1, "p"), (2, "q")], [0.5], [True, False], [0, 1]
        points = [(l, a, b, cc, f, xx) for l in lr for a, b in ab for cc in c for f in flag for xx in x]
        df = mpisweep.load(self.work / "forms.h5")
        self.assertEqual(list(df.columns[:6]), ["lr", "a", "b", "c", "flag", "x"])
        self.assertEqual(len(df), len(points))
        for t, point in enumerate(points):
            row = tuple(df.loc[t, ["lr", "a", "b", "c", "flag", "x"]])
            self.assertEqual(row, point, f"task {t}")
            seen = tuple(df.loc[t, ["r_lr", "r_a", "r_b", "r_c", "r_flag", "r_x"]])
            self.assertEqual(seen, point, f"task {t}: ctx.params differ from /params")
        self.assertEqual(str(df["flag"].dtype), "bool")
        self.assertEqual(str(df["a"].dtype), "int64")

    def test_each_worker_sees_exactly_its_gpus(self):
        """With fake GPUs on this node (MPISWEEP_FAKE_GPUS, the device layer's test facility), a
        task's CUDA_VISIBLE_DEVICES lists exactly its worker's GPUs (worker.devices are then
        0..k-1 in this process), and is "" on a worker the engine gave none."""
        fake = {"MPISWEEP_FAKE_GPUS": f"{os.uname().nodename}=2x16G",
                "MPISWEEP_FAKE_GPU_DIR": self.work / "fake-gpus"}
        self.sweep("gpus", "--tasks", 8, "--gpus", env=fake)
        df = mpisweep.load(self.work / "gpus.h5")
        for t in range(8):
            row = df.loc[t]
            k = int(row["ndev"])
            self.assertEqual(row["cvd"], row["vis"], f"task {t}: CUDA_VISIBLE_DEVICES is not its GPUs")
            self.assertEqual(row["ordinals"], ",".join(map(str, range(k))), f"task {t}")
            self.assertEqual(row["seen_device"], 0 if k else -1, f"task {t}")
        given = df[df["ndev"] > 0].groupby("worker")["vis"].first()
        self.assertEqual(len(set(given)), len(given), f"two workers were given one GPU: {dict(given)}")

    def test_kept_contexts_keep_their_values(self):
        logs, _ = self.sweep("keep", "--tasks", 30, "--keep")
        kept = {int(r): (int(k), int(w)) for r, k, w in lines(logs, "kept.log")}
        self.assertEqual(sorted(kept), list(range(ARGS.ranks)))
        self.assertEqual(sum(k for k, _ in kept.values()), 30)
        self.assertEqual({r: w for r, (_, w) in kept.items()}, {r: 0 for r in kept},
                         "a kept ctx or ctx.params changed after its task")

    def test_other_threads_run_while_the_engine_waits(self):
        logs, _ = self.sweep("thread", "--tasks", 2 * WORKERS, "--thread")
        self.check_same_code_everywhere(logs, 0)
        self.assertTrue(os.path.exists(os.path.join(logs, "thread-0")))

    def test_on_result_that_raises_is_reported_once_and_the_sweep_goes_on(self):
        logs, result = self.sweep("raises", "--tasks", 20, "--on-result-raises")
        self.check_same_code_everywhere(logs, 0)
        self.assertEqual(result.stderr.count("on_result raised ZeroDivisionError: division by zero"), 1,
                         result.stderr)
        self.assertIn("in on_result", result.stderr)
        # the third call raised before it logged; none came after it
        self.assertEqual(len(lines(logs, "on_result.log")), 2, "on_result called again after it raised")
        with h5py.File(self.work / "raises.h5", "r") as f:
            self.assertTrue((f["tasks/status"][:] == 1).all())

    def test_a_failed_setup_retires_its_worker(self):
        expect = 3 if ARGS.ranks <= 2 else 0  # no worker left: stalled
        logs, result = self.sweep("setup", "--tasks", 6, "--fail-setup-rank", WORKER_RANKS[0], expect=(expect,))
        self.check_same_code_everywhere(logs, expect)
        self.assertIn(f"takes no tasks: setup raised FileNotFoundError: no data on rank {WORKER_RANKS[0]}",
                      result.stderr)
        self.assertNotIn(WORKER_RANKS[0], [r for _, _, r, _ in events(logs, "start")])

    def test_the_first_result_reaches_rank_0_while_the_next_task_runs(self):
        # Task 0 returns a 40 KB array (over MPI's eager limit); every other task waits for
        # the file rank 0's on_result makes when task 0's result arrives. Held back behind
        # the next task on task 0's worker, that result would come only after it: the tasks
        # would give up after 60 s and say so.
        self.sweep("release", "--tasks", 2 * WORKERS, "--release")
        with h5py.File(self.work / "release.h5", "r") as f:
            self.assertTrue((f["tasks/status"][:] == 1).all())
            released = f["results/released"][:]
            self.assertEqual(len(f["results/big"][0]), 5000)
        self.assertTrue(released.all(), f"tasks that waited in vain: {np.flatnonzero(~released)}")

    def test_existing_file_is_a_usage_error_on_every_rank(self):
        logs, _ = self.sweep("twice", "--tasks", 4)
        before = os.stat(self.work / "twice.h5").st_mtime_ns
        for f in glob.glob(os.path.join(logs, "code-*")):
            os.remove(f)
        logs, result = self.sweep("twice", "--tasks", 4, expect=(2,))
        self.check_same_code_everywhere(logs, 2)
        self.assertIn("exists", result.stderr)
        self.assertEqual(os.stat(self.work / "twice.h5").st_mtime_ns, before, "the file was touched")


class BadInput(unittest.TestCase):
    """Mistakes in the call raise before MPI or any file is touched, naming what is wrong."""

    def check(self, error, text, *args, **kwargs):
        with self.assertRaises(error) as caught:
            mpisweep.run(*args, output=os.path.join("/nonexistent", "never.h5"), **kwargs)
        self.assertIn(text, str(caught.exception))

    def test_grid_mistakes(self):
        task = lambda ctx: None  # noqa: E731
        E = mpisweep.SpecError
        self.check(E, "param 'lr': nan is not a valid value", task, {"lr": [0.1, float("nan")]})
        self.check(E, "param 'lr': expected a list, tuple, range", task, {"lr": {0.1, 0.2}})
        self.check(E, "param 'lr': a 2-d array", task, {"lr": np.zeros((2, 2))})
        self.check(E, "param 'lr': no values", task, {"lr": []})
        self.check(E, "param 'n': range(0, 0) is empty", task, {"n": range(0)})
        self.check(E, "param 'big': 18446744073709551616 does not fit", task, {"big": [2**64]})
        self.check(E, "param 'obj': None is a NoneType", task, {"obj": [None]})
        self.check(E, "the grid is empty", task, {})
        self.check(E, "a-b", task, {"a-b": [1]})
        self.check(E, "'nope'", task, {"a": [1, 2]}, zip=[("a", "nope")])
        self.check(E, "linspace", task, {"x": "linspace(0,1)"})
        self.assertTrue(issubclass(E, ValueError))

    def test_argument_mistakes(self):
        task = lambda ctx: None  # noqa: E731
        self.check(TypeError, "task: expected a function", 42, {"x": [1]})
        self.check(TypeError, "setup: expected a function or None", task, {"x": [1]}, setup="load")
        self.check(ValueError, "max_attempts: expected an integer >= 1, got 0", task, {"x": [1]}, max_attempts=0)
        self.check(ValueError, "deadline '2001-01-01T00:00': that time has passed", task, {"x": [1]},
                   deadline="2001-01-01T00:00")
        self.check(ValueError, "tomorrow", task, {"x": [1]}, deadline="tomorrow")
        self.check(ValueError, "progress: expected a number of seconds >= 0", task, {"x": [1]}, progress=-1)
        self.check(ValueError, "heartbeat_timeout: expected a number of seconds >= 0, got -5", task, {"x": [1]},
                   heartbeat_timeout=-5)
        self.check(ValueError, "heartbeat_timeout: expected a number of seconds >= 0, got '2m'", task, {"x": [1]},
                   heartbeat_timeout="2m")
        self.check(ValueError, "heartbeat_timeout: expected a finite number of seconds >= 0 (0: off), got inf", task,
                   {"x": [1]}, heartbeat_timeout=float("inf"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + REST, verbosity=2)
