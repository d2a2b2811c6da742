"""The comm protocol's schema and limits, checked without a kernel (``protocol.validate``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reactive_kernel import protocol


@pytest.mark.parametrize(
    "data",
    [
        {"type": "sync", "cells": []},
        {"type": "update"},
        {"type": "update", "cells": [{"id": "a", "source": "", "manual": True}], "order": ["a"]},
        {"type": "delete", "cells": ["a"]},
        {"type": "mode", "mode": "lazy"},
        {"type": "plan", "cell": "a", "request": {"any": ["json", 1, None]}},
        {"type": "run_stale"},
        {"type": "state"},
    ],
)
def test_valid_messages_pass(data: dict[str, Any]) -> None:
    assert protocol.validate(data) is data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (None, "JSON object"),
        ({"type": "launch"}, "unknown message type"),
        ({"type": "sync"}, "sync: the message: must contain ['cells'] properties"),
        ({"type": "sync", "cells": [{"id": "a"}]}, "cells/0: must contain ['source'] properties"),
        ({"type": "update", "deleted": "a"}, "update: deleted: must be array"),
        ({"type": "update", "cells": [{"id": "", "source": ""}]}, "cells/0/id: must be longer"),
        ({"type": "mode", "mode": "fast"}, "mode: mode: must be one of"),
        ({"type": "delete", "cells": ["a"] * (protocol.MAX_CELLS + 1)}, "cells: "),
        ({"type": "state", "request": "x" * (protocol.MAX_REQUEST + 1)}, "more than 65536"),
    ],
)
def test_invalid_messages_say_what_is_wrong(data: Any, problem: str) -> None:
    with pytest.raises(protocol.InvalidMessage, match=re.escape(problem)):
        protocol.validate(data)


def test_a_request_too_deep_to_encode_is_refused_and_not_echoed() -> None:
    deep: Any = 0
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(protocol.InvalidMessage, match="nested too deeply"):
        protocol.validate({"type": "run_stale", "request": deep})
    assert protocol.request_of({"type": "run_stale", "request": deep}) is None
