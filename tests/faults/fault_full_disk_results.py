#!/usr/bin/python3
"""Item 6 of issue 12: a full disk under the RESULTS FILE and its journal (rank 0's writes).
The results file is on a small tmpfs (the task output, --log-dir, elsewhere), filled up by a
file once tasks 0 and 1 are done; then one more task finishes with a bulky result:
- hdf5-first: a 200 KB string, which the journal takes (it keeps disk space taken ahead) but
  the HDF5 write cannot;
- journal-first: a 6 MiB one, more than the journal's space ahead, so its append fails first;
- logs-beside: as hdf5-first, with the task output beside the results file (the default log
  folder), so that the workers' writes meet the full disk too.
Each time: the sweep drains and ends with 75; one mpisweep line names the file (hdf5-first) or
the journal (journal-first), strerror and errno 28, and says --resume; no HDF5 error stack; no
task failed. Once the space is back, --resume finishes, each task exactly once by the tasks'
own log: hdf5-first loses nothing; journal-first runs again only the task whose own journal
append failed. Skipped (with a line saying so) where a tmpfs cannot be mounted."""
import os
import sys
import time

from faults_common import (Workspace, check, check_exactly_once, describe, ended, ended_and_reaped, fill, finish,
                           mpisweep_lines, open_gates, parse_args, read_results, run_cli, small_disk, start, sweep_env,
                           wait_for)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_reader import read_journal  # noqa: E402

N = 20
TRACE_MARKS = ("HDF5-DIAG", "#000:", "H5Dwrite", "H5Fflush", "major:", "minor:")


def journaled(out, after_last_commit=False):
    """Task id -> status of the records in the results file's journal (only those the HDF5
    file may not hold yet, with after_last_commit)."""
    found = read_journal(str(out) + ".journal", after_last_commit)
    return {} if found is None else found[1]


def scenario(args, work, disk, name, blob_bytes, names_journal, logs_beside=False):
    out = os.path.join(disk, f"{name}.h5")
    exec_log = work / f"exec-{name}.log"
    env = sweep_env(work, {"EXEC_LOG": exec_log})
    for stale in os.listdir(work.path):
        if stale.startswith("gate-"):
            os.remove(work / stale)
    logs = ["--log-dir", work / f"logs-{name}"] if not logs_beside else []  # beside: <out>.logs
    sweep = ["-o", out, "--progress", "0", "--no-speculation"] + logs + [
        "--max-attempts", "1", "-p", f"x=range(0,{N})", "--", args.task, "staged", "1"]
    job = start(args.mpisweep, ["run"] + sweep, args.ranks, env)
    open_gates(work, 0, 1)
    # Tasks 0 and 1 done, their processes gone, their results in the journal: what is settled
    # before the disk fills up. On many ranks also written to the HDF5 file (a Commit after
    # them, at most 2 s later), so that the next write is task 2's; a rank working alone
    # writes the file only between two tasks, so after task 2, together with them.
    wait_for(lambda: ended_and_reaped(exec_log, 2) and len(journaled(out)) >= 2
             and (args.ranks == 0 or not journaled(out, after_last_commit=True)),
             "two tasks finished, journaled (and written to the file)", job=job)
    filler = fill(disk)
    with open(work / "blob", "w") as f:
        f.write(str(blob_bytes))
    # One more task: its result meets the full disk. Nothing else finishes on many ranks (the
    # others wait at their gates and are cancelled by the drain, so none ends after the stop
    # began). A rank working alone writes the file only between two tasks: there the next
    # gate opens once the flush is due (2 s), until the sweep stops.
    open_gates(work, 2, 2)
    wait_for(lambda: 2 in ended(exec_log), "task 2 finished", job=job)
    if args.ranks == 0:
        task = 2
        while job.poll() is None and task + 1 < N:
            time.sleep(3)
            if job.poll() is None:
                task += 1
                open_gates(work, task, task)
                wait_for(lambda: task in ended(exec_log) or job.poll() is not None, f"task {task} finished")
    code, err = finish(job)
    lines = mpisweep_lines(err)
    check(code == 75, f"{name}: a full disk under the results file ends the sweep with 75, got {code}:\n{err}")
    trace = [mark for mark in TRACE_MARKS if mark in err]
    check(not trace, f"{name}: no HDF5 error stack in stderr (found {trace}):\n{err}")
    if logs_beside:
        # The task output meets the full disk too: whichever write does first, the workers'
        # lines or rank 0's, each names its file and errno 28, and the sweep drains all the same.
        said = [line for line in lines if str(disk) in line and "(errno 28)" in line]
        check(said, f"{name}: a line names a file on the full disk and errno 28:\n{err}")
        check(any("--resume" in line for line in lines), f"{name}: a line says to resume:\n{err}")
    else:
        path = str(out) + ".journal" if names_journal else str(out)
        said = [line for line in lines if f"'{path}'" in line and "No space left on device (errno 28)" in line]
        check(len(said) == 1, f"{name}: one line names '{path}' and errno 28:\n{err}")
        check("--resume" in said[0] and "free space" in said[0],
              f"{name}: the line says to free space and resume:\n{err}")
        check(len(lines) == 1, f"{name}: that line is all mpisweep says:\n{err}")
    print(f"{name}: {said[-1]}")
    failed = [t for t, st in journaled(out).items() if st == 2]
    check(not failed, f"{name}: no task failed (the journal has failed tasks {failed}):\n{err}")
    # What a user looks at before freeing space: `mpisweep status` counts every result the
    # journal holds, whatever the torn file does.
    shown = run_cli(args.mpisweep, ["status", out])
    done_row = [line.split() for line in shown.stdout.splitlines() if line.split()[:1] == ["done"]]
    in_journal = sum(1 for st in journaled(out).values() if st == 1)
    check(shown.returncode == 0 and done_row and done_row[0][1] == str(in_journal) and in_journal >= 2,
          f"{name}: status shows the {in_journal} done tasks of the journal:\n{describe(shown)}")
    os.remove(filler)
    os.remove(work / "blob")
    open_gates(work, 0, N)
    resumed = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=env)
    check(resumed.returncode == 0, f"{name}: --resume once the space is back finishes:\n{resumed.stderr}")
    check(sum(read_results(out)["tasks"]["status"] == 2) == 0, f"{name}: no task failed for good")
    # journal-first: task 2's result never reached the journal (its append is what failed),
    # so task 2 runs again; every other task exactly once.
    check_exactly_once(exec_log, out, N, allowed_repeats=1 if names_journal else 0)
    if names_journal:
        again = [t for t, n in ended(exec_log).items() if n > 1]
        check(again in ([], [2]), f"{name}: only task 2 (whose append failed) ran again, not {again}")


def main():
    args = parse_args(__doc__)
    with Workspace("full-disk-results") as work, small_disk(work, "12m") as (disk, why):
        if disk is None:
            print(f"skipped: a full disk under the results file (cannot mount a tmpfs: {why})")
            return
        scenario(args, work, disk, "hdf5-first", 200_000, names_journal=False)
        scenario(args, work, disk, "journal-first", 6 << 20, names_journal=True)
        scenario(args, work, disk, "logs-beside", 200_000, names_journal=False, logs_beside=True)
    print("ok")


if __name__ == "__main__":
    main()
