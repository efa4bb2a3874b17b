#!/usr/bin/python3
"""The Python examples run as a user runs them, under `mpirun -n 3` (2 workers):

  sklearn  examples/python/sklearn_digits.py: every task done, and the best accuracy it
           prints and the file holds equals the best that this test computes with
           scikit-learn alone (the same grid, read from the file, the same cross-validation)
  torch    examples/python/torch_train.py on CPU: every task done, a 15-point loss curve per
           task, the best-combination report; exit 77 (skipped) without PyTorch

    test_examples.py sklearn|torch
"""
import os
import re
import subprocess
import sys

import mpisweep  # from PYTHONPATH (the build tree): the package with its engine

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples", "python")
sys.path.insert(0, HERE)
import sweeps  # noqa: E402


def run_example(name, work, *args):
    out = os.path.join(work, name + ".h5")
    cmd = sweeps.mpirun(3, [sys.executable, os.path.join(EXAMPLES, name + ".py"), "-o", out, *args])
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return out, result.stdout


def check_sklearn(work):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    out, stdout = run_example("sklearn_digits", work)
    df = mpisweep.load(out)
    assert (df.status == "done").all(), df[["status", "error"]]
    assert len(df) == 9 and df["C"].nunique() == 3 and df["gamma"].nunique() == 3, df[["C", "gamma"]]
    assert df["worker"].nunique() == 2, f"expected both workers to run tasks: {df['worker'].tolist()}"
    X, y = load_digits(return_X_y=True)
    expected = {}
    for C, gamma in zip(df["C"], df["gamma"]):
        expected[(C, gamma)] = cross_val_score(SVC(C=C, gamma=gamma), X, y, cv=3).mean()
    best = max(expected.values())
    for C, gamma, accuracy in zip(df["C"], df["gamma"], df["accuracy"]):
        assert accuracy == expected[(C, gamma)], (C, gamma, accuracy, expected[(C, gamma)])
    assert df["accuracy"].max() == best
    m = re.search(r"^best accuracy (\S+) with C=(\S+) gamma=(\S+)$", stdout, re.M)
    assert m, f"no 'best accuracy' line in:\n{stdout}"
    assert float(m.group(1)) == best, (m.group(1), best)
    assert expected[(float(m.group(2)), float(m.group(3)))] == best
    assert len(re.findall(r"^best accuracy ", stdout, re.M)) == 1, "the report printed on more than one rank"
    assert re.search(r"^task \d+: new best accuracy ", stdout, re.M), "no running best from on_result"
    print(f"sklearn example: best accuracy {best} at C={m.group(2)} gamma={m.group(3)}, as computed here")


def check_torch(work):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed (Debian: python3-torch): skipped")
        sys.exit(77)
    out, stdout = run_example("torch_train", work)
    df = mpisweep.load(out, arrays="list")
    assert len(df) == 12 and (df.status == "done").all(), df[["status", "error"]]
    assert all(len(c) == 15 for c in df["curve"]), "a loss curve is not 15 epochs long"
    assert set(df["ran_on"]) == {"cpu"}, set(df["ran_on"])
    assert ((df["accuracy"] >= 0) & (df["accuracy"] <= 1)).all()
    assert all(c[-1] < c[0] for c in df["curve"]), "a loss curve did not go down"
    assert re.search(r"^best: lr=\S+ hidden=\d+ mean accuracy [0-9.]+ over 2 seeds$", stdout, re.M), stdout
    print("torch example: 12 tasks trained on CPU, curves and report as expected")


def main():
    which = sys.argv[1]
    work = sweeps.Workspace("py-example-" + which)
    try:
        {"sklearn": check_sklearn, "torch": check_torch}[which](work.path)
    finally:
        work.cleanup()


if __name__ == "__main__":
    main()
