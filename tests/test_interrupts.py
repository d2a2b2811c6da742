"""Interrupts and restarts over real ZMQ: every execute_request gets exactly one execute_reply.

Issue 9, case 4: interrupting an in-kernel cascade (auto mode, no comm) lost replies, and a
restart during a cascade left the pending request unanswered. Real kernels, real signals:
``KernelManager.interrupt_kernel`` sends SIGINT, which lands wherever the kernel happens to
be — in a cell's code, in IPython's machinery around it, or in the reactive kernel's own
bookkeeping between the cells of a cascade. A restart is compared with plain ipykernel's,
measured in the same test (ipykernel 7.4 does not answer a request running at a restart: its
reply is sent after the shutdown closed the shell socket; the reactive kernel's shutdown waits
for it).
"""

from __future__ import annotations

import ast
import queue
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import send_execute
from jupyter_client.manager import KernelManager

SEED = 20261201
CHAIN = 200  # cells: v0 = r; v{i} = v{i-1} + 1
ROUNDS = 20
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REPLY_TIMEOUT = 30.0  # generous: an interrupted cascade of CHAIN tiny cells ends in ~1 s
NOT_OK = {"stale", "upstream-error", "error", "edited"}  # what a cell that did not re-run shows


class Kernel:
    """A real kernel over ZMQ that keeps every message it receives, so that a reply can be
    counted (exactly one per request) and none is ever dropped by a reader skipping it."""

    def __init__(self, kernel_name: str, log: Path) -> None:
        self.name = kernel_name
        self.log = log
        self._log_file = log.open("w")
        self.manager = KernelManager(kernel_name=kernel_name)
        self.manager.start_kernel(stderr=self._log_file)  # kept for restarts too
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.shell: list[dict[str, Any]] = []  # every shell message received
        self.iopub: list[dict[str, Any]] = []  # every iopub message received

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self._log_file.close()

    def stderr(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    # -- receiving -----------------------------------------------------------------------

    def _pump(self, channel: str, until: float) -> bool:
        """Receive one message on ``channel`` (waiting until ``until``); False on timeout."""
        get = self.client.get_shell_msg if channel == "shell" else self.client.get_iopub_msg
        try:
            msg = get(timeout=max(0.01, min(0.2, until - time.monotonic())))
        except queue.Empty:
            return False
        (self.shell if channel == "shell" else self.iopub).append(msg)
        return True

    def replies(self, msg_id: str) -> list[dict[str, Any]]:
        return [m for m in self.shell if m["parent_header"].get("msg_id") == msg_id]

    def outputs(self, msg_id: str) -> list[dict[str, Any]]:
        return [m for m in self.iopub if m["parent_header"].get("msg_id") == msg_id]

    def wait_reply(self, msg_id: str, timeout: float = REPLY_TIMEOUT) -> dict[str, Any] | None:
        """The execute_reply to ``msg_id`` (None if none came in ``timeout``); also waits for
        the request's iopub idle (briefly, if the reply came) so its outputs are all here."""
        until = time.monotonic() + timeout
        while not self.replies(msg_id) and time.monotonic() < until:
            self._pump("shell", until)
        idle_until = min(until, time.monotonic() + 10)
        while not self._idle(msg_id) and time.monotonic() < idle_until:
            self._pump("iopub", idle_until)
        found = self.replies(msg_id)
        return found[0] if found else None

    def _idle(self, msg_id: str) -> bool:
        return any(
            m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
            for m in self.outputs(msg_id)
        )

    def drain(self, seconds: float) -> None:
        """Receive whatever else arrives (late or duplicate replies) for ``seconds``."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            self._pump("shell", until)
        while self._pump("iopub", time.monotonic() + 0.05):
            pass

    # -- requests ------------------------------------------------------------------------

    def send(self, code: str, cell_id: str | None = None, **content: Any) -> str:
        return send_execute(self.client, code, {"cellId": cell_id} if cell_id else {}, **content)

    def run(self, code: str, cell_id: str | None = None, **content: Any) -> dict[str, Any]:
        """Send a request and return its reply. A request that arrives just after an error
        reply may be aborted (ipykernel's stop_on_error): it is sent again."""
        for _ in range(3):
            msg_id = self.send(code, cell_id, **content)
            reply = self.wait_reply(msg_id)
            assert reply is not None, f"no execute_reply to {code!r}\n{self.stderr()[-3000:]}"
            if reply["content"]["status"] != "aborted":
                break
        return reply

    def value(self, expression: str) -> Any:
        """Evaluate an expression without running a cell; literal_eval its repr."""
        return self.evaluate(v=expression)["v"]

    def evaluate(self, code: str = "", **expressions: str) -> dict[str, Any]:
        """Run ``code`` silently (plain IPython) and evaluate ``expressions`` after it, in one
        request; literal_eval their reprs."""
        reply = self.run(code, silent=True, user_expressions=expressions)
        found = {}
        for key, data in reply["content"]["user_expressions"].items():
            assert data["status"] == "ok", (key, data.get("ename"), data.get("evalue"))
            found[key] = ast.literal_eval(data["data"]["text/plain"])
        return found

    def states(self) -> dict[str, str]:
        return self.value(
            "{k: v.state for k, v in get_ipython().kernel.reactive.graph.status().items()}"
        )

    def stdout(self, msg_id: str) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.outputs(msg_id)
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def errors(self, msg_id: str) -> list[dict[str, Any]]:
        return [m["content"] for m in self.outputs(msg_id) if m["msg_type"] == "error"]

    def wait_output(self, msg_id: str, text: str, timeout: float = REPLY_TIMEOUT) -> None:
        """Wait until the request has printed ``text`` (so it is running where we want)."""
        until = time.monotonic() + timeout
        while text not in self.stdout(msg_id):
            assert time.monotonic() < until, f"{text!r} never printed\n{self.stderr()[-3000:]}"
            self._pump("iopub", until)


@pytest.fixture
def logs() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="reactive-interrupts-") as folder:
        yield Path(folder)


def interrupted(kernel: Kernel, msg_id: str, reply: dict[str, Any]) -> bool:
    """The request shows a KeyboardInterrupt: as its reply (the interrupt hit the requested
    cell, or the kernel's bookkeeping) or as a re-run dependent's error output."""
    return reply["content"].get("ename") == "KeyboardInterrupt" or any(
        e["ename"] == "KeyboardInterrupt" for e in kernel.errors(msg_id)
    )


def where(kernel: Kernel, msg_id: str, reply: dict[str, Any]) -> str:
    """Where the interrupt landed, from what the kernel reported: in a cell's code (IPython's
    traceback names the cell), elsewhere (IPython's machinery or the kernel's bookkeeping:
    a bare ``KeyboardInterrupt``), or nowhere (the cascade had ended)."""
    if not interrupted(kernel, msg_id, reply):
        return "nowhere"
    tracebacks = [e["traceback"] for e in kernel.errors(msg_id) if e["ename"] == "KeyboardInterrupt"]
    if any("Cell In[" in ANSI.sub("", line) for tb in tracebacks for line in tb):
        return "cell code"
    return "between cells"


GRAPH_TRACEBACK = """
import traceback as _traceback
try:
    get_ipython().kernel.reactive.graph.status()
    _why = ""
except BaseException:
    _why = _traceback.format_exc()
"""


def check_chain(kernel: Kernel, cell: str, name: str, length: int, requested: int) -> int:
    """The marks are exact after cell ``{cell}0`` was sent ``{name}0 = requested`` and its
    cascade through the chain ``{name}{i} = {name}{i-1} + 1`` was (perhaps) interrupted.

    The first cell ran (ok, holding ``requested``) or not (the interrupt came first: it shows
    edited, or failed). A cell reported ok holds the value a fresh top-to-bottom run gives it,
    so a cell that did not re-run is not reported ok; in a chain the ok cells are a prefix.
    Returns how many cells are not ok. The graph must answer (not raise) too.
    """
    try:
        found = kernel.evaluate(
            states="{k: v.state for k, v in get_ipython().kernel.reactive.graph.status().items()}",
            values=f"[get_ipython().user_ns.get(f'{name}{{i}}') for i in range({length})]",
        )
    except AssertionError as error:  # the graph raised: show where
        why = kernel.evaluate(GRAPH_TRACEBACK, why="_why")["why"]
        raise AssertionError(f"{error}\n{why}") from None
    states, values = found["states"], found["values"]
    chain = [states.get(f"{cell}{i}") for i in range(length)]
    assert None not in chain, f"cells missing from the graph: {states}"
    ok = [state == "ok" for state in chain]
    if ok[0]:
        assert values[0] == requested, (chain[0], values[0], requested)
    first_not_ok = ok.index(False) if False in ok else length
    assert not any(ok[first_not_ok:]), (
        f"cells reported ok below a cell that is not: {list(enumerate(chain))}"
    )
    assert set(chain[first_not_ok:]) <= NOT_OK, set(chain[first_not_ok:])
    wrong = [(i, values[i]) for i in range(first_not_ok) if values[i] != values[0] + i]
    assert not wrong, f"cells reported ok with a value a fresh run would not give: {wrong[:10]}"
    return length - first_not_ok


def build_chain(kernel: Kernel, cell: str, name: str, length: int, body: str = "") -> None:
    assert kernel.run("import time")["content"]["status"] == "ok"
    assert kernel.run(f"{name}0 = 0", f"{cell}0")["content"]["status"] == "ok"
    for i in range(1, length):
        reply = kernel.run(f"{body}{name}{i} = {name}{i - 1} + 1", f"{cell}{i}")
        assert reply["content"]["status"] == "ok", reply["content"]


def test_every_interrupted_cascade_is_answered_exactly_once(logs: Path) -> None:
    """A chain of CHAIN cells; ROUNDS times the first cell is edited and run (the kernel
    re-runs the CHAIN - 1 dependents itself, auto mode, no comm) and SIGINT is sent at a
    seeded random moment within the cascade's measured length: in a cell's code, in IPython's
    machinery around it, or in the kernel's bookkeeping between cells. Each request gets
    exactly one execute_reply, on the shell channel, with its msg_id; the marks stay exact
    after each round; the kernel serves on."""
    rng = random.Random(SEED)
    kernel = Kernel("reactive", logs / "reactive.log")
    try:
        build_chain(kernel, "c", "v", CHAIN, body="time.sleep(0.002)\n")
        start = time.monotonic()
        reply = kernel.run("v0 = 1", "c0")  # an uninterrupted cascade, to measure its length
        length = time.monotonic() - start
        assert reply["content"]["status"] == "ok"
        assert check_chain(kernel, "c", "v", CHAIN, 1) == 0

        sent: list[str] = []
        missing: list[tuple[int, float]] = []
        landed: Counter[str] = Counter()
        not_ok: list[int] = []
        for round_ in range(2, ROUNDS + 2):
            delay = rng.uniform(0.0, 0.9) * length
            msg_id = kernel.send(f"v0 = {round_}", "c0")
            sent.append(msg_id)
            time.sleep(delay)
            kernel.manager.interrupt_kernel()
            reply = kernel.wait_reply(msg_id, timeout=max(10.0, 10 * length))
            if reply is None:
                missing.append((round_, round(delay, 3)))
                continue
            assert reply["msg_type"] == "execute_reply"
            assert reply["content"]["status"] in ("ok", "error"), reply["content"]
            landed[where(kernel, msg_id, reply)] += 1
            not_ok.append(check_chain(kernel, "c", "v", CHAIN, round_))

        assert not missing, (
            f"{len(missing)} of {ROUNDS} interrupted requests got no execute_reply "
            f"(round, delay): {missing}\nkernel stderr:\n{kernel.stderr()[-5000:]}"
        )
        print(f"cascade {length:.2f}s; interrupts landed: {dict(landed)}; cells not ok: {not_ok}")
        # Not vacuous: interrupts landed mid-cascade and stopped it.
        assert ROUNDS - landed["nowhere"] >= 5, dict(landed)
        assert sum(1 for n in not_ok if n) >= 5, not_ok
        # ``%reactive`` lists the cells the last interrupted cascade did not bring up to date.
        reactive_status = kernel.run("%reactive")
        assert reactive_status["content"]["status"] == "ok"
        status = reactive_status["parent_header"]["msg_id"]
        listed = [line for line in kernel.stdout(status).splitlines() if line.startswith("  cell ")]
        assert len(listed) == not_ok[-1], kernel.stdout(status)[:2000]
        assert all(line.split(": ")[1].split(" ")[0] in NOT_OK for line in listed), listed[:5]

        # The kernel serves on, and a cascade it is left to finish leaves every cell ok.
        assert kernel.run("x = 1", "fresh")["content"]["status"] == "ok"
        assert kernel.run("x = 1")["content"]["status"] == "ok"
        assert kernel.run("v0 = 1000", "c0")["content"]["status"] == "ok"
        assert check_chain(kernel, "c", "v", CHAIN, 1000) == 0
        assert kernel.value(f"v{CHAIN - 1}") == 1000 + CHAIN - 1

        kernel.drain(1.0)  # any late or duplicate reply
        counts = Counter(m["parent_header"].get("msg_id") for m in kernel.shell)
        assert {m: counts[m] for m in sent if counts[m] != 1} == {}
        assert all(
            m["msg_type"] == "execute_reply"
            for m in kernel.shell
            if m["parent_header"].get("msg_id") in sent
        )
    finally:
        kernel.close()


# Installed in the kernel: a trace function that counts the lines the kernel's own code
# (the reactive_kernel package) executes and, at the chosen one, sends the kernel a real
# SIGINT. The signal is handled at the next bytecode boundary: the KeyboardInterrupt lands
# right there, in the middle of the kernel's bookkeeping, as a badly timed interrupt would.
SHOT = """
import os, signal, sys, reactive_kernel
class _Shot:
    root = os.path.dirname(reactive_kernel.__file__)
    def __init__(self):
        self.count, self.fire_at, self.where = 0, None, None
    def arm(self, fire_at):
        self.count, self.fire_at, self.where = 0, fire_at, None
        sys.settrace(self.call)
    def call(self, frame, event, arg):
        if self.fire_at is None or not frame.f_code.co_filename.startswith(self.root):
            return None
        return self.line
    def line(self, frame, event, arg):
        if event == "line" and self.fire_at is not None:
            self.count += 1
            if self.count == self.fire_at:
                code = frame.f_code
                self.where = f"{os.path.basename(code.co_filename)}:{frame.f_lineno} {code.co_name}"
                callers = frame.f_back
                while callers is not None and callers.f_code.co_filename.startswith(self.root):
                    self.where += f" < {callers.f_code.co_name}"
                    callers = callers.f_back
                self.fire_at = None
                os.kill(os.getpid(), signal.SIGINT)
        return self.line
    def disarm(self):
        sys.settrace(None)
        self.fire_at = None
_shot = _Shot()
"""
SHOTS = 60
SHORT_CHAIN = 12
SIDE = 4  # cells reading the chain that fail for even inputs: each round changes definitions
BELOW = 120  # cells below: the kernel's bookkeeping per run (indexes, memo) grows with them


def test_an_interrupt_anywhere_in_the_kernels_bookkeeping(logs: Path) -> None:
    """SIGINT delivered at SHOTS seeded points spread over the lines the kernel's own code
    runs for a cascade (planning, analysis, fingerprints, recording, the graph's indexes and
    memos): every request is answered once, the graph keeps answering, the marks stay
    exact, and an uninterrupted run afterwards leaves every cell ok with the right values.

    Cells reading the chain fail for even inputs, so that every round changes what the cells
    define (the graph rebuilds its indexes, several times per request); the cells below make
    each run's bookkeeping long (indexes over all cells; cached states dropped below a run).
    """
    rng = random.Random(SEED)
    kernel = Kernel("reactive", logs / "reactive-bookkeeping.log")
    try:
        assert kernel.run(SHOT)["content"]["status"] == "ok"
        build_chain(kernel, "e", "u", SHORT_CHAIN)
        for k in range(SIDE):
            side = f"t{k} = u{SHORT_CHAIN - 1 - k} // (u0 % 2)"
            assert kernel.run(side, f"t{k}")["content"]["status"] == "error"  # u0 = 0
        for j in range(BELOW):
            assert kernel.run(f"p{j} = {j}", f"p{j}")["content"]["status"] == "ok"
        kernel.evaluate("_shot.arm(10**12)")
        assert kernel.run("u0 = 1", "e0")["content"]["status"] == "ok"
        lines = kernel.evaluate("_shot.disarm()", n="_shot.count")["n"]
        assert lines > 1000, lines

        sent, missing, broken, landed, ignored = [], [], [], [], []
        for round_, fire_at in enumerate(sorted(rng.sample(range(1, lines), SHOTS)), start=2):
            kernel.evaluate(f"_shot.arm({fire_at})")
            msg_id = kernel.send(f"u0 = {round_}", "e0")
            sent.append(msg_id)
            reply = kernel.wait_reply(msg_id)
            shot = kernel.evaluate("_shot.disarm()", where="_shot.where")["where"]
            if reply is None:
                missing.append((fire_at, shot))
                continue
            if shot is not None:
                landed.append(shot)
                # The request's last step, after its reply went out, lets go of interrupts
                # held meanwhile: one landing there has nothing left to stop.
                after_reply = shot.endswith(" release < execute_request")
                if not after_reply and not interrupted(kernel, msg_id, reply):
                    ignored.append((fire_at, shot))
            try:
                check_chain(kernel, "e", "u", SHORT_CHAIN, round_)
            except AssertionError as error:
                broken.append((fire_at, shot, str(error)[:3000]))
        assert not missing, f"requests with no execute_reply (line, where): {missing}"
        assert not broken, (
            f"{len(broken)} of {SHOTS} interrupts left the graph broken or its marks wrong; "
            f"the first (line, where it landed < callers, what):\n{broken[0][0]}, {broken[0][1]}\n"
            f"{broken[0][2]}\nthe others: {[(line, at) for line, at, _ in broken[1:]]}"
        )
        assert not ignored, f"interrupts that did not stop the cascade (line, where): {ignored}"
        assert len(landed) >= SHOTS // 2, landed  # most shots fired during the request
        where_landed = Counter(at.split(" < ")[0].split()[-1] for at in landed)
        print(f"{len(landed)} shots landed in: {sorted(where_landed.items())}")

        assert kernel.run("x = 1", "fresh")["content"]["status"] == "ok"
        assert kernel.run("u0 = 1001", "e0")["content"]["status"] == "ok"
        assert check_chain(kernel, "e", "u", SHORT_CHAIN, 1001) == 0
        found = kernel.evaluate(
            states="{k: v.state for k, v in get_ipython().kernel.reactive.graph.status().items()}",
            t="[" + ", ".join(f"t{k}" for k in range(SIDE)) + "]",
        )
        assert set(found["states"].values()) == {"ok"}, found["states"]
        assert found["t"] == [1001 + SHORT_CHAIN - 1 - k for k in range(SIDE)]

        kernel.drain(0.5)
        counts = Counter(m["parent_header"].get("msg_id") for m in kernel.shell)
        assert {m: counts[m] for m in sent if counts[m] != 1} == {}
    finally:
        kernel.close()


def restart_while_running(kernel: Kernel, msg_id: str, running: str, pause: float = 0.3) -> int:
    """Restart the kernel ``pause`` seconds after request ``msg_id`` printed ``running``;
    return how many execute_replies the request got."""
    kernel.wait_output(msg_id, running)
    time.sleep(pause)
    kernel.manager.restart_kernel()  # jupyter_client: SIGINT, then shutdown_request, then start
    # The old process is gone: whatever it sent is here or on its way.
    kernel.wait_reply(msg_id, timeout=0.5)
    kernel.client.wait_for_ready(timeout=60)
    kernel.drain(0.5)
    replies = kernel.replies(msg_id)
    assert all(m["msg_type"] == "execute_reply" for m in replies), replies
    return len(replies)


def test_a_restart_during_a_cascade_answers_the_pending_request(logs: Path) -> None:
    """``KernelManager.restart_kernel()`` while a request runs: plain ipykernel, measured here
    on a long cell, and the reactive kernel, on a cascade (a re-run dependent sleeping in its
    code, and a chain of quick cells, where the restart's SIGINT lands between cells). The
    reactive kernel answers the pending request exactly once (plain ipykernel 7.4 loses that
    reply: its shutdown closes the sockets before the interrupted request replies), and the
    restarted kernel serves."""
    plain = Kernel("python3", logs / "python3.log")
    try:
        msg_id = plain.send("import time\nprint('sleeping', flush=True)\ntime.sleep(30)")
        plain_replies = restart_while_running(plain, msg_id, "sleeping")
        assert plain.run("x = 1")["content"]["status"] == "ok"
    finally:
        plain.close()
    assert plain_replies <= 1

    kernel = Kernel("reactive", logs / "reactive-restart.log")
    try:
        reactive_replies = []
        # A re-run dependent sleeping in its own code.
        assert kernel.run("import time")["content"]["status"] == "ok"
        assert kernel.run("x = 1", "a")["content"]["status"] == "ok"
        sleeper = "print('sleeping', flush=True)\ntime.sleep(x * 0.01)\ny = x"
        assert kernel.run(sleeper, "b")["content"]["status"] == "ok"
        assert kernel.run("z = y", "c")["content"]["status"] == "ok"
        msg_id = kernel.send("x = 3000", "a")
        reactive_replies.append(restart_while_running(kernel, msg_id, "sleeping"))
        # A chain of quick cells: the restart's SIGINT lands anywhere in the cascade.
        build_chain(kernel, "d", "w", 80, body="time.sleep(0.002)\n")
        msg_id = kernel.send("w0 = 1", "d0")
        pause = random.Random(SEED).uniform(0.0, 0.2)
        reactive_replies.append(restart_while_running(kernel, msg_id, "↻ re-running", pause))
        # The restarted kernel serves, with a fresh graph.
        assert kernel.run("x = 1", "a")["content"]["status"] == "ok"
        assert kernel.states() == {"a": "ok"}
    finally:
        kernel.close()
    print(f"replies to the pending request after a restart: plain ipykernel {plain_replies}, "
          f"reactive {reactive_replies}")
    assert reactive_replies == [1, 1], reactive_replies
