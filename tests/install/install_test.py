"""The installed package works for an outside project: install the already-built tree into a
temporary prefix (`cmake --install`), configure and build tests/install/outside_project against
it with find_package(mpisweep), run it on 2 MPI ranks, and check the results file it wrote.
With --python, the Python package too: installed under <prefix>/<python-dir>, and a sweep run
with it alone on PYTHONPATH (not the build tree) on 2 ranks, read back with mpisweep.load."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def run(cmd, what, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{what} failed (exit code {result.returncode}): {' '.join(cmd)}\n"
                             f"--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}")
    return result


def check(condition, message):
    if not condition:
        raise AssertionError(message)


PYTHON_SWEEP = """
import sys, mpisweep
assert mpisweep.__file__.startswith(sys.argv[2]), mpisweep.__file__
code = mpisweep.run(lambda ctx: {"twice": 2 * ctx.params["a"]}, {"a": range(5)}, output=sys.argv[1])
sys.exit(code)
"""


def check_python_package(args, prefix, work):
    site = os.path.join(prefix, args.python_dir)
    package = os.path.join(site, "mpisweep")
    names = os.listdir(package) if os.path.isdir(package) else []
    for name in ("__init__.py", "sweep.py", "results.py", "_rows.py", "_grid.py", "_journal.py", "_overlay.py",
                 "plot.py"):
        check(name in names, f"the install has no {name} in {package}: {names}")
    check(any(n.startswith("_engine") and n.endswith(".so") for n in names), f"no _engine*.so in {package}")
    for alias in ("mpisweep_results.py", "mpisweep_plot.py"):
        check(os.path.exists(os.path.join(site, alias)), f"the install has no {alias} in {site}")
    output = os.path.join(work, "python.h5")
    env = dict(os.environ, PYTHONPATH=site)
    run([args.mpirun, "-n", "2", "--oversubscribe", args.python, "-c", PYTHON_SWEEP, output, site],
        "a Python sweep with the installed package on 2 ranks", timeout=120, env=env)
    loaded = run([args.python, "-c", "import sys, mpisweep; df = mpisweep.load(sys.argv[1]);"
                  "print(list(df.twice), list(df.status))", output], "reading it back", env=env)
    check(loaded.stdout.strip() == "[0, 2, 4, 6, 8] ['done', 'done', 'done', 'done', 'done']",
          f"the installed package read back {loaded.stdout.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", required=True, help="the built mpisweep tree to install")
    ap.add_argument("--project", required=True, help="tests/install/outside_project")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--generator", default="")
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--python", help="the Python the package was built for")
    ap.add_argument("--python-dir", help="where the package goes, relative to the prefix")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mpisweep-install-")
    ok = False
    try:
        prefix = os.path.join(work, "prefix")
        run([args.cmake, "--install", args.build_dir, "--prefix", prefix], "cmake --install")
        for path in ["include/mpisweep/mpisweep.hpp", "bin/mpisweep"]:
            check(os.path.exists(os.path.join(prefix, path)), f"the install has no {path}")
        libdirs = [d for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
                   if os.path.exists(os.path.join(prefix, d, "cmake/mpisweep/mpisweepConfig.cmake"))]
        check(libdirs, f"the install has no lib*/cmake/mpisweep/mpisweepConfig.cmake under {prefix}")

        build = os.path.join(work, "build")
        configure = [args.cmake, "-S", args.project, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
                     "-DCMAKE_BUILD_TYPE=Release"]
        if args.generator:
            configure += ["-G", args.generator]
        # Only the prefix may provide mpisweep: no package registry, no build tree.
        configure += ["-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"]
        run(configure, "configuring the outside project")
        run([args.cmake, "--build", build], "building the outside project")

        output = os.path.join(work, "out.h5")
        exe = os.path.join(build, "outside_sweep")
        run([args.mpirun, "-n", "2", "--oversubscribe", exe, output],
                     "running the outside project on 2 ranks", timeout=120)

        with h5py.File(output, "r") as f:
            check(int(f.attrs["n_tasks"]) == 6, f"n_tasks is {f.attrs['n_tasks']}, expected 6")
            check(int(f.attrs["mpi_size"]) == 2, f"mpi_size is {f.attrs['mpi_size']}, expected 2")
            a, b = f["params/a"][:], f["params/b"][:]
            check(list(a) == [1, 1, 2, 2, 3, 3] and list(b) == [10, 20] * 3,
                  f"params a={list(a)} b={list(b)}, expected the nested-loop order of a x b")
            check((f["tasks/status"][:] == 1).all(), f"status {f['tasks/status'][:]}: not all done")
            check(np.array_equal(f["results/sum"][:], (a + b).astype(float)),
                  f"results/sum {f['results/sum'][:]} is not a + b")
            check(np.array_equal(f["results/b_seen"][:], b), "results/b_seen is not b")
            check((f["tasks/worker"][:] == 1).all(), "the one worker (rank 1) did not run every task")
        if args.python:
            check_python_package(args, prefix, work)
        ok = True
        print(f"installed into {prefix}, built and ran the outside project: 6 tasks done")
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"(files kept in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
