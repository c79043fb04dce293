"""The sandbox's magic values (API.md § Sandbox), in one table each."""

from __future__ import annotations

IDENTITY_NAMES: dict[str, str] = {
    "测试不符": "name_id_mismatch",
    "测试无此人": "id_not_found",
}
PORTRAIT_NAMES: dict[str, str] = {"测试人像不符": "portrait_mismatch"}
RESERVED_PHONES: dict[str, str] = {
    "13900000001": "phone_mismatch",
    "13900000002": "bank_card_mismatch",
    "13900000003": "card_not_supported",
}
UNAVAILABLE_RESERVED_PHONE = "13900000009"
ENTITY_NAMES: dict[str, str] = {
    "测试不存在企业": "entity_not_found",
    "测试已注销企业": "entity_deregistered",
}
LEGAL_REPRESENTATIVE_NAMES: dict[str, str] = {"测试法人不符": "legal_representative_mismatch"}
DEPOSIT_AMOUNT = "0.32"
SMS_CODE = "000000"


def national_number(phone: str) -> str:
    """Return the 11-digit mainland number of ``phone`` (dropping ``+86`` and separators)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
