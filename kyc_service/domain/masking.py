"""Masked display copies of personal data, as every response shows them.

>>> mask_id_number("11010519491231002X")
'1101**********002X'
>>> mask_phone("+8613800138000")
'138****8000'
>>> mask_name("张三"), mask_name("阿卜杜·热合曼")
('张*', '阿*·*')
>>> mask_card("6222021234567890128")
'0128'
"""

from __future__ import annotations

MIDDLE_DOT = "·"


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters of an 18-character ID number or USCC."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits of a mainland mobile number (``138****8000``)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_card(value: str) -> str:
    """Return only the last 4 digits of a card or account number."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-4:]


def mask_name(value: str) -> str:
    """Keep the first character; each further part (split at ``·`` or spaces) becomes ``*``."""
    value = value.strip()
    if not value:
        return ""
    separator = MIDDLE_DOT if MIDDLE_DOT in value else " "
    parts = [part for part in value.split(separator) if part]
    first = parts[0][0] + "*"
    return separator.join([first] + ["*"] * (len(parts) - 1))


def mask_email(value: str) -> str:
    """Keep the first character of the local part and the whole domain (``o***@example.cn``)."""
    local, _, domain = value.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def mask_uscc(value: str) -> str:
    """Keep the first 4 and last 4 characters of a USCC: ``9144**********XX3A``."""
    return value[:4] + "*" * max(0, len(value) - 8) + value[-4:]


def mask_account(value: str) -> str:
    """Return the last 4 digits of a bank account number."""
    return value[-4:]
