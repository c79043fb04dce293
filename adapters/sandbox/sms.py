"""Sandbox SMS gateway: sends nothing, keeps the last messages for tests and demos."""

from __future__ import annotations

import threading
from collections import deque

from kyc_service.domain.results import Match
from kyc_service.ports import SmsSender


class SandboxSmsSender(SmsSender):
    """Records messages in memory instead of sending them (the test-mode code is 000000)."""

    def __init__(self, keep: int = 100) -> None:
        self._lock = threading.Lock()
        self.outbox: deque[tuple[str, str]] = deque(maxlen=keep)

    def send(self, phone: str, text: str, *, request_id: str = "") -> Match:
        """Record the message; nothing leaves the process (and nothing is charged)."""
        with self._lock:
            self.outbox.append((phone, text))
        return Match(billable=False)
