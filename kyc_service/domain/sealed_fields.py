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
