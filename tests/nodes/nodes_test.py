#!/usr/bin/python3
"""Multi-node sweeps on fake nodes (issue 12, item 9): n1:2,n2:2,n3:2, six ranks over three
"nodes", each a UTS namespace with its own host name and Open MPI daemon (mpirun-nodes).
  sweep        every task runs once, on workers of all three nodes; /nodes lists n1..n3 and
               /tasks/node points into it with the host each task's own log names
  node_killed  n2's daemon is SIGKILLed mid-sweep (a node that died): the job ends, nothing of
               it keeps running, and --resume finishes the file, each task exactly once
  node_hung    every rank of n3 is SIGSTOPped (a hung node): the sweep finishes on the other
               nodes, the job ends (exit 0), each task exactly once
Exactly once from the tasks' own execution log (tests/faults/fault_task.sh). Skipped (77) where
fake nodes cannot be made (not root, or `unshare --uts` refused)."""
import argparse
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from faults_common import (Workspace, check, check_exactly_once, check_no_survivors, ended, finish,  # noqa: E402
                           kill_session, open_gates, pids_in, read_log, wait_for)

HOSTS = "n1:2,n2:2,n3:2"


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def ensure_fake_nodes():
    if os.geteuid() != 0:
        skip("fake nodes need root (unshare --uts, /etc/hosts)")
    if subprocess.run(["unshare", "--uts", "true"], capture_output=True).returncode != 0:
        skip("unshare --uts is not allowed here")
    for i in range(1, 4):
        try:
            socket.gethostbyname(f"n{i}")
        except OSError:
            with open("/etc/hosts", "a") as f:  # as the fakenodes tool's setup.sh does
                f.write(f"127.0.0.{i + 1} n{i}\n")


def env_for(work):
    env = dict(os.environ)
    env.pop("OMPI_MCA_plm", None)  # the tests' 'isolated' launcher would keep every rank here
    env.update({"EXEC_LOG": str(work / "exec.log"), "RUN_DIR": str(work.path)})
    return env


def start(args, work, sweep):
    cmd = [os.path.join(HERE, "mpirun-nodes"), HOSTS, "-n", "6", args.mpisweep] + [str(a) for a in sweep]
    return subprocess.Popen(cmd, env=env_for(work), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def host_of(pid):
    out = subprocess.run(["nsenter", "-t", str(pid), "-u", "hostname"], capture_output=True, text=True)
    return out.stdout.strip()


def session_processes(job, name):
    """pids of the processes of the job's session whose command is `name` (its basename)."""
    out = subprocess.run(["ps", "-eo", "pid,sid,args"], capture_output=True, text=True).stdout
    pids = []
    for line in out.splitlines()[1:]:
        pid, sid, cmd = line.split(None, 2)
        if int(sid) == job.pid and os.path.basename(cmd.split()[0]) == name:
            pids.append(int(pid))
    return pids


def ranks_on(job, args, host):
    return [p for p in session_processes(job, os.path.basename(args.mpisweep)) if host_of(p) == host]


def exported(args, out):
    """The file's rows (post-hoc export: works on a running sweep too); none before it exists."""
    if not os.path.exists(out):
        return []
    res = subprocess.run([args.mpisweep, "export", str(out), "--csv", "-"], capture_output=True, text=True)
    check(res.returncode == 0, f"export failed: {res.stderr}")
    return list(csv.DictReader(io.StringIO(res.stdout)))


def case_sweep(args, work):
    n = 30
    out = work / "o.h5"
    job = start(args, work, ["run", "-o", out, "--progress", "0", "-p", f"x=range(0,{n})", "--", args.task,
                             "nap", "0.2"])
    code, err = finish(job, timeout=200)
    check(code == 0, f"exit {code}:\n{err}")
    check_exactly_once(work / "exec.log", out, n)
    rows = exported(args, out)
    nodes = {r["node"] for r in rows}
    check(nodes == {"n1", "n2", "n3"}, f"tasks ran on every node: {nodes}")
    ran_on = {task: host for event, task, _, _, host in read_log(work / "exec.log") if event == "end"}
    wrong = [r["task_id"] for r in rows if r["node"] != ran_on[int(r["task_id"])]]
    check(not wrong, f"/tasks/node names the host each task ran on, not for {wrong}")


def case_node_killed(args, work):
    n = 30
    out = work / "o.h5"
    sweep = ["run", "-o", out, "--progress", "0", "-p", f"x=range(0,{n})", "--", args.task, "staged", "10"]
    job = start(args, work, sweep)
    open_gates(work, 0, 0)
    # Stage 0 settled in the file (not only finished): what the kill may not lose.
    wait_for(lambda: sum(r["status"] == "done" for r in exported(args, out)) >= 10, "stage 0 recorded",
             timeout=120, job=job)
    daemons = [p for p in session_processes(job, "orted") if host_of(p) == "n2"]
    check(len(daemons) == 1, f"one daemon on n2: {daemons}")
    task_pids = pids_in(work.path, "pid-*")
    os.kill(daemons[0], signal.SIGKILL)
    code, err = finish(job, timeout=120)
    check(code != 0, f"a job that lost a node does not end well: {code}")
    kill_session(job)
    check_no_survivors(task_pids, within=10)
    open_gates(work, 0, 3)
    job = start(args, work, sweep[:3] + ["--resume"] + sweep[3:])
    code, err = finish(job, timeout=200)
    check(code == 0, f"--resume finishes: exit {code}:\n{err}")
    check_exactly_once(work / "exec.log", out, n)


def case_node_hung(args, work):
    n = 40
    out = work / "o.h5"
    sweep = ["run", "-o", out, "--progress", "0", "--heartbeat-timeout", "5", "-p", f"x=range(0,{n})", "--",
             args.task, "nap", "0.5"]
    job = start(args, work, sweep)
    wait_for(lambda: any(h == "n3" for _, _, _, _, h in read_log(work / "exec.log")), "a task on n3", job=job)
    ranks = ranks_on(job, args, "n3")
    check(len(ranks) == 2, f"two ranks on n3: {ranks}")

    def tasks_on_n3():
        return [p for p in pids_in(work.path, "pid-*") if os.path.exists(f"/proc/{p}") and host_of(p) == "n3"]

    # The whole node stops: its tasks first (none may finish unreported), its ranks, then any
    # task a rank started meanwhile.
    on_node = tasks_on_n3()
    for pid in on_node + ranks + tasks_on_n3():
        os.kill(pid, signal.SIGSTOP)
    on_node = sorted(set(on_node + tasks_on_n3()))
    code, err = finish(job, timeout=200)
    check(code == 0, f"every task done on n1 and n2: exit 0, got {code}:\n{err}")
    check(err.count("declared lost") == 2, f"both ranks of n3 declared lost:\n{err}")
    check_exactly_once(work / "exec.log", out, n)
    check_no_survivors(on_node, within=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("case", choices=["sweep", "node_killed", "node_hung"])
    ap.add_argument("--mpisweep", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--ranks", type=int, default=6)
    args = ap.parse_args()
    ensure_fake_nodes()
    with Workspace("nodes-" + args.case) as work:
        {"sweep": case_sweep, "node_killed": case_node_killed, "node_hung": case_node_hung}[args.case](args, work)
    print("ok")


if __name__ == "__main__":
    main()
