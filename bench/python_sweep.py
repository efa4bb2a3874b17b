"""In-process Python tasks through mpisweep.run: an empty function over range(N), every task
journaled and in the HDF5 file. The same shape as mpi4py_pool.py (its peer).

Run as: mpirun -n NP python3 bench/python_sweep.py N OUTPUT
(with the package on PYTHONPATH: <build>/python). Prints "tasks=N seconds=S rate=R" on
rank 0: the time of the whole run() call (file created, tasks, file closed), after a warm-up
sweep of a few tasks that starts MPI and the imports, as the peer starts its pool first.
"""
import os
import sys
import time

import mpisweep


def empty(ctx):
    return None


def main():
    n, output = int(sys.argv[1]), sys.argv[2]
    warm = mpisweep.run(empty, {"x": range(64)}, output=output + ".warm", force=True)
    t0 = time.perf_counter()
    code = mpisweep.run(empty, {"x": range(n)}, output=output, force=True)
    s = time.perf_counter() - t0
    if warm != 0 or code != 0:
        sys.exit(f"python_sweep: exit codes {warm}, {code}")
    if os.environ.get("OMPI_COMM_WORLD_RANK", "0") == "0":  # rank 0 (Open MPI's mpirun)
        os.remove(output + ".warm")
        print(f"tasks={n} seconds={s:.6f} rate={n / s:.1f}")


if __name__ == "__main__":
    main()
