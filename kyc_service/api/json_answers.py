"""JSON answers as the contract writes them: raw UTF-8, declared ``charset=utf-8``, one time format.

``app.json`` is :class:`KycJsonProvider` (Chinese text is written as itself, not ``\\u…``;
a stray ``datetime`` is written as every other time), and :func:`declare_utf8` gives every
JSON answer, errors and idempotent replays included, ``application/json; charset=utf-8``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response
from flask.json.provider import DefaultJSONProvider

from kyc_service.domain.timestamps import utc_text

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
"""What every JSON answer declares (API.md § Conventions)."""


def _default(value: Any) -> Any:
    """Encode what ``json`` cannot: instants as ``YYYY-MM-DDTHH:MM:SSZ``, the rest as Flask does."""
    if isinstance(value, datetime):
        return utc_text(value)
    return DefaultJSONProvider.default(value)


class KycJsonProvider(DefaultJSONProvider):
    """Flask's JSON provider writing UTF-8 text unescaped, keys in the order given."""

    default = staticmethod(_default)
    ensure_ascii = False
    sort_keys = False
    mimetype = JSON_CONTENT_TYPE


def declare_utf8(response: Response) -> Response:
    """Declare ``charset=utf-8`` on a JSON answer that does not say it (replays, errors)."""
    if response.mimetype == "application/json" and "charset" not in response.content_type:
        response.content_type = JSON_CONTENT_TYPE
    return response
