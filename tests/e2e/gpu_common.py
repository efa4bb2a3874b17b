"""Helpers of the GPU placement tests: sweeps over fake nodes (each a UTS namespace with its
own host name and Open MPI daemon, so MPI sees several nodes on this one machine) with fake
GPUs (MPISWEEP_FAKE_GPUS, a test facility of mpisweep), and the log the task program
fake_gpu_task writes itself: one line per attempt that held GPU memory."""
import collections
import os
import shutil
import subprocess
import sys

from e2e_common import check

HERE = os.path.dirname(os.path.abspath(__file__))
GiB = 1 << 30


def fake_nodes_usable(names):
    """Fake nodes need root (unshare --uts) and the node names n1..n8 in /etc/hosts, each at
    its own loopback address 127.0.0.2..9 (at 127.0.0.1 Open MPI would take them for this
    host and start their ranks here); added when missing, as tests/slurm/cluster.sh adds the
    host's own name."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    with open("/etc/hosts") as f:
        known = {w: line.split()[0] for line in f if not line.lstrip().startswith("#") for w in line.split()[1:]}
    for n in names:
        address = f"127.0.0.{int(n[1:]) + 1}"
        if n not in known:
            with open("/etc/hosts", "a") as f:
                f.write(f"{address} {n}\n")
        elif known[n] != address:
            sys.exit(f"/etc/hosts gives {n} the address {known[n]}; fake nodes need {address} (one each)")
    return subprocess.run(["unshare", "--uts", "true"]).returncode == 0


def nodes_command(hosts, ranks, argv):
    """mpirun over fake nodes: hosts "n1:5,n2:4" (slots per node, filled in order)."""
    return ["mpirun", "--host", hosts, "-n", str(ranks), "--mca", "plm_rsh_agent",
            os.path.join(HERE, "fakenodes", "fake-ssh"), "--mca", "btl", "tcp,self,vader",
            "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"] + list(argv)


def run_on_nodes(hosts, ranks, argv, env, timeout=240):
    full = dict(os.environ)
    full.pop("OMPI_MCA_plm", None)  # the e2e default ("isolated") starts no daemon on other nodes
    full.update(env)
    full.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.run(nodes_command(hosts, ranks, argv), capture_output=True, text=True, env=full,
                          timeout=timeout)


def gpu_env(work, spec):
    ledger = os.path.join(work.path, "ledger")
    os.makedirs(ledger, exist_ok=True)
    return {"MPISWEEP_FAKE_GPUS": spec, "MPISWEEP_FAKE_GPU_DIR": ledger}


Attempt = collections.namedtuple("Attempt", "host gpus bytes start end pid task attempt")


def read_log(path):
    """The attempts fake_gpu_task logged (those that got their memory and ran to the end)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            host, gpus, mem, start, end, pid, task, attempt = line.split()
            out.append(Attempt(host, [] if gpus == "cpu" else gpus.split("+"), int(mem), float(start),
                               float(end), int(pid), int(task), int(attempt)))
    return out


def peak_use(attempts):
    """Per (host, GPU): the largest number of attempts and bytes held at once."""
    events = collections.defaultdict(list)
    for a in attempts:
        for g in a.gpus:
            events[(a.host, g)].append((a.start, 1, a.bytes))
            events[(a.host, g)].append((a.end, -1, -a.bytes))
    peaks = {}
    for key, evs in events.items():
        evs.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
        count = held = top_count = top_held = 0
        for _, dc, db in evs:
            count += dc
            held += db
            top_count, top_held = max(top_count, count), max(top_held, held)
        peaks[key] = (top_count, top_held)
    return peaks


def check_never_over(attempts, totals):
    """No GPU ever held more than its memory: totals {(host, gpu): bytes}."""
    for key, (count, held) in peak_use(attempts).items():
        check(key in totals, f"an attempt ran on {key}, which is no fake GPU of the sweep")
        check(held <= totals[key], f"GPU {key} held {held / GiB:.1f} GiB at once, more than its "
              f"{totals[key] / GiB:.1f} GiB")
