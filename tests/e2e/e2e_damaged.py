#!/usr/bin/python3
"""Damaged or foreign files given to status, best, export and show (and to run --resume): a
truncated results file, one missing an attribute or a dataset, format_version 99, a corrupt
journal header, a file that is not HDF5. Each gives exit code 2 and one line on stderr saying
what is wrong and what to do, and no HDF5 error stack. A file torn with its journal beside it
is read from the journal (exit 0). The file and its journal are left as they were."""
import hashlib
import os
import re
import shutil

import h5py
import numpy as np

from e2e_common import Workspace, check, describe, parse_args, run_cli

POSTHOC = [["status"], ["best", "--metric", "loss"], ["export", "--csv", "-"], ["show", "--task", "3"]]


def digest(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def copy(work, source, name, journal=True):
    target = work / name
    shutil.copy(source, target)
    if journal and os.path.exists(source + ".journal"):
        shutil.copy(source + ".journal", target + ".journal")
    return target


def check_refused(args, path, phrases, commands=POSTHOC):
    """Every post-hoc command on `path`: exit 2, one line naming the problem, no HDF5 stack,
    nothing changed."""
    before = (digest(path), digest(path + ".journal"))
    for cmd in commands:
        m = run_cli(args.mpisweep, [cmd[0], path] + cmd[1:])
        lines = m.stderr.splitlines()
        check(m.returncode == 2, f"{cmd} on {os.path.basename(path)}: expected exit code 2:\n{describe(m)}")
        check(len(lines) == 1 and lines[0].startswith("mpisweep: "), f"{cmd}: one line expected:\n{m.stderr}")
        for bad in ("HDF5-DIAG", "#000", "H5F__", "major:"):
            check(bad not in m.stderr + m.stdout, f"{cmd}: the library's stack leaked:\n{m.stderr}")
        for phrase in phrases:
            check(phrase in lines[0], f"{cmd}: message lacks '{phrase}': {lines[0]}")
    check((digest(path), digest(path + ".journal")) == before, f"{path} or its journal was changed")


def main():
    args = parse_args(__doc__)
    with Workspace("damaged") as work:
        good = work / "sweep.h5"
        sweep = ["run", "-o", good, "--max-attempts", "1", "--progress", "0", "-p", "x=range(0,5)",
                 "-p", "y=0.5,1.5", "--", args.task, "loss", "{x}", "{y}"]
        result = run_cli(args.mpisweep, sweep, ranks=args.ranks)
        check(result.returncode == 1, f"one task fails, so exit code 1:\n{describe(result)}")
        check(os.path.exists(good + ".journal"), "a sweep with a failed task keeps its journal")

        # A file cut short (a copy truncated, or a disk that lost its end).
        torn = copy(work, good, "torn.h5", journal=False)
        with open(torn, "r+b") as f:
            f.truncate(os.path.getsize(torn) // 2)
        check_refused(args, torn, ["'" + torn + "' is damaged (HDF5 cannot", "no journal beside it",
                                   "restore it from a copy", "--force"])
        # ... with its journal beside it: read from the journal, which holds every record.
        torn_journal = copy(work, good, "torn-with-journal.h5")
        with open(torn_journal, "r+b") as f:
            f.truncate(os.path.getsize(torn_journal) // 2)
        m = run_cli(args.mpisweep, ["status", torn_journal])
        check(m.returncode == 0, describe(m))
        check("journal: the file cannot be read" in m.stdout and "--resume" in m.stdout, m.stdout)
        for state, n in (("done", 9), ("failed", 1), ("pending", 0)):
            check(re.search(rf"^{state}\s+{n}$", m.stdout, re.MULTILINE), f"status lacks '{state} {n}':\n{m.stdout}")

        # Missing parts.
        for name, damage, phrase in (
                ("no-n-tasks.h5", lambda f: f.attrs.__delitem__("n_tasks"), "it has no root attribute n_tasks"),
                ("no-status.h5", lambda f: f.__delitem__("tasks/status"), "it has no dataset /tasks/status"),
                ("no-version.h5", lambda f: f.attrs.__delitem__("format_version"),
                 "it has no root attribute format_version")):
            path = copy(work, good, name, journal=False)
            with h5py.File(path, "r+") as f:
                damage(f)
            check_refused(args, path, [f"is damaged ({phrase})", "restore it from a copy"])

        # A newer format.
        future = copy(work, good, "future.h5", journal=False)
        with h5py.File(future, "r+") as f:
            f.attrs["format_version"] = np.int32(99)
        check_refused(args, future, ["has format_version 99", "cannot read", "reads versions 1 to 2",
                                     "or a newer one"])

        # A journal whose header is damaged: it may hold what the file does not.
        bad_journal = copy(work, good, "bad-journal.h5")
        with open(bad_journal + ".journal", "r+b") as f:
            f.seek(20)
            byte = f.read(1)
            f.seek(20)
            f.write(bytes([byte[0] ^ 0xFF]))
        check_refused(args, bad_journal, ["journal", "is damaged (journal header has a bad checksum)",
                                          "move it aside"])
        resumed = run_cli(args.mpisweep, ["run", "-o", bad_journal, "--resume"] + sweep[3:], ranks=args.ranks)
        check(resumed.returncode == 2, f"resume with a damaged journal: expected exit code 2:\n{describe(resumed)}")
        check("is damaged (journal header has a bad checksum)" in resumed.stderr and "move it aside" in resumed.stderr,
              describe(resumed))
        check("older mpisweep" not in resumed.stderr, describe(resumed))

        # Not HDF5 at all.
        text = work / "notes.h5"
        with open(text, "w") as f:
            f.write("not a results file\n")
        check_refused(args, text, ["is not an HDF5 file", "expected a results file written by 'mpisweep run'"])
    print("ok")


if __name__ == "__main__":
    main()
