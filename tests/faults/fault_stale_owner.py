#!/usr/bin/python3
"""Item 1 of issue 12: the rule for an owner record whose sweep is gone. A record from
another host with a fresh heartbeat is refused (exit 2, one line, nothing touched) and taken
with --break-lock; one whose heartbeat is old is taken over; a damaged one is refused while
fresh and taken once old; a sweep SIGKILLed on this host leaves a record of a dead pid, taken
over at once. A program that holds the file's HDF5 lock (h5py) without a record is refused."""
import json
import os
import subprocess
import time

from faults_common import (Workspace, check, check_exactly_once, check_refused, interrupted_sweep, kill_session,
                           mpisweep_lines, open_gates, parse_args, run_cli, started_sweep, sweep_env)

N = 12


def write_record(out, host="elsewhere", pid=4242, heartbeat_age=0.0):
    now = time.time()
    record = {"format": 1, "host": host, "pid": pid, "boot_id": "0", "pid_namespace": "pid:[1]",
              "process_start": 1, "token": "feedfeedfeedfeed", "started": now - 100,
              "heartbeat": now - heartbeat_age}
    with open(out + ".owner", "w") as f:
        json.dump(record, f)


def refused(args, sweep, work, out, extra, expect):
    check_refused(args, ["--resume"] + extra + sweep, work, out, expect)


def resumed(args, sweep, work, out, extra, expect):
    r = run_cli(args.mpisweep, ["run", "--resume"] + extra + sweep, ranks=args.ranks, env=sweep_env(work))
    check(r.returncode == 0, f"--resume {extra} runs:\n{r.stderr}")
    if expect:
        check(any(expect in line for line in mpisweep_lines(r.stderr)), f"it says '{expect}':\n{r.stderr}")
    check(not os.path.exists(out + ".owner"), "the record is gone after the sweep")
    check_exactly_once(work / "exec.log", out, N)


def foreign_records(args):
    with Workspace("foreign-owner") as work:
        out = work / "a.h5"
        sweep = interrupted_sweep(args, work, out, N)
        write_record(out)
        refused(args, sweep, work, out, [], "in use by the sweep of pid 4242 on host elsewhere")
        resumed(args, sweep, work, out, ["--break-lock"], "--break-lock: taking")
    with Workspace("old-heartbeat") as work:
        out = work / "b.h5"
        sweep = interrupted_sweep(args, work, out, N)
        write_record(out, heartbeat_age=3600)
        resumed(args, sweep, work, out, [], "no heartbeat for more than 60 s")
    with Workspace("damaged-owner") as work:
        out = work / "c.h5"
        sweep = interrupted_sweep(args, work, out, N)
        with open(out + ".owner", "w") as f:
            f.write("{not json")
        refused(args, sweep, work, out, [], "its owner record cannot be read")
        old = time.time() - 3600
        os.utime(out + ".owner", (old, old))
        resumed(args, sweep, work, out, [], "its owner record is damaged")


def killed_owner(args):
    with Workspace("dead-owner") as work:
        out = work / "d.h5"
        job, sweep = started_sweep(args, work, out, N)
        kill_session(job)
        open_gates(work, 0, N)
        check(os.path.exists(out + ".owner"), "a SIGKILLed sweep leaves its owner record")
        r = run_cli(args.mpisweep, ["run", "--resume"] + sweep, ranks=args.ranks, env=sweep_env(work))
        check(r.returncode == 0, f"the killed sweep's file resumes at once:\n{r.stderr}")
        check(any("is no longer running on this host" in line for line in mpisweep_lines(r.stderr)),
              f"it says the owner is gone:\n{r.stderr}")


def hdf5_lock(args):
    with Workspace("hdf5-lock") as work:
        out = work / "e.h5"
        sweep = interrupted_sweep(args, work, out, N)
        holder = subprocess.Popen(["/usr/bin/python3", "-c",
                                   "import h5py, sys, time; f = h5py.File(sys.argv[1], 'r+'); print('open', flush=True);"
                                   " time.sleep(120)", out], stdout=subprocess.PIPE, text=True)
        try:
            check(holder.stdout.readline().strip() == "open", "h5py opened the file")
            refused(args, sweep, work, out, [], "holds its HDF5 file lock")
        finally:
            holder.kill()
            holder.wait()
        resumed(args, sweep, work, out, [], None)


def main():
    args = parse_args(__doc__)
    foreign_records(args)
    killed_owner(args)
    hdf5_lock(args)
    print("ok")


if __name__ == "__main__":
    main()
