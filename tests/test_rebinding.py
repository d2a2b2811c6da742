"""What a run bound, rebound or deleted, found without comparing the whole namespace."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reactive_kernel.rebinding import mark, rebound


def _history(n: int) -> dict[str, object]:
    """A namespace like IPython's after ``n`` executions: user names, then history."""
    ns: dict[str, object] = {f"v{i}": [i] for i in range(50)}
    ns.update({f"_i{i}": f"v{i} = ..." for i in range(n)})
    return ns


def _run(ns: dict, candidates: set[str], code: Callable[[dict], None], known=()) -> set[str]:
    before = mark(ns, candidates)
    code(ns)
    ns[f"_i{len(ns)}"] = "the history entry IPython adds for every run"
    return rebound(ns, before, lambda: known) - {n for n in ns if n.startswith("_i")}


def test_a_rebound_candidate_a_new_name_and_a_deleted_candidate() -> None:
    ns = _history(100)

    def code(ns: dict) -> None:
        ns["v1"] = "new object"
        ns["fresh"] = 1
        del ns["v2"]

    assert _run(ns, {"v1", "v2", "fresh"}, code) == {"v1", "fresh", "v2"}


def test_a_name_bound_again_to_the_same_object_is_not_rebound() -> None:
    ns = _history(10)
    same = ns["v3"]
    assert _run(ns, {"v3"}, lambda ns: ns.__setitem__("v3", same)) == set()


def test_a_new_name_outside_the_candidates_is_found_at_the_end() -> None:
    ns = _history(1000)
    assert _run(ns, set(), lambda ns: ns.update(made_by_exec=1)) == {"made_by_exec"}


def test_deleted_and_bound_again_counts_as_bound() -> None:
    ns = _history(10)

    def code(ns: dict) -> None:
        del ns["v4"]
        ns["v4"] = "again"

    assert _run(ns, {"v4"}, code) == {"v4"}


def test_a_deletion_outside_the_candidates_is_found_among_the_known_names() -> None:
    ns = _history(10)
    # Only the size shows it: the known names are then checked.
    assert _run(ns, set(), lambda ns: ns.pop("v7"), known=("v6", "v7", "v8")) == {"v7"}


def test_a_rebinding_outside_the_candidates_is_not_looked_for() -> None:
    """The documented trade-off: rebinding an existing name the cell's source does not show
    (a library writing into ``__main__``) is seen only for candidates."""
    ns = _history(10)
    assert _run(ns, set(), lambda ns: ns.__setitem__("v5", "other")) == set()


@pytest.mark.parametrize("landmarks_deleted", [1, 4])
def test_landmarks_deleted(landmarks_deleted: int) -> None:
    ns = _history(10)
    last = list(ns)[-landmarks_deleted:]

    def code(ns: dict) -> None:
        for key in last:
            del ns[key]
        ns["v1"] = "rebound"
        ns["added"] = 1

    before = mark(ns, {"v1"})
    code(ns)
    found = rebound(ns, before, lambda: ["v1", "v2", *last])
    if landmarks_deleted < 4:  # another landmark is left: exact
        assert found == {"v1", "added", *last}
    else:  # none: candidates and known deletions only, never every name in the namespace
        assert found == {"v1", *last}


def test_an_empty_namespace() -> None:
    ns: dict[str, object] = {}
    before = mark(ns, {"x"})
    ns["x"] = 1
    ns["y"] = 2
    assert rebound(ns, before, lambda: ()) == {"x", "y"}


def test_the_cost_follows_the_run_not_the_namespace() -> None:
    """``known`` is consulted only when a name outside the candidates was deleted."""
    ns = _history(20_000)
    calls = []

    def known() -> list[str]:
        calls.append(1)
        return list(ns)

    before = mark(ns, {"v1"})
    ns["v1"] = 0
    ns["w"] = 1
    assert rebound(ns, before, known) == {"v1", "w"}
    assert calls == []
