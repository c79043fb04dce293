"""The data subject's rights besides erasure: a copy of their data, and consent withdrawal.

Export opens everything held about the subject (audited with the key): each field with
what it is used for and when it will be deleted, the documents (their kinds, sizes and
deletion dates; the images on request), and the verifications with their checks. After
erasure the copy holds no personal data, only when it was erased.

Withdrawing ``real_name_authentication`` erases the subject (every check needs it; nothing
held could serve any more). Withdrawing another purpose deletes what was held only for it
(``facial_recognition``: selfies,
representatives' photos, and the face scores of every check), cancels the verifications
still under way that need it (``consent_withdrawn``), and is recorded; an ops
re-verification that needs it answers 422 ``consent_required`` from then on, while a new
verification that carries a fresh consent grants it again.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from kyc_service.domain import identifiers
from kyc_service.domain.access import Principal
from kyc_service.domain.checks import ErrorInfo
from kyc_service.domain.errors import Conflict, InvalidRequest, ResourceMissing
from kyc_service.domain.sealing import (
    DataUnavailable,
    HeldDocument,
    HeldField,
    SubjectCopy,
    SubjectRef,
)
from kyc_service.domain.subject import BANK_CARD, FACE, REAL_NAME
from kyc_service.domain.verification import SubjectType, Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.events import save
from kyc_service.services.representation import timestamp, verification_object
from kyc_service.services.subjects import erase_subject

PURPOSES = (REAL_NAME, BANK_CARD, FACE, "bank_account_verification")
FACE_CHECKS = frozenset({"face_match", "portrait_authority"})
CONSENT_WITHDRAWN = ErrorInfo(
    "consent_withdrawn", "the subject withdrew a consent this verification needs"
)


def export_subject(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    reference: str,
    *,
    include_documents: bool = False,
) -> dict[str, Any]:
    """Everything held about the subject ``reference`` of the key's tenant and mode."""
    ref = SubjectRef(principal.tenant_id, principal.mode.value, reference)
    with uow:
        try:
            copy = vault.export(
                uow, ref, actor=principal.key_id, include_documents=include_documents
            )
        except DataUnavailable:
            raise Conflict("the subject is being erased; ask again in a moment") from None
        if copy is None:
            raise ResourceMissing("no such subject", field="reference")
        verifications = uow.verifications.of_subject(ref)
        uow.commit()
    return _shown(ref, copy, verifications)


def _shown(ref: SubjectRef, copy: SubjectCopy, verifications: Any) -> dict[str, Any]:
    """The export's JSON: the subject, its fields, documents and verifications."""
    return {
        "object": "subject_export",
        "reference": ref.reference,
        "mode": ref.mode,
        "created_at": timestamp(copy.created_at),
        "erased_at": timestamp(copy.erased_at),
        "retain_until": None if copy.erased_at else timestamp(copy.retain_until),
        "withdrawn_purposes": list(copy.withdrawn_purposes),
        "fields": [_field(f) for f in copy.fields],
        "documents": [_document(d) for d in copy.documents],
        "verifications": [verification_object(v) for v in verifications],
    }


def _field(held: HeldField) -> dict[str, Any]:
    """One field as exported."""
    return {
        "verification_id": held.verification_id,
        "name": held.name,
        "value": held.value,
        "purposes": list(held.purposes),
        "delete_after": timestamp(held.delete_after),
    }


def _document(held: HeldDocument) -> dict[str, Any]:
    """One document as exported; ``image`` (base64) only when asked for."""
    shown: dict[str, Any] = {
        "id": held.id,
        "verification_id": held.verification_id,
        "kind": held.kind,
        "media_type": held.media_type,
        "size": held.size,
        "purposes": list(held.purposes),
        "created_at": timestamp(held.created_at),
        "delete_after": timestamp(held.delete_after),
    }
    if held.image is not None:
        shown["image"] = base64.b64encode(held.image).decode()
    return shown


def withdraw_consent(
    uow: UnitOfWork, vault: SealedStore, principal: Principal, reference: str, purposes: list[str]
) -> dict[str, Any]:
    """Withdraw ``purposes``: delete what was held only for them, forget face scores, cancel
    what can no longer go on; return what was done."""
    unknown = sorted(set(purposes) - set(PURPOSES))
    if unknown or not purposes:
        raise InvalidRequest(f"purposes must be some of: {', '.join(PURPOSES)}", field="purposes")
    ref = SubjectRef(principal.tenant_id, principal.mode.value, reference)
    if REAL_NAME in purposes:  # every check needs it: nothing held could serve any more
        return _withdrawn_by_erasure(uow, vault, principal, ref, purposes)
    with uow:
        verifications = uow.verifications.of_subject(ref, for_update=True)
        if not verifications:
            raise ResourceMissing("no such subject", field="reference")
        now = vault.clock()
        canceled = [v.id for v in verifications if _withdraw_one(uow, v, set(purposes), now)]
        for verification_id in canceled:
            vault.record_decision(uow, ref, verification_id, now)
        deleted = vault.withdraw(uow, ref, purposes, actor=principal.key_id)
        uow.commit()
    return _withdrawal(reference, purposes, deleted, canceled)


def _withdrawal(
    reference: str, purposes: list[str], deleted: int, canceled: list[str], erased: bool = False
) -> dict[str, Any]:
    """What a withdrawal did."""
    return {
        "object": "consent_withdrawal",
        "reference": reference,
        "purposes": sorted(set(purposes)),
        "items_deleted": deleted,
        "verifications_canceled": canceled,
        "erased": erased,
    }


def _withdrawn_by_erasure(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    ref: SubjectRef,
    purposes: list[str],
) -> dict[str, Any]:
    """Withdrawing real-name authentication erases the subject (as ``DELETE``)."""
    with uow:
        before = uow.verifications.of_subject(ref)
    under_way = [v.id for v in before if not v.is_final]
    erase_subject(uow, vault, principal, ref.reference, reason="consent withdrawn")
    return _withdrawal(ref.reference, purposes, 0, under_way, erased=True)


def _withdraw_one(
    uow: UnitOfWork, verification: Verification, purposes: set[str], now: datetime
) -> bool:
    """Forget the face scores (for ``facial_recognition``); cancel the verification if it
    is under way and needs a withdrawn purpose. Tell whether it was canceled."""
    changed = FACE in purposes and verification.forget_scores(FACE_CHECKS, now)
    needed = identifiers.required_purposes(
        bank_card=bool(verification.individual and verification.individual.bank_card),
        face_match=verification.options.face_match,
        bank_account=verification.type == SubjectType.ORGANIZATION,
    )
    stop = not verification.is_final and bool(needed & purposes)
    if stop:
        verification.withdraw(now, CONSENT_WITHDRAWN)
    if changed or stop:
        save(uow, verification)
    return stop
