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
from kyc_service.domain.masking import mask_card, mask_id_number, mask_name, mask_phone

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
