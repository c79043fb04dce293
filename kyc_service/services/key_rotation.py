"""Key-encryption-key rotation over every value a KEK wraps, in both databases.

A KEK wraps three kinds of values, each stored with the id of the KEK that wrapped it:

========================  ===================  ========================================
table (database)          column               KEK id kept in
========================  ===================  ========================================
``data_keys`` (key store) ``wrapped``          ``kek_id`` (subjects' keys, blind index)
``webhook_endpoints``     ``secret_wrapped``   ``secret_kek_id``
``idempotency_keys``      ``response_body``    the value: ``sealed:<kek id>:<ciphertext>``
========================  ===================  ========================================

:data:`WRAPPED_VALUES` lists them; a test finds every column that holds a KEK-wrapped
value in a database dump and fails when one is missing here. Rotation re-wraps each value
not under the primary KEK (unwrap and wrap again: nothing sealed under a data key is
opened), and a KEK is retired only when a count over all of them finds it unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kyc_service.domain.encoding import decode_bytes, encode_bytes
from kyc_service.ports import KeyWrapper
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services import idempotency, webhook_endpoints


class KeyStoreAccess(Protocol):
    """The key store's part in a rotation: its wrapper, and the data keys it holds."""

    wrapper: KeyWrapper

    def rewrap_all(self) -> int:
        """Re-wrap every data key not under the primary KEK; return how many."""

    def kek_ids_in_use(self) -> set[str]:
        """The KEK ids that wrap a data key."""


@dataclass(frozen=True)
class WrappedColumn:
    """A column holding KEK-wrapped values, and where their KEK id is kept."""

    table: str
    column: str
    kek_id_column: str | None


WRAPPED_VALUES = (
    WrappedColumn("data_keys", "wrapped", "kek_id"),
    WrappedColumn("webhook_endpoints", "secret_wrapped", "secret_kek_id"),
    WrappedColumn("idempotency_keys", "response_body", None),
)
BATCH = 500


@dataclass(frozen=True)
class RotationReport:
    """What a KEK rotation did: the new KEK, how many values of each kind were re-wrapped."""

    new_kek_id: str
    rewrapped: int
    retired: tuple[str, ...]
    webhook_secrets: int = 0
    idempotent_responses: int = 0


def rotate_kek(vault: Any, uow: UnitOfWork, retire_old: bool = False) -> RotationReport:
    """Add a new primary KEK, re-wrap every KEK-wrapped value under it, optionally retire.

    Safe to repeat: what is already under the primary is left alone, so a rotation cut
    short is finished by running it again (the old KEK stays until nothing uses it).
    """
    wrapper = vault.keystore.wrapper
    new_id = wrapper.rotate()
    data_keys, secrets, responses = _rewrap_everything(vault, uow, wrapper)
    retired: list[str] = []
    if retire_old:
        # a second pass catches what other processes wrapped under the old primary while
        # the first ran (they read the new key file on their next wrap); then the count
        more = _rewrap_everything(vault, uow, wrapper)
        data_keys, secrets, responses = (
            data_keys + more[0],
            secrets + more[1],
            responses + more[2],
        )
        in_use = vault.keystore.kek_ids_in_use() | kek_ids_in_data(uow)
        for kek_id in wrapper.key_ids():
            if kek_id != new_id and kek_id not in in_use:
                wrapper.retire(kek_id)
                retired.append(kek_id)
    return RotationReport(new_id, data_keys, tuple(retired), secrets, responses)


def _rewrap_everything(vault: Any, uow: UnitOfWork, wrapper: KeyWrapper) -> tuple[int, int, int]:
    """One re-wrap pass over every kind of wrapped value; how many of each."""
    return (
        vault.keystore.rewrap_all(),
        rewrap_webhook_secrets(uow, wrapper),
        rewrap_idempotent_responses(uow, wrapper),
    )


def rewrap_webhook_secrets(uow: UnitOfWork, wrapper: KeyWrapper) -> int:
    """Re-wrap every webhook endpoint secret not under the primary KEK (one pass by id)."""
    primary, done, after = wrapper.primary_id(), 0, ""
    while True:
        with uow:
            rows = uow.wrapped_values.endpoint_secrets_not_under(primary, after, BATCH)
            for row in rows:
                after = row.id
                context = webhook_endpoints.secret_context(row.id)
                secret = wrapper.unwrap(
                    row.secret_kek_id, decode_bytes(row.secret_wrapped), context
                )
                kek_id, wrapped = wrapper.wrap(secret, context)
                done += uow.wrapped_values.replace_endpoint_secret(
                    row.id, row.secret_wrapped, kek_id, encode_bytes(wrapped)
                )
            uow.commit()
        if not rows:
            return done


def rewrap_idempotent_responses(uow: UnitOfWork, wrapper: KeyWrapper) -> int:
    """Re-wrap every stored idempotent response not sealed under the primary KEK."""
    primary, done, after = wrapper.primary_id(), 0, 0
    current = f"{idempotency.SEALED_PREFIX}{primary}:"
    while True:
        with uow:
            rows = uow.wrapped_values.sealed_responses_not_under(
                idempotency.SEALED_PREFIX, current, after, BATCH
            )
            for row in rows:
                after = row.id
                context = idempotency.row_context(row.tenant_id, row.mode, row.key)
                body = idempotency.open_sealed(wrapper, context, row.response_body)
                done += uow.wrapped_values.replace_response(
                    row.id, row.response_body, idempotency.seal_sealed(wrapper, context, body)
                )
            uow.commit()
        if not rows:
            return done


def kek_ids_in_data(uow: UnitOfWork) -> set[str]:
    """The KEK ids that still wrap a webhook secret or an idempotent response."""
    with uow:
        found = uow.wrapped_values.endpoint_secret_keks()
        bodies = uow.wrapped_values.sealed_responses(idempotency.SEALED_PREFIX)
        found |= {idempotency.sealed_kek_id(body) for body in bodies}
    return found
