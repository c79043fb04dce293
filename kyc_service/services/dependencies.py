"""What the use cases depend on, as protocols: the composition root's ``Services`` and the
tests' ``FakeServices`` both satisfy them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kyc_service.domain.access import Mode
from kyc_service.ports.storage import Clock, SealedStore, UnitOfWork


class AdapterLookup(Protocol):
    """The adapters of a process: one per port and mode."""

    def get(self, port: str, mode: Mode) -> Any:
        """Return the adapter of ``port`` for ``mode``."""

    def name_for(self, port: str, mode: Mode) -> str:
        """Return the name of the adapter of ``port`` for ``mode`` (the ledger's provider)."""

    def names_for(self, port: str, mode: Mode) -> list[str]:
        """Return the provider names of ``port`` for ``mode``, in failover order (one,
        unless the setting names a chain)."""

    def named(self, port: str, mode: Mode, name: str) -> Any:
        """Return the provider ``name`` of ``port`` for ``mode`` (built when first asked)."""


class CheckDependencies(Protocol):
    """What the pipeline and the uploads need: settings, adapters, vault, clock, and a new
    unit of work per transaction."""

    settings: Mapping[str, Any]
    adapters: AdapterLookup
    vault: SealedStore
    clock: Clock

    def unit_of_work(self) -> UnitOfWork:
        """Return a new unit of work."""
