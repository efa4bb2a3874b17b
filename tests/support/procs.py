"""The live processes of this machine, picked by what /proc says of them (for tests)."""
import os


def live_pids(matches):
    """Ids of the processes, zombies left out, for which `matches(pid)` is true. `matches`
    reads /proc/<pid>/...; an OSError from it (the process ended meanwhile) skips the pid."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            if matches(pid):
                pids.append(pid)
        except OSError:
            continue
    return pids


def read_proc(pid, name):
    """The bytes of /proc/<pid>/<name>."""
    with open(f"/proc/{pid}/{name}", "rb") as f:
        return f.read()
