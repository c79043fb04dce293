"""The one way the service writes an instant: ISO 8601 in UTC, to the second, with ``Z``.

The API, events, webhooks, exports and log lines all write their times through
:func:`utc_text`, so a client parses a single format (``2026-12-06T10:00:00Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "YYYY-MM-DDTHH:MM:SSZ"
"""The format :func:`utc_text` writes, as the documentation names it."""


def utc_text(moment: datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (a naive value is taken as UTC).

    >>> from datetime import timedelta, timezone
    >>> utc_text(datetime(2026, 12, 6, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))))
    '2026-12-06T10:00:00Z'
    >>> utc_text(datetime(2026, 12, 6, 10, 0))
    '2026-12-06T10:00:00Z'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def utc_text_or_none(moment: datetime | None) -> str | None:
    """Return :func:`utc_text` of ``moment``, or ``None`` for no moment."""
    return None if moment is None else utc_text(moment)
