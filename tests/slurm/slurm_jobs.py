#!/usr/bin/python3
"""The scripts of slurm/ as a user submits them, on the test cluster of cluster.sh: each case
submits one script (sbatch or qsub), waits for the job, and reads the results file back.

  slurm_jobs.py CASE --mpisweep PATH --source DIR --cluster DIR --work DIR

CASE: srun | mpirun | gpu | gpu-shared | gpu-fake | pbs | chain | python (`srun python3 sweep.py`: a
Python sweep, tests/python/sweep_program.py, needs --python and --python-path). Exit 77
(skip) when the cluster was not started (cluster.sh skipped it, outside CI)."""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import h5py
import numpy as np

# The sweep of every case: x in 0..11, y in {0.5, 1.5}; task id = 2 * x_index + y_index.
XS = list(range(12))
YS = [0.5, 1.5]
N_TASKS = len(XS) * len(YS)
SPEC = '{"params": {"x": "range(0,12)", "y": [0.5, 1.5]}}'


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Case:
    def __init__(self, args):
        args.source = os.path.abspath(args.source)
        args.mpisweep = os.path.abspath(args.mpisweep)
        args.cluster = os.path.abspath(args.cluster)
        self.args = args
        self.work = os.path.abspath(args.work)
        shutil.rmtree(self.work, ignore_errors=True)
        self.marks = os.path.join(self.work, "marks")
        os.makedirs(self.marks)
        self.output = os.path.join(self.work, "sweep.h5")
        with open(os.path.join(self.work, "sweep.json"), "w") as f:
            f.write(SPEC)
        self.task = os.path.join(args.source, "tests", "slurm", "task.sh")
        env = dict(os.environ)
        # mpirun inside the job must find Slurm's allocation, not the one-node "isolated"
        # launcher the other tests use.
        env.pop("OMPI_MCA_plm", None)
        env.update(SLURM_CONF=os.path.join(args.cluster, "slurm.conf"), MPISWEEP=args.mpisweep,
                   MARKS=self.marks, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMPI_MCA_mpi_yield_when_idle="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
        self.env = env

    def script(self, name):
        return os.path.join(self.args.source, "slurm", name)

    def run(self, cmd, timeout=150):
        started = time.time()
        result = subprocess.run(cmd, env=self.env, cwd=self.work, capture_output=True, text=True,
                                timeout=timeout)
        print(f"$ {' '.join(cmd)}\n  -> exit {result.returncode} after {time.time() - started:.1f} s",
              flush=True)
        return result

    def sweep_args(self):
        # No speculative copies: each task then finishes exactly once, which the markers check.
        return ["--no-speculation", "-o", self.output, "--spec", os.path.join(self.work, "sweep.json"), "--", self.task]

    def sbatch_wait(self, script, *options, args=None):
        """Submits with sbatch --wait; returns the job's exit code and its output."""
        out = os.path.join(self.work, "job-%j.out")
        result = self.run(["sbatch", "--wait", "--parsable", f"--chdir={self.work}", f"--output={out}",
                           *options, self.script(script)] + (self.sweep_args() if args is None else args))
        job = result.stdout.strip().split(";")[0]
        check(job.isdigit(), f"sbatch: {result.stdout}{result.stderr}")
        text = read(os.path.join(self.work, f"job-{job}.out"))
        print(f"--- output of job {job}:\n{text}---", flush=True)
        return result.returncode, text

    def job_info(self, job):
        """JobState and ExitCode of a job while Slurm still lists it, else None."""
        result = subprocess.run(["scontrol", "-o", "show", "job", job], env=self.env, capture_output=True,
                                text=True)
        if result.returncode != 0:
            return None
        fields = dict(re.findall(r"(\w+)=(\S*)", result.stdout))
        return fields.get("JobState"), fields.get("ExitCode")

    def wait_job(self, job, timeout=150):
        """Waits until a job ended; its final state and exit code (Slurm keeps it 5 s)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = self.job_info(job)
            check(info is not None, f"job {job} left the queue before it was seen ending")
            if info[0] not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
                return info
            time.sleep(0.3)
        raise AssertionError(f"job {job} still runs after {timeout} s")

    def read_marks(self):
        """Per task, the lines of its marker file: (job, "1", "2"... or "done")."""
        lines = []
        for task in range(N_TASKS):
            path = os.path.join(self.marks, f"task-{task}")
            lines.append([tuple(l.split()) for l in read(path).splitlines()] if os.path.exists(path) else [])
        return lines


def read(path):
    with open(path) as f:
        return f.read()


def check_results(case, mpi_size, jobs=None):
    """The results file of a finished sweep: every task done once, each result right."""
    with h5py.File(case.output, "r") as f:
        check(f.attrs["mpi_size"] == mpi_size, f"mpi_size {f.attrs['mpi_size']}, expected {mpi_size} ranks "
              "in one MPI job (are the ranks wired together?)")
        status = f["tasks/status"][:]
        check((status == 1).all(), f"tasks not done: {np.flatnonzero(status != 1).tolist()}")
        x = f["params/x"][:]
        y = f["params/y"][:]
        check(x.tolist() == [a for a in XS for _ in YS] and y.tolist() == YS * len(XS), "params out of order")
        check(f["results/x2"][:].tolist() == (x * x).tolist(), "results/x2 != x*x")
        check(f["results/sum"][:].tolist() == (x + y).tolist(), "results/sum != x+y")
        workers = f["tasks/worker"][:]
        check(set(workers.tolist()) <= set(range(1, mpi_size)), f"workers {sorted(set(workers.tolist()))}")
        check([n.decode() if isinstance(n, bytes) else n for n in f["nodes"][:]] == [socket.gethostname()],
              f"nodes {f['nodes'][:]}")
        devices = f["tasks/device"][:]
        result_jobs = [j.decode() if isinstance(j, bytes) else j for j in f["results/job"][:]]
    marks = case.read_marks()
    done = [[m[0] for m in lines if m[1] == "done"] for lines in marks]
    check(all(len(d) == 1 for d in done), f"tasks not finished exactly once: "
          f"{ {t: d for t, d in enumerate(done) if len(d) != 1} }")
    check([d[0] for d in done] == result_jobs, "results/job differs from the job that finished the task")
    if jobs is not None:
        check(set(result_jobs) <= set(jobs), f"results from jobs {set(result_jobs)}, expected {jobs}")
    print(f"results: {N_TASKS} tasks done once each, x*x and x+y right, ranks {sorted(set(workers.tolist()))}")
    return devices, result_jobs, marks


def case_srun(case):
    code, _ = case.sbatch_wait("sweep-srun.sbatch")
    check(code == 0, f"sbatch --wait: exit {code}")
    check_results(case, 4)


def case_mpirun(case):
    code, _ = case.sbatch_wait("sweep-mpirun.sbatch")
    check(code == 0, f"sbatch --wait: exit {code}")
    check_results(case, 4)


def case_gpu(case, per_gpu):
    # The layout rule: 4 GPUs, 4 x per_gpu workers on the node, and the master one rank more.
    workers = 4 * per_gpu
    ranks = workers + 1
    # One worker per GPU is the script's own #SBATCH line; more per GPU: more tasks per node.
    options = [] if per_gpu == 1 else [f"--ntasks-per-node={workers}"]
    code, text = case.sbatch_wait("gpu-sweep.sbatch", *options)
    check(code == 0, f"sbatch --wait: exit {code}")
    check(f"1 node(s), 4 GPU(s) and {workers} worker(s) per node, {per_gpu} worker(s) per GPU; "
          f"{ranks} ranks, the master an extra one on {socket.gethostname()}" in text,
          "the script did not size the workers per GPU from the allocation")
    # The fake GPUs have no CUDA device behind them: the workers fall back to CPU, and say so.
    check(re.search(r"CUDA_VISIBLE_DEVICES=0,1,2,3 but .*the workers of this node run on CPU", text),
          "no CPU fallback warning in the job output")
    devices, _, _ = check_results(case, ranks)
    check((devices == -1).all(), f"/tasks/device {devices.tolist()}, expected -1 (CPU) everywhere")


def case_gpu_fake(case):
    """The same script on fake GPUs (MPISWEEP_FAKE_GPUS, declared with the job's
    CUDA_VISIBLE_DEVICES=0,1,2,3 applied): every task runs on one of the four GPUs, none on CPU."""
    case.env["MPISWEEP_FAKE_GPUS"] = "4x16G"
    code, text = case.sbatch_wait("gpu-sweep.sbatch")
    check(code == 0, f"sbatch --wait: exit {code}")
    check("run on CPU" not in text, "a worker ran on CPU beside fake GPUs")
    devices, _, _ = check_results(case, 5)
    check(set(devices.tolist()) == {0, 1, 2, 3}, f"/tasks/device {sorted(set(devices.tolist()))}, expected 0-3")


def case_pbs(case):
    out = os.path.join(case.work, "pbs.out")
    variables = f"SPEC={os.path.join(case.work, 'sweep.json')},OUTPUT={case.output},TASK={case.task},OPTIONS=--no-speculation"
    result = case.run(["qsub", "-V", "-v", variables, "-o", out, case.script("sweep.pbs")])
    check(result.returncode == 0 and result.stdout.strip().isdigit(), f"qsub: {result.stdout}{result.stderr}")
    job = result.stdout.strip()
    listed = case.run(["qstat", job])
    check(listed.returncode == 0 and job in listed.stdout, f"qstat does not list job {job}: {listed.stdout}")
    state = case.wait_job(job)
    check(state == ("COMPLETED", "0:0"), f"PBS job {job} ended {state}")
    print(f"--- output of PBS job {job}:\n{read(out)}---")
    check("mpisweep: 4 ranks" in read(out), "the PBS script did not take its rank count from the job")
    check_results(case, 4)


def case_chain(case):
    case.env["TASK_SLEEP"] = "0.5"
    # No --output: every job of the chain writes mpisweep-chain-<job>.out (the script's #SBATCH line).
    result = case.run(["sbatch", "--parsable", f"--chdir={case.work}", case.script("sweep-chain.sbatch")] + case.sweep_args())
    check(result.returncode == 0, f"sbatch: {result.stderr}")
    first = result.stdout.strip().split(";")[0]
    first_out = os.path.join(case.work, f"mpisweep-chain-{first}.out")
    # A signal sent before the script has set its traps is lost: wait for its first line, and
    # for a few finished tasks, so that the stop comes mid-sweep.
    deadline = time.time() + 90
    while not (os.path.exists(first_out) and "mpisweep-chain: job" in read(first_out)
               and sum(any(m[1] == "done" for m in lines) for lines in case.read_marks()) >= 4):
        check(time.time() < deadline, f"job {first} did not start its sweep in 90 s")
        time.sleep(0.2)
    check(case.run(["scancel", "--batch", "--signal=USR1", first]).returncode == 0, "scancel failed")
    state = case.wait_job(first)
    text = read(first_out)
    print(f"--- output of job {first}:\n{text}---", flush=True)
    check(state == ("FAILED", "75:0"), f"job {first} ended {state}, expected exit code 75 (stopped, resumable)")
    check("SIGUSR1, passing it on" in text, "the script did not pass SIGUSR1 on")
    match = re.search(r"submitted job (\d+) to resume", text)
    check(match, "the script did not resubmit itself")
    second = match.group(1)
    state = case.wait_job(second)
    second_text = read(os.path.join(case.work, f"mpisweep-chain-{second}.out"))
    print(f"--- output of job {second}:\n{second_text}---", flush=True)
    check(state == ("COMPLETED", "0:0"), f"job {second} ended {state}")
    check("link 2 of at most" in second_text and "the sweep is done" in second_text, "job 2 did not finish")
    _, result_jobs, marks = check_results(case, 4, jobs=[first, second])
    in_first = result_jobs.count(first)
    in_second = result_jobs.count(second)
    started_first = sum(any(m[0] == first for m in lines) for lines in marks)
    check(0 < in_first < N_TASKS, f"{in_first} of {N_TASKS} tasks done in job {first}: expected some, not all")
    check(in_first + in_second == N_TASKS, "tasks lost")
    print(f"chain: job {first} finished {in_first} tasks (started {started_first}), job {second} finished "
          f"{in_second}; {N_TASKS} of {N_TASKS} done, each exactly once")


def case_python(case):
    """`srun python3 sweep.py` in a 4-task job: 3 workers, every task once, one exit code."""
    logs = os.path.join(case.work, "logs")
    os.makedirs(logs)
    case.env["PYTHONPATH"] = case.args.python_path
    program = os.path.join(case.args.source, "tests", "python", "sweep_program.py")
    out = os.path.join(case.work, "job-%j.out")
    result = case.run(["sbatch", "--wait", "--parsable", f"--chdir={case.work}", f"--output={out}", "--ntasks=4",
                       "--wrap", f"srun --mpi=pmix {case.args.python} {program} --output {case.output} "
                       f"--log-dir {logs} --tasks 24"])
    job = result.stdout.strip().split(";")[0]
    print(f"--- output of job {job}:\n{read(os.path.join(case.work, f'job-{job}.out'))}---", flush=True)
    check(result.returncode == 0, f"sbatch --wait: exit {result.returncode}")
    codes = sorted(os.listdir(logs))
    check([c for c in codes if c.startswith("code-")] == ["code-0", "code-1", "code-2", "code-3"],
          f"exit codes of {codes}, expected one per rank 0..3")
    for name in ("code-0", "code-1", "code-2", "code-3"):
        check(read(os.path.join(logs, name)).strip() == "0", f"{name}: {read(os.path.join(logs, name))}")
    finished = []
    for name in codes:
        if name.startswith("rank-"):
            finished += [int(line.split()[1]) for line in read(os.path.join(logs, name)).splitlines()
                         if line.startswith("finish ")]
    check(sorted(finished) == list(range(24)), f"tasks finished {sorted(finished)}, expected 0..23 once each")
    with h5py.File(case.output, "r") as f:
        check((f["tasks/status"][:] == 1).all(), "not every task done in the file")
        check(set(f["tasks/worker"][:].tolist()) <= {1, 2, 3}, f"workers {set(f['tasks/worker'][:].tolist())}")
    print("srun python3 sweep.py: 4 ranks, 24 tasks done once each, exit 0 on every rank")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("case", choices=["srun", "mpirun", "gpu", "gpu-shared", "gpu-fake", "pbs", "chain", "python"])
    ap.add_argument("--python", help="python: the interpreter the package was built for")
    ap.add_argument("--python-path", help="python: the folder holding the mpisweep package")
    ap.add_argument("--mpisweep", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.cluster, "env")):
        print(f"no Slurm test cluster in {args.cluster} (cluster.sh up skipped it)", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 77
    case = Case(args)
    {"srun": case_srun, "mpirun": case_mpirun, "gpu": lambda c: case_gpu(c, 1),
     "gpu-shared": lambda c: case_gpu(c, 2), "gpu-fake": case_gpu_fake, "pbs": case_pbs, "chain": case_chain,
     "python": case_python}[args.case](case)
    shutil.rmtree(case.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
