"""A phone verification's states."""

from __future__ import annotations

from typing import Final

PENDING: Final = "pending"
"""A code was sent and is waiting to be checked."""
VERIFIED: Final = "verified"
"""The right code came back in time: the person holds the phone."""
