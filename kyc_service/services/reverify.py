"""Ops re-verification: a new attempt of a verification from the data the vault holds.

The new verification (``parent_id`` = the old one, ``attempt`` + 1) gets a copy of the
subject's sealed fields and documents (422 ``consent_required`` if a check needs a purpose
the subject has withdrawn) — the subject is not asked again — and is submitted at
once: every check runs again against the verifiers of the key's mode. The parent is not
touched. Opening the parent's data is audited with the ops key and the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kyc_service.domain import identifiers
from kyc_service.domain.access import Principal
from kyc_service.domain.errors import Conflict, InvalidRequest, ResourceMissing
from kyc_service.domain.ids import new_id
from kyc_service.domain.sealing import DataUnavailable, SubjectRef
from kyc_service.domain.subject import Individual, Organization
from kyc_service.domain.verification import SubjectType, Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.dependencies import CheckDependencies
from kyc_service.services.events import save
from kyc_service.services.verifications import DOCUMENT_PURPOSES, checks_lease, seal_subject

ACTION = "ops.reverify"
GONE = "the subject's data was erased, withdrawn or is past its retention: nothing to verify again"


def reverify(
    deps: CheckDependencies, principal: Principal, verification_id: str, reason: str
) -> Verification:
    """Create the next attempt of ``verification_id`` from the vault's data and submit it
    (the caller runs its checks). 404 for another tenant's or mode's; 409 when the data is
    gone."""
    vault = deps.vault
    with deps.unit_of_work() as uow:
        found = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
        if found is None:
            raise ResourceMissing("no such verification", field="id")
        ref = SubjectRef(found.tenant_id, found.mode, found.reference)
        # The subject's verifications first, locked: the order of erasure and withdrawal,
        # which then wait for this copy (and erase it) or are seen here (and refuse it).
        locked = {v.id: v for v in uow.verifications.of_subject(ref, for_update=True)}
        parent = locked.get(found.id, found)
        if parent.redacted:
            raise Conflict(GONE)
        if not parent.is_final:
            raise Conflict(f"a verification in {parent.status} is still under way")
        _refuse_withdrawn(parent, vault.withdrawn(uow, ref))
        try:
            subject, documents = _held(uow, vault, principal, parent, ref, reason)
        except (DataUnavailable, KeyError):
            raise Conflict(GONE) from None
        child = _next_attempt(parent, subject, vault.clock())
        seal_subject(uow, vault, child, subject)
        for kind, (image, media_type, quality) in documents.items():
            purposes = DOCUMENT_PURPOSES.get(kind, ["real_name_authentication"])
            vault.put_document(
                uow, ref, child.id, kind, image, media_type, purposes, quality=quality
            )
        now = vault.clock()
        child.documents_held(set(documents), now)
        if child.requirements:  # documents past their retention, or withdrawn
            raise Conflict(GONE)
        child.submit(now, checks_lease(deps.settings))
        save(uow, child, new=True)
        vault.record_action(
            uow,
            ref,
            parent.id,
            actor=principal.key_id,
            action=ACTION,
            reason=reason,
            details={"new_verification": child.id, "attempt": child.attempt},
        )
        uow.commit()
    return child


def _refuse_withdrawn(parent: Verification, withdrawn: tuple[str, ...]) -> None:
    """422 ``consent_required`` when a check of this verification needs a purpose the
    subject has withdrawn since (a new verification with fresh consent is the way)."""
    needed = identifiers.required_purposes(
        bank_card=bool(parent.individual and parent.individual.bank_card),
        face_match=parent.options.face_match,
        bank_account=parent.type == SubjectType.ORGANIZATION,
    )
    gone = sorted(needed & set(withdrawn))
    if gone:
        raise InvalidRequest(
            f"the subject has withdrawn consent for {', '.join(gone)}: ask them again with a "
            "new verification",
            code="consent_required",
            field="consent",
        )


def _held(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    parent: Verification,
    ref: SubjectRef,
    reason: str,
) -> tuple[Individual | Organization, dict[str, tuple[bytes, str, dict[str, Any]]]]:
    """Open the parent's fields and documents (audited as the ops key's, with the reason);
    ``KeyError`` when a field the checks need is no longer held."""
    who = {"actor": principal.key_id, "action": ACTION, "reason": reason}
    fields = vault.get_fields(uow, ref, parent.id, **who)
    if parent.type == SubjectType.ORGANIZATION and parent.organization is not None:
        subject: Individual | Organization = Organization.from_sealed(fields, parent.organization)
    else:
        subject = Individual.from_sealed(fields)
        if parent.individual and parent.individual.bank_card and not subject.has_bank_card:
            raise KeyError("the bank card")
    documents = {}
    for kind, (document_id, quality) in vault.documents(uow, ref, parent.id).items():
        image, media_type = vault.get_document(uow, ref, document_id, **who)
        documents[kind] = (image, media_type, dict(quality))
    return subject, documents


def _next_attempt(
    parent: Verification, subject: Individual | Organization, now: datetime
) -> Verification:
    """The new verification: the parent's subject, options and consent; attempt + 1."""
    opening: dict[str, Any] = dict(
        id=new_id("ver"),
        tenant_id=parent.tenant_id,
        mode=parent.mode,
        reference=parent.reference,
        options=parent.options,
        consent=parent.consent,
        now=now,
    )
    if isinstance(subject, Organization):
        child = Verification.open(organization=subject, **opening)
    else:
        child = Verification.open(individual=subject, **opening)
    child.attempt, child.parent_id = parent.attempt + 1, parent.id
    return child
