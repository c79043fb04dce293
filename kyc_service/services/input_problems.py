"""The domain problems of a create body that also has problems of shape, to list them all.

When the schema refuses a body (a missing field, a wrong type), the use case never runs, and
its own checks — the ID number's checksum, the phone, the consent's purposes — would be
reported only on the next try. :func:`creation_problems` runs them on the part of the body
the schema accepted, so one answer lists every problem (API.md § Errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from kyc_service.domain import identifiers
from kyc_service.domain.errors import InvalidRequest, Problems
from kyc_service.domain.verification import SubjectType
from kyc_service.services.verifications import validate_individual, validate_organization


def _complete_card(person: Mapping[str, Any]) -> dict[str, Any]:
    """The person without a bank card that lacks its number or reserved phone (the schema
    reported what is missing)."""
    card = person.get("bank_card")
    if card and {"number", "reserved_phone"} <= set(card):
        return dict(person)
    return {key: value for key, value in person.items() if key != "bank_card"}


def _subject_problems(body: Mapping[str, Any], today: date, problems: Problems) -> set[str] | None:
    """Check the subject named by ``type``; return the consent purposes it needs."""
    subject_type = body.get("type")
    face_match = bool((body.get("options") or {}).get("face_match", False))
    if subject_type == SubjectType.ORGANIZATION:
        if not body.get("organization"):
            problems.found.append(InvalidRequest("organization is required", field="organization"))
        else:
            validate_organization(body, today, problems)
        return identifiers.required_purposes(face_match=face_match, bank_account=True)
    if subject_type == SubjectType.INDIVIDUAL:
        person = body.get("individual")
        if not person:
            problems.found.append(InvalidRequest("individual is required", field="individual"))
            return None
        person = _complete_card(person)
        validate_individual({**body, "individual": person}, today, problems)
        return identifiers.required_purposes(bank_card="bank_card" in person, face_match=face_match)
    return None


def creation_problems(valid: Mapping[str, Any], today: date) -> list[InvalidRequest]:
    """Return the domain problems of the part of a create body its schema accepted."""
    problems = Problems()
    needed = _subject_problems(valid, today, problems)
    consent = valid.get("consent") or {}
    if needed is not None:
        problems.check(
            identifiers.check_consent,
            bool(consent.get("granted")),
            list(consent.get("purposes") or []),
            needed,
        )
    return problems.found
