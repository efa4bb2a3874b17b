"""mpisweep.run: a Python function over a parameter grid, on the C++ engine (``_engine``).

This file checks the arguments and turns the grid into the JSON form that the engine parses
(``parse_grid_json``, the same as ``mpisweep run --spec``); everything else (the master, the
scheduler, the journal and the HDF5 file, drains, deadlines, speculation) is the C++ ``run()``.
"""
import json
import math
import numbers
import sys
import traceback

__all__ = ["run", "Cancelled", "SpecError", "grid_json"]

# How many frames of a task's traceback go into /tasks/error (the innermost ones).
_TRACEBACK_FRAMES = 5


class Cancelled(Exception):
    """Raise it from a task that stopped because ``ctx.cancelled()`` turned true: the attempt
    counts neither as done nor as failed (a losing speculative copy, or a drain)."""


class SpecError(ValueError):
    """The grid given to :func:`run` is not valid; the message names the parameter."""


def _engine():
    try:
        from . import _engine as engine
    except ImportError as e:
        raise ImportError(
            "mpisweep.run needs the compiled engine (mpisweep/_engine*.so), which this mpisweep "
            f"package does not have ({e}). Build the project with CMake (pybind11 and the Python "
            "headers installed: Debian python3-pybind11 pybind11-dev python3-dev) and put "
            "<build>/python on PYTHONPATH, or `cmake --install` it") from None
    return engine


def _scalar(name, value):
    """A grid value as JSON can hold it: bool, int (int64), float (finite) or str."""
    if isinstance(value, (bool, str)):
        return value
    if hasattr(value, "dtype") and hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, bool):
            return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        if not -2**63 <= value < 2**63:
            raise SpecError(f"param '{name}': {value} does not fit in a 64-bit integer")
        return value
    if isinstance(value, numbers.Real):
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"param '{name}': {value} is not a valid value (values must be finite)")
        return value
    raise SpecError(f"param '{name}': {value!r} is a {type(value).__name__}; values are int, "
                    "float, bool or str")


def _axis(name, values):
    """One axis in the JSON form: a spec string, a list of values, or a single value."""
    if not isinstance(name, str):
        raise SpecError(f"parameter names are strings, got {name!r}")
    if isinstance(values, str):
        return values  # a spec as on the command line: "0.1,0.01", "range(0,3)", "logspace(-4,-1,4)"
    if isinstance(values, range):
        if len(values) == 0:
            raise SpecError(f"param '{name}': {values!r} is empty")
        return f"range({values.start},{values.stop},{values.step})"  # stays lazy: 10^9 values cost nothing
    if isinstance(values, dict):
        return values  # the JSON spec's object form: {"values": [...], "type": "str"}
    if hasattr(values, "ndim") and hasattr(values, "tolist"):  # numpy arrays
        if values.ndim != 1:
            raise SpecError(f"param '{name}': a {values.ndim}-d array; give a 1-d array of values")
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        if not values:
            raise SpecError(f"param '{name}': no values")
        return [_scalar(name, v) for v in values]
    if isinstance(values, (bool, str, numbers.Real)) or hasattr(values, "dtype"):
        return [_scalar(name, values)]
    raise SpecError(f"param '{name}': expected a list, tuple, range, numpy array, a single value "
                    f"or a spec string such as 'logspace(-4,-1,4)', got a {type(values).__name__}")


def grid_json(params, zip=()):
    """The grid of ``params`` (and ``zip`` groups) as the JSON spec the engine reads."""
    if not hasattr(params, "items"):
        raise SpecError(f"params: expected a dict of name -> values, got a {type(params).__name__}")
    if not params:
        raise SpecError("params: the grid is empty; give at least one parameter")
    if isinstance(zip, (list, tuple)) and zip and all(isinstance(z, str) for z in zip):
        zip = [zip]  # zip=("a", "b"): one group
    groups = []
    for group in zip:
        names = group.split(",") if isinstance(group, str) else list(group)
        groups.append([str(n).strip() for n in names])
    doc = {"params": {name: _axis(name, values) for name, values in params.items()}}
    if groups:
        doc["zip"] = groups
    return json.dumps(doc, allow_nan=False)


def _describe_exception(exc):
    """What /tasks/error keeps of an exception: 'Type: message', then the innermost frames."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)[-_TRACEBACK_FRAMES:]
    if frames:
        text += "\nTraceback (innermost last):\n" + "".join(traceback.format_list(frames)).rstrip()
    return text


def _seconds(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name}: expected a number of seconds >= 0, got {value!r}")
    return float(value)


def _finite_seconds(name, value):
    value = _seconds(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number of seconds >= 0 (0: off), got {value!r}")
    return value


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _callable(name, value):
    if value is not None and not callable(value):
        raise TypeError(f"{name}: expected a function or None, got a {type(value).__name__}")
    return value


def run(task, params, *, output="mpisweep.h5", zip=(), setup=None, teardown=None, on_result=None,
        resume=False, retry_failed=False, force=False, max_attempts=3, max_worker_errors=5,
        speculate=True, deadline=None, deadline_margin=60.0, drain_grace=10.0, heartbeat_timeout=0.0, progress=0.0,
        batch_target=0.002, flush_interval=2.0, devices=None, slots_per_gpu=1, cpu_only=False,
        handle_signals=True, command=None):
    """Runs ``task(ctx)`` for every point of the grid ``params`` and returns the exit code of
    the C++ ``run()`` (the same on every rank): 0 every task done, 1 some failed for good,
    2 bad input (one line on stderr, nothing run), 3 stalled, 4 internal error, 75 stopped
    early (a signal or the deadline; run again with ``resume=True``). See docs/python.md.

    Bad arguments (a grid that is not valid, a wrong type) raise before anything starts:
    :class:`SpecError` for the grid, ``TypeError``/``ValueError`` for the rest.
    """
    if not callable(task):
        raise TypeError(f"task: expected a function of one argument (the context), got a "
                        f"{type(task).__name__}")
    spec = grid_json(params, zip)
    if deadline is not None and not isinstance(deadline, str):
        if hasattr(deadline, "timestamp"):  # datetime.datetime
            deadline = str(int(deadline.timestamp()))
        elif isinstance(deadline, numbers.Real) and not isinstance(deadline, bool):
            deadline = str(int(deadline))  # unix seconds
        else:
            raise TypeError(f"deadline: expected 'auto', '+2h', an ISO time, unix seconds or a "
                            f"datetime, got a {type(deadline).__name__}")
    if devices is not None:
        devices = [_positive_int("devices", d, 0) for d in devices]
    options = {
        "output": str(output),
        "resume": bool(resume),
        "retry_failed": bool(retry_failed),
        "overwrite": bool(force),
        "command": " ".join([sys.executable] + sys.argv) if command is None else str(command),
        "max_attempts": _positive_int("max_attempts", max_attempts),
        "max_worker_errors": _positive_int("max_worker_errors", max_worker_errors, 0),
        "speculate": bool(speculate),
        "deadline": deadline or "",
        "deadline_margin": _seconds("deadline_margin", deadline_margin),
        "drain_grace": _seconds("drain_grace", drain_grace),
        "heartbeat_timeout": _finite_seconds("heartbeat_timeout", heartbeat_timeout),
        "progress": _seconds("progress", progress),
        "batch_target": _seconds("batch_target", batch_target),
        "flush_interval": _seconds("flush_interval", flush_interval),
        "devices": devices or [],
        "slots_per_gpu": _positive_int("slots_per_gpu", slots_per_gpu),
        "cpu_only": bool(cpu_only),
        "handle_signals": bool(handle_signals),
    }
    hooks = {
        "setup": _callable("setup", setup),
        "teardown": _callable("teardown", teardown),
        "on_result": _callable("on_result", on_result),
        "describe_exception": _describe_exception,
        "cancelled": Cancelled,
    }
    engine = _engine()
    try:
        return engine.run(spec, task, hooks, options)
    except engine.SpecError as e:  # what only the engine's parser catches
        raise SpecError(str(e)) from None
