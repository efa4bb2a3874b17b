#!/usr/bin/env python3
"""A scikit-learn hyper-parameter sweep on the digits data that scikit-learn ships: an RBF
support vector classifier over C x gamma, scored by 3-fold cross-validation.

    python3 sklearn_digits.py                      # one process runs every task
    mpirun -n 5 python3 sklearn_digits.py          # 4 workers
    srun python3 sklearn_digits.py                 # in a Slurm job
    python3 sklearn_digits.py --resume             # after a kill or Ctrl-C (exit 75)

The data is loaded once per worker, in setup, not once per task; rank 0 keeps the running
best as the results arrive (on_result) and prints it. Needs scikit-learn (Debian:
python3-sklearn) and the mpisweep package on PYTHONPATH (<build>/python, or installed).
"""
import argparse
import sys

import mpisweep

GRID = {
    "C": [1.0, 10.0, 100.0],
    "gamma": "logspace(-4,-2,3)",  # 1e-4, 1e-3, 1e-2: the same spec strings as the mpisweep command
}


def setup(worker):
    """Once per worker: load the data, return it as the worker's state (ctx.state)."""
    from sklearn.datasets import load_digits
    return load_digits(return_X_y=True)


def task(ctx):
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC
    X, y = ctx.state
    p = ctx.params
    scores = cross_val_score(SVC(C=p["C"], gamma=p["gamma"]), X, y, cv=3)
    return {"accuracy": scores.mean(), "fold_accuracy": scores}


class RunningBest:
    """on_result: called on rank 0 for each result as it arrives."""

    def __init__(self):
        self.accuracy, self.params = None, None

    def __call__(self, task_id, params, result):
        if self.accuracy is None or result["accuracy"] > self.accuracy:
            self.accuracy, self.params = result["accuracy"], params
            print(f"task {task_id}: new best accuracy {self.accuracy:.4f} at {params}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default="digits.h5")
    ap.add_argument("--resume", action="store_true", help="finish what a stopped sweep left")
    ap.add_argument("--force", action="store_true", help="replace an existing results file")
    args = ap.parse_args()
    best = RunningBest()
    code = mpisweep.run(task, GRID, output=args.output, setup=setup, on_result=best,
                        resume=args.resume, force=args.force)
    if best.accuracy is not None:  # rank 0, and something finished in this run
        print(f"best accuracy {best.accuracy!r} with C={best.params['C']!r} gamma={best.params['gamma']!r}")
    return code


if __name__ == "__main__":
    sys.exit(main())
