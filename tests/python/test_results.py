#!/usr/bin/python3
"""python/mpisweep_results.py on files made by real sweeps: load() gives one row per task
with the right params, results and task info; grid_array() shapes a metric over the grid
axes (zip groups as one dimension); a killed sweep's pending rows read NaN; a file that a
sweep is still writing (and so holds locked) can be read."""
import math
import os
import subprocess
import sys
import time
import unittest

import sweeps

ARGV = sweeps.parse_args()

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mpisweep import results as msr  # noqa: E402


class BasicSweepFile(unittest.TestCase):
    """examples/basic_sweep: lr (logspace) x momentum x seed, results loss, steps, outcome, xy."""

    @classmethod
    def setUpClass(cls):
        cls.work = sweeps.Workspace("py-basic")
        cls.path = sweeps.basic_sweep(cls.work / "basic.h5")
        cls.df = msr.load(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_one_row_per_task_with_the_grid_params_in_nested_loop_order(self):
        points = [(lr, m, s) for lr in sweeps.BASIC_LR for m in sweeps.BASIC_MOMENTUM
                  for s in sweeps.BASIC_SEED]
        df = self.df
        self.assertEqual(len(df), 60)
        self.assertEqual(list(df.index), list(range(60)))
        self.assertEqual(list(df.columns[:3]), ["lr", "momentum", "seed"])
        self.assertEqual(df["seed"].dtype, np.int64)
        for task, (lr, m, s) in enumerate(points):
            self.assertTrue(math.isclose(df.at[task, "lr"], lr, rel_tol=1e-15), (task, df.at[task, "lr"], lr))
            self.assertEqual((df.at[task, "momentum"], df.at[task, "seed"]), (m, s))

    def test_package_names_and_old_module_name_are_the_reader(self):
        import mpisweep
        import mpisweep_results
        self.assertIs(mpisweep_results, msr)
        self.assertIs(mpisweep.load, msr.load)
        self.assertIs(mpisweep.grid_array, msr.grid_array)
        pd.testing.assert_frame_equal(mpisweep_results.load(self.path), self.df)

    def test_results_and_array_columns(self):
        df = self.df
        self.assertEqual(str(df["steps"].dtype), "Int64")
        self.assertIn("xy[0]", df.columns)
        self.assertIn("xy[1]", df.columns)
        self.assertNotIn("xy[2]", df.columns)
        with h5py.File(self.path, "r") as f:
            np.testing.assert_array_equal(df["loss"].to_numpy(), f["results/loss"][:])
            np.testing.assert_array_equal(df["xy[1]"].to_numpy(), f["results/xy"][:, 1])
        for _, row in df.iterrows():  # the example's own rule for its outcome string
            if not math.isfinite(row["loss"]):
                self.assertEqual(row["outcome"], "diverged")
            elif row["loss"] < 1e-10:
                self.assertEqual(row["outcome"], "converged")
                self.assertAlmostEqual(row["xy[0]"], 1.0, places=4)  # the Rosenbrock minimum
            else:
                self.assertEqual(row["outcome"], "stalled")
                self.assertEqual(row["steps"], 20000)
        as_lists = msr.load(self.path, arrays="list")
        self.assertEqual(as_lists.at[7, "xy"].tolist(), [df.at[7, "xy[0]"], df.at[7, "xy[1]"]])

    def test_task_info(self):
        df = self.df
        self.assertEqual(list(df["status"].cat.categories), ["pending", "done", "failed"])
        self.assertTrue((df["status"] == "done").all())
        self.assertTrue((df["attempts"] >= 1).all())
        self.assertTrue(df["worker"].isin([1, 2]).all(), df["worker"].unique())
        self.assertTrue((df["device"] == -1).all())  # no GPU here
        self.assertEqual(set(df["node"]), {os.uname().nodename})
        self.assertTrue((df["wall_s"] >= 0).all())
        now = pd.Timestamp.now(tz="UTC")
        self.assertTrue(((now - df["start"]) < pd.Timedelta(minutes=10)).all(), df["start"])
        self.assertTrue((df["error"] == "").all())

    def test_grid_array_over_the_three_axes(self):
        loss = msr.grid_array(self.path, "loss")
        self.assertEqual(loss.shape, (5, 3, 4))
        np.testing.assert_array_equal(np.asarray(loss).reshape(-1), self.df["loss"].to_numpy())
        self.assertEqual(np.asarray(loss)[4, 2, 1], self.df.at[4 * 12 + 2 * 4 + 1, "loss"])
        dims = msr.grid_axes(self.path)
        self.assertEqual([d.name for d in dims], ["lr", "momentum", "seed"])
        np.testing.assert_allclose(dims[0].coords["lr"], sweeps.BASIC_LR, rtol=1e-15)
        self.assertEqual(dims[1].coords["momentum"].tolist(), sweeps.BASIC_MOMENTUM)
        self.assertEqual([d.logspace for d in dims], [["lr"], [], []])
        xy = msr.grid_array(self.path, "xy", xarray=False)
        self.assertEqual(xy.shape, (5, 3, 4, 2))
        self.assertEqual(xy[1, 2, 3, 1], self.df.at[1 * 12 + 2 * 4 + 3, "xy[1]"])

    def test_a_file_without_its_grid_is_refused_as_damaged(self):
        copy = self.work / "nospec.h5"
        with open(self.path, "rb") as src, open(copy, "wb") as dst:
            dst.write(src.read())
        with h5py.File(copy, "a") as f:
            del f.attrs["spec"]
        self.assertIsNone(msr.read_spec(copy))
        with self.assertRaises(msr.UnreadableResults) as caught:
            msr.load(copy, journal=False)
        self.assertIn("is damaged (it has no root attribute spec)", str(caught.exception))

    def test_coordinates_from_the_grid_are_the_params_the_tasks_saw(self):
        """grid_axes() computes each dimension's values from the spec (as the C++ grid does):
        they equal /params at the rows where each dimension varies."""
        dims = msr.grid_axes(self.path)
        self.assertEqual([(d.name, d.size) for d in dims], [("lr", 5), ("momentum", 3), ("seed", 4)])
        with h5py.File(self.path, "r") as f:
            stride = 60
            for d in dims:
                stride //= d.size
                for name, values in d.coords.items():
                    np.testing.assert_array_equal(values, f["params"][name][0:stride * d.size:stride], name)

    def test_unknown_metric_names_what_there_is(self):
        with self.assertRaises(KeyError) as caught:
            msr.grid_array(self.path, "accuracy")
        self.assertIn("no metric 'accuracy'", str(caught.exception))
        self.assertIn("loss", str(caught.exception))

    def test_not_a_results_file(self):
        other = self.work / "other.h5"
        with h5py.File(other, "w") as f:
            f["x"] = [1, 2]
        with self.assertRaises(ValueError) as caught:
            msr.load(other)
        self.assertIn("not an mpisweep results file", str(caught.exception))


class CliSweepWithAFailure(unittest.TestCase):
    """The mpisweep command over x in range(0,5), y in {0.5, 1.5}: loss = (x-2)^2 + y, tag =
    't<x>'; the task x=4, y=1.5 exits with code 3."""

    @classmethod
    def setUpClass(cls):
        cls.work = sweeps.Workspace("py-loss")
        cls.path = sweeps.loss_sweep(cls.work / "loss.h5")
        cls.df = msr.load(cls.path)
        cls.failed = [(x, y) for x in sweeps.LOSS_X for y in sweeps.LOSS_Y].index((4, 1.5))

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_values_and_the_failed_row(self):
        df = self.df
        self.assertEqual(len(df), 10)
        for task, row in df.iterrows():
            x, y = row["x"], row["y"]
            if task == self.failed:
                self.assertEqual(row["status"], "failed")
                self.assertTrue(math.isnan(row["loss"]))
                self.assertIsNone(row["tag"])
                self.assertEqual(row["exit_code"], 3)
                self.assertIn("refusing x=4, y=1.5", row["error"])
            else:
                self.assertEqual(row["status"], "done")
                self.assertEqual(row["loss"], (x - 2) ** 2 + y)
                self.assertEqual(row["tag"], f"t{x}")
                self.assertEqual(row["exit_code"], 0)

    def test_grid_array_marks_the_failure_missing(self):
        loss = msr.grid_array(self.path, "loss", xarray=False)
        status = msr.grid_array(self.path, "status", xarray=False)
        self.assertEqual(loss.shape, (5, 2))
        self.assertTrue(math.isnan(loss[4, 1]))
        self.assertEqual(status[4, 1], 2)
        self.assertEqual(loss[3, 0], (3 - 2) ** 2 + 0.5)
        self.assertEqual(int((status == 1).sum()), 9)
        tags = msr.grid_array(self.path, "tag", xarray=False)
        self.assertEqual((tags[1, 0], tags[4, 1]), ("t1", None))


class ZipSweep(unittest.TestCase):
    """a=1,2,3 zipped with b=p,q,r, times c=0,1: grid dimensions (a, c), b along a."""

    @classmethod
    def setUpClass(cls):
        cls.work = sweeps.Workspace("py-zip")
        cls.path = sweeps.zip_sweep(cls.work / "zip.h5")

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_zip_group_is_one_dimension(self):
        dims = msr.grid_axes(self.path)
        self.assertEqual([(d.name, d.size) for d in dims], [("a", 3), ("c", 2)])
        self.assertEqual(dims[0].coords["a"].tolist(), [1, 2, 3])
        self.assertEqual(dims[0].coords["b"].tolist(), ["p", "q", "r"])
        value = msr.grid_array(self.path, "value", xarray=False)
        np.testing.assert_array_equal(value, [[1, 1], [2, 2], [3, 3]])
        pair = msr.grid_array(self.path, "pair", xarray=False)
        self.assertEqual(pair.shape, (3, 2, 2))
        self.assertEqual(pair[2, 1].tolist(), [3.0, 1.5])
        df = msr.load(self.path)
        self.assertEqual(list(zip(df["a"], df["b"], df["c"])),
                         [(1, "p", 0), (1, "p", 1), (2, "q", 0), (2, "q", 1), (3, "r", 0), (3, "r", 1)])
        # JSON numbers from a command are float64 columns (docs/cli.md)
        self.assertEqual(df["twice"].tolist(), [2.0, 2.0, 4.0, 4.0, 6.0, 6.0])
        self.assertEqual(df["label"].tolist(), ["v1", "v1", "v2", "v2", "v3", "v3"])


class CurveSweep(unittest.TestCase):
    """sweep_task.sh curve: curves of their own lengths (variable-length float64), bools."""

    def test_curves_of_random_lengths_read_back_row_by_row(self):
        work = sweeps.Workspace("py-curves")
        self.addCleanup(work.cleanup)
        path = sweeps.curve_sweep(work / "curves.h5")
        points = [(x, s) for x in sweeps.CURVE_X for s in sweeps.CURVE_SEED]
        with h5py.File(path, "r") as f:  # h5py: row i is an array of its own length
            for task, (x, seed) in enumerate(points):
                self.assertEqual(f["results/curve"][task].tolist(), sweeps.curve(x, seed))
        df = msr.load(path)
        self.assertEqual(str(df["converged"].dtype), "boolean")
        for task, (x, seed) in enumerate(points):
            want = sweeps.curve(x, seed)
            self.assertEqual(df.at[task, "curve"].tolist(), want)
            self.assertEqual(df.at[task, "loss"], want[-1])
            self.assertEqual(bool(df.at[task, "converged"]), len(want) >= 5)
        padded = msr.grid_array(path, "curve", xarray=False)
        self.assertEqual(padded.shape, (4, 3, 8))
        self.assertEqual(padded[3, 2].tolist(), sweeps.curve(3, 2))
        self.assertTrue(np.isnan(padded[2, 1, len(sweeps.curve(2, 1)):]).all())


def done_count(path):
    try:
        return int((msr.load(path)["status"] == "done").sum())
    except (OSError, KeyError):
        return 0  # not created yet


class KilledAndRunningSweep(unittest.TestCase):
    """sweep_probe (x in range(0, 300), x2 = 2x, 20 ms per task) read while it runs, then
    killed with SIGKILL part-way."""

    N = 300

    def test_read_while_running_then_after_a_kill(self):
        work = sweeps.Workspace("py-killed")
        try:
            path = work / "probe.h5"
            log = open(work / "probe.err", "w")
            self.addCleanup(log.close)
            job = subprocess.Popen(sweeps.mpirun(2, [sweeps.ARGS.probe, "--output", path,
                                                     "--tasks", self.N, "--sleep-ms", 20,
                                                     "--flush-rows", 8, "--log-dir", work.path]),
                                   stdout=subprocess.DEVNULL, stderr=log,
                                   start_new_session=True)
            try:
                deadline = time.time() + 60
                while done_count(path) < 20:
                    self.assertIsNone(job.poll(), "the sweep ended before the test could read it")
                    self.assertLess(time.time(), deadline, "no results appeared within 60 s")
                    time.sleep(0.1)
                # The writer holds the file: a reader that keeps HDF5's locking cannot open it,
                # this module can, and sees a consistent part of the sweep.
                locked = subprocess.run(
                    [sys.executable, "-c", f"import h5py; h5py.File({path!r}, 'r')"],
                    env=dict(os.environ, HDF5_USE_FILE_LOCKING="TRUE"),
                    capture_output=True, text=True)
                self.assertNotEqual(locked.returncode, 0, "the running sweep's file is not locked")
                running = msr.load(path)
                self.assertIsNone(job.poll(), "the sweep ended while the test read it")
                done = running["status"] == "done"
                self.assertTrue(0 < done.sum() < self.N)
                np.testing.assert_array_equal(running.loc[done, "x2"], 2 * running.loc[done, "x"])
            finally:
                sweeps.kill_sweep(job, path)

            df = msr.load(path, pending=True)
            status = df["status"]
            n_done = int((status == "done").sum())
            self.assertGreater(n_done, 0)
            self.assertGreater(int((status == "pending").sum()), 0, "the kill came too late")
            self.assertEqual(int((status == "failed").sum()), 0)
            pending = status == "pending"
            self.assertTrue(df.loc[pending, "x2"].isna().all())
            self.assertTrue(df.loc[pending, "wall_s"].isna().all())
            self.assertTrue(df.loc[pending, "node"].isna().all())
            self.assertTrue(df.loc[pending, "start"].isna().all())
            np.testing.assert_array_equal(df.loc[~pending, "x2"], 2 * df.loc[~pending, "x"])
            x2 = msr.grid_array(path, "x2", xarray=False)
            self.assertEqual(x2.shape, (self.N,))
            self.assertEqual(int(np.isnan(x2).sum()), int(pending.sum()))
            self.assertEqual(np.isnan(x2).tolist(), pending.tolist())
        finally:
            work.cleanup()


if __name__ == "__main__":
    unittest.main(argv=ARGV, verbosity=2)
