#!/usr/bin/python3
"""An MPI program as the task: the launcher's variables of the sweep's rank (OMPI_*, PMIX_*)
are not passed on, so each task starts as a one-rank MPI job of its own instead of failing
in MPI_Init (or hanging the sweep) by joining the sweep's job."""
from e2e_common import Workspace, check, describe, parse_args, read_results, run_cli


def main():
    args = parse_args(__doc__)
    with Workspace("mpi-task") as work:
        out = work / "sweep.h5"
        result = run_cli(args.mpisweep, ["run", "-o", out, "--max-attempts", "1", "--timeout", "60",
                                         "-p", "i=range(0,4)", "--", args.task], ranks=args.ranks)
        check(result.returncode == 0, describe(result))
        f = read_results(out)
        check(list(f["results"]["size"]) == [1.0] * 4, f"MPI size seen by the tasks: {f['results']['size']}")
        check(list(f["results"]["rank"]) == [0.0] * 4, f"MPI rank seen by the tasks: {f['results']['rank']}")
    print("ok")


if __name__ == "__main__":
    main()
