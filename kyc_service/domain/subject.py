"""The subject of a verification as typed values: the plain person, and its masked copy.

The plain values live only between validation and the vault; what the verification keeps
and shows is the masked copy. Each plain field is sealed under a name of
:mod:`kyc_service.domain.sealed_fields`, with the purposes it is held for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.masking import (
    mask_account,
    mask_card,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_uscc,
)

REAL_NAME = "real_name_authentication"
BANK_CARD = "bank_card_verification"
FACE = "facial_recognition"


@dataclass(frozen=True)
class SealedField:
    """One plain value to seal: the purposes it is held for, and its blind-index kind."""

    value: str
    purposes: tuple[str, ...]
    index: str | None = None


@dataclass(frozen=True)
class MaskedCard:
    """A bank card as shown: last four digits and the card type."""

    last4: str
    type: str = "debit"


@dataclass(frozen=True)
class MaskedIndividual:
    """A person as the verification keeps and shows them: masked, never plain."""

    name: str
    id_number: str
    phone: str | None = None
    bank_card: MaskedCard | None = None

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored and shown."""
        card = self.bank_card
        return {
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "bank_card": {"last4": card.last4, "type": card.type} if card else None,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> MaskedIndividual | None:
        """Read a stored record back; an empty one (a redacted shell) is None."""
        if not record:
            return None
        card = record.get("bank_card")
        return cls(
            name=str(record.get("name", "")),
            id_number=str(record.get("id_number", "")),
            phone=record.get("phone"),
            bank_card=MaskedCard(str(card["last4"]), str(card.get("type", "debit")))
            if card
            else None,
        )


@dataclass(frozen=True)
class Individual:
    """A person's validated, normalised, plain data (see ``domain.identifiers``)."""

    name: str
    id_number: str
    phone: str | None = None
    card_number: str | None = None
    reserved_phone: str | None = None

    @property
    def has_bank_card(self) -> bool:
        """Tell whether a bank card (with its reserved phone) is to be verified."""
        return bool(self.card_number and self.reserved_phone)

    def sealed_fields(self) -> dict[str, SealedField]:
        """Return each sealed field's name → value, purposes and blind-index kind."""
        fields = {
            sealed.NAME: SealedField(self.name, (REAL_NAME,)),
            sealed.ID_NUMBER: SealedField(self.id_number, (REAL_NAME,), "id_number"),
        }
        if self.phone:
            fields[sealed.PHONE] = SealedField(self.phone, (REAL_NAME,))
        if self.card_number and self.reserved_phone:
            fields[sealed.CARD_NUMBER] = SealedField(self.card_number, (BANK_CARD,), "bank_card")
            fields[sealed.RESERVED_PHONE] = SealedField(self.reserved_phone, (BANK_CARD,))
        return fields

    def masked(self) -> MaskedIndividual:
        """Return the display copy kept beside the sealed data."""
        return MaskedIndividual(
            name=mask_name(self.name),
            id_number=mask_id_number(self.id_number),
            phone=mask_phone(self.phone) if self.phone else None,
            bank_card=MaskedCard(mask_card(self.card_number)) if self.card_number else None,
        )

    @classmethod
    def from_sealed(cls, fields: Mapping[str, str]) -> Individual:
        """Rebuild the person from the fields opened in the vault."""
        return cls(
            name=fields[sealed.NAME],
            id_number=fields[sealed.ID_NUMBER],
            phone=fields.get(sealed.PHONE),
            card_number=fields.get(sealed.CARD_NUMBER),
            reserved_phone=fields.get(sealed.RESERVED_PHONE),
        )


BANK_ACCOUNT = "bank_account_verification"
ENTITY_KINDS = (
    "enterprise",
    "public_institution",
    "social_organization",
    "administrative_agency",
    "other",
)
CERTIFICATE_TYPES = (
    "business_license",
    "organization_code_certificate",
    "public_institution_legal_person_certificate",
    "social_group_registration_certificate",
    "administrative_law_enforcement_qualification",
    "other",
)


@dataclass(frozen=True)
class Person:
    """A person acting for an organization (its legal representative, or an agent), plain."""

    name: str
    id_number: str
    phone: str | None = None


@dataclass(frozen=True)
class MaskedPerson:
    """A person acting for an organization, masked."""

    name: str
    id_number: str
    phone: str | None = None

    @classmethod
    def of(cls, person: Person) -> MaskedPerson:
        """Mask a plain person."""
        return cls(
            mask_name(person.name),
            mask_id_number(person.id_number),
            mask_phone(person.phone) if person.phone else None,
        )

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored and shown."""
        return {"name": self.name, "id_number": self.id_number, "phone": self.phone}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> MaskedPerson | None:
        """Read a stored record back."""
        if not record:
            return None
        return cls(
            str(record.get("name", "")), str(record.get("id_number", "")), record.get("phone")
        )


@dataclass(frozen=True)
class MaskedOrganization:
    """An organization as the verification keeps and shows it: its name in full, the USCC's
    middle, the representative, the agent, the account number and the contact masked."""

    name: str
    uscc: str
    entity_kind: str
    certificate_type: str
    legal_representative: MaskedPerson
    agent: MaskedPerson | None
    bank_name: str
    account_last4: str
    contact: dict[str, str | None]

    @property
    def bank_account(self) -> dict[str, str]:
        """The corporate account as shown: the bank's name and the last 4 digits."""
        return {"bank_name": self.bank_name, "last4": self.account_last4}

    def to_record(self) -> dict[str, Any]:
        """Return the record as stored and shown."""
        return {
            "name": self.name,
            "uscc": self.uscc,
            "entity_kind": self.entity_kind,
            "certificate_type": self.certificate_type,
            "legal_representative": self.legal_representative.to_record(),
            "agent": self.agent.to_record() if self.agent else None,
            "bank_account": self.bank_account,
            "contact": dict(self.contact),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> MaskedOrganization | None:
        """Read a stored record back; an empty one (a redacted shell) is None."""
        if not record:
            return None
        account = record.get("bank_account") or {}
        return cls(
            name=str(record.get("name", "")),
            uscc=str(record.get("uscc", "")),
            entity_kind=str(record.get("entity_kind", "")),
            certificate_type=str(record.get("certificate_type", "")),
            legal_representative=MaskedPerson.from_record(record.get("legal_representative"))
            or MaskedPerson("", ""),
            agent=MaskedPerson.from_record(record.get("agent")),
            bank_name=str(account.get("bank_name", "")),
            account_last4=str(account.get("last4", "")),
            contact=dict(record.get("contact") or {}),
        )


@dataclass(frozen=True)
class Organization:
    """An organization's validated, normalised, plain data."""

    name: str
    uscc: str
    entity_kind: str
    certificate_type: str
    legal_representative: Person
    agent: Person | None
    bank_name: str
    account_number: str
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None

    def sealed_fields(self) -> dict[str, SealedField]:
        """Return each sealed field's name → value, purposes and blind-index kind."""
        rep, agent = self.legal_representative, self.agent
        values: list[tuple[str, str | None, tuple[str, ...], str | None]] = [
            (sealed.ORG_NAME, self.name, (REAL_NAME,), None),
            (sealed.USCC, self.uscc, (REAL_NAME,), "uscc"),
            (sealed.REP_NAME, rep.name, (REAL_NAME,), None),
            (sealed.REP_ID_NUMBER, rep.id_number, (REAL_NAME,), "id_number"),
            (sealed.REP_PHONE, rep.phone, (REAL_NAME,), None),
            (sealed.AGENT_NAME, agent.name if agent else None, (REAL_NAME,), None),
            (sealed.AGENT_ID_NUMBER, agent.id_number if agent else None, (REAL_NAME,), "id_number"),
            (sealed.AGENT_PHONE, agent.phone if agent else None, (REAL_NAME,), None),
            (sealed.BANK_NAME, self.bank_name, (BANK_ACCOUNT,), None),
            (sealed.ACCOUNT_NUMBER, self.account_number, (BANK_ACCOUNT,), None),
            (sealed.CONTACT_NAME, self.contact_name, (REAL_NAME,), None),
            (sealed.CONTACT_PHONE, self.contact_phone, (REAL_NAME,), None),
            (sealed.CONTACT_EMAIL, self.contact_email, (REAL_NAME,), None),
        ]
        return {
            name: SealedField(value, purposes, index)
            for name, value, purposes, index in values
            if value
        }

    @classmethod
    def from_sealed(cls, fields: Mapping[str, str], shown: MaskedOrganization) -> Organization:
        """Rebuild the organization from the fields opened in the vault; its kind and
        certificate type (not personal data) come from the copy kept beside them."""

        def person(name: str, number: str, phone: str) -> Person | None:
            if name not in fields:
                return None
            return Person(fields[name], fields[number], fields.get(phone))

        representative = person(sealed.REP_NAME, sealed.REP_ID_NUMBER, sealed.REP_PHONE)
        if representative is None:
            raise KeyError(sealed.REP_NAME)
        return cls(
            name=fields[sealed.ORG_NAME],
            uscc=fields[sealed.USCC],
            entity_kind=shown.entity_kind,
            certificate_type=shown.certificate_type,
            legal_representative=representative,
            agent=person(sealed.AGENT_NAME, sealed.AGENT_ID_NUMBER, sealed.AGENT_PHONE),
            bank_name=fields[sealed.BANK_NAME],
            account_number=fields[sealed.ACCOUNT_NUMBER],
            contact_name=fields.get(sealed.CONTACT_NAME),
            contact_phone=fields.get(sealed.CONTACT_PHONE),
            contact_email=fields.get(sealed.CONTACT_EMAIL),
        )

    def masked(self) -> MaskedOrganization:
        """Return the display copy kept beside the sealed data."""
        return MaskedOrganization(
            name=self.name,
            uscc=mask_uscc(self.uscc),
            entity_kind=self.entity_kind,
            certificate_type=self.certificate_type,
            legal_representative=MaskedPerson.of(self.legal_representative),
            agent=MaskedPerson.of(self.agent) if self.agent else None,
            bank_name=self.bank_name,
            account_last4=mask_account(self.account_number),
            contact={
                "name": mask_name(self.contact_name) if self.contact_name else None,
                "phone": mask_phone(self.contact_phone) if self.contact_phone else None,
                "email": mask_email(self.contact_email) if self.contact_email else None,
            },
        )
