#!/usr/bin/python3
"""CPU time per empty in-process task, summed over every rank: mpisweep.run (Python),
mpisweep::run (C++, e2e_sweep empty) and mpi4py.futures at chunksize 1024.

usage: /usr/bin/python3 bench/cpu_per_task.py [--build build] [--np 5]

User + system time of everything mpirun starts (rusage of the children), for 1.2M tasks minus
0.2M tasks (start-up cancels out), the lowest of 2 runs each. Unlike rates, CPU time moves
little with the load of a shared machine.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--np", default="5")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="mpisweep-cpu-")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none",
               PYTHONPATH=os.path.join(build, "python"))
    if not env.get("SLURM_JOB_ID"):
        env["OMPI_MCA_plm"] = "isolated"
    mpirun = ["mpirun", "-n", args.np]
    variants = {
        "mpisweep.run (Python)": lambda n: mpirun + [sys.executable, os.path.join(ROOT, "bench", "python_sweep.py"),
                                                     str(n), os.path.join(tmp, "py.h5")],
        "mpisweep::run (C++)": lambda n: mpirun + [os.path.join(build, "bench", "e2e_sweep"), "empty", str(n),
                                                   "--out", os.path.join(tmp, "cpp.h5")],
        "mpi4py.futures, chunksize 1024": lambda n: mpirun + [sys.executable, "-m", "mpi4py.futures",
                                                              os.path.join(ROOT, "bench", "mpi4py_pool.py"),
                                                              str(n), "1024"],
    }

    def cpu(cmd):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=tmp)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    for name, command in variants.items():
        small = min(cpu(command(200000)) for _ in range(2))
        big = min(cpu(command(1200000)) for _ in range(2))
        print(f"{name}: {(big - small):.2f} us of CPU per task (np={args.np}, every rank, user + system)")


if __name__ == "__main__":
    main()
