"""The reactive guarantees, each shown through a real kernel over ZMQ with JupyterLab metadata."""

from __future__ import annotations

import re
import time

from conftest import Notebook, send_execute, start, stop


def test_dependents_rerun_in_auto_mode(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "print('z is', y * 10)")
    result = nb.run("a", "x = 5")
    assert result.status == "ok"
    assert nb.value("y") == 6
    # each re-run is announced, then its own output follows
    assert "↻ re-running cell 2 · y = x" in result.text
    assert "z is 60" in result.text
    assert result.text.index("cell 2 · ") < result.text.index("cell 3 · ")
    assert set(nb.states().values()) == {"ok"}


def test_top_level_await_and_tracebacks_are_ipythons(nb: Notebook) -> None:
    """IPython runs the tree the analysis parsed and is spared its async check for cells
    without ``await``: a top-level ``await`` still runs as a coroutine (and re-runs as a
    dependent), and a traceback still points at the line that failed."""
    nb.run("a", "import asyncio\nx = 2")
    nb.run("b", "y = await asyncio.sleep(0, result=x * 10)")
    assert nb.value("y") == 20
    nb.run("a", "import asyncio\nx = 3")
    assert nb.value("y") == 30
    failed = nb.run("c", "z = 1\n\nz = y / 0")
    assert failed.status == "error"
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(failed.reply["traceback"]))
    assert "----> 3 z = y / 0" in traceback, traceback


def test_lazy_mode_marks_stale_and_pulls_before_running(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y * 10")
    nb.run("a", "x = 2")
    assert nb.value("y") == 2  # not re-run
    assert nb.states() == {"a": "ok", "b": "stale", "c": "stale"}
    status = nb.run(None, "%reactive").text
    assert "cell 2 · y = x + 1: stale — reads `x` from cell 1 · x = 2, which changed" in status
    assert "cell 3 · z = y * 10: stale — reads `y` from cell 2 · y = x + 1, which is stale" in status
    # running the last cell first runs its stale inputs, in notebook order
    result = nb.run("c", "z = y * 10")
    assert "↻ re-running cell 2 · y = x + 1 first" in result.text
    assert nb.value("z") == 30
    assert set(nb.states().values()) == {"ok"}


def test_off_mode_is_plain_ipykernel(nb: Notebook) -> None:
    nb.run(None, "%reactive off")
    nb.run("a", "x = 1")
    nb.run("b", "x = x + 1")
    nb.run("b", "x = x + 1")
    nb.run("c", "print(undefined_later)")
    nb.run("a", "x = 10")
    assert nb.value("x") == 10  # nothing re-ran, nothing pulled
    assert nb.run(None, "%reactive").text.startswith("reactive mode: off")


def test_mode_from_traitlets_config() -> None:
    notebook = start(extra_arguments=["--ReactiveKernel.mode=lazy"])
    try:
        assert notebook.run(None, "%reactive").text.startswith("reactive mode: lazy")
        notebook.run("a", "x = 1")
        notebook.run("b", "y = x")
        notebook.run("a", "x = 2")
        assert notebook.value("y") == 1
    finally:
        stop(notebook)


def test_deleted_cell_removes_its_names_and_blocks_readers(nb: Notebook) -> None:
    nb.run("a", "model = 'fitted'")
    nb.run("b", "score = len(model)")
    nb.run("c", "other = 1")
    nb.delete("a")
    nb.run("c", "other = 2")  # the deletion arrives with the next request
    assert not nb.defined("model")
    assert nb.states()["b"] == "blocked"
    result = nb.run("b", "score = len(model)")
    assert result.status == "error"
    assert result.error is not None
    ename, evalue = result.error
    assert ename == "BlockedCellError"
    assert "`model`" in evalue and "deleted" in evalue
    assert result.reply["ename"] == "BlockedCellError"


def test_deleting_one_of_two_definers_keeps_the_name(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run("b", "x = 2")
    nb.run("c", "y = x")
    nb.delete("b")
    nb.run(None, "pass")
    # x and y held the deleted cell's value: auto mode re-ran the cells a fresh run runs
    assert nb.value("x") == 1 and nb.value("y") == 1
    assert nb.states() == {"a": "ok", "c": "ok"}
    nb.run("c", "y = x")
    assert nb.value("y") == 1


def test_edited_cell_drops_names_it_no_longer_defines(nb: Notebook) -> None:
    nb.run("a", "old_name = 1\nkeep = 2")
    nb.run("b", "total = old_name + keep")
    nb.run("a", "keep = 3")
    assert not nb.defined("old_name")
    assert nb.states()["b"] == "blocked"
    result = nb.run("b", "total = old_name + keep")
    assert result.error is not None and "no longer defines" in result.error[1]


def test_failing_cell_leaves_no_old_value_behind(nb: Notebook) -> None:
    nb.run("a", "data = [1, 2, 3]")
    result = nb.run("a", "data = 1 / 0")
    assert result.status == "error"
    assert not nb.defined("data")


def test_out_of_order_read_is_blocked_and_not_run(nb: Notebook) -> None:
    nb.run("a", "side_effects = []")
    nb.run("b", "side_effects.append('ran')\nresult = later + 1")  # NameError: plain failure
    nb.run("c", "later = 41")
    result = nb.run("b", "side_effects.append('ran')\nresult = later + 1")
    assert result.status == "error"
    assert result.error is not None
    assert "`later` is defined only below it, in cell 3 · later = 41" in result.error[1]
    assert "restart-and-run-all would fail here" in result.error[1]
    assert not nb.defined("result")


def test_rerunning_self_referencing_cell_is_idempotent(nb: Notebook) -> None:
    nb.run("a", "x = 100")
    for _ in range(10):
        nb.run("b", "x = x + 1")
    assert nb.value("x") == 101
    nb.run("c", "items = []")
    for _ in range(3):
        nb.run("d", "items.append(len(items))")
    assert nb.value("items") == [0]


def test_redefinition_chains_work(nb: Notebook) -> None:
    nb.run("a", "df = [3, None, 1, None]")
    nb.run("b", "df = [v for v in df if v is not None]")
    nb.run("c", "df = sorted(df)")
    nb.run("d", "first = df[0]")
    nb.run("a", "df = [9, None, 7]")
    assert nb.value("df") == [7, 9]
    assert nb.value("first") == 7
    # re-running the middle of the chain gives what a top-to-bottom run gives
    nb.run("b", "df = [v for v in df if v is not None]")
    assert nb.value("df") == [7, 9]


def test_functions_read_globals_where_they_are_called(nb: Notebook) -> None:
    nb.run("a", "def scale(v):\n    return v * factor")
    nb.run("b", "factor = 2")
    nb.run("c", "out = scale(10)")
    assert nb.value("out") == 20
    nb.run("b", "factor = 3")  # the function's cell did not change; its caller re-runs
    assert nb.value("out") == 30
    assert nb.states()["a"] == "ok"  # reading `factor` in a body is not an out-of-order read


def test_mutation_counts_as_definition_but_not_for_modules(nb: Notebook) -> None:
    nb.run("a", "import json\nrows = []")
    nb.run("b", "rows.append({'n': 1})")
    nb.run("c", "json.dumps(rows)")
    nb.run("d", "count = len(rows)")
    definers = nb.value(
        "sorted(get_ipython().kernel.reactive.graph.cells['c'].defines)"
    )
    assert definers == []  # json.dumps(...) does not redefine the module json
    assert nb.value("sorted(get_ipython().kernel.reactive.graph.cells['b'].defines)") == ["rows"]
    nb.run("a", "import json\nrows = [{'n': 0}]")
    assert nb.value("count") == 2


def test_dynamic_definitions_are_learnt_from_the_namespace(nb: Notebook) -> None:
    nb.run("a", "exec('hidden = 5')")
    nb.run("b", "seen = hidden * 2")
    nb.run("a", "exec('hidden = 7')")
    assert nb.value("seen") == 14
    nb.run("c", "globals()['via_globals'] = 1")
    nb.run("d", "copy = via_globals")
    nb.run("c", "globals()['via_globals'] = 2")
    assert nb.value("copy") == 2


def test_a_global_assigned_by_a_function_of_another_cell_is_seen(nb: Notebook) -> None:
    """The kernel compares identities only of the names a run may rebind (not the whole
    namespace): those include the globals any notebook function assigns."""
    nb.run("a", "def bump():\n    global counter\n    counter = counter + 1")
    nb.run("b", "counter = 0")
    nb.run("c", "bump()")
    nb.run("d", "seen = counter")
    assert nb.value("seen") == 1
    assert "counter" in nb.value("sorted(get_ipython().kernel.reactive.graph.cells['c'].defines)")
    nb.run("b", "counter = 10")  # c and d re-run: d reads what c's call of bump() bound
    assert nb.value("seen") == 11


def test_names_bound_through_sys_modules_are_seen(nb: Notebook) -> None:
    nb.run("a", "import sys")
    nb.run("b", "sys.modules['__main__'].planted = 3")
    nb.run("c", "copy = planted")
    nb.run("b", "sys.modules['__main__'].planted = 4")
    assert nb.value("copy") == 4


def test_error_stops_its_dependents_as_a_fresh_run_would(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run("b", "y = 10 // x")
    nb.run("c", "z = y + 1")
    result = nb.run("a", "x = 0")
    assert result.status == "ok"  # the requested cell ran fine
    errors = {m["content"]["ename"]: m["content"]["evalue"] for m in result.outputs if m["msg_type"] == "error"}
    assert "ZeroDivisionError" in errors
    # c cannot run: a fresh run has no y (b failed before binding it), so no z either
    assert "cell 2 · y = 10 // x failed before binding it" in errors["UpstreamFailedError"]
    states = nb.states()
    assert states["b"] == "error" and states["c"] == "upstream-error"
    assert not nb.defined("y") and not nb.defined("z")


def test_interrupt_stops_the_cascade(nb: Notebook) -> None:
    nb.run(None, "import time")
    nb.run("a", "x = 1")
    nb.run("b", "time.sleep(x * 0.01)\ny = x")
    nb.run("c", "z = y")
    msg = nb.client.session.msg(
        "execute_request",
        {"code": "x = 3000", "silent": False, "store_history": True, "user_expressions": {},
         "allow_stdin": False, "stop_on_error": True},
        metadata={"cellId": "a"},
    )
    nb.client.shell_channel.send(msg)
    queued = send_execute(nb.client, "w = 1", {"cellId": "d"})  # as Run All queues the rest
    time.sleep(1.5)  # cell b is now sleeping for 30 s
    nb.manager.interrupt_kernel()
    result = nb.collect(msg["header"]["msg_id"])
    assert "KeyboardInterrupt" in {m["content"]["ename"] for m in result.outputs if m["msg_type"] == "error"}
    # The request was interrupted: its reply says so, and what was queued behind it is
    # aborted, as when plain IPython is interrupted.
    assert result.status == "error" and result.reply["ename"] == "KeyboardInterrupt"
    while (reply := nb.client.get_shell_msg(timeout=30))["parent_header"]["msg_id"] != queued:
        pass
    assert reply["content"]["status"] == "aborted" and not nb.defined("w")
    states = nb.states()
    assert states["a"] == "ok" and states["b"] == "error" and states["c"] != "ok"
    assert not nb.defined("z")  # it read the y that the interrupted cell did not bind


def test_syntax_error_is_reported_as_in_ipython(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    result = nb.run("b", "y = (x +")
    assert result.status == "error"
    assert result.reply["ename"] == "SyntaxError"
    assert nb.run("c", "print(x)").text == "1\n"  # the kernel goes on


def test_internal_failure_falls_back_to_plain_ipython(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run(None, "get_ipython().kernel.reactive.graph.plan = None")  # break the planner
    first = nb.run("b", "y = x + 1")
    assert first.status == "ok" and nb.value("y") == 2
    warnings = [m for m in first.outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
    assert any("internal error" in m["content"]["text"] for m in warnings)
    second = nb.run("c", "z = y + 1")
    assert second.status == "ok" and nb.value("z") == 3
    assert not any(m["msg_type"] == "stream" and m["content"]["name"] == "stderr" for m in second.outputs)


def test_malformed_metadata_is_ignored_safely(nb: Notebook) -> None:
    result = nb.request("x = 1", {"cellId": 42, "deletedCells": "nonsense", "reactive": "x"})
    assert result.status == "ok" and nb.value("x") == 1


def test_anonymous_execution_runs_plainly_but_marks_readers_stale(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", "x = 1")
    nb.run("b", "y = x * 2")
    nb.run(None, "x = 50")  # a console or papermill run: no cell id
    assert nb.value("x") == 50
    states = nb.states()
    assert set(states) == {"a", "b"}
    assert states["a"] == "stale"  # its x was overwritten outside the notebook
    assert states["b"] == "stale"
    nb.run("b", "y = x * 2")  # pulls cell a: the notebook's own x
    assert nb.value("y") == 2


def test_manual_cell_is_not_run_automatically(nb: Notebook) -> None:
    nb.run("a", "n = 1")
    nb.run("b", "# reactive: manual\nexpensive = n * 100")
    nb.run("c", "report = expensive + 1")
    nb.run("a", "n = 2")
    assert nb.value("expensive") == 100
    states = nb.states()
    assert states["b"] == "stale" and states["c"] == "stale"
    result = nb.run("c", "report = expensive + 1")
    assert result.error is not None and "run manually" in result.error[1]
    nb.run("b", "# reactive: manual\nexpensive = n * 100")  # running it directly works
    assert nb.value("report") == 201


def test_cell_magics_run_as_code(nb: Notebook) -> None:
    nb.run("a", "base = 2")
    nb.run("b", "%%time\nsquared = base ** 2")
    nb.run("c", "%%capture captured\nprint(squared)")
    nb.run("a", "base = 3")
    assert nb.value("squared") == 9
    assert nb.value("captured.stdout") == "9\n"


def test_reactive_graph_and_why(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    graph = nb.run(None, "%reactive graph")
    data = [m["content"]["data"] for m in graph.outputs if m["msg_type"] == "display_data"][0]
    assert data["text/vnd.mermaid"].startswith("flowchart TD")
    assert "-> cell 2 · y = x + 1: x" in data["text/plain"]
    why = nb.run(None, "%reactive why 2").text
    assert "reads `x` from cell 1 · x = 1" in why
    assert nb.run(None, "%reactive bogus").status == "error"


def test_load_ext_makes_a_stock_ipykernel_reactive() -> None:
    notebook = start("python3")
    try:
        notebook.run(None, "%load_ext reactive_kernel")
        notebook.run("a", "x = 1")
        notebook.run("b", "y = x + 1")
        notebook.run("a", "x = 5")
        assert notebook.value("y") == 6
    finally:
        stop(notebook)


def test_switching_to_auto_makes_the_notebook_consistent_at_once() -> None:
    """Cells left stale in lazy mode run in the request that switches to auto."""
    nb = start(extra_arguments=["--ReactiveKernel.mode=lazy"])
    try:
        nb.run("a", "x = 1")
        nb.run("b", "y = x * 10")
        nb.run("a", "x = 2")
        assert nb.states()["b"] == "stale" and nb.value("y") == 10
        result = nb.run("m", "%reactive auto")
        assert "↻ re-running cell 2 · y = x" in result.text
        assert nb.value("y") == 20 and set(nb.states().values()) == {"ok"}
    finally:
        stop(nb)


def test_a_cell_the_analysis_cannot_read_is_never_shown_up_to_date(nb: Notebook) -> None:
    """A sum of 2,000 terms runs in Python but is nested too deeply for the analysis: the cell
    and its reader are marked untracked with the reason, before and after an edit of what it
    reads (it used to be left out of the graph, its reader shown ok with old values)."""
    long = "s_long = " + " + ".join(["one"] * 2000)
    for cell_id, code in (("one", "one = 1"), ("long", long), ("dep", "s_dep = s_long * 2")):
        assert nb.run(cell_id, code).status == "ok"
    nb.run("one", "one = 2")
    states = nb.states()
    assert states["long"] == "untracked" and states["dep"] == "untracked"
    assert states["one"] == "ok"
    why = nb.run("why", "%reactive").text
    assert "cannot analyse this cell: its expressions are nested too deeply" in why
    assert "reads `s_dep`" not in why and "reads `s_long` from cell" in why
    assert nb.run("long", long).status == "ok" and nb.value("s_long") == 4000
    assert nb.states()["dep"] == "untracked"


def test_a_builtin_a_cell_below_redefines_is_the_builtin_above(nb: Notebook) -> None:
    """A fresh run gives the cell above the builtin: it is neither blocked nor handed the
    value of the cell below, and that value is still there afterwards."""
    nb.run("a", "total = sum([1, 2])")
    nb.run("b", "def sum(values):\n    return 'mine'")
    assert nb.states() == {"a": "ok", "b": "ok"}
    assert nb.run("a", "total = sum([1, 2])").status == "ok"
    assert nb.value("total") == 3 and nb.value("sum(1)") == "mine"
    assert "sum" not in nb.value("sorted(get_ipython().kernel.reactive.graph.cells['a'].defines)")
