"""Verification use cases: create, read, list, upload a document, submit, cancel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from kyc_service.domain import identifiers
from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Principal
from kyc_service.domain.errors import Conflict, InvalidRequest, Problems, ResourceMissing
from kyc_service.domain.ids import new_id
from kyc_service.domain.masking import mask_card, mask_id_number, mask_name, mask_phone
from kyc_service.domain.verification import (
    CheckStatus,
    Status,
    SubjectType,
    check,
    document_kinds,
    is_final,
    requirements,
)
from kyc_service.persistence.tables import VerificationRow
from kyc_service.persistence.unit_of_work import UnitOfWork
from kyc_service.services.events import change_status, record_status_event
from kyc_service.services.pagination import Page, page_after
from kyc_service.vault import SubjectRef, Vault

CHINA_TIME = timezone(timedelta(hours=8))
SUBMIT_LEASE = timedelta(minutes=5)
REAL_NAME = "real_name_authentication"
BANK_CARD = "bank_card_verification"
FACE = "facial_recognition"
DOCUMENT_PURPOSES = {"selfie": [FACE]}


@dataclass(frozen=True)
class IndividualInput:
    """A person's validated, normalised data."""

    name: str
    id_number: str
    phone: str | None
    card_number: str | None
    reserved_phone: str | None

    def sealed_fields(self) -> dict[str, tuple[str, list[str], str | None]]:
        """Return ``field → (value, purposes, blind-index kind)`` for the vault."""
        fields: dict[str, tuple[str, list[str], str | None]] = {
            sealed.NAME: (self.name, [REAL_NAME], None),
            sealed.ID_NUMBER: (self.id_number, [REAL_NAME], "id_number"),
        }
        if self.phone:
            fields[sealed.PHONE] = (self.phone, [REAL_NAME], None)
        if self.card_number and self.reserved_phone:
            fields[sealed.CARD_NUMBER] = (self.card_number, [BANK_CARD], "bank_card")
            fields[sealed.RESERVED_PHONE] = (self.reserved_phone, [BANK_CARD], None)
        return fields

    def masked(self) -> dict[str, Any]:
        """Return the display copy kept beside the sealed data."""
        masked: dict[str, Any] = {
            "name": mask_name(self.name),
            "id_number": mask_id_number(self.id_number),
            "phone": mask_phone(self.phone) if self.phone else None,
            "bank_card": None,
        }
        if self.card_number:
            masked["bank_card"] = {"last4": mask_card(self.card_number), "type": "debit"}
        return masked


def today_in_china(now: datetime) -> date:
    """Return the calendar date in mainland China (UTC+8, no daylight saving)."""
    return now.astimezone(CHINA_TIME).date()


def validate_individual(
    body: Mapping[str, Any], today: date, problems: Problems | None = None
) -> IndividualInput:
    """Validate a person's data with the libraries of ``domain.identifiers``.

    Every problem is noted in ``problems`` (a new collector raises them all at the end).
    """
    own = problems is None
    problems = problems or Problems()
    person = body.get("individual") or {}
    card = person.get("bank_card") or None
    check = problems.check
    validated = IndividualInput(
        name=check(identifiers.validate_name, person.get("name", ""), sealed.NAME),
        id_number=check(
            identifiers.validate_id_number,
            person.get("id_number", ""),
            sealed.ID_NUMBER,
            today,
        ),
        phone=check(identifiers.validate_mobile, person["phone"], sealed.PHONE)
        if person.get("phone")
        else None,
        card_number=check(identifiers.validate_unionpay_card, card["number"], sealed.CARD_NUMBER)
        if card
        else None,
        reserved_phone=check(
            identifiers.validate_mobile,
            card["reserved_phone"],
            sealed.RESERVED_PHONE,
        )
        if card
        else None,
    )
    if own:
        problems.raise_if_any()
    return validated


def create_verification(
    uow: UnitOfWork, vault: Vault, principal: Principal, body: Mapping[str, Any]
) -> VerificationRow:
    """Validate everything, then store the verification and its sealed data in one transaction."""
    if body["type"] != SubjectType.INDIVIDUAL:
        raise InvalidRequest(
            "this server verifies individuals; organization verification is not available yet",
            field="type",
        )
    now = vault.clock()
    problems = Problems()
    person = validate_individual(body, today_in_china(now), problems)
    options = {"face_match": bool((body.get("options") or {}).get("face_match", False))}
    consent = body.get("consent") or {}
    card = (body.get("individual") or {}).get("bank_card")
    problems.check(
        identifiers.check_consent,
        bool(consent.get("granted")),
        list(consent.get("purposes") or []),
        identifiers.required_purposes(bank_card=bool(card), face_match=options["face_match"]),
    )
    problems.raise_if_any()
    row = VerificationRow(
        id=new_id("ver"),
        tenant_id=principal.tenant_id,
        mode=principal.mode.value,
        type=SubjectType.INDIVIDUAL.value,
        reference=body["reference"],
        status=Status.REQUIRES_INPUT.value,
        requirements=requirements(SubjectType.INDIVIDUAL, options["face_match"], set()),
        checks=[check("id_number", CheckStatus.PASSED)],
        last_error=None,
        masked=person.masked(),
        options=options,
        attempt=1,
        redacted=False,
        consent={
            "policy_version": consent.get("policy_version"),
            "purposes": sorted(set(consent.get("purposes") or [])),
            "granted_at": now.isoformat(),
        },
        retry_count=0,
        created_at=now,
        updated_at=now,
    )
    with uow:
        _seal(uow, vault, principal, row, person)
        uow.verifications.add(row)
        uow.session.flush()
        record_status_event(uow.session, row, now)
        uow.commit()
    return row


def _seal(
    uow: UnitOfWork,
    vault: Vault,
    principal: Principal,
    row: VerificationRow,
    person: IndividualInput,
) -> None:
    """Seal the person's data in the vault, each field with the purposes it is held for."""
    ref = SubjectRef(principal.tenant_id, principal.mode.value, row.reference)
    sealed = person.sealed_fields()
    vault.put_fields(
        uow.session,
        ref,
        row.id,
        {name: value for name, (value, _, _) in sealed.items()},
        purposes={name: purposes for name, (_, purposes, _) in sealed.items()},
        indexed={name: kind for name, (_, _, kind) in sealed.items() if kind},
        replace=False,
    )


def get_verification(
    uow: UnitOfWork, principal: Principal, verification_id: str
) -> VerificationRow:
    """Return the caller's verification; a foreign or unknown id is 404 alike."""
    with uow:
        row = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
    if row is None:
        raise ResourceMissing("no such verification", field="id")
    return row


def list_verifications(
    uow: UnitOfWork,
    principal: Principal,
    *,
    limit: int,
    starting_after: str | None = None,
    reference: str | None = None,
    status: str | None = None,
) -> Page:
    """Return the caller's verifications, newest first, after ``starting_after``."""
    tenant, mode = principal.tenant_id, principal.mode.value
    filters = {k: v for k, v in (("reference", reference), ("status", status)) if v}
    with uow:
        return page_after(
            limit,
            starting_after,
            cursor_seq=lambda id_: getattr(uow.verifications.get(tenant, mode, id_), "seq", None),
            fetch=lambda after, count: uow.verifications.page(
                tenant, mode, limit=count, after_seq=after, filters=filters
            ),
            noun="verification",
        )


def _owned_for_update(
    uow: UnitOfWork, principal: Principal, verification_id: str
) -> VerificationRow:
    """Return the caller's verification, locked for this transaction, or 404."""
    row = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
    if row is None:
        raise ResourceMissing("no such verification", field="id")
    return uow.verifications.by_id(row.id, for_update=True) or row


def add_document(
    uow: UnitOfWork,
    vault: Vault,
    principal: Principal,
    verification_id: str,
    kind: str,
    image: bytes,
    quality: Mapping[str, Any],
) -> tuple[str, VerificationRow]:
    """Seal a prepared (re-encoded) document image; a second of the same kind replaces it."""
    with uow:
        row = _owned_for_update(uow, principal, verification_id)
        check_document_kind(row, kind)
        check_accepts_documents(row)
        ref = SubjectRef(row.tenant_id, row.mode, row.reference)
        purposes = DOCUMENT_PURPOSES.get(kind, [REAL_NAME])
        document_id = vault.put_document(
            uow.session, ref, row.id, kind, image, "image/jpeg", purposes, quality=quality
        )
        uploaded = set(vault.document_kinds(uow.session, ref, row.id))
        row.requirements = requirements(row.type, bool(row.options.get("face_match")), uploaded)
        row.updated_at = vault.clock()
        uow.commit()
    return document_id, row


def check_document_kind(row: VerificationRow, kind: str) -> None:
    """Refuse a document kind this verification does not take."""
    allowed = document_kinds(row.type, bool((row.options or {}).get("face_match")))
    if kind not in allowed:
        raise InvalidRequest(
            f"kind must be one of: {', '.join(allowed)}", code="document_kind_invalid", field="kind"
        )


def check_accepts_documents(row: VerificationRow) -> None:
    """Refuse documents once a verification was submitted, decided or canceled."""
    if row.status != Status.REQUIRES_INPUT:
        raise Conflict(f"documents cannot be added to a verification in {row.status}")


def submit_verification(
    uow: UnitOfWork, vault: Vault, principal: Principal, verification_id: str
) -> VerificationRow:
    """Move a complete verification to ``processing`` (its checks then run, here or on a worker)."""
    with uow:
        row = _owned_for_update(uow, principal, verification_id)
        if row.status != Status.REQUIRES_INPUT:
            raise Conflict(f"a verification in {row.status} cannot be submitted")
        if row.requirements:
            raise Conflict(
                "documents are missing",
                code="requirements_missing",
                extra={"requirements": list(row.requirements)},
            )
        now = vault.clock()
        row.submitted_at = now
        row.last_error = None
        row.next_attempt_at = now + SUBMIT_LEASE
        change_status(uow.session, row, Status.PROCESSING, now)
        uow.commit()
    return row


def cancel_verification(
    uow: UnitOfWork, vault: Vault, principal: Principal, verification_id: str
) -> VerificationRow:
    """Cancel a verification that is not final yet; its retention clock starts now."""
    with uow:
        row = _owned_for_update(uow, principal, verification_id)
        if is_final(Status(row.status)):
            raise Conflict(f"a verification in {row.status} cannot be canceled")
        now = vault.clock()
        row.decided_at = now
        row.next_attempt_at = None
        change_status(uow.session, row, Status.CANCELED, now)
        vault.record_decision(
            uow.session, SubjectRef(row.tenant_id, row.mode, row.reference), row.id, now
        )
        uow.commit()
    return row
