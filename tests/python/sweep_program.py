"""A Python sweep that the engine tests (test_engine.py) start under mpirun, signal or kill,
and check from outside. Every task appends a line to its own execution log before it
returns, so the checker counts executions without trusting the results file:

    <log-dir>/rank-<r>.log      "<event> <task> <attempt> <rank> <token>" per line; event is
                                start (task began), finish (task returned its result),
                                cancel (it stopped on ctx.cancelled()), raise (it raised)
    <log-dir>/setup.log         "<rank> <token>" once per setup call
    <log-dir>/teardown.log      "<rank> <token> <tasks seen>" once per teardown call
    <log-dir>/on_result.log     "<task> <x2>" once per on_result call (rank 0)
    <log-dir>/code-<r>          the exit code mpisweep.run returned on rank r

Modes: basic (x in range(0, --tasks), numpy results of several dtypes), errors (x % 7 == 3
always raises, x % 7 == 5 raises on its first attempt), slow (tasks of --task-ms that poll
ctx.cancelled(): for drains and kills). --mpi4py first|after imports mpi4py before mpisweep
or after it (and uses it after the sweep), to check either import order.

--keep: every task keeps its ctx and ctx.params (the engine reuses them only while nobody
else holds them); after the sweep each rank checks that what it kept still holds its own
task's values and appends "<rank> <kept> <wrong>" to <log-dir>/kept.log.
--thread: a Python thread on every rank writes <log-dir>/thread-<rank> once it ran while the
main thread was inside the engine; tasks wait (up to 60 s) for rank 0's file, so the sweep
only finishes when rank 0's engine, which waits for results, let that thread run.
"""
import argparse
import os
import sys
import time
import uuid

ap = argparse.ArgumentParser()
ap.add_argument("--output", required=True)
ap.add_argument("--log-dir", required=True)
ap.add_argument("--mode", choices=["basic", "errors", "slow"], default="basic")
ap.add_argument("--tasks", type=int, default=60)
ap.add_argument("--task-ms", type=float, default=0)
ap.add_argument("--resume", action="store_true")
ap.add_argument("--flush-interval", type=float, default=2.0)
ap.add_argument("--mpi4py", choices=["no", "first", "after"], default="no")
ap.add_argument("--sweeps", type=int, default=1, help="run the same grid this many times (new files)")
ap.add_argument("--keep", action="store_true")
ap.add_argument("--gpus", action="store_true", help="tasks return what they see of their GPUs")
ap.add_argument("--grid-forms", action="store_true",
                help="a grid of every kind of axis (spec string, numpy array, tuple, zip, single value) "
                     "times x; tasks return their params as results")
ap.add_argument("--on-result-raises", action="store_true", help="on_result raises at its 3rd call")
ap.add_argument("--fail-setup-rank", type=int, default=-1, help="setup raises on this rank")
ap.add_argument("--thread", action="store_true")
ap.add_argument("--release", action="store_true",
                help="task 0 returns a 40 KB array; the others wait for rank 0 to have its result")
args = ap.parse_args()

if args.mpi4py == "first":
    from mpi4py import MPI  # noqa: F401  (initializes MPI before mpisweep)

import numpy as np  # noqa: E402

import mpisweep  # noqa: E402

if args.mpi4py == "after":
    from mpi4py import MPI  # noqa: F401,E402

RANK = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMIX_RANK", "0")))
LOG = os.path.join(args.log_dir, f"rank-{RANK}.log")


def append(path, line):
    # One write() of one line with O_APPEND: whole lines even when a rank is killed.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def setup(worker):
    if worker.rank == args.fail_setup_rank:
        raise FileNotFoundError(f"no data on rank {worker.rank}")
    token = uuid.uuid4().hex[:12]
    append(os.path.join(args.log_dir, "setup.log"), f"{worker.rank} {token}")
    assert worker.rank == RANK, (worker.rank, RANK)
    return {"token": token, "tasks": 0}


def teardown(worker, state):
    append(os.path.join(args.log_dir, "teardown.log"), f"{worker.rank} {state['token']} {state['tasks']}")


KEPT = []


def main_thread_in_engine():
    """Whether the main thread is inside the engine's run() (its stack holds sweep.run at
    the line that calls the engine)."""
    import linecache
    import threading
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "run" and code.co_filename.endswith(os.path.join("mpisweep", "sweep.py")):
            return "engine.run(" in linecache.getline(code.co_filename, frame.f_lineno)
        frame = frame.f_back
    return False


def thread_body():
    while not main_thread_in_engine():
        time.sleep(0.001)
    append(os.path.join(args.log_dir, f"thread-{RANK}"), "ran")


def wait_for_rank0_thread():
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(args.log_dir, "thread-0")):
        if time.monotonic() > deadline:
            raise RuntimeError("rank 0's thread never ran while its engine waited")
        time.sleep(0.01)


def wait_for_release():
    """Whether rank 0 got task 0's result within 60 s (its on_result makes the file). Not
    ctx.cancelled(): the worker must not get to call MPI while this task runs."""
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(args.log_dir, "released")):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def task(ctx):
    if args.keep:
        KEPT.append((ctx, ctx.params, ctx.task_id, dict(ctx.params)))
    if args.thread:
        wait_for_rank0_thread()
    x = ctx.params["x"]
    token = ctx.state["token"]
    ctx.state["tasks"] += 1
    line = f"{ctx.task_id} {ctx.attempt} {ctx.worker.rank} {token}"
    append(LOG, "start " + line)
    if args.mode == "errors" and (x % 7 == 3 or (x % 7 == 5 and ctx.attempt == 1)):
        append(LOG, "raise " + line)
        raise ValueError(f"bad x={x} on attempt {ctx.attempt}")
    if args.release:
        released = x == 0 or wait_for_release()
    if args.task_ms:
        end = time.monotonic() + args.task_ms / 1000
        while time.monotonic() < end:
            if ctx.cancelled():
                append(LOG, "cancel " + line)
                raise mpisweep.Cancelled()
            time.sleep(0.005)
    result = {"x2": 2.0 * x, "token": token}
    if args.gpus:  # what the task sees of its GPUs, to compare with what the engine gave it
        w = ctx.worker
        result.update({"cvd": os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"), "seen_device": w.device,
                       "ndev": len(w.devices), "vis": ",".join(w.visible_devices),
                       "ordinals": ",".join(map(str, w.devices))})
    if args.mode == "basic":
        result.update({
            "i32": np.int32(x), "f32": np.float32(x) / 2, "even": x % 2 == 0, "flag": np.bool_(x % 3 == 0),
            "name": f"v{x}", "trio": np.arange(3, dtype=np.int16) * x, "pair": [x, 0.5],
            "u8": np.array([x % 256, 1], dtype=np.uint8), "skipped": None,
        })
    if args.release:
        result.update({"released": released, "big": np.arange(5000.0 if x == 0 else 1.0)})
    append(LOG, "finish " + line)
    return result


ON_RESULT_CALLS = []


def on_result(task_id, params, result):
    assert args.grid_forms or params["x"] == task_id, (task_id, params)
    ON_RESULT_CALLS.append(task_id)
    if args.on_result_raises and len(ON_RESULT_CALLS) == 3:
        1 / 0
    append(os.path.join(args.log_dir, "on_result.log"), f"{task_id} {result['x2']!r}")
    if args.release and task_id == 0:
        append(os.path.join(args.log_dir, "released"), "task 0")


if args.thread:
    import threading
    threading.Thread(target=thread_body, daemon=True).start()
GRID = {"x": range(args.tasks)}
ZIP = ()
if args.grid_forms:
    GRID = {"lr": "logspace(-2,0,3)", "a": np.array([1, 2], dtype=np.int32), "b": ("p", "q"),
            "c": 0.5, "flag": [True, False], "x": range(args.tasks)}
    ZIP = ("a", "b")
    plain_task = task

    def task(ctx):  # noqa: F811
        out = plain_task(ctx)
        out.update({"r_" + k: v for k, v in ctx.params.items()})
        return out

code = 0
for n in range(args.sweeps):
    output = args.output if n == 0 else f"{args.output}.{n}"
    code = mpisweep.run(task, GRID, zip=ZIP, output=output, setup=setup, teardown=teardown,
                        on_result=on_result, resume=args.resume, speculate=False, max_attempts=3,
                        flush_interval=args.flush_interval,
                        batch_target=0.002 if args.mode == "basic" else 0)
    if code != 0:
        break
if args.keep:
    wrong = sum(1 for ctx, params, task_id, values in KEPT
                if ctx.task_id != task_id or ctx.params is not params or dict(params) != values
                or params["x"] != task_id or ctx.cancelled())
    append(os.path.join(args.log_dir, "kept.log"), f"{RANK} {len(KEPT)} {wrong}")
if args.mpi4py != "no":
    MPI.COMM_WORLD.Barrier()  # mpi4py still works after the sweep, in either order
append(os.path.join(args.log_dir, f"code-{RANK}"), str(code))
sys.exit(code)
