"""Shared helpers of the fault tests: a sweep started and watched from outside, the tasks'
own execution log (fault_task.sh) as the witness of exactly-once, and the results file read
back with h5py."""
import contextlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from e2e_common import Workspace as _Workspace  # noqa: E402
from procs import live_pids, read_proc  # noqa: E402
from e2e_common import (check, check_no_survivors, command, describe, parse_args,  # noqa: E402,F401
                        pids_in, process_alive, read_results, run_cli)


# The jobs start() started, so that a test that fails (raises before its sweep ended) does not
# leave the sweep running behind it, waiting at a gate.
_started = []


class Workspace(_Workspace):
    """e2e_common's Workspace; on exit, whatever start() started and is still running is
    killed (its whole session: mpirun, its ranks and through their guardians their tasks)."""

    def __exit__(self, kind, value, traceback):
        while _started:
            job = _started.pop()
            if job.poll() is None:
                print(f"(killing the sweep the test left running: pid {job.pid})", file=sys.stderr)
                kill_session(job)
        return super().__exit__(kind, value, traceback)


def sweep_env(work, extra=None):
    env = {"EXEC_LOG": work / "exec.log", "RUN_DIR": work.path}
    env.update(extra or {})
    return env


def start(mpisweep, args, ranks, env):
    """Starts mpisweep (under mpirun when ranks > 0) in the background; stderr to a pipe."""
    full_env = dict(os.environ)
    full_env.update(env)
    job = subprocess.Popen(command(mpisweep, args, ranks), env=full_env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    _started.append(job)
    return job


def finish(job, timeout=120):
    """Waits for a job started with start(); returns (exit code, stderr). Kills it on timeout."""
    try:
        _, err = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        _, err = job.communicate()
        raise AssertionError(f"the sweep did not end within {timeout} s; stderr:\n{err}")
    return job.returncode, err


def fill(folder):
    """Writes a file into `folder` until its filesystem is full; returns the file's path."""
    path = os.path.join(folder, "filler")
    with open(path, "wb") as f:
        block = b"\0" * 65536
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
    return path


@contextlib.contextmanager
def small_disk(work, size):
    """A tmpfs of `size` (e.g. "16m") mounted at work/fs for the block: yields (its path, "")
    or, where a tmpfs cannot be mounted, (None, why) and the caller skips."""
    disk = work / "fs"
    os.mkdir(disk)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", disk], capture_output=True,
                          text=True)
    if made.returncode != 0:
        yield None, made.stderr.strip()
        return
    try:
        yield disk, ""
    finally:
        subprocess.run(["umount", "-l", disk])


def wait_for(condition, what, timeout=60, job=None):
    deadline = time.time() + timeout
    while not condition():
        if job is not None and job.poll() is not None:
            raise AssertionError(f"the sweep ended (exit {job.returncode}) before {what}:\n{job.stderr.read()}")
        check(time.time() < deadline, f"timed out waiting for {what}")
        time.sleep(0.05)


def read_log(path):
    """The execution log: a list of (event, task, attempt, pid, host)."""
    if not os.path.exists(path):
        return []
    entries = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5:
                entries.append((parts[0], int(parts[1]), int(parts[2]), int(parts[3]), parts[4]))
    return entries


def ended(log_path):
    """Task id -> number of executions that finished their work."""
    counts = {}
    for event, task, _, _, _ in read_log(log_path):
        if event == "end":
            counts[task] = counts.get(task, 0) + 1
    return counts


def check_exactly_once(log_path, results_path, n_tasks, allowed_repeats=0):
    """Every task finished exactly once by its own log, is done in the file, and the file's
    result is that execution's (its pid). `allowed_repeats`: how many executions may have
    finished their work and still run again, because what they wrote was lost on purpose
    (a test removed their result file before the worker read it)."""
    ends = {}
    for event, task, _, pid, _ in read_log(log_path):
        if event == "end":
            ends.setdefault(task, []).append(pid)
    twice = {t: p for t, p in ends.items() if len(p) > 1}
    repeats = sum(len(p) - 1 for p in twice.values())
    check(repeats <= allowed_repeats, f"tasks finished more than once (task: pids): {twice}")
    missing = sorted(set(range(n_tasks)) - set(ends))
    check(not missing, f"tasks never finished: {missing}")
    data = read_results(results_path)
    status = data["tasks"]["status"]
    not_done = [t for t in range(n_tasks) if status[t] != 1]
    check(not not_done, f"tasks not done in the file: {not_done}")
    pids = data["results"]["pid"]
    wrong = [t for t in range(n_tasks) if int(pids[t]) != ends[t][-1]]
    check(not wrong, f"the file's result is not the one execution's for tasks {wrong}")


def mpisweep_lines(stderr):
    """The lines mpisweep itself printed (Open MPI's own banners left out)."""
    return [line for line in stderr.splitlines() if line.startswith("mpisweep:")]


def rank_pids(job, mpisweep):
    """The pids of the mpisweep processes of a job started with start(): its ranks (mpirun's
    children), or the process itself without mpirun; not the guardians (own sessions)."""
    out = subprocess.run(["ps", "-eo", "pid,sid,args"], capture_output=True, text=True).stdout
    pids = []
    for line in out.splitlines()[1:]:
        pid, sid, args = line.split(None, 2)
        if int(sid) == job.pid and args.split()[0] == str(mpisweep):
            pids.append(int(pid))
    return pids


def open_gates(work, first, last):
    """Lets the tasks of stages first..last of fault_task.sh's `staged` mode run."""
    for stage in range(first, last + 1):
        open(work / f"gate-{stage}", "w").close()


def started_sweep(args, work, out, n_tasks, env=None, options=()):
    """Starts a sweep of n_tasks on `out` in the background and returns (job, its arguments
    after `run`) once tasks 0 and 1 finished and its owner record is there; the other tasks
    wait at their gate (open_gates) until the test opens it. No speculative copies: two copies
    of a task whose gate opens at once would both finish their work (and log it)."""
    sweep = ["-o", out, "--progress", "0", "--no-speculation", "-p", f"x=range(0,{n_tasks})"] + list(options) + [
        "--", args.task, "staged", "2"]
    job = start(args.mpisweep, ["run"] + sweep, args.ranks, env or sweep_env(work))
    open_gates(work, 0, 0)
    wait_for(lambda: ended_and_reaped(work / "exec.log", 2) and os.path.exists(str(out) + ".owner"),
             "two tasks finished", job=job)
    return job, sweep


def ended_and_reaped(log_path, count):
    """At least `count` tasks logged their end and the processes of all that did are gone (a
    zombie still counts: its worker has not reaped it). A task logs "end" just before it
    exits: until its worker has reaped it, a stop signal still cancels it (a cancelled task
    stays pending and runs again), so a test that stops a sweep after tasks finished waits
    for this."""
    pids = [pid for event, _, _, pid, _ in read_log(log_path) if event == "end"]
    return len(ended(log_path)) >= count and not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def interrupted_sweep(args, work, out, n_tasks, env=None, options=()):
    """A sweep of n_tasks on `out` stopped with SIGUSR1 once tasks 0 and 1 finished (the
    others wait at their gate until then): a file and its journal that --resume continues.
    Every gate is open afterwards. Returns the sweep's arguments after `run`."""
    job, sweep = started_sweep(args, work, out, n_tasks, env, options)
    job.send_signal(signal.SIGUSR1)
    code, err = finish(job)
    check(code == 75, f"the stopped sweep exits 75, got {code}:\n{err}")
    open_gates(work, 0, n_tasks)
    return sweep


def check_refused(args, run_args, work, out, expect, as_user=None):
    """`mpisweep run <run_args>` (as user id `as_user` if given) exits 2 with one line saying
    `expect`, and leaves the file and its journal as they were."""
    before = (file_state(out), file_state(str(out) + ".journal"))
    if as_user is None:
        r = run_cli(args.mpisweep, ["run"] + run_args, ranks=args.ranks, env=sweep_env(work))
    else:
        cmd = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", "--"] + command(
            args.mpisweep, ["run"] + run_args, args.ranks)
        env = dict(os.environ, HOME=work.path, **sweep_env(work))
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    lines = mpisweep_lines(r.stderr)
    what = " ".join(str(a) for a in run_args if str(a).startswith("--"))
    check(r.returncode == 2 and len(lines) == 1 and expect in lines[0],
          f"run {what} is refused with one line saying '{expect}':\n{r.stderr}")
    check((file_state(out), file_state(str(out) + ".journal")) == before,
          f"the refused run {what} changed the file or its journal")


def file_state(path):
    """What must not change when a run is refused: inode, size, mtime and bytes."""
    if not os.path.exists(path):
        return None
    info = os.stat(path)
    with open(path, "rb") as f:
        return (info.st_ino, info.st_size, info.st_mtime_ns, f.read())


def kill_session(job):
    """SIGKILL to every process of the job's session at once (mpirun, its ranks, their tasks):
    a whole-job kill, as a node failure or `kill -9` of everything does it. Open MPI puts each
    rank in a process group of its own, so killpg would not reach them."""
    out = subprocess.run(["ps", "-eo", "pid,sid"], capture_output=True, text=True).stdout
    for line in out.splitlines()[1:]:
        pid, sid = (int(x) for x in line.split())
        if sid == job.pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    job.wait()


def job_processes(work):
    """Pids of the processes of a sweep started with sweep_env(work) still alive: its ranks,
    their guardians and their tasks (pre-exec children too) carry its EXEC_LOG."""
    marker = f"EXEC_LOG={work / 'exec.log'}".encode()
    return live_pids(lambda pid: marker in read_proc(pid, "environ").split(b"\0"))


def catches(pid, sig):
    """True once process `pid` has a handler for `sig` (its SigCgt mask in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    except FileNotFoundError:
        pass
    return False
