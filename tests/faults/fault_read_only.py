#!/usr/bin/python3
"""Item 1 of issue 12: a results file this user may not write is never replaced or rebuilt
(a permission error or a read-only filesystem is not a torn file): --resume and --force are
refused with exit 2 and one line saying why, and the file and journal stay as they were.
Cases: mode 0444; another user's file (as `nobody`, when run as root); a read-only
filesystem (a tmpfs remounted read-only, when mounting is allowed)."""
import os
import subprocess

from faults_common import Workspace, check_refused, interrupted_sweep, parse_args

N = 8


def refused(args, sweep, work, out, extra, expect, as_user=None):
    check_refused(args, extra + sweep, work, out, expect, as_user)


def read_only_mode(args):
    with Workspace("mode-444") as work:
        out = work / "a.h5"
        sweep = interrupted_sweep(args, work, out, N)
        os.chmod(out, 0o444)
        refused(args, sweep, work, out, ["--resume"], "it is read-only (mode 0444)")
        refused(args, sweep, work, out, ["--force"], "it is read-only (mode 0444)")


def other_users_file(args):
    if os.geteuid() != 0:
        print("skipped: another user's file (needs root to act as nobody)")
        return
    with Workspace("other-user") as work:
        os.chmod(work.path, 0o777)
        out = work / "b.h5"
        sweep = interrupted_sweep(args, work, out, N)
        if os.path.isdir(out + ".logs"):  # made only by tasks that print or fail
            os.chmod(out + ".logs", 0o777)
        with open(work / "exec.log", "a"):
            pass
        os.chmod(work / "exec.log", 0o666)
        refused(args, sweep, work, out, ["--resume"], "this user may not write it (Permission denied", as_user=65534)
        refused(args, sweep, work, out, ["--force"], "this user may not write it (Permission denied", as_user=65534)


def read_only_filesystem(args):
    with Workspace("read-only-fs") as work:
        mount = work / "fs"
        os.mkdir(mount)
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mount], capture_output=True, text=True)
        if made.returncode != 0:
            print(f"skipped: read-only filesystem (cannot mount a tmpfs: {made.stderr.strip()})")
            return
        try:
            out = os.path.join(mount, "c.h5")
            # The logs elsewhere: the log folder check of the CLI would refuse first.
            sweep = interrupted_sweep(args, work, out, N, options=["--log-dir", work / "logs"])
            subprocess.run(["mount", "-o", "remount,ro", mount], check=True)
            refused(args, sweep, work, out, ["--resume"], "Read-only file system")
            refused(args, sweep, work, out, ["--force"], "Read-only file system")
        finally:
            subprocess.run(["umount", "-l", mount])


def main():
    args = parse_args(__doc__)
    read_only_mode(args)
    other_users_file(args)
    read_only_filesystem(args)
    print("ok")


if __name__ == "__main__":
    main()
