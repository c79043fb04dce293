"""The names of the sealed personal fields of a verification, shared by create and checks.

Each is also the request's field path, so a validation problem and the sealed value it
belongs to carry one name. They are the only link between what ``create`` seals in the
vault and what the check pipeline opens: a constant here, never a string typed twice.
"""

from __future__ import annotations

from typing import Final

NAME: Final = "individual.name"
ID_NUMBER: Final = "individual.id_number"
PHONE: Final = "individual.phone"
CARD_NUMBER: Final = "individual.bank_card.number"
RESERVED_PHONE: Final = "individual.bank_card.reserved_phone"

INDIVIDUAL: Final = (NAME, ID_NUMBER, PHONE, CARD_NUMBER, RESERVED_PHONE)
"""Every sealed field of an individual verification."""

ORG_NAME: Final = "organization.name"
USCC: Final = "organization.uscc"
REP_NAME: Final = "organization.legal_representative.name"
REP_ID_NUMBER: Final = "organization.legal_representative.id_number"
REP_PHONE: Final = "organization.legal_representative.phone"
AGENT_NAME: Final = "organization.agent.name"
AGENT_ID_NUMBER: Final = "organization.agent.id_number"
AGENT_PHONE: Final = "organization.agent.phone"
BANK_NAME: Final = "organization.bank_account.bank_name"
ACCOUNT_NUMBER: Final = "organization.bank_account.account_number"
CONTACT_NAME: Final = "organization.contact.name"
CONTACT_PHONE: Final = "organization.contact.phone"
CONTACT_EMAIL: Final = "organization.contact.email"

ORGANIZATION: Final = (
    ORG_NAME,
    USCC,
    REP_NAME,
    REP_ID_NUMBER,
    REP_PHONE,
    AGENT_NAME,
    AGENT_ID_NUMBER,
    AGENT_PHONE,
    BANK_NAME,
    ACCOUNT_NUMBER,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_EMAIL,
)
"""Every sealed field of an organization verification."""
