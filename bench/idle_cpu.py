#!/usr/bin/python3
"""CPU that ranks use while they only wait: `mpisweep run -- sleep S` with 2 tasks on np ranks
(np=4: the master, two workers waiting on their `sleep` child, one worker waiting for work).
Every thread's on-CPU time (/proc/PID/task/*/schedstat, nanoseconds) is read at the start and
the end of a window inside the sleeps; the figure is CPU seconds per wall second of each rank.

usage: /usr/bin/python3 bench/idle_cpu.py CLI [--np 4] [--sleep 4] [--repeat 1]
prints: one line per role, e.g. `master cpu_per_s=0.0021 naps_per_s=110` (the worst rank of
that role, the median over repeats; naps: voluntary context switches, how often it slept: under
load a nap lasts longer than asked, so CPU per second falls with load and naps tell why).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def _children(pid):
    """Direct children of pid (any thread)."""
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids


def _cpu_ns(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


def _naps(pid):
    """Voluntary context switches of every thread: how often the rank went to sleep."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                total += int(next(line for line in f if line.startswith("voluntary_ctxt_switches")).split()[1])
        except (OSError, StopIteration):
            pass
    return total


def _rank_of(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        for item in f.read().split(b"\0"):
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                return int(item.split(b"=", 1)[1])
    return None


def measure(cli, env, np=4, sleep_s=4.0):
    """{role: [(cpu seconds, naps) per wall second of each rank in that role]} for one run."""
    tmp = tempfile.mkdtemp(prefix="idle-cpu-")
    cmd = ["mpirun", "-n", str(np), cli, "run", "-o", f"{tmp}/idle.h5", "--progress", "0",
           "-p", "x=range(0,2)", "--", "sleep", str(sleep_s)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # The ranks are mpirun's children; wait until two of them run their `sleep`.
        give_up = time.time() + 60
        while True:
            ranks = {}
            for pid in _children(proc.pid):
                try:
                    rank = _rank_of(pid)
                except OSError:
                    continue
                if rank is not None:
                    ranks[rank] = pid
            sleeping = {r for r, pid in ranks.items() if _children(pid)}
            if len(ranks) == np and len(sleeping) == 2:
                break
            if time.time() > give_up or proc.poll() is not None:
                raise RuntimeError(f"{' '.join(cmd)}: the sleeps did not start")
            time.sleep(0.02)
        time.sleep(0.3)  # past the start of the tasks
        window = sleep_s - 1.0
        t0, before = time.monotonic(), {r: (_cpu_ns(pid), _naps(pid)) for r, pid in ranks.items()}
        time.sleep(window)
        t1, after = time.monotonic(), {r: (_cpu_ns(pid), _naps(pid)) for r, pid in ranks.items()}
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err.decode()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    roles = {"master": [], "worker waiting on its child": [], "worker waiting for work": []}
    for rank in ranks:
        role = "master" if rank == 0 else (
            "worker waiting on its child" if rank in sleeping else "worker waiting for work")
        cpu = (after[rank][0] - before[rank][0]) / 1e9 / (t1 - t0)
        naps = (after[rank][1] - before[rank][1]) / (t1 - t0)
        roles[role].append((cpu, naps))
    return {role: shares for role, shares in roles.items() if shares}


def median_worst(cli, env, np, sleep_s, repeat):
    """{role: (cpu, naps) per second, the median over `repeat` runs of the worst rank of that role}."""
    runs = [measure(cli, env, np, sleep_s) for _ in range(repeat)]
    return {role: (statistics.median(max(c for c, _ in r[role]) for r in runs),
                   statistics.median(max(n for _, n in r[role]) for r in runs)) for role in runs[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("--np", type=int, default=4)
    ap.add_argument("--sleep", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
    env.setdefault("OMPI_MCA_plm", "isolated")
    for role, (cpu, naps) in median_worst(args.cli, env, args.np, args.sleep, args.repeat).items():
        print(f"{role.replace(' ', '_')} cpu_per_s={cpu:.5f} naps_per_s={naps:.0f}")


if __name__ == "__main__":
    main()
