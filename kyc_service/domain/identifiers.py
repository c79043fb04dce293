"""Validation and normalisation of what a subject submits, before anything is stored.

Each validator returns the canonical value or raises ``InvalidRequest`` with the
contract's code and the field's path; no message ever repeats the submitted value.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from kyc_service.domain.errors import InvalidRequest

MINIMUM_AGE = 14
NAME_PATTERN = re.compile(
    r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebefA-Za-z·\u00b7 ]{2,40}$"
)
PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def validate_name(value: str, field: str) -> str:
    """Return the NFC-normalised name: 2–40 CJK or Latin letters, spaces and ``·``."""
    name = " ".join(unicodedata.normalize("NFC", value).replace("•", "·").split())
    name = name.replace("\u30fb", "·")
    if not NAME_PATTERN.match(name) or not any(ch.isalpha() for ch in name):
        raise InvalidRequest(
            "the name must be 2 to 40 Chinese or Latin letters, spaces or '·'",
            code="name_invalid",
            field=field,
        )
    return name


def validate_id_number(value: str, field: str, today: date) -> str:
    """Return the compact 18-character resident ID number; refuse anyone under 14 today."""
    try:
        number = ric.validate(value)
    except ValidationError:
        raise InvalidRequest(
            f"{field.rsplit('.', 1)[-1]} is not a valid resident ID number",
            code="id_number_invalid",
            field=field,
        ) from None
    if len(number) != 18:
        raise InvalidRequest(
            "only 18-character ID numbers are accepted", code="id_number_invalid", field=field
        )
    if age_on(ric.get_birth_date(number), today) < MINIMUM_AGE:
        raise InvalidRequest(
            f"the subject must be at least {MINIMUM_AGE} years old",
            code="subject_underage",
            field=field,
        )
    return number


def age_on(birth: date, today: date) -> int:
    """Return the age in whole years on ``today``."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def validate_mobile(value: str, field: str) -> str:
    """Return the 11-digit mainland mobile number of ``value`` (with or without +86)."""
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in PHONE_TYPES
        or len(str(parsed.national_number)) != 11
    ):
        raise InvalidRequest(
            "a mainland mobile number is required", code="phone_invalid", field=field
        )
    return str(parsed.national_number)


def validate_unionpay_card(value: str, field: str) -> str:
    """Return the digits of a UnionPay card: BIN 62, 16–19 digits, Luhn-valid."""
    digits = re.sub(r"[\s-]", "", value)
    if not (
        digits.isdigit()
        and 16 <= len(digits) <= 19
        and digits.startswith("62")
        and luhn.is_valid(digits)
    ):
        raise InvalidRequest(
            "a UnionPay card number (62…, 16 to 19 digits, valid check digit) is required",
            code="bank_card_invalid",
            field=field,
        )
    return digits


def validate_uscc(value: str, field: str) -> str:
    """Return the 18-character Unified Social Credit Code (check digit verified)."""
    try:
        return uscc.validate(value)
    except ValidationError:
        raise InvalidRequest(
            "uscc is not a valid Unified Social Credit Code", code="uscc_invalid", field=field
        ) from None


def validate_email_address(value: str, field: str) -> str:
    """Return the normalised e-mail address (syntax only: no DNS lookup)."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidRequest(
            "a valid e-mail address is required", code="email_invalid", field=field
        ) from None


def validate_account_number(value: str, field: str) -> str:
    """Return the digits of a corporate bank account number (8 to 30 digits)."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9]{8,30}", digits):
        raise InvalidRequest("a bank account number of 8 to 30 digits is required", field=field)
    return digits


def validate_choice(value: str, field: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` when it is one of ``choices``."""
    if value not in choices:
        raise InvalidRequest(
            f"{field.rsplit('.', 1)[-1]} must be one of: {', '.join(choices)}", field=field
        )
    return value


def validate_text(value: str, field: str, longest: int = 100) -> str:
    """Return free text (a bank's or an entity's name): 2 to ``longest`` characters, NFC."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not 2 <= len(text) <= longest or any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise InvalidRequest(
            f"{field.rsplit('.', 1)[-1]} must be 2 to {longest} characters", field=field
        )
    return text


def required_purposes(
    *, bank_card: bool = False, face_match: bool = False, bank_account: bool = False
) -> set[str]:
    """Return the consent purposes a verification needs."""
    purposes = {"real_name_authentication"}
    if bank_card:
        purposes.add("bank_card_verification")
    if bank_account:
        purposes.add("bank_account_verification")
    if face_match:
        purposes.add("facial_recognition")
    return purposes


def check_consent(granted: bool, purposes: list[str], needed: set[str]) -> None:
    """Refuse with ``consent_required`` unless consent is granted for every needed purpose."""
    missing = sorted(needed - set(purposes))
    if not granted or missing:
        detail = f": missing {', '.join(missing)}" if missing else ""
        raise InvalidRequest(
            f"separate consent is required for this request{detail}",
            code="consent_required",
            field="consent",
        )
