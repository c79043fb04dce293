"""Walk a list endpoint page by page (``limit``, ``starting_after``, ``has_more``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

ListPage = dict[str, Any]
"""``{"object": "list", "data": [...], "has_more": bool}``."""


def paginate(method: Callable[..., ListPage], **params: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a list method, following the cursor until ``has_more`` is false.

    ``method`` is a list method of :class:`~kyc_client.KycClient` (``list_verifications``,
    ``list_events`` …); ``params`` are its filters and ``limit`` (the page size). A
    ``starting_after`` in ``params`` starts after that id.
    """
    while True:
        page = method(**params)
        items = page.get("data") or []
        yield from items
        if not page.get("has_more") or not items:
            return
        params["starting_after"] = items[-1]["id"]
