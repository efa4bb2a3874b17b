#!/usr/bin/python3
"""GPU placement end to end, on fake nodes (UTS namespaces, one Open MPI daemon each) with
fake GPUs (MPISWEEP_FAKE_GPUS, a test facility): each task is fake_gpu_task, which holds its
memory in the fake GPUs' ledger (failing with a CUDA out-of-memory error when it is not free)
and logs where and when it held it. The checks read that log, written by the tasks themselves.

  e2e_gpu.py CASE --mpisweep PATH --task FAKE_GPU_TASK

CASE: packing | caps | multi_gpu | learned | out_of_memory | no_gpu | bad_input | layout"""
import argparse
import os
import subprocess
import sys

from e2e_common import Workspace, check, describe, read_results
from gpu_common import GiB, check_never_over, fake_nodes_usable, gpu_env, peak_use, read_log, run_on_nodes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODES = ["n1", "n2", "n3", "n4"]


def sweep(args, work, hosts, ranks, spec, options, task_args, n_log="gpu.log", extra_env=None, expect=0):
    """One sweep of fake_gpu_task over fake nodes; returns (result, attempts logged, results)."""
    log = work / n_log
    out = work / "sweep.h5"
    env = gpu_env(work, spec)
    env.update(extra_env or {})
    argv = [args.mpisweep, "run", "-o", out, "--progress", "0", "--no-speculation"] + options + [
        "--", args.task, "--log", log] + task_args
    r = run_on_nodes(hosts, ranks, argv, env)
    print(f"$ {' '.join(argv)}\n  on {hosts} -> exit {r.returncode}", flush=True)
    check(r.returncode == expect, f"expected exit {expect}: " + describe(r))
    return r, read_log(log), (read_results(out) if expect == 0 else None)


def all_done_once(results, attempts, n):
    status = results["tasks"]["status"]
    check((status == 1).all(), f"tasks not done: {[i for i, s in enumerate(status) if s != 1]}")
    tasks = sorted(a.task for a in attempts)
    check(tasks == list(range(n)), f"each task should have held its GPU memory once: {tasks}")


def totals(spec):
    """{(host, gpu): bytes} of a spec such as 'n1=2x8G;n2=12G,6G'."""
    out = {}
    for node in spec.split(";"):
        host, gpus = node.split("=")
        i = 0
        for item in filter(None, gpus.split(",")):
            count, size = item.split("x") if "x" in item else ("1", item)
            for _ in range(int(count)):
                out[(host, str(i))] = int(size[:-1]) * GiB
                i += 1
    return out


def case_packing(args):
    """Tasks declaring 2, 3 or 5 GiB (a parameter) on unequal GPUs of two nodes, six workers
    each: never more declared memory on a GPU than it has (the ledger would refuse the
    task's allocation: it would fail), and the GPUs are shared as memory allows."""
    spec = "n1=2x8G;n2=12G,6G"
    with Workspace("gpu-packing") as work:
        n = 36
        _, attempts, results = sweep(
            args, work, "n1:7,n2:6", 13, spec,
            ["-p", f"i=range(0,{n // 3})", "-p", "mem=2G,3G,5G", "--gpu-mem", "{mem}"],
            ["--mem", "{mem}", "--seconds", "0.4"])
        all_done_once(results, attempts, n)
        check_never_over(attempts, totals(spec))
        peaks = peak_use(attempts)
        print("peak copies and memory per GPU:",
              {k: (c, f"{b / GiB:.0f}G") for k, (c, b) in sorted(peaks.items())})
        check(all(a.gpus and len(a.gpus) == 1 for a in attempts), "every task ran on one GPU")
        check({a.host for a in attempts} == {"n1", "n2"}, "both nodes ran tasks")
        check(results["attrs"].get("mpi_size") == 13, "13 ranks")


def case_caps(args):
    """--gpu-slots 0:1,1:3 and no memory declared: never more than 1 copy on GPU 0 and 3 on
    GPU 1 at once, with five workers (one of them waits)."""
    spec = "n1=2x16G"
    with Workspace("gpu-caps") as work:
        n = 16
        _, attempts, results = sweep(args, work, "n1:6", 6, spec,
                                     ["-p", f"i=range(0,{n})", "--gpu-slots", "0:1,1:3"],
                                     ["--mem", "1G", "--seconds", "0.3"])
        all_done_once(results, attempts, n)
        peaks = peak_use(attempts)
        check(peaks[("n1", "0")][0] <= 1, f"GPU 0 ran {peaks[('n1', '0')][0]} copies at once, cap 1")
        check(peaks[("n1", "1")][0] <= 3, f"GPU 1 ran {peaks[('n1', '1')][0]} copies at once, cap 3")
        check(set(results["tasks"]["device"].tolist()) == {0, 1}, "both GPUs ran tasks")


def case_multi_gpu(args):
    """--gpus-per-task 2 on two nodes of four GPUs: each task sees two distinct GPUs of its
    node in CUDA_VISIBLE_DEVICES, {device}/MPISWEEP_DEVICE list both, no GPU is shared."""
    spec = "n1=4x16G;n2=4x16G"
    with Workspace("gpu-multi") as work:
        n = 12
        _, attempts, results = sweep(args, work, "n1:4,n2:3", 7, spec,
                                     ["-p", f"i=range(0,{n})", "--gpus-per-task", "2"],
                                     ["--mem", "1G", "--seconds", "0.3"])
        all_done_once(results, attempts, n)
        for a in attempts:
            check(len(a.gpus) == 2 and len(set(a.gpus)) == 2, f"task {a.task} got GPUs {a.gpus}")
        for key, (count, _) in peak_use(attempts).items():
            check(count <= 1, f"GPU {key} ran {count} copies at once")
        devices = results["results"]["device"]
        gpus = results["results"]["gpus"]
        for t in range(n):
            check(devices[t] == gpus[t].replace("+", ","), f"task {t}: MPISWEEP_DEVICE {devices[t]}, GPUs {gpus[t]}")
            check(results["tasks"]["device"][t] == int(devices[t].split(",")[0]), "/tasks/device is the first GPU")


def case_learned(args):
    """--gpu-mem auto: tasks that hold 5 GiB on GPUs of 16 GiB run alone until a peak is seen,
    then two at once (5.5 GiB with the margin: three would not fit)."""
    spec = "n1=2x16G"
    with Workspace("gpu-learned") as work:
        n = 12
        r, attempts, results = sweep(args, work, "n1:7", 7, spec, ["-p", f"i=range(0,{n})", "--gpu-mem", "auto"],
                                     ["--mem", "5G", "--seconds", "1.2"])
        all_done_once(results, attempts, n)
        check_never_over(attempts, totals(spec))
        for key, (count, _) in peak_use(attempts).items():
            check(count <= 2, f"GPU {key} ran {count} copies of 5 GiB at once (learned 5.5 GiB each)")
        check("learned" in r.stderr and "5 GiB" in r.stderr, "the learned peak is reported:\n" + r.stderr)


def case_out_of_memory(args):
    """Task 2 declares 2 GiB and takes 12; on its first attempt someone else takes GPU 1's
    memory first (task 1, which declared too little), so it fails with CUDA's out-of-memory
    error there, and is retried on the other GPU, where it fits."""
    spec = "n1=2x16G"
    with Workspace("gpu-oom") as work:
        _, attempts, results = sweep(
            args, work, "n1:4", 4, spec,
            ["-p", "mem=3G,10G,12G", "-p", "decl=3G,1G,2G", "-p", "secs=6,6,0.5", "-p", "wait=0,0,10G",
             "--zip", "mem,decl,secs,wait", "--gpu-mem", "{decl}"],
            ["--mem", "{mem}", "--seconds", "{secs}", "--first-wait-used", "{wait}"])
        all_done_once(results, attempts, 3)
        by_task = {a.task: a for a in attempts}
        check(by_task[1].gpus == ["1"] and by_task[0].gpus == ["0"], f"tasks 0, 1 on GPUs 0, 1: {attempts}")
        check(results["tasks"]["attempts"][2] == 2, f"task 2 ran {results['tasks']['attempts'][2]} attempts")
        check(by_task[2].attempt == 2 and by_task[2].gpus == ["0"], f"task 2's retry ran on GPU 0: {by_task[2]}")
        check_never_over(attempts, totals(spec))
        # The first attempt's error is CUDA's, kept in the task's log.
        shown = subprocess.run([args.mpisweep, "log", work / "sweep.h5", "--task", "2", "--attempt", "1",
                                "--stderr"], capture_output=True, text=True)
        check("out of memory" in shown.stdout + shown.stderr, "attempt 1's error:\n" + shown.stdout + shown.stderr)


def case_no_gpu(args):
    """n2 has no GPU: --no-gpu wait keeps its workers idle (and says so), cpu runs their tasks
    on CPU (status names them), error refuses to start."""
    spec = "n1=16G;n2="
    with Workspace("gpu-none") as work:
        n = 8
        r, attempts, results = sweep(args, work, "n1:2,n2:2", 4, spec, ["-p", f"i=range(0,{n})"],
                                     ["--mem", "1G", "--seconds", "0.1"])
        check({a.host for a in attempts} == {"n1"}, "only n1's worker ran tasks under --no-gpu wait")
        check("rank 2 gets no GPU (n2 has no GPU): it takes no task" in r.stderr, r.stderr)
        os.remove(work / "sweep.h5")
        r, attempts, results = sweep(args, work, "n1:2,n2:2", 4, spec, ["-p", f"i=range(0,{n})", "--no-gpu", "cpu"],
                                     ["--mem", "1G", "--seconds", "0.3"], n_log="cpu.log")
        on_cpu = {a.task for a in attempts if not a.gpus}
        check(on_cpu and all(a.host == "n2" for a in attempts if not a.gpus), f"n2 ran tasks on CPU: {attempts}")
        status = subprocess.run([args.mpisweep, "status", work / "sweep.h5"], capture_output=True, text=True)
        check("on CPU: workers 2, 3 (n2)" in status.stdout, "status names the workers on CPU:\n" + status.stdout)
        os.remove(work / "sweep.h5")
        r, _, _ = sweep(args, work, "n1:2,n2:2", 4, spec, ["-p", f"i=range(0,{n})", "--no-gpu", "error"],
                        ["--mem", "1G"], expect=2)
        lines = [l for l in r.stderr.splitlines() if l.startswith("mpisweep:")]
        check(len(lines) == 1 and "rank 2 gets no GPU (n2 has no GPU)" in lines[0], r.stderr)
        check(not os.path.exists(work / "sweep.h5"), "a refused sweep created its file")


def case_bad_input(args):
    """Options that cannot work on these GPUs: exit 2, one line, no file."""
    spec = "n1=2x16G"
    cases = [
        (["--gpu-mem", "20G"], "more than any GPU has (the largest has 16 GiB)"),
        (["--gpus-per-task", "3"], "--gpus-per-task 3: no node has that many GPUs"),
        (["--gpu-slots", "2:1"], "--gpu-slots 2:1: no node has a GPU 2"),
        (["--devices", "5"], "device 5: expected a CUDA ordinal in 0..1"),
    ]
    with Workspace("gpu-bad") as work:
        for options, expect in cases:
            r, _, _ = sweep(args, work, "n1:2", 2, spec, ["-p", "i=range(0,2)"] + options, ["--mem", "1G"],
                            expect=2)
            lines = [l for l in r.stderr.splitlines() if l.startswith("mpisweep:")]
            check(len(lines) == 1 and expect in lines[0], f"{options}: expected one line with '{expect}':\n{r.stderr}")
            check(not os.path.exists(work / "sweep.h5"), f"{options} created the results file")
        # Without fake GPUs this machine has none: GPU options are refused, a plain sweep runs on CPU.
        env = {"MPISWEEP_FAKE_GPUS": ""}
        r = run_on_nodes("n1:2", 2, [args.mpisweep, "run", "-o", work / "x.h5", "-p", "i=range(0,2)", "--gpu-mem",
                                     "1G", "--", "true"], env)
        check(r.returncode == 2 and "no node of this job has a GPU" in r.stderr, describe(r))


def case_layout(args):
    """slurm/gpu-sweep.sbatch's layout on N nodes of G GPUs (srun replaced by mpirun over fake
    nodes, with the same host list): N x G workers, the master an extra rank on the first
    node, every GPU used, none twice at once, no worker on CPU."""
    for n_nodes, gpus in ((2, 2), (4, 1)):
        nodes = NODES[:n_nodes]
        spec = ";".join(f"{h}={gpus}x16G" for h in nodes)
        with Workspace("gpu-layout") as work:
            log = work / "gpu.log"
            env = dict(os.environ)
            env.pop("OMPI_MCA_plm", None)
            env.update(gpu_env(work, spec), MPISWEEP=args.mpisweep, SLURM_JOB_NODELIST=",".join(nodes),
                       SLURM_GPUS_ON_NODE=str(gpus), SLURM_NTASKS_PER_NODE=str(gpus),
                       PATH=os.path.join(ROOT, "tests", "e2e", "fakenodes") + os.pathsep + env["PATH"],
                       OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
            n = 4 * n_nodes * gpus
            r = subprocess.run(["bash", os.path.join(ROOT, "slurm", "gpu-sweep.sbatch"), "-o", work / "s.h5",
                                "--progress", "0", "--no-speculation", "-p", f"i=range(0,{n})", "--", args.task,
                                "--log", log, "--mem", "1G", "--seconds", "0.3"],
                               capture_output=True, text=True, env=env, timeout=240, cwd=work.path)
            check(r.returncode == 0, describe(r))
            ranks = n_nodes * gpus + 1
            first = f"{nodes[0]}:{gpus + 1}"
            check(f"{ranks} ranks on {first}" in r.stderr, f"expected {ranks} ranks, {first} first:\n{r.stderr}")
            results = read_results(work / "s.h5")
            check(results["attrs"]["mpi_size"] == ranks, f"mpi_size {results['attrs']['mpi_size']}")
            attempts = read_log(log)
            check(all(a.gpus for a in attempts), "a worker ran on CPU")
            used = {(a.host, g) for a in attempts for g in a.gpus}
            check(used == {(h, str(g)) for h in nodes for g in range(gpus)}, f"GPUs used: {sorted(used)}")
            for key, (count, _) in peak_use(attempts).items():
                check(count <= 1, f"GPU {key} ran {count} copies at once")
            workers = results["tasks"]["worker"]
            node_of = results["tasks"]["node"]
            per_host = {}
            for w, nd in zip(workers, node_of):
                per_host.setdefault(results["nodes"][nd], set()).add(int(w))
            check(all(len(ws) <= gpus for ws in per_host.values()), f"workers per node: {per_host}")
            print(f"{n_nodes} nodes x {gpus} GPUs: {ranks} ranks, workers per node {per_host}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("case")
    ap.add_argument("--mpisweep", required=True)
    ap.add_argument("--task", required=True)
    args = ap.parse_args()
    if not fake_nodes_usable(NODES):
        if os.environ.get("CI") == "true":
            sys.exit("fake nodes need root and unshare, which CI has")
        print("skipped: fake nodes need root and unshare --uts")
        sys.exit(77)
    globals()[f"case_{args.case}"](args)
    print("ok")


if __name__ == "__main__":
    main()
