#!/usr/bin/python3
"""`mpisweep status` on a sweep that is running: its done count rises while the sweep runs,
is never more than the tasks that really finished (each task leaves a marker when it ends),
and lags them by no more than a few seconds' worth (the file and its journal are written
every 2 s)."""
import os
import re
import subprocess
import time

from e2e_common import Workspace, check, command, parse_args, run_cli

N_TASKS = 40
TASK_SECONDS = 0.3
LAG_S = 6.0  # flush interval (2 s) + a loaded machine's slack


def finished(done_dir):
    return len(os.listdir(done_dir))


def main():
    args = parse_args(__doc__)
    with Workspace("live-status") as work:
        out = work / "live.h5"
        done_dir = work / "done"
        os.makedirs(done_dir)
        sweep = ["run", "-o", out, "--no-speculation", "-p", f"i=range(0,{N_TASKS})", "-p", f"d={TASK_SECONDS}",
                 "--", args.task, "sleep", "{d}"]
        env = dict(os.environ, DONE_DIR=done_dir)
        job = subprocess.Popen(command(args.mpisweep, sweep, args.ranks), env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        history = []  # (time, tasks finished per the markers)
        seen = []
        deadline = time.time() + 120
        while job.poll() is None and time.time() < deadline:
            before = finished(done_dir)
            history.append((time.time(), before))
            if not os.path.exists(out):
                time.sleep(0.1)
                continue
            asked = time.time()
            result = run_cli(args.mpisweep, ["status", out])
            after = finished(done_dir)
            check(result.returncode == 0, f"status failed on the running sweep:\n{result.stderr}")
            match = re.search(r"^done\s+(\d+)$", result.stdout, re.M)
            check(match is not None, f"no done count in:\n{result.stdout}")
            done = int(match.group(1))
            check(done <= after, f"status says {done} done, but only {after} tasks had finished")
            # What had finished LAG_S before the call must show.
            old = [n for t, n in history if t <= asked - LAG_S]
            if old:
                check(done >= old[-1], f"status says {done} done, but {old[-1]} had finished "
                                       f"{LAG_S:.0f} s before it was asked")
            if seen:
                check(done >= seen[-1], f"done count went down: {seen[-1]} -> {done}")
            seen.append(done)
            time.sleep(0.3)
        rc = job.wait(timeout=60)
        check(rc == 0, f"the sweep exited {rc}:\n{job.stderr.read()}")
        rising = sorted(set(n for n in seen if 0 < n < N_TASKS))
        check(len(rising) >= 2, f"status never showed the sweep part-way (counts seen: {seen})")
        final = run_cli(args.mpisweep, ["status", out])
        check(re.search(rf"^done\s+{N_TASKS}$", final.stdout, re.M) is not None, final.stdout)
        check(not os.path.exists(out + ".journal"), "the journal outlived the finished sweep")
        print(f"status called {len(seen)} times while the sweep ran; done counts seen: {sorted(set(seen))}")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
