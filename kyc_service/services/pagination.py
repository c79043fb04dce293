"""Cursor pagination shared by every list: ``limit`` and ``starting_after``, newest first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kyc_service.domain.errors import ResourceMissing


@dataclass(frozen=True)
class Page:
    """One page of a list and whether more follow."""

    data: Sequence[Any]
    has_more: bool


def page_after(
    limit: int,
    starting_after: str | None,
    *,
    cursor_seq: Callable[[str], int | None],
    fetch: Callable[[int | None, int], Sequence[Any]],
    noun: str,
) -> Page:
    """Fetch one more row than ``limit`` after the cursor's position, to tell ``has_more``.

    ``cursor_seq`` maps the caller's own object id to its position (None when the id is
    unknown or foreign: 404); ``fetch(after_seq, count)`` returns the rows.
    """
    after_seq = None
    if starting_after:
        after_seq = cursor_seq(starting_after)
        if after_seq is None:
            raise ResourceMissing(f"starting_after names no such {noun}", field="starting_after")
    rows = fetch(after_seq, limit + 1)
    return Page(data=rows[:limit], has_more=len(rows) > limit)
