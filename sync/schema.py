"""The shape of everything a client sends, checked against `static/schemas/sync.schema.json`.

That file is the one source: the server checks a push body, each op and the document inside
each op's envelope here, before deciding anything; the tablet checks a record against the
same file before a signature is added. JSON from a client is read with :func:`parse`, which
turns any non-whole number into a ``Decimal`` (so the schema's ``integer`` refuses it, with
its path) and refuses nesting too deep to read.
"""

from __future__ import annotations

import decimal
import functools
import json
from pathlib import Path

import fastjsonschema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "static" / "schemas" / "sync.schema.json"
PARTS = ("push", "op", "record", "signature", "addendum")


class ShapeError(ValueError):
    """A value that does not fit the schema; the message names where (``record.fields.x: …``)."""


@functools.cache
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@functools.cache
def _validator(part: str):
    whole = schema()
    return fastjsonschema.compile({"$schema": whole["$schema"], "$ref": f"#/definitions/{part}",
                                   "definitions": whole["definitions"]})


def check(part: str, value, where: str | None = None) -> None:
    """Raise ShapeError unless `value` fits the schema's definition `part`.

    `where` names the value in the message (default: the part's name)."""
    try:
        _validator(part)(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise ShapeError(_message(exc, where or part)) from None


def problem(part: str, value, where: str | None = None) -> str | None:
    """The reason `value` does not fit `part`, or None."""
    try:
        check(part, value, where)
    except ShapeError as exc:
        return str(exc)
    return None


def _message(exc, where: str) -> str:
    path = where + (exc.name or "data")[len("data"):]
    definition = exc.definition if isinstance(exc.definition, dict) else {}
    if exc.rule == "pattern" and definition.get("description"):
        return f"{path}: must be {definition['description']}"
    if exc.rule == "type" and isinstance(exc.value, decimal.Decimal):
        return f"{path}: only whole numbers are allowed"
    name = exc.name or "data"
    text = exc.message[len(name):].strip() if exc.message.startswith(name) else exc.message
    if exc.rule in ("minItems", "maxItems") and definition.get("description"):
        text += f" ({definition['description']})"
    return f"{path}: {text}"


def parse(data: bytes | str):
    """JSON from a client: floats become Decimal (refused by the schema), and nesting too
    deep to read is a ValueError like any other unreadable JSON."""
    try:
        return json.loads(data, parse_float=decimal.Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")
