"""Fuzzing the ``reactive_kernel`` comm over ZMQ (hypothesis, fixed seed).

Random messages, valid and not, with code planted in every string (code that would create a
file): the kernel answers every one, an invalid one changes nothing, and the planted code never
runs — sources and fields are data, never executed.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import Notebook
from reactive_kernel import protocol
from test_frontend import Comm

PLANTED = Path(f"/tmp/reactive-kernel-fuzz-{os.getpid()}")
CODE = f"__import__('pathlib').Path({str(PLANTED)!r}).touch()"

texts = st.one_of(
    st.just(CODE),
    st.just(f"x = 1\n{CODE}"),
    st.just(f"%%bash\ntouch {PLANTED}"),
    st.sampled_from(["a", "b", "c", "", "x" * 300]),
    st.text(max_size=20),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
cells = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "b", "c"]) | texts, "source": texts},
        optional={"manual": st.booleans() | texts},
    ),
    max_size=4,
)
ids = st.lists(st.sampled_from(["a", "b", "c"]) | texts, max_size=4)
messages = st.one_of(
    st.fixed_dictionaries({"type": st.just("sync"), "cells": cells | json_values}),
    st.fixed_dictionaries(
        {"type": st.just("update")},
        optional={"cells": cells, "order": ids | json_values, "deleted": ids},
    ),
    st.fixed_dictionaries({"type": st.just("delete"), "cells": ids | json_values}),
    st.fixed_dictionaries(
        {"type": st.just("mode"), "mode": st.sampled_from(["auto", "lazy"]) | texts}
    ),
    st.fixed_dictionaries(
        {"type": st.just("plan"), "cell": st.sampled_from(["a", "b"]) | texts},
        optional={"request": json_values},
    ),
    st.fixed_dictionaries({"type": st.just("run_stale")}, optional={"request": json_values}),
    st.dictionaries(texts, json_values, max_size=3),
    json_values,
)


@pytest.fixture(scope="module")
def fuzzed() -> Any:
    from conftest import start, stop

    notebook = start()
    comm = Comm(notebook.client, notebook.comm_inbox)
    comm.receive("state")
    yield notebook, comm
    stop(notebook)
    PLANTED.unlink(missing_ok=True)


_pings = itertools.count()


def _cells_now(comm: Comm) -> dict[str, Any]:
    comm.drain()
    comm.send({"type": "state"})
    return {cid: cell["state"] for cid, cell in comm.receive("state")["cells"].items()}


@seed(20261201)
@settings(
    max_examples=int(os.environ.get("REACTIVE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(message=messages)
def test_the_comm_answers_everything_and_never_runs_its_data(
    fuzzed: tuple[Notebook, Comm], message: Any
) -> None:
    notebook, comm = fuzzed
    notebook.run("k", "kept = 42")  # (a valid sync before may have deleted it)
    try:
        protocol.validate(message)
        valid = True
    except protocol.InvalidMessage:
        valid = False
    before = _cells_now(comm)
    comm.send(message)
    ping = next(_pings)
    comm.send({"type": "run_stale", "request": f"ping {ping}"})
    while True:  # the kernel answered the message (in order) and then the ping
        answer = comm.receive("run")
        if answer.get("request") == f"ping {ping}":
            break
    if not valid:
        assert _cells_now(comm) == before, message
        assert notebook.value("kept") == 42
    assert not PLANTED.exists(), f"planted code ran: {message!r}"
