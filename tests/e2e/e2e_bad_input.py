#!/usr/bin/python3
"""Every kind of bad input to `mpisweep run`: one line `mpisweep: ...` naming what is wrong and
what is expected, exit code 2, no file left behind, an existing results file byte-identical.
With --ranks, a few of them again under mpirun: the line appears once."""
import hashlib
import os

from e2e_common import Workspace, check, describe, parse_args, run_cli


def listing(root):
    """Every path under root with its size and content hash."""
    out = {}
    for folder, _, files in os.walk(root):
        out[folder] = None
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[path] = hashlib.sha256(f.read()).hexdigest()
    return out


def main():
    args = parse_args(__doc__)
    with Workspace("bad-input") as work:
        task = args.task
        existing = work / "existing.h5"
        made = run_cli(args.mpisweep, ["run", "-o", existing, "--progress", "0", "-p", "x=1,2", "--", task, "ok", "{x}"])
        check(made.returncode == 0, describe(made))
        with open(work / "a-file", "w") as f:
            f.write("not a folder\n")
        with open(work / "bad-spec.json", "w") as f:
            f.write('{"params": {"x": [1, 2}\n')
        os.chmod(work / "a-file", 0o644)
        new = work / "new.h5"
        ok_cmd = ["--", task, "ok", "{x}"]
        cases = [
            # (arguments after `run`, phrases the one line must contain)
            (["--bogus", "-p", "x=1"] + ok_cmd, ["unknown option '--bogus'", "mpisweep run --help"]),
            (["-o", new, "-p", "x=linspace(0,1,x)"] + ok_cmd, ["param 'x'", "linspace(a,b,n)", "'x'"]),
            (["-o", new, "-p", "x"] + ok_cmd, ["param 'x'", "expected name[:type]=SPEC"]),
            (["-o", new, "-p", "x=1", "--zip", "x,y"] + ok_cmd, ["zip", "'y'"]),
            (["-o", new] + ok_cmd, ["no parameters", "expected at least one -p name=SPEC or --spec FILE"]),
            (["-o", new, "--spec", work / "missing.json"] + ok_cmd, ["--spec", "no such file", "expected a JSON file"]),
            (["-o", new, "--spec", work / "bad-spec.json"] + ok_cmd, ["--spec", "bad-spec.json"]),
            (["-o", work / "missing/out.h5", "-p", "x=1"] + ok_cmd, ["missing/out.h5", "does not exist",
                                                                    "expected an existing, writable folder"]),
            (["-o", work / "a-file/out.h5", "-p", "x=1"] + ok_cmd, ["a-file", "is not a folder"]),
            (["-o", new, "-p", "x=1", "--", "mpisweep-no-such-program", "{x}"],
             ["program 'mpisweep-no-such-program' not found in PATH", "expected an executable file"]),
            (["-o", new, "-p", "x=1", "--", work / "a-file"], ["a-file' not found or not executable",
                                                            "expected the path of an executable file"]),
            (["-o", new, "-p", "x=1"], ["no program given", "expected mpisweep run [OPTIONS] -- PROGRAM [ARGS...]"]),
            (["-o", new, "-p", "x=1", "--"], ["no program after '--'", "-- PROGRAM [ARGS...]"]),
            (["-o", new, "-p", "x=1", task, "ok"], ["unexpected argument", "the program goes after '--'"]),
            (["-o", new, "-p", "x=1", "--", task, "ok", "{y}"], ["unknown placeholder {y}", "expected one of {x}"]),
            (["-o", new, "-p", "x=1", "--", task, "ok", "{x"], ["'{' without a closing '}'", "{{"]),
            (["-o", new, "-p", "x=1", "--max-attempts", "0"] + ok_cmd, ["--max-attempts", "expected an integer >= 1",
                                                                       "got '0'"]),
            (["-o", new, "-p", "x=1", "--timeout", "soon"] + ok_cmd, ["--timeout", "expected a number of seconds > 0"]),
            (["-o", new, "-p", "x=1", "--devices", "0,a"] + ok_cmd, ["--devices", "got 'a'"]),
            (["-o", new, "-p", "x=1", "--progress", "-1"] + ok_cmd, ["--progress", ">= 0"]),
            (["-o", new, "-p", "x=1", "-o"] + ok_cmd, ["--output", "see 'mpisweep run --help'"]),
            (["-o", new, "-p", "x=1", "--retry-failed"] + ok_cmd, ["--retry-failed: only with --resume"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--force"] + ok_cmd, ["--resume and --force: choose one"]),
            (["-o", new, "-p", "x=1", "--log-dir", work / "a-file/logs"] + ok_cmd, ["log folder", "is a file"]),
            (["-o", new, "-p", "x=1", "--per-task-logs", work / "a-file"] + ok_cmd,
             ["log folder", "a-file' is a file", "--per-task-logs"]),
            # The existing results file: never replaced without --force, resumed only by its own sweep.
            (["-o", existing, "-p", "x=1,2"] + ok_cmd, ["already exists", "--resume", "--force"]),
            (["-o", existing, "-p", "x=1,3", "--resume"] + ok_cmd, ["cannot resume", "different grid", "axis 'x'"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--", task, "fail", "{x}"],
             ["cannot resume", "was made by the command", "ok {x}", "fail {x}"]),
            (["-o", existing, "-p", "x=1,2", "--force", "--", task, "ok", "{nope}"], ["unknown placeholder {nope}"]),
            (["-o", new, "-p", "x=1", "--resume"] + ok_cmd, ["cannot resume", "no such file"]),
            # Stopping options, given with the existing file so a resume would have touched it.
            (["-o", existing, "-p", "x=1,2", "--resume", "--deadline", "soon"] + ok_cmd,
             ["--deadline 'soon'", "expected auto, an ISO 8601 time", "+2h"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--deadline", "1000"] + ok_cmd,
             ["--deadline '1000'", "has passed", "expected a time in the future"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--deadline-margin", "-1"] + ok_cmd,
             ["--deadline-margin", "expected a number of seconds >= 0", "got '-1'"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--drain-grace", "x"] + ok_cmd,
             ["--drain-grace", "expected a number of seconds >= 0", "got 'x'"]),
            (["-o", existing, "-p", "x=1,2", "--resume", "--drain-grace", "1", "--kill-grace", "5"] + ok_cmd,
             ["--drain-grace 1 must be more than --kill-grace 5"]),
        ]
        before = listing(work.path)
        # Each case as it is, and with --dry-run: the dry run refuses what the run would.
        for cli_args, phrases in cases + [(["--dry-run"] + a, p) for a, p in cases]:
            result = run_cli(args.mpisweep, ["run"] + cli_args)
            lines = result.stderr.splitlines()
            where = " ".join(str(a) for a in cli_args)
            check(result.returncode == 2, f"run {where}: expected exit code 2:\n{describe(result)}")
            check(len(lines) == 1 and lines[0].startswith("mpisweep: "),
                  f"run {where}: expected one line 'mpisweep: ...':\n{result.stderr}")
            for phrase in phrases:
                check(phrase in lines[0], f"run {where}: message lacks '{phrase}': {lines[0]}")
            after = listing(work.path)
            check(after == before, f"run {where} changed files: "
                                   f"{sorted(set(after.items()) ^ set(before.items()))}")

        if args.ranks > 0:
            # Under mpirun every rank reaches the same verdict; only rank 0 prints it.
            for cli_args, phrase in [
                (["--bogus", "-p", "x=1"] + ok_cmd, "unknown option '--bogus'"),
                (["-o", new, "-p", "x=1", "--", "mpisweep-no-such-program"], "not found in PATH"),
                (["-o", existing, "-p", "x=1,2"] + ok_cmd, "already exists"),
            ]:
                result = run_cli(args.mpisweep, ["run"] + cli_args, ranks=args.ranks)
                ours = [line for line in result.stderr.splitlines() if line.startswith("mpisweep: ")]
                check(result.returncode == 2, f"mpirun run {cli_args}: exit code 2 expected:\n{describe(result)}")
                check(len(ours) == 1 and phrase in ours[0], f"mpirun run {cli_args}: one line expected:\n{result.stderr}")
                check(listing(work.path) == before, f"mpirun run {cli_args} changed files")
    print("ok")


if __name__ == "__main__":
    main()
