"""Refuse, before any view runs, what the parsers and databases cannot take.

- JSON nested deeper than :data:`MAX_JSON_DEPTH`, or with an integer the parser refuses
  (over 4,300 digits), is 400 — the parser would otherwise fail with a recursion or value
  error (issue 10, item 13).
- Text that is not valid Unicode (a lone surrogate, ``"\\ud800"``) or holds a NUL byte,
  in a JSON body, a query value or the path, is 422 (404 in the path): it cannot be
  encoded as UTF-8, and PostgreSQL refuses NUL in text (items 14 and 15).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import request

from kyc_service.domain.errors import BadRequest, InvalidRequest, ResourceMissing

MAX_JSON_DEPTH = 32
"""Deeper than any body of the API (the deepest is 3)."""


def _bad_text(value: str) -> bool:
    """Tell whether ``value`` holds a NUL byte or is not encodable as UTF-8."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _depth(raw: bytes) -> int:
    """Return the deepest nesting of ``[``/``{`` in a JSON text, strings skipped.

    A text with no more brackets than :data:`MAX_JSON_DEPTH` cannot nest deeper: its count
    is answered without a walk through every byte (an upper bound, which is all the guard
    needs).
    """
    openers = raw.count(b"[") + raw.count(b"{")
    if openers <= MAX_JSON_DEPTH:
        return openers
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (field path, text) of every key and string in a parsed JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)
            yield from _strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _check_json_body() -> None:
    """Parse a JSON body once, safely, and refuse text no database can store."""
    raw = request.get_data(cache=True)
    if not raw:
        return
    if _depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the request body is not valid JSON") from None
    for field, text in _strings(parsed):
        if _bad_text(text):
            raise InvalidRequest(
                "text must be valid Unicode without NUL characters", field=field or None
            )


def guard_request() -> None:
    """Refuse a path, query or JSON body the service could not store or parse."""
    if _bad_text(request.path):
        raise ResourceMissing("no such resource")
    for name, values in request.args.lists():
        if _bad_text(name) or any(_bad_text(value) for value in values):
            raise InvalidRequest("text must be valid Unicode without NUL characters", field=name)
    if request.path.startswith("/v1/") and request.mimetype == "application/json":
        _check_json_body()
