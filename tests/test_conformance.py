"""Jupyter protocol conformance of the ``reactive`` kernel (``jupyter_kernel_test``).

The reactive kernel is ipykernel's IPython kernel with a layer around ``do_execute``; these
tests check that nothing of IPython is lost on the wire. The suite runs twice:

* ``ReactiveKernelTests``: execute requests carry no cell id (console, nbclient, papermill),
  the path that runs code as plain IPython;
* ``ReactiveKernelCellIdTests``: every execute request carries ``{"cellId": ...}`` in its
  metadata, as JupyterLab sends it, so every request goes through the dependency graph.

Plus checks of the installed kernelspec and of a few protocol features the base class does
not cover (user_expressions, stdin, silent execution, kernel_info implementation).
"""

from __future__ import annotations

import hashlib
import sys
from queue import Empty

import jupyter_kernel_test as jkt
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_kernel_test.msgspec_v5 import validate_message

from conftest import send_metadata_with_execute

KERNEL_NAME = "reactive"
TIMEOUT = jkt.TIMEOUT


class ReactiveKernelTests(jkt.KernelTests):
    """The standard conformance suite, with IPython's expected answers."""

    kernel_name = KERNEL_NAME

    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import itertools; itertools.chai", "matches": {"chain"}},
    ]

    complete_code_samples = [
        "1",
        "print('hello, world')",
        "def f(x):\n  return x*2\n\n\n",
        "%time 1",
        "!echo hi",
    ]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2", "for i in range(3):"]
    invalid_code_samples = ["import = 7q", "1 +* 2"]

    code_page_something = "zip?"

    code_generate_error = "raise"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
        {"code": "from IPython.display import HTML; HTML('<b>x</b>')", "mime": "text/html"},
    ]

    code_display_data = [
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
        {
            "code": "from IPython.display import Math, display; display(Math('\\frac{1}{2}'))",
            "mime": "text/latex",
        },
        {
            "code": "from IPython.display import Markdown, display; display(Markdown('*md*'))",
            "mime": "text/markdown",
        },
    ]

    # matches "1+2+3" (a code_execute_result sample), as in ipykernel's own conformance test
    code_history_pattern = "1?2*"
    # Not "range": the base test expects a range request for the current session to answer
    # with that session's number, but IPython answers with session 0 ("this session") for
    # lines it serves from memory, for the stock python3 kernel too. ``test_history_range``
    # below checks range requests as IPython answers them.
    supported_history_operations = ("tail", "search")

    code_inspect_sample = "zip"

    code_clear_output = "from IPython.display import clear_output; clear_output()"

    # -- beyond the base class -----------------------------------------------------------

    def test_kernel_info_implementation(self) -> None:
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        validate_message(reply, "kernel_info_reply", msg_id)
        content = reply["content"]
        self.assertEqual(content["implementation"], "reactive_kernel")
        self.assertEqual(content["language_info"]["mimetype"], "text/x-python")
        self.assertEqual(content["language_info"]["pygments_lexer"], "ipython3")
        self.assertEqual(
            content["language_info"]["version"].split(".")[:2],
            [str(v) for v in sys.version_info[:2]],
        )
        self.assertIn("debugger", content["supported_features"])

    def test_user_expressions(self) -> None:
        self.flush_channels()
        msg_id = self.kc.execute(
            "ue_a = 20", user_expressions={"double": "ue_a * 2", "bad": "1/0"}
        )
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        assert reply is not None
        validate_message(reply, "execute_reply", msg_id)
        expressions = reply["content"]["user_expressions"]
        self.assertEqual(expressions["double"]["status"], "ok")
        self.assertEqual(expressions["double"]["data"]["text/plain"], "40")
        self.assertEqual(expressions["bad"]["status"], "error")
        self.assertEqual(expressions["bad"]["ename"], "ZeroDivisionError")

    def test_history_range(self) -> None:
        reply, _ = self.execute_helper("history_marker = 'range-check'")
        count = reply["content"]["execution_count"]
        reply = self.history_helper(
            [], output=False, raw=True, hist_access_type="range", session=0,
            start=count, stop=count + 1,
        )
        self.assertEqual(
            reply["content"]["history"], [[0, count, "history_marker = 'range-check'"]]
        )

    def test_silent_execution(self) -> None:
        """silent=True: no execute_input, no outputs, the execution count does not move."""
        self.flush_channels()
        before, _ = self.execute_helper("1")
        self.flush_channels()
        msg_id = self.kc.execute("silent_x = 5; silent_x", silent=True)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        assert reply is not None
        validate_message(reply, "execute_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        types = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            types.append(msg["msg_type"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        self.assertEqual(types, ["status", "status"])
        after, _ = self.execute_helper("silent_x")
        self.assertEqual(
            after["content"]["execution_count"], before["content"]["execution_count"] + 1
        )

    def test_stdin_input(self) -> None:
        self.flush_channels()
        msg_id = self.kc.execute("answer = input('name? '); print('got', answer)", allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=TIMEOUT)
        # Not validate_message: jupyter_kernel_test 0.7's schema types input_request's
        # ``password`` as a number, while the spec (and every kernel) sends a boolean.
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.assertEqual(request["content"], {"prompt": "name? ", "password": False})
        self.kc.input("reactive")
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        assert reply is not None
        validate_message(reply, "execute_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        text = ""
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except Empty:
                break
            if msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id:
                text += msg["content"]["text"]
        self.assertIn("got reactive", text)

    def test_magics_and_shell(self) -> None:
        self.flush_channels()
        reply, outputs = self.execute_helper("!echo shell-ok\n%time magic_y = 3")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("shell-ok", text)
        self.assertIn("Wall time", text)
        reply, outputs = self.execute_helper("magic_y")
        results = [m for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "3")


def _cell_id(code: str) -> str:
    """The same code is the same cell: re-sending it is re-running that cell."""
    return "cell-" + hashlib.sha1(code.encode()).hexdigest()[:12]


class ReactiveKernelCellIdTests(ReactiveKernelTests):
    """The same suite with a JupyterLab-style ``cellId`` on every execute request."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        send_metadata_with_execute(cls.kc, lambda code: {"cellId": _cell_id(code)})

    def test_graph_tracks_cells(self) -> None:
        """The requests above really went through the graph (``%reactive why`` knows them)."""
        self.flush_channels()
        self.execute_helper("graph_a = 1")
        self.execute_helper("graph_b = graph_a + 1")
        reply, outputs = self.execute_helper("%reactive why all")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("defines: graph_a", text)
        self.assertIn("reads `graph_a` from cell", text)


class ReactiveIopubWelcomeTests(jkt.IopubWelcomeTests):
    """ipykernel 7 sends ``iopub_welcome`` on subscription (JEP 65); so must we."""

    kernel_name = KERNEL_NAME
    support_iopub_welcome = True


def test_kernelspec_installed() -> None:
    specs = KernelSpecManager().get_all_specs()
    assert KERNEL_NAME in specs, sorted(specs)
    spec = specs[KERNEL_NAME]["spec"]
    assert spec["display_name"] == "Python 3 (reactive)"
    assert spec["language"] == "python"
    argv = spec["argv"]
    assert any(argv[i : i + 2] == ["-m", "reactive_kernel"] for i in range(len(argv))), argv
    assert "{connection_file}" in argv
    assert spec["metadata"]["debugger"] is True
