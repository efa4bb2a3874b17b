"""load() and grid_array() lay the journal over the file as `mpisweep status`/`export` do.

A real sweep (crash_probe under mpirun, a flush every 5 rows) is frozen with SIGSTOP at moments
picked until its journal holds done records after the offset its last Commit names that the
HDF5 file does not hold (results journaled as they arrived, or a flush between its Records
frame and its Commit), then killed with SIGKILL there. The
file as read then lacks those rows; load() must show what `mpisweep export` and `status` show,
and load(journal=False) what h5py reads from the file. The independent decoder of
tests/support/journal_reader.py tells which records the file lacks and which tasks are settled.
"""
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest
import warnings

import h5py
import numpy as np
import pandas as pd

import sweeps
from mpisweep import results as msr

sys.path.insert(0, os.path.join(sweeps.HERE, "..", "support"))
import journal_reader  # noqa: E402

ARGV = sweeps.parse_args()

N = 20000  # tasks of 1 ms on 2 workers: stopped long before its end
LATE_FROM = 200  # the first task with the result 'late'


def raw_file(path):
    """What h5py reads from the file itself: status codes and the result datasets."""
    with h5py.File(path, "r", locking=False) as f:
        results = {}
        for name, ds in f["results"].items() if "results" in f else []:
            results[name] = ds.asstr()[:] if h5py.check_string_dtype(ds.dtype) else ds[:]
        return f["tasks/status"][:], results


def in_window(path):
    """Tasks done in the journal after its last Commit but not done in the file (empty when
    the file holds all of them, or cannot be read now)."""
    journal = journal_reader.read_journal(path + ".journal", after_last_commit=True)
    if journal is None:
        return set()
    try:
        status, _ = raw_file(path)
    except Exception:  # noqa: BLE001 -- caught inside an HDF5 write: not the moment wanted
        return set()
    return {t for t, st in journal[1].items() if st == 1 and status[t] != 1}


def settled_count(path):
    try:
        journal = journal_reader.read_journal(path + ".journal")
    except (AssertionError, OSError):
        return 0  # being created
    return 0 if journal is None else sum(st == 1 for st in journal[1].values())


def set_stopped(pids, stop):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP if stop else signal.SIGCONT)
        except ProcessLookupError:
            pass
    if stop:  # wait until each is stopped, so that nothing writes while we look
        for pid in pids:
            for _ in range(2000):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] in "TtZX":
                            break
                except OSError:
                    break
                time.sleep(0.001)


def kill_inside_a_flush(path, work):
    """Runs the sweep and kills it where the journal holds records the file lacks; returns
    those tasks."""
    job = subprocess.Popen(sweeps.mpirun(3, [sweeps.ARGS.crash_probe, "--output", path,
                                             "--tasks", N, "--late-from", LATE_FROM,
                                             "--sleep-us", 1000, "--flush-rows", 2,
                                             "--flush-ms", 5, "--log-dir", work.path]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        deadline = time.time() + 60
        while settled_count(path) < LATE_FROM + 100:  # past the first result of column "late"
            if job.poll() is not None or time.time() > deadline:
                raise AssertionError(f"the sweep did not get half-way (exit code {job.poll()})")
            time.sleep(0.02)
        tries = 0
        while time.time() < deadline and job.poll() is None:
            pids = [p for p in sweeps.processes_with(path) if p != os.getpid()]
            set_stopped(pids, True)
            tries += 1
            lacking = in_window(path)
            if lacking:
                # SIGKILL the stopped ranks before mpirun: were mpirun to die first, its
                # orphaned stopped children would get SIGCONT and finish the flush.
                for pid in pids:
                    if pid != job.pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                print(f"killed at try {tries}: the journal holds {len(lacking)} done tasks "
                      f"the file lacks", file=sys.stderr)
                return lacking
            set_stopped(pids, False)
            time.sleep(0.001 * (tries % 7))
        raise AssertionError(f"no kill point with records outside the file in {tries} tries "
                             f"(exit code {job.poll()})")
    finally:
        sweeps.kill_sweep(job, path)


def export(path, pending=True):
    out = sweeps.run([sweeps.ARGS.mpisweep, "export", path, "--csv", "-"] + (["--pending"] if pending else []))
    return pd.read_csv(io.StringIO(out.stdout), keep_default_na=False, dtype=str)


def status_counts(path):
    out = sweeps.run([sweeps.ARGS.mpisweep, "status", path]).stdout
    counts = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in msr.STATUS_NAMES:
            counts[words[0]] = int(words[1])
    return counts


def as_floats(texts):
    return np.array([float(t) if t else np.nan for t in texts])


class Check(unittest.TestCase):
    def assert_like_export(self, df, path):
        """Every row and column of load() is what `mpisweep export --csv` writes."""
        csv = export(path)
        self.assertEqual(len(df), len(csv))
        self.assertEqual(csv["task_id"].astype(int).tolist(), df.index.tolist())
        self.assertEqual(list(csv.columns[1:]), list(df.columns))
        for name in df.columns:
            ours, theirs = df[name], csv[name]
            if name == "start":
                seconds = (ours - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
                np.testing.assert_allclose(seconds.to_numpy(float), as_floats(theirs),
                                           atol=1e-6, err_msg=name)
            elif ours.dtype == object or isinstance(ours.dtype, pd.CategoricalDtype):
                self.assertEqual([("" if v is None else str(v)) for v in ours], theirs.tolist(),
                                 name)
            else:
                mine = pd.to_numeric(ours, errors="coerce").to_numpy(float, na_value=np.nan)
                np.testing.assert_array_equal(mine, as_floats(theirs), err_msg=name)

    def assert_values(self, df):
        done = df["status"] == "done"
        x = df.loc[done, "x"].to_numpy()
        np.testing.assert_array_equal(df.loc[done, "x2"], 2.0 * x)
        self.assertEqual(str(df["x3"].dtype), "Int64")
        np.testing.assert_array_equal(df.loc[done, "x3"].to_numpy(np.int64), 3 * x)
        self.assertEqual(df.loc[done, "s"].tolist(), [f"v{v}" for v in x])
        np.testing.assert_array_equal(df.loc[done, "arr[0]"], x)
        np.testing.assert_array_equal(df.loc[done, "arr[1]"], x + 0.5)
        self.assertTrue(df.loc[~done, ["x2", "arr[0]", "s", "x3"]].isna().all().all())


class KilledInsideAFlush(Check):
    @classmethod
    def setUpClass(cls):
        cls.work = sweeps.Workspace("py-journal")
        cls.path = cls.work / "sweep.h5"
        cls.lacking = kill_inside_a_flush(cls.path, cls.work)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def test_load_shows_what_status_and_export_show(self):
        df = msr.load(self.path, pending=True)
        raw = msr.load(self.path, journal=False, pending=True)
        done, raw_done = df["status"] == "done", raw["status"] == "done"
        print(f"done: {int(done.sum())} with the journal, {int(raw_done.sum())} in the file "
              f"alone, of {N}", file=sys.stderr)
        # The tasks the journal holds beyond the file are done now, and only those were added.
        self.assertEqual(set(np.flatnonzero(done & ~raw_done)), self.lacking)
        self.assertFalse((raw_done & ~done).any())
        # As a resume would count them (file + every journal record, decoded independently).
        self.assertEqual(set(np.flatnonzero(done)), journal_reader.settled(self.path)[0])
        counts = status_counts(self.path)
        self.assertEqual(counts["done"], int(done.sum()))
        self.assertEqual(counts["pending"], int((df["status"] == "pending").sum()))
        self.assertEqual(counts["failed"], 0)
        self.assert_like_export(df, self.path)
        self.assert_values(df)
        for name in ("worker", "attempts", "wall_s", "node", "start"):
            self.assertTrue(df.loc[list(self.lacking), name].notna().all(), name)

    def test_by_default_the_settled_rows_as_export_writes_them(self):
        """load() without pending=True: the done and failed rows only, as `mpisweep export`
        without --pending, equal to those rows of the full table."""
        df = msr.load(self.path)
        full = msr.load(self.path, pending=True)
        settled = full[full["status"] != "pending"]
        self.assertEqual(df.index.tolist(), settled.index.tolist())
        pd.testing.assert_frame_equal(df, settled)
        csv = export(self.path, pending=False)
        self.assertEqual(csv["task_id"].astype(int).tolist(), df.index.tolist())

    def test_without_the_journal_it_is_the_file(self):
        raw = msr.load(self.path, journal=False, pending=True)
        status, results = raw_file(self.path)
        np.testing.assert_array_equal(raw["status"].cat.codes.to_numpy(), status)
        done = status == 1
        for name, values in results.items():
            if values.ndim == 2:
                for k in range(values.shape[1]):
                    np.testing.assert_array_equal(raw.loc[done, f"{name}[{k}]"], values[done, k])
            else:
                np.testing.assert_array_equal(raw.loc[done, name].to_numpy(), values[done], name)
        self.assertTrue(set(raw.columns) <= set(msr.load(self.path, pending=True).columns))

    def test_grid_array_overlays_too(self):
        df = msr.load(self.path, pending=True)
        for metric in ("x2", "x3", "status", "wall_s"):
            with_journal = msr.grid_array(self.path, metric, xarray=False)
            expected = pd.to_numeric(df[metric] if metric != "status" else df[metric].cat.codes,
                                     errors="coerce").to_numpy(float, na_value=np.nan)
            np.testing.assert_array_equal(with_journal, expected, err_msg=metric)
        alone = msr.grid_array(self.path, "status", xarray=False, journal=False)
        self.assertEqual(int((alone == 1).sum()) + len(self.lacking),
                         int((msr.grid_array(self.path, "status", xarray=False) == 1).sum()))

    def copy(self, name):
        path = self.work / name
        shutil.copy(self.path, path)
        shutil.copy(self.path + ".journal", path + ".journal")
        return path

    def test_a_torn_tail_ends_the_journal(self):
        path = self.copy("torn.h5")
        # Cut inside the last Records frame with done tasks the file lacks: it and every
        # frame after it are gone.
        with open(path + ".journal", "rb") as f:
            _, frames = journal_reader._frames(f.read())
        with h5py.File(path, "r", locking=False) as f:
            in_file = f["tasks/status"][:] == 1
        cut = None
        for kind, payload, offset in frames:
            if kind in journal_reader.RECORDS_KINDS:
                status = {}
                journal_reader.frame_statuses(kind, payload, status)
                if any(st == 1 and not in_file[t] for t, st in status.items()):
                    cut = offset + 13 + len(payload) - 3
        self.assertIsNotNone(cut, "no Records frame holds done tasks the file lacks")
        with open(path + ".journal", "r+b") as f:
            f.truncate(cut)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = msr.load(path, pending=True)
        done = set(np.flatnonzero(df["status"] == "done"))
        self.assertEqual(done, journal_reader.settled(path)[0])
        self.assertEqual(status_counts(path)["done"], len(done))
        self.assert_like_export(df, path)
        self.assertLess(len(done), int((msr.load(self.path, pending=True)["status"] == "done").sum()))

    def test_a_journal_of_another_file_is_ignored_with_a_warning(self):
        path = self.copy("other.h5")
        with h5py.File(path, "r+") as f:
            f.attrs["journal_id"] = np.uint64(int(f.attrs["journal_id"]) ^ 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = msr.load(path, pending=True)
        self.assertEqual(len(caught), 1)
        self.assertIn("belongs to another file", str(caught[0].message))
        pd.testing.assert_frame_equal(df, msr.load(path, journal=False, pending=True))
        self.assertEqual(status_counts(path)["done"], int((df["status"] == "done").sum()))


    def test_results_only_in_the_journal_become_columns(self):
        """The file as a first flush leaves it (no result dataset, every row pending) with
        every Records frame of the sweep's journal after its last Commit: each result becomes
        a column of the type the file would give it, as `mpisweep export` shows."""
        path = self.copy("fresh.h5")
        with h5py.File(path, "r+") as f:
            del f["results"]
            f.create_group("results")
            f["tasks/status"][...] = 0
        records_only(path + ".journal")
        df = msr.load(path, pending=True)
        full = msr.load(self.path, pending=True)
        self.assertEqual(set(np.flatnonzero(df["status"] == "done")),
                         set(np.flatnonzero(full["status"] == "done")))
        self.assertEqual(int((msr.load(path, journal=False, pending=True)["status"] == "done").sum()), 0)
        self.assertIn("late", df.columns)
        self.assert_like_export(df, path)
        self.assert_values(df)
        pd.testing.assert_frame_equal(df[full.columns], full)


def records_only(journal):
    """Removes the Commit frames of a journal: the file may hold none of its records."""
    with open(journal, "rb") as f:
        data = f.read()
    at = 16 + int.from_bytes(data[8:12], "little")
    out = data[:at]
    while at + 13 <= len(data):
        kind, length = data[at + 4], int.from_bytes(data[at + 5:at + 9], "little")
        if kind in journal_reader.RECORDS_KINDS:
            out += data[at:at + 13 + length]
        at += 13 + length
    with open(journal, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    unittest.main(argv=ARGV, verbosity=2)
