#!/usr/bin/env python3
"""A PyTorch-style GPU training sweep: a small MLP classifier over learning rate x hidden width
x seed, each task training for a number of epochs on data that setup put on the worker's
device once. On a GPU node each worker trains on its own GPU; elsewhere on the CPU.

    mpirun -n 5 python3 torch_train.py            # 4 workers (one per GPU on a 4-GPU node)
    sbatch --gres=gpu:4 --ntasks=5 --wrap 'srun python3 torch_train.py'
    python3 torch_train.py                        # one process, CPU or its GPU

Importing torch at the top is fine: mpisweep sets CUDA_VISIBLE_DEVICES of each worker to its
GPU before setup runs, and torch reads it at its first CUDA call, so the worker sees exactly
that GPU as cuda:0 (worker.device is 0; -1 on CPU). Do not touch CUDA before mpisweep.run
(torch.cuda.is_available() at import time, a tensor .cuda()): that would fix the GPUs the
process sees before mpisweep could narrow them. Needs PyTorch (Debian: python3-torch).
"""
import argparse
import sys

import numpy as np
import torch

import mpisweep

GRID = {"lr": "logspace(-2,0,3)", "hidden": [16, 64], "seed": range(2)}
EPOCHS = 15
BATCH = 256


def setup(worker):
    """Once per worker: pick its device and put the (synthetic) data set on it."""
    torch.set_num_threads(1)  # one core per worker rank
    on_gpu = worker.device >= 0 and torch.cuda.is_available()
    device = torch.device("cuda", worker.device) if on_gpu else torch.device("cpu")
    g = torch.Generator().manual_seed(1234)
    X = torch.randn(4096, 20, generator=g)
    w = torch.randn(20, 1, generator=g)
    y = ((X @ w).squeeze(1) + 0.3 * torch.randn(4096, generator=g) > 0).long()
    split = 3072
    return {"device": device, "train": (X[:split].to(device), y[:split].to(device)),
            "test": (X[split:].to(device), y[split:].to(device))}


def task(ctx):
    p, s = ctx.params, ctx.state
    torch.manual_seed(p["seed"])
    model = torch.nn.Sequential(torch.nn.Linear(20, p["hidden"]), torch.nn.ReLU(),
                                torch.nn.Linear(p["hidden"], 2)).to(s["device"])
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=0.9)
    X, y = s["train"]
    curve = []
    for epoch in range(EPOCHS):
        if ctx.cancelled():  # a drain (Ctrl-C, scancel, deadline) or a faster copy elsewhere
            raise mpisweep.Cancelled()
        order = torch.randperm(len(X), device=s["device"])
        total = 0.0
        for i in range(0, len(X), BATCH):
            idx = order[i:i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        curve.append(total / len(X))
    Xt, yt = s["test"]
    with torch.no_grad():
        accuracy = (model(Xt).argmax(1) == yt).float().mean()
    return {"loss": curve[-1], "curve": np.array(curve), "accuracy": accuracy,
            "ran_on": str(s["device"])}


def report(path):
    """The best combination, the mean over seeds (rank 0, after the sweep)."""
    df = mpisweep.load(path)
    done = df[df.status == "done"]
    by = done.groupby(["lr", "hidden"])["accuracy"].agg(["mean", "std", "count"])
    best = by["mean"].idxmax()
    print(by.sort_values("mean", ascending=False).to_string())
    print(f"best: lr={best[0]!r} hidden={best[1]} mean accuracy {by.loc[best, 'mean']:.4f} over "
          f"{int(by.loc[best, 'count'])} seeds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default="torch_train.h5")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    finished = []
    code = mpisweep.run(task, GRID, output=args.output, setup=setup, resume=args.resume, force=args.force,
                        on_result=lambda task_id, params, result: finished.append(task_id))
    if finished:  # on_result runs on rank 0 only
        report(args.output)
    return code


if __name__ == "__main__":
    sys.exit(main())
