"""In-process rate-limit counters that expire old keys inline instead of on a timer thread.

``limits``' memory storage starts a short-lived timer thread on nearly every hit to purge
expired keys; that costs more than the rest of the limiter. This storage purges at most
once a second, inline. With ``KYC_REDIS_URL`` set, Redis is used instead (shared by every
process).
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SCHEME = "kycmemory"
SWEEP_SECONDS = 1.0


class InlineExpiryMemoryStorage(MemoryStorage):
    """``memory://`` with expired keys purged inline, at most once a second."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: str
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._last_sweep = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the private hook
        """Purge expired keys now if the last purge is a second old (no thread)."""
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_SECONDS:
            self._last_sweep = now
            self._MemoryStorage__expire_events()
