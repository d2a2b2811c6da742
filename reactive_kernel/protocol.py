"""The frontend → kernel messages of the ``reactive_kernel`` comm: their schema and limits.

Every message is checked against the schema of its ``type`` before it touches any state, so a
request is applied completely or not at all (docs/protocol.md lists the same limits). The
schemas are compiled by ``fastjsonschema`` (JSON Schema draft 7): ``jsonschema`` would add
about 22 MiB to every kernel's memory for the same checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any


MAX_ID = 256  # characters in a cell id
MAX_SOURCE = 1_000_000  # characters in a cell's source
MAX_CELLS = 20_000  # cells (or ids) in one message
MAX_REQUEST = 65_536  # bytes of the JSON of a ``request`` field, echoed back in answers

_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID}
_IDS = {"type": "array", "items": _ID, "maxItems": MAX_CELLS}
_CELLS = {
    "type": "array",
    "maxItems": MAX_CELLS,
    "items": {
        "type": "object",
        "required": ["id", "source"],
        "properties": {
            "id": _ID,
            "source": {"type": "string", "maxLength": MAX_SOURCE},
            "manual": {"type": "boolean"},
        },
    },
}


def _message(kind: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "required": ["type", *required],
        "properties": {"type": {"const": kind}, "request": {}, **properties},
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "sync": _message("sync", {"cells": _CELLS, "order": _IDS}, ("cells",)),
    "update": _message("update", {"cells": _CELLS, "order": _IDS, "deleted": _IDS}),
    "delete": _message("delete", {"cells": _IDS, "converted": _IDS}, ("cells",)),
    "mode": _message("mode", {"mode": {"enum": ["auto", "lazy", "off"]}}, ("mode",)),
    "plan": _message("plan", {"cell": _ID}, ("cell",)),
    "run_stale": _message("run_stale", {}),
    "state": _message("state", {}),
}


@lru_cache(maxsize=1)
def _validators() -> dict[str, Callable[[Any], Any]]:
    """Compiled on the first message: a kernel no reactive frontend talks to never needs
    them (0.8 MiB)."""
    import fastjsonschema

    return {kind: fastjsonschema.compile(schema) for kind, schema in SCHEMAS.items()}


class InvalidMessage(ValueError):
    """A comm message that does not follow the protocol; nothing of it was applied."""


def validate(data: Any) -> dict[str, Any]:
    """``data`` if it is a valid message, else ``InvalidMessage`` naming the problem."""
    if not isinstance(data, dict):
        raise InvalidMessage("a message must be a JSON object")
    kind = data.get("type")
    validator = _validators().get(kind) if isinstance(kind, str) else None
    if validator is None:
        raise InvalidMessage(f"unknown message type {str(kind)[:40]!r}")
    from fastjsonschema import JsonSchemaValueException

    try:
        validator(data)
    except JsonSchemaValueException as error:
        where = "/".join(str(part) for part in error.path[1:]) or "the message"
        what = error.message.removeprefix(error.name).strip()
        raise InvalidMessage(f"{kind}: {where}: {_short(what)}") from None
    if "request" in data:
        try:
            size = len(json.dumps(data["request"]))
        except (RecursionError, ValueError, TypeError):
            raise InvalidMessage(f"{kind}: request: not plain JSON, or nested too deeply") from None
        if size > MAX_REQUEST:
            raise InvalidMessage(f"{kind}: request: {size} bytes, more than {MAX_REQUEST}")
    return data


def request_of(data: Any) -> Any:
    """The ``request`` field to echo in an answer, if it can be echoed safely."""
    if not isinstance(data, dict) or "request" not in data:
        return None
    try:
        return data["request"] if len(json.dumps(data["request"])) <= MAX_REQUEST else None
    except (RecursionError, ValueError, TypeError):
        return None


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=4096)
def source_hash(source: str) -> str:
    """FNV-1a (32 bits) of a source's UTF-16 code units, as 8 hex digits: what a frontend
    compares its own text with to see that the kernel has another version of a cell (edited
    in another tab). UTF-16 because that is what JavaScript strings are made of."""
    units = memoryview(source.encode("utf-16-le")).cast("H")
    h = 0x811C9DC5
    for unit in units:
        h = ((h ^ unit) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"

