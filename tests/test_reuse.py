"""The pure layers behind early cutoff and kept values, without a kernel: the graph's
``keep_dependents`` and ``plan_rest``, ``kept.KeptValues`` and ``cutoff.Before``/``Digests``.
"""

from __future__ import annotations

import numpy as np

from reactive_kernel import cutoff, kept
from reactive_kernel.analysis import analyse
from reactive_kernel.graph import Graph


def ran(graph: Graph, *cells: tuple[str, str]) -> Graph:
    """Run ``cells`` (id, source) in order, each binding what its source defines."""
    for cell_id, source in cells:
        analysis = analyse(source)
        graph.set_source(cell_id, source, analysis)
        graph.record_run(cell_id, ok=True, bound=analysis.defines)
    return graph


def states(graph: Graph) -> dict[str, str]:
    return {cid: status.state for cid, status in graph.status().items()}


def test_keep_dependents_leaves_the_readers_up_to_date() -> None:
    graph = ran(Graph(), ("a", "x = 1"), ("b", "y = x + 1"), ("c", "z = y + 1"))
    previous = graph.cells["a"].version
    ran(graph, ("a", "x = 1"))
    assert states(graph) == {"a": "ok", "b": "stale", "c": "stale"}
    graph.keep_dependents("a", previous, {"x": previous})
    assert states(graph) == {"a": "ok", "b": "ok", "c": "ok"}
    assert graph.status()["a"].reason == "re-ran, values unchanged: dependents kept"
    assert graph.writer["x"] == graph.cells["a"].version
    assert not graph.out_of_date()


def test_keep_dependents_puts_back_a_later_cells_writer() -> None:
    """`x` changed in place by cell m after cell a made it: a's re-run to an equal value
    keeps m's value and m as its writer; m stays up to date."""
    graph = ran(Graph(), ("a", "x = [1]"), ("m", "x.append(2)"), ("r", "n = len(x)"))
    previous, changer = graph.cells["a"].version, graph.cells["m"].version
    assert graph.writer["x"] == changer
    ran(graph, ("a", "x = [1]"))
    graph.keep_dependents("a", previous, {"x": changer})
    assert graph.writer["x"] == changer
    assert states(graph) == {"a": "ok", "m": "ok", "r": "ok"}


def test_plan_rest_drops_the_pulls_of_spared_dependents() -> None:
    """A plan for `a` also ran `rep` (pulled for `app`, which changes `reports` in place);
    once `a` cut off, neither is needed."""
    graph = ran(
        Graph(),
        ("a", "df = 1"),
        ("rep", "reports = []"),
        ("app", "reports.append(df)"),
    )
    previous = graph.cells["a"].version
    graph.set_source("a", "df = 1", analyse("df = 1"))
    plan = graph.plan("a", auto=True)
    assert plan.cells == ("a", "rep", "app") and plan.pulled == ("rep",)
    ran(graph, ("a", "df = 1"))
    graph.keep_dependents("a", previous, {"df": previous})
    assert graph.plan_rest(plan.cells[1:], target=None, auto=True).cells == ()
    # still needed: a cell made stale by something else
    graph.cells["app"].note = "changed outside"
    graph._changed()
    assert graph.plan_rest(plan.cells[1:], target=None, auto=True).cells == ("rep", "app")


def test_kept_values_are_dropped_when_changed_and_bounded_by_their_budget() -> None:
    store = kept.KeptValues(max_bytes=3 * 8000 + 2000)
    ns: dict = {"a": np.zeros(1000), "b": np.ones(1000)}
    noted = store.note(ns, {"a": ("c1", 1), "b": ("c2", 1)})
    old_a, old_b = ns["a"], ns["b"]
    ns["a"], ns["b"] = np.zeros(3), np.ones(3)  # the run rebound both
    store.keep(noted, ns)
    assert ("a", ("c1", 1)) in store and ("b", ("c2", 1)) in store
    assert store.get("a", ("c1", 1)) == (True, old_a)
    old_b[0] = 5  # changed through another reference: not the value kept any more
    assert store.get("b", ("c2", 1)) == (False, None) and len(store) == 1
    for i in range(3):  # over budget: the least recently used go first
        store.keep_now(f"n{i}", ("c", i), np.zeros(1000))
    assert ("a", ("c1", 1)) not in store and store.size <= store.max_bytes
    assert ("n1", ("c", 1)) in store
    store.forget(("c", 1))  # cell c re-ran: what its run 1 wrote goes, the rest stays
    assert ("n1", ("c", 1)) not in store and ("n2", ("c", 2)) in store
    store.forget_cells(["c"])  # deleted
    assert len(store) == 0 and store.size == 0


def test_a_value_changed_by_the_run_before_it_rebound_the_name_is_not_kept() -> None:
    store = kept.KeptValues()
    ns: dict = {"x": [1, 2]}
    noted = store.note(ns, {"x": ("c1", 1)})
    ns["x"].append(3)
    ns["x"] = [0]
    store.keep(noted, ns)
    assert len(store) == 0


def test_lend_binds_the_kept_value_and_take_back_restores_the_later_binding() -> None:
    store = kept.KeptValues()
    early, later = [1, 2, 3], [9]
    store.keep_now("x", ("w", 1), early)
    ns: dict = {"x": later}
    lent = store.lend(ns, {"x": ("w", 1)}, {"x": ("d", 2)})
    assert lent is not None and lent.values == {"x": early} and ns["x"] is later
    ns.update(lent.values)
    assert store.take_back(lent, ns, "r") == {"x": ("d", 2)} and ns["x"] is later
    early.append(4)  # changed since: it cannot be lent
    assert store.lend(ns, {"x": ("w", 1)}, {"x": ("d", 2)}) is None and ns["x"] is later


def test_before_compares_the_previous_values_and_digests_keep_only_pure_values() -> None:
    before = cutoff.Before.taken({"a": [1, 2.5]}, {"a": ("c", 1)}, {}, {}, 1 << 20)
    assert before is not None
    assert before.same({"a": [1, 2.5]}) and not before.same({"a": [1, 2.5, 3]})
    assert not before.same({})
    digests = cutoff.Digests()
    digests.note("a", ("c", 1), [1, 2.5], 1 << 20)
    digests.note("m", ("c", 1), np, 1 << 20)  # a module: named by identity, not stored
    assert digests.get("a", ("c", 1)) is not None and digests.get("m", ("c", 1)) is None
