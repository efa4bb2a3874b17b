#!/usr/bin/python3
"""Item 8 of issue 12: bytes. A parameter value that is not UTF-8 (from -p or a JSON spec) or
holds a NUL is refused before anything runs: exit 2, one line naming the parameter and the
byte offset, no file made. Parameters whose MPISWEEP_PARAM_<NAME> variables collide (X and x)
are refused. A result string with a NUL is refused as a failed attempt with a clear message
(it would be cut in the file); a task's stderr that is not UTF-8 is kept readable in
/tasks/error."""
import os

from faults_common import Workspace, check, mpisweep_lines, parse_args, read_results, run_cli, sweep_env


def refused(args, work, argv, expect):
    out = work / "never.h5"
    r = run_cli(args.mpisweep, ["run", "-o", out] + argv + ["--", args.task, "quick", "0"], ranks=args.ranks,
                env=sweep_env(work))
    lines = mpisweep_lines(r.stderr)
    check(r.returncode == 2 and len(lines) == 1 and expect in lines[0],
          f"{argv!r} is refused with one line saying {expect!r}:\n{r.stderr}")
    check(not os.path.exists(out), f"{argv!r} made a results file")
    check(not os.path.exists(work / "exec.log"), f"{argv!r} ran a task")


def main():
    args = parse_args(__doc__)
    with Workspace("bytes") as work:
        refused(args, work, ["-p", "x=ab,c\udcffd"], "param 'x': value 1 is not valid UTF-8 (byte 0xff at offset 1)")
        spec = work / "spec.json"
        with open(spec, "wb") as f:
            f.write(b'{"params": {"x": ["a", "b\xfe"]}}')
        refused(args, work, ["--spec", spec], "not valid UTF-8 (byte 0xfe at offset 25, line 1 column 26)")
        with open(spec, "wb") as f:
            f.write(b'{"params": {"x": ["a", "b\\u0000c"]}}')
        refused(args, work, ["--spec", spec], "param 'x': value 1 holds a NUL byte at offset 1")
        refused(args, work, ["-p", "X=1,2", "-p", "x=3"], "params 'X' and 'x' both become the variable MPISWEEP_PARAM_X")

        out = work / "nul.h5"
        script = ('printf \'{{"s": "a\\\\u0000b"}}\' > "$MPISWEEP_OUTPUT"; '
                  'printf "bad \\377 bytes\\n" >&2; exit $(( {x} ))')
        r = run_cli(args.mpisweep, ["run", "-o", out, "--progress", "0", "--max-attempts", "1", "-p", "x=0,3", "--",
                                    "sh", "-c", script], ranks=args.ranks)
        check(r.returncode == 1, f"both tasks fail for good: exit 1\n{r.stderr}")
        errors = read_results(out)["tasks"]["error"]
        check("result field 's' holds a NUL byte at offset 1" in errors[0], f"task 0's error says why: {errors[0]!r}")
        check("bad \ufffd bytes" in errors[1], f"task 1's stderr tail is kept, as UTF-8: {errors[1]!r}")
    print("ok")


if __name__ == "__main__":
    main()
