"""Drive Jupyter kernels headlessly over ZMQ with jupyter_client, as a frontend would.

Every request is a plain ``execute_request``; with a cell id it carries the metadata
JupyterLab sends (``{"cellId": "<id>"}``), which the reactive kernel uses to track cells and
which other kernels ignore. A request counts as finished when both its ``execute_reply``
(shell) and its ``status: idle`` (iopub) have arrived, i.e. when a frontend would have shown
everything the cell printed.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

INNER = re.compile(r"BENCH_INNER ([0-9.eE+-]+)")


def available_kernelspecs() -> set[str]:
    return set(KernelSpecManager().find_kernel_specs())


def kernel_versions(spec: str) -> tuple[str, str]:
    """What a kernelspec's own Python reports: its kernel package versions, and where it
    would import reactive_kernel from."""
    ksm = KernelSpecManager()
    argv = ksm.get_kernel_spec(spec).argv
    python = argv[0]
    probe = (
        "import sys, importlib.metadata as m\n"
        "def v(p):\n"
        "    try: return m.version(p)\n"
        "    except Exception: return '-'\n"
        "import importlib.util as u\n"
        "rk = u.find_spec('reactive_kernel')\n"
        "print('Python %s, ipykernel %s, IPython %s, ipyflow %s' % (sys.version.split()[0],"
        " v('ipykernel'), v('ipython'), v('ipyflow')))\n"
        "print(rk.origin if rk else '')"
    )
    import subprocess

    try:
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
        lines = out.stdout.strip().splitlines()
        if len(lines) != 2:
            return out.stderr.strip()[-200:] or "unknown", ""
        return lines[0], lines[1]
    except OSError as error:
        return f"unknown ({error})", ""


@dataclass
class Result:
    elapsed: float  # seconds from send to reply + idle
    status: str
    stdout: str = ""
    errors: list[str] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def inner(self) -> float | None:
        """The time the cell measured itself (it prints ``BENCH_INNER <seconds>``)."""
        found = INNER.findall(self.stdout)
        return float(found[-1]) if found else None


class Kernel:
    """One running kernel and its blocking client."""

    def __init__(self, label: str, spec: str, pythonpath: str | None = None) -> None:
        self.label = label
        self.spec = spec
        self.pythonpath = pythonpath  # put first on the kernel's PYTHONPATH (another version)
        self.km: KernelManager | None = None
        self.kc: Any = None
        self.startup = float("nan")

    # -- life cycle ----------------------------------------------------------------------

    def start(self, timeout: float = 120) -> float:
        """Start the kernel; returns seconds until it answered ``kernel_info`` (ready)."""
        t0 = time.perf_counter()
        self.km = KernelManager(kernel_name=self.spec)
        options: dict[str, Any] = {"stderr": open(os.devnull, "w")}  # noqa: SIM115 - the kernel's
        if self.pythonpath:
            path = [self.pythonpath, os.environ.get("PYTHONPATH")]
            options["env"] = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, path)))
        self.km.start_kernel(**options)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)
        self.startup = time.perf_counter() - t0
        return self.startup

    @property
    def pid(self) -> int:
        assert self.km is not None
        return self.km.provisioner.pid  # type: ignore[union-attr]

    def rss_mb(self, field: str = "VmRSS") -> float:
        """Resident memory of the kernel process (VmRSS), in MiB; ``field="VmHWM"``: its
        peak since start or since ``reset_peak_rss``."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field}")

    def reset_peak_rss(self) -> bool:
        """Reset the kernel process's peak RSS (VmHWM) to its current RSS (Linux
        ``clear_refs``); False where that is not allowed."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as clear:
                clear.write("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=False)
        self.km = self.kc = None

    # -- requests ------------------------------------------------------------------------

    def send(self, code: str, cell_id: str | None = None, silent: bool = False) -> str:
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def execute(self, code: str, cell_id: str | None = None, timeout: float = 600) -> Result:
        t0 = time.perf_counter()
        results = self._run([(code, cell_id)], timeout, window=1)
        results[0].elapsed = time.perf_counter() - t0
        return results[0]

    def execute_many(
        self, cells: list[tuple[str, str | None]], timeout: float = 3600, window: int = 64
    ) -> tuple[float, list[Result]]:
        """Queue the requests back to back, as JupyterLab's Run All does; total time, results.

        At most ``window`` requests are outstanding at once, so that no ZMQ high-water mark
        (1,000 messages) drops a reply or a status message.
        """
        t0 = time.perf_counter()
        results = self._run(cells, timeout, window)
        return time.perf_counter() - t0, results

    def _run(self, cells: list[tuple[str, str | None]], timeout: float, window: int) -> list[Result]:
        """Send the cells (keeping ``window`` in flight) and collect each one's reply and idle."""
        shell = self.kc.shell_channel
        iopub = self.kc.iopub_channel
        poller = zmq.Poller()
        poller.register(shell.socket, zmq.POLLIN)
        poller.register(iopub.socket, zmq.POLLIN)
        ids: list[str] = []
        results: dict[str, Result] = {}
        out: dict[str, list[str]] = {}
        unfinished: dict[str, int] = {}  # msg id -> parts missing (reply, idle)
        deadline = time.monotonic() + timeout
        queued = iter(cells)
        done = 0
        while done < len(cells):
            while len(unfinished) < window and len(ids) < len(cells):
                code, cid = next(queued)
                mid = self.send(code, cid)
                ids.append(mid)
                results[mid] = Result(0.0, "?")
                out[mid] = []
                unfinished[mid] = 2
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.label}: {len(unfinished)} requests unanswered")
            events = dict(poller.poll(min(left, 5.0) * 1000))
            if iopub.socket in events:
                while iopub.msg_ready():
                    done += self._iopub(iopub.get_msg(timeout=0), results, out, unfinished)
            if shell.socket in events:
                while shell.msg_ready():
                    reply = shell.get_msg(timeout=0)
                    mid = reply["parent_header"].get("msg_id")
                    if mid in unfinished:
                        results[mid].status = reply["content"].get("status", "?")
                        results[mid].reply = reply["content"]
                        done += self._part_done(mid, unfinished)
        for mid in ids:
            results[mid].stdout = "".join(out[mid])
        return [results[mid] for mid in ids]

    @staticmethod
    def _part_done(mid: str, unfinished: dict[str, int]) -> int:
        unfinished[mid] -= 1
        if unfinished[mid] == 0:
            del unfinished[mid]
            return 1
        return 0

    def _iopub(self, msg, results, out, unfinished) -> int:  # noqa: ANN001
        mid = msg["parent_header"].get("msg_id")
        if mid not in unfinished:
            return 0
        kind = msg["msg_type"]
        if kind == "stream":
            out[mid].append(msg["content"]["text"])
        elif kind == "error":
            results[mid].errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return self._part_done(mid, unfinished)
        return 0
