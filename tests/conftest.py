"""Fixtures: real reactive kernels over ZMQ, driven like JupyterLab drives them."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_client.manager import KernelManager, start_new_kernel

TIMEOUT = 60


def execute_content(code: str, **content: Any) -> dict[str, Any]:
    """An execute_request's content, as JupyterLab sends it (``content`` overrides)."""
    return {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
        **content,
    }


def send_execute(
    client: Any, code: str, metadata: dict[str, Any] | None = None, **content: Any
) -> str:
    """Send an execute_request with the given metadata (jupyter_client's ``execute`` sends
    none); return its msg_id."""
    body = execute_content(code, **content)
    msg = client.session.msg("execute_request", body, metadata=metadata or {})
    client.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def send_metadata_with_execute(client: Any, metadata_for: Callable[[str], dict[str, Any]]) -> None:
    """Make ``client.execute`` (used by nbclient and jupyter_kernel_test) send the metadata
    JupyterLab sends, e.g. ``cellId``."""

    def execute(
        code: str,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool | None = None,
        stop_on_error: bool = True,
    ) -> str:
        return send_execute(
            client,
            code,
            metadata_for(code),
            silent=silent,
            store_history=store_history,
            user_expressions=user_expressions or {},
            allow_stdin=client.allow_stdin if allow_stdin is None else allow_stdin,
            stop_on_error=stop_on_error,
        )

    client.execute = execute


@dataclass
class Result:
    """What one execute_request produced."""

    reply: dict[str, Any]
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.reply["status"]

    @property
    def text(self) -> str:
        """stdout and plain-text results, concatenated."""
        parts = []
        for msg in self.outputs:
            if msg["msg_type"] == "stream":
                parts.append(msg["content"]["text"])
            elif msg["msg_type"] in ("execute_result", "display_data"):
                parts.append(msg["content"]["data"].get("text/plain", "") + "\n")
        return "".join(parts)

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.outputs
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.outputs if m["msg_type"] == "error"]

    @property
    def error(self) -> tuple[str, str] | None:
        for msg in self.outputs:
            if msg["msg_type"] == "error":
                return msg["content"]["ename"], msg["content"]["evalue"]
        return None


class Notebook:
    """A client that sends cells the way JupyterLab does: with ``cellId`` metadata."""

    def __init__(self, manager: KernelManager, client: Any) -> None:
        self.manager = manager
        self.client = client
        self._deleted: list[str] = []
        self.comm_inbox: list[dict[str, Any]] = []  # comm messages seen while collecting

    def run(self, cell_id: str | None, code: str, **metadata: Any) -> Result:
        """Execute ``code`` as cell ``cell_id`` (None: no cell id, like nbclient/console)."""
        meta = dict(metadata)
        if cell_id is not None:
            meta["cellId"] = cell_id
        if self._deleted:
            meta["deletedCells"], self._deleted = self._deleted, []
        return self.request(code, meta)

    def request(self, code: str, metadata: dict[str, Any], **content: Any) -> Result:
        return self.collect(send_execute(self.client, code, metadata, **content))

    def collect(self, msg_id: str) -> Result:
        outputs = []
        while True:
            msg = self.client.get_iopub_msg(timeout=TIMEOUT)
            if msg["msg_type"] == "comm_msg":
                self.comm_inbox.append(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] in (
                "stream", "execute_result", "display_data", "update_display_data", "error"
            ):
                outputs.append(msg)
        while True:
            reply = self.client.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return Result(reply["content"], outputs)

    def delete(self, *cell_ids: str) -> None:
        """Delete cells: JupyterLab reports them with the next execute_request."""
        self._deleted.extend(cell_ids)

    def value(self, expression: str) -> Any:
        """Evaluate an expression in the kernel without running a cell; literal_eval its repr."""
        result = self.request("", {}, silent=True, user_expressions={"v": expression})
        data = result.reply["user_expressions"]["v"]
        assert data["status"] == "ok", data
        return ast.literal_eval(data["data"]["text/plain"])

    def defined(self, name: str) -> bool:
        return self.value(f"{name!r} in get_ipython().user_ns")

    def states(self) -> dict[str, str]:
        """The kernel's view: cell id -> state."""
        return self.value(
            "{k: v.state for k, v in get_ipython().kernel.reactive.graph.status().items()}"
        )


def start(kernel_name: str = "reactive", extra_arguments: list[str] | None = None) -> Notebook:
    manager, client = start_new_kernel(
        kernel_name=kernel_name, extra_arguments=extra_arguments or []
    )
    return Notebook(manager, client)


def stop(notebook: Notebook) -> None:
    notebook.client.stop_channels()
    notebook.manager.shutdown_kernel(now=True)


@pytest.fixture
def nb() -> Iterator[Notebook]:
    notebook = start()
    yield notebook
    stop(notebook)
