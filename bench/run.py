#!/usr/bin/python3
"""Runs the end-to-end benchmarks and prints one table: each figure, the limit or peer
measured in the same run, their ratio and the target of issue 5 (issue 14 for the Python
rows: mpisweep.run against mpi4py.futures).

usage: /usr/bin/python3 bench/run.py [--build build-bench] [--repeat 3] [--quick]

Needs the bench targets built (cmake --build BUILD --target bench), mpirun, GNU Parallel
and python3-mpi4py (`bash scripts/install-deps.sh --bench` installs them). Every rate is the median of
--repeat runs; the sleep, straggler and 10^8-grid runs are long and run once.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from file_events import FileEvents  # noqa: E402


def mpi_env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    if not env.get("SLURM_JOB_ID"):
        env["OMPI_MCA_plm"] = "isolated"
    return env


ENV = mpi_env()


def run(cmd, timeout=600, cwd=None):
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def field(text, key):
    m = re.search(rf"\b{key}=([0-9.eE+-]+)", text)
    if not m:
        raise RuntimeError(f"no {key}= in output:\n{text}")
    return float(m.group(1))


def median(fn, repeat):
    return statistics.median(fn() for _ in range(repeat))


def paired(ours, peer, repeat):
    """Runs ours and its peer in turn, `repeat` rounds: (median of ours, median of the peer,
    median of the per-round ratios). On a shared machine the load drifts between rounds; a
    ratio of two runs made one after the other follows it less than a ratio of two medians
    taken minutes apart."""
    pairs = [(ours(), peer()) for _ in range(repeat)]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(a / b for a, b in pairs))


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, ref_name, ref, ratio, target, met):
        self.rows.append((figure, value, ref_name, ref, ratio, target, met))
        print(f"  {figure}: {value} | {ref_name}: {ref} | {ratio} | {target} | {met}", file=sys.stderr)

    def print(self):
        head = ("figure", "value", "limit or peer (same run)", "value", "ratio", "target", "met")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in self.rows:
            print("| " + " | ".join(str(c) for c in row) + " |")


def rate(x):
    return f"{x:,.0f}/s"


def secs(x):
    return f"{x:.2f} s"


def yes(ok):
    return "yes" if ok else "**no**"


def sparse_files(t, b, cli, tmp, quick, rep):
    """Files of huge grids with few tasks settled, written by the store (bench/sparse_file):
    their size, and how long the post-hoc commands take on them (median of `rep`)."""
    settled = 10**6 // (100 if quick else 1)
    for n in (10**8, 10**9):
        path = f"{tmp}/sparse-{n}.h5"
        written = run([f"{b}/sparse_file", str(n), str(settled), path], timeout=900)
        size = field(written, "bytes")
        t.add(f"file of a {n:.0e}-point grid, {settled:.0e} tasks settled (written in "
              f"{field(written, 'seconds'):.1f} s)", f"{size / 1e6:.0f} MB", "bytes per settled task",
              f"{size / settled:.0f}", "-", "O(settled): no byte per pending task", yes(size < 200 * settled))
        commands = [["status", path], ["best", path, "--metric", "loss"], ["export", path, "--csv", f"{tmp}/x.csv"],
                    ["show", path, "--task", str(settled // 2)]]
        for cmd in commands if n == 10**8 else commands[:1]:
            def took():
                t0 = time.perf_counter()
                run([cli] + cmd, timeout=600)
                return time.perf_counter() - t0
            seconds = median(took, rep)
            t.add(f"`mpisweep {cmd[0]}` on it", secs(seconds), "target", "2 s", f"{seconds / 2:.2f}x", "< 2 s",
                  yes(seconds < 2))
        os.remove(path)
        if os.path.exists(path + ".journal"):
            os.remove(path + ".journal")


def gpu_packing(t, args, cli, tmp, q):
    """200 tasks declaring 3 GiB each on 4 fake GPUs of 16 GiB (MPISWEEP_FAKE_GPUS), 20
    workers: 5 fit a GPU, so the bound is 10 waves of the task's duration. The makespan and
    the memory held at once come from the log the tasks write themselves (fake_gpu_task)."""
    task = os.path.join(args.build, "tests", "e2e", "fake_gpu_task")
    if not os.path.exists(task):
        print(f"bench/run.py: no {task} (build the tests): the GPU row is left out", file=sys.stderr)
        return
    n, seconds, gib = 200 // q, 2.0, 1 << 30
    ledger = tempfile.mkdtemp(prefix="ledger-", dir=tmp)
    log = os.path.join(tmp, "gpu.log")
    saved = dict(ENV)
    ENV.update(MPISWEEP_FAKE_GPUS="4x16G", MPISWEEP_FAKE_GPU_DIR=ledger)
    try:
        run(["mpirun", "-n", "21", cli, "run", "-o", f"{tmp}/gpu.h5", "--force", "--progress", "0",
             "--no-speculation", "--gpu-mem", "3G", "-p", f"x=range(0,{n})", "--", task, "--mem", "3G",
             "--seconds", str(seconds), "--log", log], cwd=tmp)
    finally:
        ENV.clear()
        ENV.update(saved)
    rows = [line.split() for line in open(log)]
    starts, ends = [float(r[3]) for r in rows], [float(r[4]) for r in rows]
    span = max(ends) - min(starts)
    bound = -(-n // 20) * seconds
    events = sorted([(float(r[3]), 1, r[1], int(r[2])) for r in rows] + [(float(r[4]), -1, r[1], -int(r[2])) for r in rows],
                    key=lambda e: (e[0], e[1]))
    held, top = {}, 0
    for _, _, gpu, delta in events:
        held[gpu] = held.get(gpu, 0) + delta
        top = max(top, held[gpu])
    t.add(f"makespan, {n} tasks declaring 3 GiB on 4 fake GPUs of 16 GiB, 20 workers ({len(rows)} ran; "
          f"most held on one GPU {top / gib:.0f} GiB of 16)", secs(span), f"packing bound (5 per GPU, {seconds:.0f} s each)",
          secs(bound), f"{span / bound:.3f}x", "<= 1.05x, <= 16 GiB", yes(span <= 1.05 * bound and top <= 16 * gib
                                                                          and len(rows) == n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer tasks, for a smoke run")
    ap.add_argument("--only", default="mpi,commands,guardian,makespan,idle,gpu,hdf5,grid,files",
                    help="sections to run, comma-separated (default: all): mpi, commands, guardian, makespan, "
                         "idle, gpu, hdf5, grid, files")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)  # the runs start in a scratch directory
    sections = set(args.only.split(","))
    missing = [what for what, ok in (
        ("parallel (apt-get install parallel)", shutil.which("parallel")),
        ("mpirun (apt-get install openmpi-bin)", shutil.which("mpirun")),
        ("mpi4py (apt-get install python3-mpi4py)",
         subprocess.run([sys.executable, "-c", "import mpi4py.futures"], capture_output=True).returncode == 0),
        ("h5py (apt-get install python3-h5py)",
         subprocess.run([sys.executable, "-c", "import h5py"], capture_output=True).returncode == 0),
    ) if not ok]
    if missing:
        sys.exit("bench/run.py: missing " + ", ".join(missing) + "; or run: bash scripts/install-deps.sh --bench")
    b = os.path.join(args.build, "bench")
    # The Python package of the same build (python/mpisweep with its engine module).
    ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(args.build, "python"), ENV.get("PYTHONPATH")]))
    python_engine = subprocess.run([sys.executable, "-c", "import mpisweep._engine"], env=ENV,
                                   capture_output=True).returncode == 0
    if "mpi" in sections and not python_engine:
        print(f"bench/run.py: no mpisweep._engine under {args.build}/python (pybind11 missing?): "
              "the Python rows are left out", file=sys.stderr)
    cli = os.path.join(args.build, "src", "cli", "mpisweep")
    q = 10 if args.quick else 1
    rep = 1 if args.quick else args.repeat
    tmp = tempfile.mkdtemp(prefix="mpisweep-bench-")
    t = Table()
    load_before = open("/proc/loadavg").read().split()[:3]
    started = time.time()

    def mpirun(np, *cmd, timeout=600):
        return run(["mpirun", "-n", str(np), *cmd], timeout=timeout, cwd=tmp)

    def sweep(np, mode, n, *opts):
        return mpirun(np, f"{b}/e2e_sweep", mode, str(n), "--out", f"{tmp}/{mode}.h5", *opts)

    # -- in-process empty tasks -------------------------------------------------------------
    if "mpi" in sections:
        peers = {}
        for np in (2, 5):
            raw = median(lambda: field(mpirun(np, f"{b}/raw_mpi_loop", str(200000 // q), "2"), "rate"), rep)
            one = median(lambda: field(sweep(np, "empty", 200000 // q, "--batch-us", "0"), "rate"), rep)
            t.add(f"empty tasks, 1 per message, np={np}", rate(one), "raw MPI loop, 2 in flight/worker",
                  rate(raw), f"{one / raw:.2f}x", ">= 0.8x", yes(one >= 0.8 * raw))
            # The same loop receiving as mpisweep's transport does (a ring of pre-posted
            # receives): the limit for that way of receiving, shown beside the target's.
            pre = median(lambda: field(mpirun(np, f"{b}/raw_mpi_loop", str(200000 // q), "2", "preposted"),
                                       "rate"), rep)
            t.add(f"empty tasks, 1 per message, np={np}", rate(one), "raw MPI loop, pre-posted receives",
                  rate(pre), f"{one / pre:.2f}x", "-", "-")
            py = {}
            for chunk, n in ((1, 20000 // q), (64, 500000 // q), (1024, 1000000 // q)):
                py[chunk] = median(lambda: field(mpirun(np, sys.executable, "-m", "mpi4py.futures",
                                                        os.path.join(ROOT, "bench", "mpi4py_pool.py"),
                                                        str(n), str(chunk)), "rate"), rep)
            best_chunk = max(py, key=py.get)
            batched = median(lambda: field(sweep(np, "empty", 2000000 // q), "rate"), rep)
            t.add(f"empty tasks, automatic batching, np={np}", rate(batched),
                  f"mpi4py.futures best (chunksize {best_chunk}; chunksize 1: {rate(py[1])})",
                  rate(py[best_chunk]), f"{batched / py[best_chunk]:.1f}x", ">= 3x",
                  yes(batched >= 3 * py[best_chunk]))
            t.add(f"empty tasks, automatic batching, np={np}", rate(batched), "raw MPI loop (1 task/message)",
                  rate(raw), f"{batched / raw:.1f}x", ">= 1,000,000/s at np=5" if np == 5 else "-",
                  yes(batched >= 1e6) if np == 5 else "-")
            peers[np] = (raw, py)
            if python_engine:
                ours = median(lambda: field(run(["mpirun", "-n", str(np), sys.executable,
                                                 os.path.join(ROOT, "bench", "python_sweep.py"),
                                                 str(2000000 // q), f"{tmp}/python.h5"], cwd=tmp), "rate"), rep)
                t.add(f"empty Python tasks, mpisweep.run, np={np}", rate(ours), "mpi4py.futures, chunksize 1",
                      rate(py[1]), f"{ours / py[1]:.0f}x", ">= 20x", yes(ours >= 20 * py[1]))
                t.add(f"empty Python tasks, mpisweep.run, np={np}", rate(ours),
                      f"mpi4py.futures, best chunksize ({best_chunk})", rate(py[best_chunk]),
                      f"{ours / py[best_chunk]:.2f}x", ">= 1x", yes(ours >= py[best_chunk]))

    # -- external commands -------------------------------------------------------------------
    if "commands" in sections:
        # np = cores + 1 is one worker per core plus the master: the target's case.
        cores = os.cpu_count()
        for np in sorted({2, cores + 1, 5}):
            workers = np - 1
            n = 3000 // q

            def cli_rate():
                # The sweep's own span from the file (first start to last end), like the raw loop
                # that has no launcher to start either; the rate with mpirun's start is kept too.
                out_file = f"{tmp}/cmd.h5"
                t0 = time.perf_counter()
                mpirun(np, cli, "run", "-o", out_file, "--force", "--progress", "0", "-p",
                       f"x=range(0,{n})", "--", "true")
                with_launch.append(n / (time.perf_counter() - t0))
                import h5py
                with h5py.File(out_file, "r") as f:
                    start, wall = f["tasks/start"][:], f["tasks/wall_s"][:]
                    assert (f["tasks/status"][:] == 1).all(), "some `true` tasks did not succeed"
                return n / ((start + wall).max() - start.min())

            def spawn_rate():
                return field(run([f"{b}/raw_spawn", str(n), str(workers), "/bin/true"]), "rate")

            def parallel_rate():
                m = 300 // q
                t0 = time.perf_counter()
                subprocess.run(["parallel", "-j", str(workers), "true", ":::"] + [str(i) for i in range(m)],
                               check=True, capture_output=True, env=ENV)
                return m / (time.perf_counter() - t0)

            with_launch = []
            ours, spawn, ratio = paired(cli_rate, spawn_rate, rep)
            par = median(parallel_rate, rep)
            t.add(f"`mpisweep run -- true`, np={np} (with mpirun's start: {rate(statistics.median(with_launch))})",
                  rate(ours),
                  f"raw posix_spawn, {workers} loop(s), in turn", rate(spawn), f"{ratio:.2f}x", ">= 0.8x",
                  yes(ratio >= 0.8))
            t.add(f"`mpisweep run -- true`, np={np}", rate(ours), f"GNU Parallel -j{workers}", rate(par),
                  f"{ours / par:.1f}x", ">= 5x", yes(ours >= 5 * par))

        # Files made in the output folder by 10^4 `true` tasks, with one worker and with one
        # worker per core: every IN_CREATE in the output folder counts (a temporary file renamed
        # into place counts once, renames make no file; a file rewritten by write-temp-then-rename
        # would count at every rewrite), the log folder's mkdir included, and each file in the
        # log folder (made after the watch began, so counted from the folder afterwards).
        n = 10000 // q
        for np in sorted({2, cores + 1}):
            out_dir = tempfile.mkdtemp(prefix="files-", dir=tmp)
            with FileEvents([out_dir]) as events:
                mpirun(np, cli, "run", "-o", f"{out_dir}/cmd.h5", "--progress", "0", "-p", f"x=range(0,{n})", "--",
                       "true")
            logs = f"{out_dir}/cmd.h5.logs"
            in_logs = len(os.listdir(logs)) if os.path.isdir(logs) else 0
            made = sum(len(v) for v in events.created.values()) + in_logs
            gone = sum(len(v) for v in events.deleted.values())
            # The 2 + 2 x workers. Made: the results file, its journal, the owner record
            # (one per run: who runs the sweep, and the live view of `status --running`, both
            # rewritten in place); the log folder and one stream file per worker only when a
            # task prints or ends badly (`true` does neither).
            limit = 2 + 2 * (np - 1)
            t.add(f"files created in the output folder by {n} `true` tasks, np={np} ({gone} deleted again"
                  f"{'; inotify lost events' if events.overflowed else ''})", str(made),
                  "2 + 2 x workers", str(limit), f"{made / limit:.2f}x",
                  "<= 2 + 2 x workers", yes(made <= limit))

    # -- the guardian's cost per task ------------------------------------------------------------
    if "guardian" in sections:
        # mpisweep's spawner on /bin/true with and without the guardian (register before execve,
        # unregister after the reap), in alternating blocks of one run; CPU from schedstat and
        # getrusage, so that the figure holds on a loaded machine where rates do not.
        runs = [run([f"{b}/guardian_spawn", str(4000 // q)]) for _ in range(rep)]
        per = {k: statistics.median(field(r, k) for r in runs)
               for k in ("guardian_cpu_us", "cpu_us_without", "cpu_us_with", "rate_without", "rate_with")}
        t.add("guardian CPU per `true` task (its registration and unregistration)",
              f"{per['guardian_cpu_us']:.1f} us", "the spawn's own CPU without it (parent + child)",
              f"{per['cpu_us_without']:.0f} us", f"{per['guardian_cpu_us'] / per['cpu_us_without']:.3f}x", "-", "-")
        t.add("mpisweep's spawner with the guardian, `true`, one loop", rate(per["rate_with"]),
              "the same without the guardian", rate(per["rate_without"]),
              f"{per['rate_with'] / per['rate_without']:.2f}x", "-", "-")

    # -- makespan and straggler --------------------------------------------------------------
    if "makespan" in sections:
        for np in (2, 5):
            n = 400 // q
            out = sweep(np, "sleep", n)
            span, bound = field(out, "seconds"), field(out, "bound")
            t.add(f"makespan, {n} sleeps of 10-100 ms, np={np}", secs(span), "max(total/workers, longest)",
                  secs(bound), f"{span / bound:.3f}x", "<= 1.05x", yes(span <= 1.05 * bound))
        for np in (2, 5):
            n = (40 * (np - 1)) // q
            with_spec = sweep(np, "straggler", n)
            without = sweep(np, "straggler", n, "--no-speculation")
            ideal = field(with_spec, "bound")
            a, w = field(with_spec, "seconds"), field(without, "seconds")
            t.add(f"straggler (rank 1 5x slower), {n} x 20 ms, np={np}, with speculation", secs(a),
                  "ideal (fluid bound)", secs(ideal), f"{a / ideal:.2f}x", "<= 1.15x", yes(a <= 1.15 * ideal))
            t.add(f"straggler, np={np}, without speculation", secs(w), "ideal (fluid bound)", secs(ideal),
                  f"{w / ideal:.2f}x", "-", "-")

    # -- ranks that only wait ----------------------------------------------------------------
    if "idle" in sections:
        # Two workers run `sleep 4`, a third has no task: nothing can happen but a task's end.
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import idle_cpu
        shares = idle_cpu.median_worst(cli, ENV, np=4, sleep_s=4.0, repeat=rep)
        for role, (cpu, naps) in shares.items():
            t.add(f"CPU of a {role}, 2 workers running `sleep 4`, np=4 ({naps:.0f} naps/s)",
                  f"{100 * cpu:.2f} % of a core", "target", "1 % of a core", f"{cpu / 0.01:.2f}x",
                  "< 1 % of a core", yes(cpu < 0.01))
    # -- GPU packing on fake GPUs -------------------------------------------------------------
    if "gpu" in sections:
        gpu_packing(t, args, cli, tmp, q)

    # -- HDF5 --------------------------------------------------------------------------------
    if "hdf5" in sections:
        micro = run([f"{b}/mpisweep_micro", "--benchmark_filter=StoreRecordBatched/4096",
                     "--benchmark_format=console"])
        m = re.search(r"items_per_second=([0-9.]+)([kMG]?)/s", micro)
        store_alone = float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
        for np in (2, 5):
            res = median(lambda: field(sweep(np, "results", 2000000 // q), "rate"), rep)
            t.add(f"results written to HDF5 end to end, np={np}", rate(res),
                  "store alone (record + batched writes)", rate(store_alone), f"{res / store_alone:.2f}x",
                  ">= 1,000,000/s", yes(res >= 1e6))

    # -- 10^8-point grid ---------------------------------------------------------------------
    if "grid" in sections:
        n = 10**8 // (100 if args.quick else 1)
        proc = subprocess.Popen(["mpirun", "-n", "2", f"{b}/e2e_sweep", "big", str(n), "--out",
                                 f"{tmp}/big.h5"], env=ENV, stdout=subprocess.PIPE, text=True, cwd=tmp)
        pid = t0 = first = None
        hwm_kb = 0
        deadline = time.time() + 300
        try:
            for line in proc.stdout:
                if line.startswith("pid="):
                    pid, t0 = int(field(line, "pid")), field(line, "t0")
                if line.startswith("first_task="):
                    first = field(line, "first_task")
                    time.sleep(1.0)  # let the master run a while: the peak includes the steady state
                    with open(f"/proc/{pid}/status") as f:
                        hwm_kb = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
                    break
                if time.time() > deadline:
                    break
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if first is not None:
            start = first - t0
            t.add(f"start of a {n:.0e}-point grid (to the first task)", secs(start), "target", "1 s",
                  f"{start:.2f}x", "< 1 s", yes(start < 1))
            t.add(f"master peak RSS, {n:.0e}-point grid", f"{hwm_kb / 1024:.0f} MB", "target", "300 MB",
                  f"{hwm_kb / 1024 / 300:.2f}x", "< 300 MB", yes(hwm_kb < 300 * 1024))
    if "files" in sections:
        sparse_files(t, b, cli, tmp, args.quick, rep)
    shutil.rmtree(tmp, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    print(f"\nmachine: {os.cpu_count()} cores, {os.uname().release}; {time.strftime('%Y-%m-%d %H:%M')}; "
          f"{time.time() - started:.0f} s; rates: median of {rep} run(s); "
          f"load average (1/5/15 min) before {'/'.join(load_before)}, after {'/'.join(load_after)}\n")
    t.print()


if __name__ == "__main__":
    main()
