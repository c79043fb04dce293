"""Verification use cases: create, read, list, upload a document, submit, cancel.

Each takes a unit of work and the vault (ports), loads a ``Verification`` entity, calls
the transition that owns the rule, and saves it (an event for each status change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from kyc_service.domain import identifiers
from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.access import Principal
from kyc_service.domain.errors import InvalidRequest, Problems, ResourceMissing
from kyc_service.domain.ids import new_id
from kyc_service.domain.sealing import SubjectRef
from kyc_service.domain.subject import (
    CERTIFICATE_TYPES,
    ENTITY_KINDS,
    FACE,
    REAL_NAME,
    Individual,
    Organization,
    Person,
)
from kyc_service.domain.verification import Consent, Options, SubjectType, Verification
from kyc_service.ports.storage import SealedStore, UnitOfWork
from kyc_service.services.events import save
from kyc_service.services.pagination import Page, page_after

IndividualInput = Individual
"""The validated person (kept under its former name for callers of ``validate_individual``)."""

CHINA_TIME = timezone(timedelta(hours=8))
SUBMIT_LEASE = timedelta(minutes=5)
"""How long a submitted verification waits for its run before the periodic retry takes it."""


def checks_lease(settings: Mapping[str, Any]) -> timedelta:
    """The lease of a submitted or started run (``KYC_CHECKS_LEASE_SECONDS``): longer than
    any run's checks; past it, the periodic retry runs the verification (its worker died,
    its message was lost)."""
    seconds = settings.get("CHECKS_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else SUBMIT_LEASE


DOCUMENT_PURPOSES = {"selfie": [FACE], "legal_rep_photo": [FACE]}


def today_in_china(now: datetime) -> date:
    """Return the calendar date in mainland China (UTC+8, no daylight saving)."""
    return now.astimezone(CHINA_TIME).date()


def validate_individual(
    body: Mapping[str, Any], today: date, problems: Problems | None = None
) -> Individual:
    """Validate a person's data with the libraries of ``domain.identifiers``.

    Every problem is noted in ``problems`` (a new collector raises them all at the end).
    """
    own = problems is None
    problems = problems or Problems()
    person = body.get("individual") or {}
    card = person.get("bank_card") or None
    check = problems.check
    validated = Individual(
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


def _person(problems: Problems, data: Mapping[str, Any], path: str, today: date) -> Person:
    """Validate a representative or an agent (name, ID number, phone)."""
    check = problems.check
    return Person(
        name=check(identifiers.validate_name, data.get("name", ""), f"{path}.name"),
        id_number=check(
            identifiers.validate_id_number, data.get("id_number", ""), f"{path}.id_number", today
        ),
        phone=check(identifiers.validate_mobile, data["phone"], f"{path}.phone")
        if data.get("phone")
        else None,
    )


def validate_organization(
    body: Mapping[str, Any], today: date, problems: Problems | None = None
) -> Organization:
    """Validate an organization's data; every problem is noted in ``problems``."""
    own = problems is None
    problems = problems or Problems()
    check = problems.check
    org = body.get("organization") or {}
    account = org.get("bank_account") or {}
    contact = org.get("contact") or {}
    agent = org.get("agent")
    validated = Organization(
        name=check(identifiers.validate_text, org.get("name", ""), sealed.ORG_NAME),
        uscc=check(identifiers.validate_uscc, org.get("uscc", ""), sealed.USCC),
        entity_kind=check(
            identifiers.validate_choice,
            org.get("entity_kind", ""),
            "organization.entity_kind",
            ENTITY_KINDS,
        ),
        certificate_type=check(
            identifiers.validate_choice,
            org.get("certificate_type", ""),
            "organization.certificate_type",
            CERTIFICATE_TYPES,
        ),
        legal_representative=_person(
            problems,
            org.get("legal_representative") or {},
            "organization.legal_representative",
            today,
        ),
        agent=_person(problems, agent, "organization.agent", today) if agent else None,
        bank_name=check(identifiers.validate_text, account.get("bank_name", ""), sealed.BANK_NAME),
        account_number=check(
            identifiers.validate_account_number,
            account.get("account_number", ""),
            sealed.ACCOUNT_NUMBER,
        ),
        contact_name=check(identifiers.validate_name, contact["name"], sealed.CONTACT_NAME)
        if contact.get("name")
        else None,
        contact_phone=check(identifiers.validate_mobile, contact["phone"], sealed.CONTACT_PHONE)
        if contact.get("phone")
        else None,
        contact_email=check(
            identifiers.validate_email_address, contact["email"], sealed.CONTACT_EMAIL
        )
        if contact.get("email")
        else None,
    )
    if own:
        problems.raise_if_any()
    return validated


def _subject_data(
    body: Mapping[str, Any], today: date, problems: Problems
) -> tuple[Individual | Organization, set[str]]:
    """Validate the subject named by ``type``; return it and the consent purposes it needs."""
    face_match = bool((body.get("options") or {}).get("face_match", False))
    if body["type"] == SubjectType.ORGANIZATION:
        if not body.get("organization"):
            raise InvalidRequest("organization is required", field="organization")
        organization = validate_organization(body, today, problems)
        needed = identifiers.required_purposes(face_match=face_match, bank_account=True)
        return organization, needed
    if not body.get("individual"):
        raise InvalidRequest("individual is required", field="individual")
    person = validate_individual(body, today, problems)
    card = (body.get("individual") or {}).get("bank_card")
    return person, identifiers.required_purposes(bank_card=bool(card), face_match=face_match)


def create_verification(
    uow: UnitOfWork, vault: SealedStore, principal: Principal, body: Mapping[str, Any]
) -> Verification:
    """Validate everything, then store the verification and its sealed data in one transaction."""
    now = vault.clock()
    problems = Problems()
    subject, needed = _subject_data(body, today_in_china(now), problems)
    options = Options(face_match=bool((body.get("options") or {}).get("face_match", False)))
    consent = body.get("consent") or {}
    problems.check(
        identifiers.check_consent,
        bool(consent.get("granted")),
        list(consent.get("purposes") or []),
        needed,
    )
    problems.raise_if_any()
    opening = dict(
        id=new_id("ver"),
        tenant_id=principal.tenant_id,
        mode=principal.mode.value,
        reference=body["reference"],
        options=options,
        consent=Consent(consent.get("policy_version"), tuple(consent.get("purposes") or ()), now),
        now=now,
    )
    if isinstance(subject, Organization):
        verification = Verification.open(organization=subject, **opening)
    else:
        verification = Verification.open(individual=subject, **opening)
    with uow:
        vault.consent_given(
            uow, _subject(verification), verification.consent.purposes, actor=principal.key_id
        )
        seal_subject(uow, vault, verification, subject)
        save(uow, verification, new=True)
        uow.commit()
    return verification


def _subject(verification: Verification) -> SubjectRef:
    """The data subject a verification belongs to."""
    return SubjectRef(verification.tenant_id, verification.mode, verification.reference)


def seal_subject(
    uow: UnitOfWork,
    vault: SealedStore,
    verification: Verification,
    subject: Individual | Organization,
) -> None:
    """Seal the subject's data in the vault, each field with the purposes it is held for."""
    fields = subject.sealed_fields()
    vault.put_fields(
        uow,
        _subject(verification),
        verification.id,
        {name: field.value for name, field in fields.items()},
        purposes={name: list(field.purposes) for name, field in fields.items()},
        indexed={name: field.index for name, field in fields.items() if field.index},
        replace=False,
    )


def get_verification(uow: UnitOfWork, principal: Principal, verification_id: str) -> Verification:
    """Return the caller's verification; a foreign or unknown id is 404 alike."""
    with uow:
        verification = uow.verifications.get(
            principal.tenant_id, principal.mode.value, verification_id
        )
    if verification is None:
        raise ResourceMissing("no such verification", field="id")
    return verification


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


def _owned_for_update(uow: UnitOfWork, principal: Principal, verification_id: str) -> Verification:
    """Return the caller's verification, locked for this transaction, or 404."""
    found = uow.verifications.get(principal.tenant_id, principal.mode.value, verification_id)
    if found is None:
        raise ResourceMissing("no such verification", field="id")
    return uow.verifications.by_id(found.id, for_update=True) or found


def add_document(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    verification_id: str,
    kind: str,
    image: bytes,
    quality: Mapping[str, Any],
) -> tuple[str, Verification]:
    """Seal a prepared (re-encoded) document image; a second of the same kind replaces it."""
    with uow:
        verification = _owned_for_update(uow, principal, verification_id)
        verification.check_document(kind)
        ref = _subject(verification)
        purposes = DOCUMENT_PURPOSES.get(kind, [REAL_NAME])
        document_id = vault.put_document(
            uow, ref, verification.id, kind, image, "image/jpeg", purposes, quality=quality
        )
        uploaded = set(vault.document_kinds(uow, ref, verification.id))
        verification.documents_held(uploaded, vault.clock())
        save(uow, verification)
        uow.commit()
    return document_id, verification


def submit_verification(
    uow: UnitOfWork,
    vault: SealedStore,
    principal: Principal,
    verification_id: str,
    lease: timedelta = SUBMIT_LEASE,
) -> Verification:
    """Move a complete verification to ``processing`` (its checks then run, here or on a
    worker; past ``lease`` without a decision, the periodic retry runs them)."""
    with uow:
        verification = _owned_for_update(uow, principal, verification_id)
        verification.submit(vault.clock(), lease)
        save(uow, verification)
        uow.commit()
    return verification


def cancel_verification(
    uow: UnitOfWork, vault: SealedStore, principal: Principal, verification_id: str
) -> Verification:
    """Cancel a verification that is not final yet; its retention clock starts now."""
    with uow:
        verification = _owned_for_update(uow, principal, verification_id)
        now = vault.clock()
        verification.cancel(now)
        save(uow, verification)
        vault.record_decision(uow, _subject(verification), verification.id, now)
        uow.commit()
    return verification
