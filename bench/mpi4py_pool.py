"""Peer for in-process tasks: mpi4py.futures.MPIPoolExecutor mapping an empty function.

Run as: mpirun -n NP python3 -m mpi4py.futures bench/mpi4py_pool.py N CHUNKSIZE
Prints "tasks=N seconds=S rate=R" (rank 0 runs this script; the others are the pool).
"""
import sys
import time

from mpi4py.futures import MPIPoolExecutor


def empty(x):
    return None


def main():
    n, chunksize = int(sys.argv[1]), int(sys.argv[2])
    with MPIPoolExecutor() as pool:
        list(pool.map(empty, range(64), chunksize=1))  # start the workers first
        t0 = time.perf_counter()
        for _ in pool.map(empty, range(n), chunksize=chunksize):
            pass
        s = time.perf_counter() - t0
    print(f"tasks={n} seconds={s:.6f} rate={n / s:.1f}")


if __name__ == "__main__":
    main()
