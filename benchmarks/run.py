"""Benchmark the reactive kernel against plain ipykernel (and ipyflow, where installed).

    python benchmarks/run.py            # full run, writes docs/benchmarks.md and .png
    python benchmarks/run.py --quick    # smaller sizes and fewer repetitions
    python benchmarks/run.py --smoke --out /tmp/bench   # everything at tiny sizes (< ~60 s)
    python benchmarks/run.py --commit HEAD   # reactive_kernel/ as committed, not the work tree

Kernels are driven headlessly over ZMQ with jupyter_client, sending ``execute_request``s with
``{"cellId": ...}`` metadata as JupyterLab does. All kernels run in the same invocation and are
visited in rotating order, so the ratios compare like with like on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def pin_reactive_kernel(commit: str | None = None) -> str:
    """Benchmark a frozen copy of reactive_kernel/ (others may commit while this runs).

    The copy goes first on PYTHONPATH, so every kernel started from here and the in-process
    graph benchmarks import the same code, whatever happens to the work tree meanwhile.
    With ``commit``, the copy is reactive_kernel/ as committed there (``git archive``), not
    the work tree's (which others may be editing). Returns the directory of the copy (""
    when there is no source tree to copy).
    """
    if not (ROOT / "reactive_kernel" / "__init__.py").exists() and not commit:
        return ""
    frozen = frozen_copy(commit)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [frozen, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, frozen)
    return frozen


def frozen_copy(commit: str | None) -> str:
    """A directory holding reactive_kernel/ as committed at ``commit`` (else the work
    tree's), removed when this process exits."""
    import atexit
    import shutil
    import tempfile

    frozen = Path(tempfile.mkdtemp(prefix="reactive-kernel-under-test-"))
    atexit.register(shutil.rmtree, frozen, ignore_errors=True)
    if commit:
        import io
        import tarfile

        archive = subprocess.run(["git", "archive", commit, "reactive_kernel"], cwd=ROOT,
                                 capture_output=True, check=True, timeout=60).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            try:
                tar.extractall(frozen, filter="data")
            except TypeError:  # a Python without extraction filters (our own archive)
                tar.extractall(frozen)
    else:
        shutil.copytree(ROOT / "reactive_kernel", frozen / "reactive_kernel",
                        ignore=shutil.ignore_patterns("__pycache__", "labextension"))
    return str(frozen)


def _commit_argument(argv: list[str]) -> str | None:
    """``--commit REV`` (parsed before argparse: the copy is pinned before any import)."""
    for i, arg in enumerate(argv):
        if arg.startswith("--commit="):
            return arg.split("=", 1)[1]
        if arg == "--commit" and i + 1 < len(argv):
            return argv[i + 1]
    return None


COMMIT = _commit_argument(sys.argv[1:]) if __name__ == "__main__" else None
PINNED = pin_reactive_kernel(COMMIT) if __name__ == "__main__" else ""

import graph_bench  # noqa: E402
import kernel_bench  # noqa: E402
import observation_bench  # noqa: E402
import report  # noqa: E402
from driver import available_kernelspecs, kernel_versions  # noqa: E402

# label -> kernelspec name; "ipykernel" is the baseline every ratio is against.
KERNELS = {"ipykernel": "python3", "reactive": "reactive", "ipyflow": "ipyflow"}

CONFIGS: dict[str, dict[str, Any]] = {
    "full": dict(reps=7, batch=60, cpu_scale=1.0, cpu_runs=3, mem_executions=10_000, mem_chunk=250,
                 graph_sizes=[10, 100, 1000, 5000], graph_reps=7, graph_reps_big=3,
                 zmq_sizes=[10, 100, 1000, 5000, 10_000], extra_cells=400, cascade_cells=100,
                 cascade_reps=5, others_max_cells=1000,
                 small_objects=False, object_reps=7, object_batch=30, observe_runs=21),
    "quick": dict(reps=3, batch=50, cpu_scale=1.0, cpu_runs=2, mem_executions=2_000, mem_chunk=250,
                  graph_sizes=[10, 100, 1000], graph_reps=5, graph_reps_big=3,
                  zmq_sizes=[10, 100, 1000], extra_cells=5, cascade_cells=100, cascade_reps=3,
                  small_objects=True, object_reps=3, object_batch=20, observe_runs=21),
    "smoke": dict(reps=1, batch=5, cpu_scale=0.01, mem_executions=100, mem_chunk=50,
                  graph_sizes=[10, 30], graph_reps=2, graph_reps_big=2,
                  zmq_sizes=[10, 30], extra_cells=2, cascade_cells=10, cascade_reps=1,
                  small_objects=True, object_reps=1, object_batch=5, observe_runs=21),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory, "load": load,
            "os": f"{platform.system()} {platform.release()}"}


def git_describe(commit: str | None = None) -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", commit or "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            return sha + " (as committed; the work tree not used)"
        dirty = subprocess.run(["git", "status", "--porcelain", "reactive_kernel"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + (" + uncommitted changes in reactive_kernel/" if dirty else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    size.add_argument("--smoke", action="store_true", help="every benchmark at tiny sizes")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: docs/; for --smoke a temporary one)")
    parser.add_argument("--kernels", default=None,
                        help="comma-separated labels among " + ",".join(KERNELS)
                        + " (default: all whose kernelspec exists; smoke: ipykernel,reactive)")
    parser.add_argument("--only", default=None,
                        help="comma-separated benchmarks: basic,memory,graph,sizes,cascade,"
                        "observation,objects")
    parser.add_argument("--commit", default=None, metavar="REV",
                        help="benchmark reactive_kernel/ as committed at REV (git archive) "
                        "instead of the work tree's, which others may be editing")
    parser.add_argument("--report-only", type=Path, default=None, metavar="JSON",
                        help="only rewrite benchmarks.md/.png (in --out, default: the JSON's "
                        "folder) from a benchmarks.json of an earlier run")
    args = parser.parse_args(argv)
    if args.report_only:
        return write_report(json.loads(args.report_only.read_text()),
                            args.out or args.report_only.resolve().parent)

    if args.out is not None:
        args.out = args.out.resolve()
    # Kernels start in this process's working directory, and ``python -m`` puts it first on
    # sys.path: run from an empty directory so that they import the frozen reactive_kernel.
    import tempfile

    import atexit
    import shutil

    cwd = tempfile.mkdtemp(prefix="reactive-bench-cwd-")
    atexit.register(shutil.rmtree, cwd, ignore_errors=True)
    os.chdir(cwd)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    config = CONFIGS[mode]
    out = args.out
    if out is None:
        if mode == "smoke":
            out = Path(tempfile.mkdtemp(prefix="reactive-bench-"))
        else:
            out = ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)

    specs = available_kernelspecs()
    wanted = args.kernels.split(",") if args.kernels else (
        ["ipykernel", "reactive"] if mode == "smoke" else list(KERNELS))
    kernels = {}
    for label in wanted:
        if label not in KERNELS:
            parser.error(f"unknown kernel {label!r}")
        if KERNELS[label] in specs:
            kernels[label] = KERNELS[label]
        elif label in ("ipykernel", "reactive"):
            parser.error(f"kernelspec {KERNELS[label]!r} is not installed (pip install -e .)")
        else:
            log(f"no {KERNELS[label]!r} kernelspec: skipping {label}")
    only = set(args.only.split(",")) if args.only else {"basic", "memory", "graph", "sizes",
                                                        "cascade", "observation", "objects"}

    versions = {label: kernel_versions(spec) for label, spec in kernels.items()}
    if PINNED and not versions["reactive"][1].startswith(PINNED):
        log(f"warning: the reactive kernel imports {versions['reactive'][1]}, not the frozen copy")
    started = time.perf_counter()
    command = "python benchmarks/run.py" + (f" --{mode}" if mode != "full" else "") + (
        f" --commit {args.commit}" if args.commit else "")
    import jupyter_client

    import reactive_kernel

    results: dict[str, Any] = {
        "meta": {
            **machine(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": mode,
            "command": command,
            "config": config,
            "versions": {label: versions[label][0] for label in kernels},
            "jupyter_client": jupyter_client.__version__,
            "reactive_kernel": reactive_kernel.__version__,
            "git": git_describe(args.commit),
            "pinned": PINNED,
        },
        "kernels": kernels,
    }
    log(f"{mode} run, kernels: {', '.join(f'{k} ({v})' for k, v in kernels.items())}, "
        f"output: {out}")

    if "graph" in only:
        log("in-process graph: notebook sizes")
        results["graph"] = []
        for shape in graph_bench.SHAPES:
            for n in config["graph_sizes"]:
                reps = config["graph_reps"] if n <= 1000 else config["graph_reps_big"]
                results["graph"].append(graph_bench.bench_size(shape, n, reps))
    save = lambda: (out / "benchmarks.json").write_text(json.dumps(results, indent=1))  # noqa: E731
    if "graph" in results:
        save()
    if "observation" in only:
        log("in-process observation of large objects (effects.watch + changes, random state)")
        results["observation"] = observation_bench.bench_observation(
            config["small_objects"], config["observe_runs"], log=log)
        save()
    if "basic" in only:
        log("start-up, trivial cells, re-runs, CPU-bound cells")
        results["basic"] = kernel_bench.bench_basic(
            kernels, config["reps"], config["batch"], config["cpu_scale"], log,
            cpu_runs=config.get("cpu_runs", 1))
        save()
    if "objects" in only:
        log("cells reading large objects over ZMQ")
        results["objects"] = kernel_bench.bench_objects(
            kernels, observation_bench.cases(config["small_objects"]), config["object_reps"],
            config["object_batch"], log)
        save()
    if "cascade" in only:
        log(f"cascade of {config['cascade_cells']} cells")
        results["cascade"] = kernel_bench.bench_cascade(
            kernels, config["cascade_cells"], config["cascade_reps"], log)
        save()
    if "memory" in only:
        log(f"memory after {config['mem_executions']:,} executions")
        results["memory"] = kernel_bench.bench_memory(
            kernels, config["mem_executions"], config["mem_chunk"], log)
        save()
    if "sizes" in only:
        log("notebook sizes over ZMQ")
        results["sizes"] = kernel_bench.bench_sizes(
            kernels, config["zmq_sizes"], config["extra_cells"], comm_sync=True, log=log,
            others_max=config.get("others_max_cells"))

    results["meta"]["duration_s"] = time.perf_counter() - started
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1))
    return write_report(results, out)


def write_report(results: dict[str, Any], out: Path) -> int:
    """benchmarks.md (with benchmarks/FINDINGS.md appended for full runs) and benchmarks.png."""
    out.mkdir(parents=True, exist_ok=True)
    findings_file = HERE / "FINDINGS.md"
    full = results["meta"]["mode"] == "full"
    findings = findings_file.read_text() if findings_file.exists() and full else ""
    (out / "benchmarks.md").write_text(report.markdown(results, "benchmarks.png", findings))
    report.plot(results, out / "benchmarks.png")
    log(f"wrote {out / 'benchmarks.md'} and {out / 'benchmarks.png'} "
        f"(run took {results['meta']['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
