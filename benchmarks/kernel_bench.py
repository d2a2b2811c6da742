"""Benchmarks over ZMQ: the same requests sent to every kernel, interleaved.

Each function takes the kernels to compare as ``{label: kernelspec}`` and returns plain data
(lists of samples in seconds or MiB) keyed by kernel label. Kernels are started and stopped
here; the order in which kernels are visited rotates every repetition so that slow phases of
a noisy machine do not always hit the same kernel.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from driver import Kernel, Result

Kernels = dict[str, str]


def rotated(labels: list[str], rep: int) -> list[str]:
    k = rep % len(labels) if labels else 0
    return labels[k:] + labels[:k]


def _check(result: Result, what: str) -> Result:
    if result.status != "ok":
        raise RuntimeError(f"{what}: {result.status} {result.errors} {result.stdout[-500:]}")
    return result


# -- CPU-bound cells -----------------------------------------------------------------------

def cpu_cells(scale: float) -> dict[str, tuple[str, str]]:
    """name -> (setup code, timed code); the timed code prints ``BENCH_INNER <seconds>``."""
    loop = max(int(1_000_000 * scale), 1000)
    fib = 25 if scale >= 1 else 15
    data = max(int(1_000_000 * scale), 1000)
    timer = "import time as _bench_time\n_bench_t0 = _bench_time.perf_counter()\n"
    report = "print('BENCH_INNER', _bench_time.perf_counter() - _bench_t0)\n"
    return {
        f"loop ({loop:,} iterations)": (
            "",
            timer + f"total = 0\nfor i in range({loop}):\n    total += i\n" + report,
        ),
        f"recursive fib({fib})": (
            "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
            timer + f"f = fib({fib})\n" + report,
        ),
        f"statistics.median of {data:,} floats": (
            f"import random, statistics\nrandom.seed(1)\ndata = [random.random() for _ in range({data})]\n",
            timer + "m = statistics.median(data)\n" + report,
        ),
    }


# -- start-up, trivial cells, re-runs, CPU-bound cells ----------------------------------------

def bench_basic(kernels: Kernels, reps: int, batch: int, cpu_scale: float,
                log: Callable[[str], None], cpu_runs: int = 1) -> dict[str, Any]:
    """Per repetition and kernel: a fresh kernel; start-up time and RSS; a batch of trivial
    new cells; a batch of re-runs of one cell; each CPU-bound cell ``cpu_runs`` times."""
    labels = list(kernels)
    cells = cpu_cells(cpu_scale)
    out: dict[str, Any] = {
        label: {"startup": [], "rss_start": [], "trivial": [], "rerun": [],
                **{f"cpu inner: {c}": [] for c in cells}, **{f"cpu e2e: {c}": [] for c in cells}}
        for label in labels
    }
    for rep in range(reps):
        for label in rotated(labels, rep):
            k = Kernel(label, kernels[label])
            try:
                out[label]["startup"].append(k.start())
                out[label]["rss_start"].append(k.rss_mb())
                for i in range(3):  # warm up (first requests import things)
                    _check(k.execute("pass", f"warm-{i}"), "warm-up")
                # A trivial new cell: what typing a cell and pressing Shift+Enter costs.
                times = [
                    _check(k.execute("pass", f"trivial-{rep}-{i}"), "trivial").elapsed
                    for i in range(batch)
                ]
                out[label]["trivial"].append(statistics.median(times))
                # Re-running one cell (unchanged source; it defines a name nobody reads).
                _check(k.execute("x = 1", "rerun"), "rerun")
                times = [_check(k.execute("x = 1", "rerun"), "rerun").elapsed for _ in range(batch)]
                out[label]["rerun"].append(statistics.median(times))
                for n, (name, (setup, timed)) in enumerate(cells.items()):
                    if setup:
                        _check(k.execute(setup, f"cpu-setup-{n}"), f"setup {name}")
                    for _ in range(cpu_runs):
                        r = _check(k.execute(timed, f"cpu-{n}"), name)
                        if r.inner is None:
                            raise RuntimeError(f"{label}: no BENCH_INNER in {r.stdout!r}")
                        out[label][f"cpu inner: {name}"].append(r.inner)
                        out[label][f"cpu e2e: {name}"].append(r.elapsed)
            finally:
                k.stop()
        log(f"  basic rep {rep + 1}/{reps} done")
    return out


# -- cells reading large objects ----------------------------------------------------------------

def bench_objects(kernels: Kernels, cases: list[Any], reps: int, batch: int,
                  log: Callable[[str], None]) -> dict[str, Any]:
    """Per case (``observation_bench.Case``: a large object built by a setup cell, and a
    cell that only reads it), on fresh kernels kept alive side by side: RSS after start;
    the setup cell; RSS after it, and the peak RSS reset to it; then ``reps`` rounds, kernels
    in rotating order, each running the timed cell (same cellId) ``batch`` times after two
    warm-up runs in the first round. Per round and kernel, the median round trip; at the
    end, RSS and peak RSS (VmHWM since the setup)."""
    labels = list(kernels)
    out: dict[str, Any] = {}
    for case in cases:
        entry: dict[str, Any] = {"title": case.title, "short": case.short, "timed": case.timed,
                                 "nbytes": case.nbytes, "full_size": case.full_size}
        live = {label: Kernel(label, spec) for label, spec in kernels.items()}
        try:
            for label in labels:
                k = live[label]
                k.start()
                _check(k.execute("pass", "warm"), "warm-up")
                entry[label] = {"rss_start": k.rss_mb(), "round_trip": []}
            for label in labels:
                k = live[label]
                _check(k.execute(case.setup, f"setup-{case.key}"), f"setup {case.key}")
                for _ in range(2):
                    _check(k.execute(case.timed, f"read-{case.key}"), case.timed)
                entry[label]["rss_setup"] = k.rss_mb()
                entry[label]["peak_reset"] = k.reset_peak_rss()
            for rep in range(reps):
                for label in rotated(labels, rep):
                    k = live[label]
                    times = [_check(k.execute(case.timed, f"read-{case.key}"), case.timed).elapsed
                             for _ in range(batch)]
                    entry[label]["round_trip"].append(statistics.median(times))
            for label in labels:
                k = live[label]
                entry[label]["rss_end"] = k.rss_mb()
                entry[label]["rss_peak"] = (k.rss_mb("VmHWM") if entry[label]["peak_reset"]
                                            else float("nan"))
                entry[label]["executions"] = 2 + reps * batch
            if "reactive" in live:
                entry["reactive"]["layer"] = _reactive_layer_time(
                    live["reactive"], case.timed, f"read-{case.key}", batch)
        finally:
            for k in live.values():
                k.stop()
        out[case.key] = entry
        log(f"  {case.key} ({case.timed}): " + ", ".join(
            f"{label} {statistics.median(entry[label]['round_trip']) * 1e3:.2f} ms"
            for label in labels))
    return out


# Installed in the reactive kernel (a cell without cellId): times each request's
# ``ReactiveExecutor.execute`` and the wrapped ipykernel ``do_execute`` calls inside it.
_LAYER_PROBE = """
import time as _bench_t
_bench_ex = get_ipython().kernel.reactive
_bench_orig = getattr(_bench_ex, '_bench_orig', None) or _bench_ex.execute
_bench_ex._bench_orig = _bench_orig
_bench_layer = []
async def _bench_timed(run, *args, **kwargs):
    inner = 0.0
    async def timed_run(*a, **kw):
        nonlocal inner
        t0 = _bench_t.perf_counter()
        try:
            return await run(*a, **kw)
        finally:
            inner += _bench_t.perf_counter() - t0
    t0 = _bench_t.perf_counter()
    try:
        return await _bench_orig(timed_run, *args, **kwargs)
    finally:
        _bench_layer.append(_bench_t.perf_counter() - t0 - inner)
_bench_ex.execute = _bench_timed
"""


def _reactive_layer_time(k: Kernel, code: str, cell_id: str, runs: int) -> list[float]:
    """The reactive layer's own time for each of ``runs`` runs of a cell, inside the kernel:
    ``ReactiveExecutor.execute`` minus the ipykernel ``do_execute`` it wraps (analysis,
    planning, the namespace snapshot, observing effects, publishing). [] if the probe does
    not fit this kernel's version."""
    if k.execute(_LAYER_PROBE).status != "ok":
        return []
    for _ in range(runs):
        _check(k.execute(code, cell_id), code)
    r = k.execute("print('BENCH_LAYER', *_bench_layer[-%d:])\n"
                  "get_ipython().kernel.reactive.execute = _bench_orig" % runs)
    found = [line for line in r.stdout.splitlines() if line.startswith("BENCH_LAYER")]
    return [float(x) for x in found[-1].split()[1:]] if found else []


# -- memory after many executions ------------------------------------------------------------

def bench_memory(kernels: Kernels, executions: int, chunk: int,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """RSS after start and after ``executions`` executions (100 cells, each edited and run
    again and again: ``m{k} = {i}``), run in interleaved chunks sent as a batch."""
    labels = list(kernels)
    live = {label: Kernel(label, spec) for label, spec in kernels.items()}
    out: dict[str, Any] = {label: {} for label in labels}
    try:
        for label, k in live.items():
            k.start()
            _check(k.execute("pass", "warm"), "warm-up")
            out[label]["rss_start"] = [k.rss_mb()]
            out[label]["chunk_per_exec"] = []
        done = 0
        rep = 0
        while done < executions:
            n = min(chunk, executions - done)
            batch = [(f"m{i % 100} = {i}", f"mem-{i % 100}") for i in range(done, done + n)]
            for label in rotated(labels, rep):
                total, results = live[label].execute_many(batch)
                bad = [r for r in results if r.status != "ok"]
                if bad:
                    raise RuntimeError(f"{label}: {bad[0].status} {bad[0].errors}")
                out[label]["chunk_per_exec"].append(total / n)
            done += n
            rep += 1
            if rep % 10 == 0:
                log(f"  memory: {done}/{executions} executions")
        for label, k in live.items():
            out[label]["rss_end"] = [k.rss_mb()]
            out[label]["executions"] = executions
    finally:
        for k in live.values():
            k.stop()
    return out


# -- notebook size -----------------------------------------------------------------------------

def notebook(shape: str, n: int, prefix: str = "nb") -> list[tuple[str, str]]:
    from graph_bench import sources

    return [(src, f"{prefix}-{i}") for i, src in enumerate(sources(shape, n))]


def bench_sizes(kernels: Kernels, sizes: list[int], extra: int, comm_sync: bool,
                log: Callable[[str], None], others_max: int | None = None) -> dict[str, Any]:
    """Per notebook shape and size, fresh kernels side by side: a Run All of the notebook sent
    at once, as JupyterLab does (time per executed cell), then ``extra`` more new cells run one
    at a time, kernels interleaved cell by cell (round trip per cell at that notebook size),
    then each kernel's RSS. For the reactive kernel, also the time to sync the notebook over
    its comm, as the JupyterLab extension does on open, and cells run with that comm open.
    ``others_max``: kernels other than ipykernel and reactive only up to that many cells."""
    out: dict[str, Any] = {}
    rep = 0
    for shape in ("independent", "chain"):
        for n in sizes:
            key = f"{shape}/{n}"
            cells = notebook(shape, n)
            labels = [label for label in kernels
                      if not (others_max and n > others_max
                              and label not in ("ipykernel", "reactive"))]
            live = {label: Kernel(label, kernels[label]) for label in labels}
            out[key] = {label: {"one_more_cell": []} for label in labels}
            try:
                for label in rotated(labels, rep):
                    k = live[label]
                    k.start()
                    _check(k.execute("pass", "warm"), "warm-up")
                    total, results = k.execute_many(cells)
                    bad = [r for r in results if r.status != "ok"]
                    if bad:
                        raise RuntimeError(f"{label} {key}: {bad[0].status} {bad[0].errors}")
                    out[key][label]["run_all_per_cell"] = [total / n]
                last = f"v{n - 1}"
                for j in range(extra):
                    src = f"w{j} = {last}" if shape == "chain" else f"w{j} = {j}"
                    for label in rotated(labels, j):
                        result = _check(live[label].execute(src, f"extra-{j}"), "extra")
                        out[key][label]["one_more_cell"].append(result.elapsed)
                for label, k in live.items():
                    out[key][label]["rss_mb"] = [k.rss_mb()]
            finally:
                for k in live.values():
                    k.stop()
            if comm_sync and "reactive" in kernels:
                out[key]["reactive"].update(_comm_sync(kernels["reactive"], cells, extra))
            log(f"  notebook {key}: done")
            rep += 1
    return out


def _comm_sync(spec: str, cells: list[tuple[str, str]], extra: int) -> dict[str, list[float]]:
    """Open the ``reactive_kernel`` comm (display only), sync the notebook, time the reply;
    then one more cell executed with that comm open (the kernel publishes every state)."""
    k = Kernel("reactive", spec)
    try:
        k.start()
        _check(k.execute("pass", "warm"), "warm-up")
        comm_id = "bench-comm"
        k.kc.shell_channel.send(k.kc.session.msg(
            "comm_open",
            {"comm_id": comm_id, "target_name": "reactive_kernel",
             "data": {"protocol": 1, "runs_cells": False}},
        ))
        if _comm_reply(k, comm_id, timeout=30) is None:
            return {}  # no such comm target in this version
        payload = [{"id": cid, "source": src} for src, cid in cells]
        t0 = time.perf_counter()
        k.kc.shell_channel.send(k.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"type": "sync", "cells": payload}}
        ))
        reply = _comm_reply(k, comm_id, timeout=600)
        sync = time.perf_counter() - t0
        if reply is None or reply.get("type") != "state" or len(reply["cells"]) != len(cells):
            raise RuntimeError(f"comm sync: unexpected reply {str(reply)[:300]}")
        times = [_check(k.execute(f"z{j} = {j}", f"comm-extra-{j}"), "extra").elapsed
                 for j in range(extra)]
        return {"comm_sync": [sync], "one_more_cell_comm_open": times}
    finally:
        k.stop()


def _comm_reply(k: Kernel, comm_id: str, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = k.kc.iopub_channel.get_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except Exception:  # noqa: BLE001 - queue.Empty: nothing came
            return None
        if msg["msg_type"] == "comm_msg" and msg["content"].get("comm_id") == comm_id:
            return msg["content"].get("data")
        if msg["msg_type"] == "comm_close" and msg["content"].get("comm_id") == comm_id:
            return None
    return None


# -- the cascade -----------------------------------------------------------------------------

def bench_cascade(kernels: Kernels, n: int, reps: int,
                  log: Callable[[str], None]) -> dict[str, Any]:
    """``n`` chained cells run once with cell ids; then the first is edited and run. The
    reactive kernel re-runs the ``n - 1`` dependents inside that request (mode auto); the
    other kernels get the edited cell and every dependent sent again (Run All Below)."""
    labels = list(kernels)
    cells = notebook("chain", n, prefix="cascade")
    out: dict[str, Any] = {label: {"cascade": [], "how": ""} for label in labels}
    live = {label: Kernel(label, spec) for label, spec in kernels.items()}
    try:
        for label, k in live.items():
            k.start()
            total, results = k.execute_many(cells)
            if any(r.status != "ok" for r in results):
                raise RuntimeError(f"{label}: cascade notebook failed")
        for rep in range(reps):
            for label in rotated(labels, rep):
                k = live[label]
                first = f"v0 = {1000 * (rep + 1)}"
                expect = 1000 * (rep + 1) + n - 1
                if label == "reactive":
                    r = _check(k.execute(first, cells[0][1]), "cascade")
                    elapsed = r.elapsed
                    reran = r.stdout.count("↻")
                    if reran != n - 1:
                        raise RuntimeError(f"reactive re-ran {reran} cells, not {n - 1}")
                    out[label]["how"] = "edit + run the first cell; the kernel re-runs the rest"
                else:
                    elapsed, results = k.execute_many([(first, cells[0][1]), *cells[1:]])
                    if any(r.status != "ok" for r in results):
                        raise RuntimeError(f"{label}: cascade re-run failed")
                    out[label]["how"] = "edit + run the first cell, then run all below"
                # No cell id: a console-style check that does not join the notebook's graph.
                check = _check(k.execute(f"print(v{n - 1})"), "check")
                if check.stdout.strip() != str(expect):
                    raise RuntimeError(f"{label}: v{n - 1} = {check.stdout!r}, not {expect}")
                out[label]["cascade"].append(elapsed)
            log(f"  cascade rep {rep + 1}/{reps} done")
    finally:
        for k in live.values():
            k.stop()
    return out
