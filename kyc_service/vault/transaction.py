"""The vault's transaction: every public vault method runs in the caller's own transaction.

A caller passes its unit of work or a SQLAlchemy session; ``on_session`` hands the method
the session either way, so the vault's writes share one transaction with the caller's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

_Method = TypeVar("_Method", bound=Callable[..., Any])


def on_session(method: _Method) -> _Method:
    """Let a vault method take the caller's unit of work (or its session) as the transaction."""

    @functools.wraps(method)
    def in_transaction(self: Any, transaction: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, getattr(transaction, "session", transaction), *args, **kwargs)

    return in_transaction  # type: ignore[return-value]
