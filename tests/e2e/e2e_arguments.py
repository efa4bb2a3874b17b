#!/usr/bin/python3
"""Parameter values with spaces, quotes, ';', $(...) and backticks reach the program as single
arguments (and in MPISWEEP_PARAM_<NAME>) and run nothing; --shell opts in to a shell line."""
import json
import os

from e2e_common import Workspace, check, describe, parse_args, read_results, run_cli


def main():
    args = parse_args(__doc__)
    with Workspace("arguments") as work:
        markers = [work / f"marker-{i}" for i in range(4)]
        values = [
            f"a b; touch {markers[0]}",
            f"$(touch {markers[1]})",
            f"`touch {markers[2]}`",
            "it's here",
            f'say "hi" | tee {markers[3]} &',
            "  two  spaces  ",
        ]
        # The spec list syntax: an item in quotes keeps its text (commas, spaces) as is.
        spec = "value:str=" + ",".join(f'"{v}"' if '"' not in v else f"'{v}'" for v in values)
        out = work / "args.h5"
        result = run_cli(args.mpisweep, ["run", "-o", out, "-p", spec, "--", args.task, "args", "{value}",
                                         "--flag={value}", "plain {{braces}}", "{task_id}"], ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        f = read_results(out)
        check(list(f["params"]["value"]) == values, f"params/value {f['params']['value']}")
        for task, value in enumerate(values):
            got = f["results"]["args"][task].split("\x1f")
            want = [value, f"--flag={value}", "plain {braces}", str(task)]
            check(got == want, f"task {task}: argv {got!r}, expected {want!r}")
            check(f["results"]["env_value"][task] == value,
                  f"task {task}: MPISWEEP_PARAM_VALUE {f['results']['env_value'][task]!r}, expected {value!r}")
        for marker in markers:
            check(not os.path.exists(marker), f"a value was run by a shell: {marker} exists")

        # --shell: the joined words are one shell line, so a pipeline runs.
        out_shell = work / "shell.h5"
        result = run_cli(args.mpisweep, [
            "run", "-o", out_shell, "--shell", "-p", "word=abc,xyz", "--",
            "printf", "'{{\"up\": \"%s\"}}'", "\"$(echo {word} | tr a-z A-Z)\"", ">", "\"$MPISWEEP_OUTPUT\""],
            ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        f = read_results(out_shell)
        check(list(f["results"]["up"]) == ["ABC", "XYZ"], f"shell results {f['results']['up']}")
        check(f["attrs"]["command"].startswith("/bin/sh -c "), f"command attribute {f['attrs']['command']!r}")

        # --spec FILE (JSON) with its zip group, then the axes of -p; a forced type.
        with open(work / "spec.json", "w") as fh:
            json.dump({"params": {"a": [1, 2], "b": ["x y", "z"]}, "zip": [["a", "b"]]}, fh)
        out_spec = work / "spec.h5"
        result = run_cli(args.mpisweep, ["run", "-o", out_spec, "--spec", work / "spec.json", "-p", "c:str=7,8",
                                         "--", args.task, "args", "{a}", "{b}", "{c}"], ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        f = read_results(out_spec)
        check(list(f["params"]) == ["a", "b", "c"], f"params order {list(f['params'])}")
        got = [s.split("\x1f") for s in f["results"]["args"]]
        want = [["1", "x y", "7"], ["1", "x y", "8"], ["2", "z", "7"], ["2", "z", "8"]]
        check(got == want, f"--spec with -p: argv {got}, expected {want}")
        check(list(f["params"]["c"]) == ["7", "8", "7", "8"], f"forced str axis {f['params']['c']}")
    print("ok")


if __name__ == "__main__":
    main()
