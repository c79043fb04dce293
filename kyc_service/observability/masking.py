"""A last line of defence: mask anything that looks like an ID, card or phone number in text."""

from __future__ import annotations

import re

# A resident ID number (17 digits and a check character), a run of 12–19 digits
# (bank cards, account numbers), a mainland mobile number (optionally +86).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_LONG_DIGITS = re.compile(r"(?<!\d)\d{12,}(?!\d)")
_SPACED_DIGITS = re.compile(r"(?<!\d)\d{3,6}(?:[ -]\d{3,6}){2,5}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_SEVEN_DIGITS = re.compile(r"(?<!\d)\d{7,11}(?!\d)")


def mask_text(text: str) -> str:
    """Return ``text`` with ID numbers, long digit runs and mobile numbers starred out."""
    text = _ID_NUMBER.sub(lambda m: m.group()[:4] + "*" * 10 + m.group()[-4:], text)
    text = _LONG_DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)
    text = _SPACED_DIGITS.sub(_mask_spaced, text)
    text = _MOBILE.sub(lambda m: m.group()[:-8] + "****" + m.group()[-4:], text)
    return _SEVEN_DIGITS.sub(lambda m: "*" * len(m.group()), text)


def _mask_spaced(match: re.Match[str]) -> str:
    """Star a spaced or dashed number (``6217 0012 3456 7890``) when it has 11 digits or more."""
    value = match.group()
    digits = sum(ch.isdigit() for ch in value)
    if digits < 11:
        return value
    return "".join("*" if ch.isdigit() else ch for ch in value[:-4]) + value[-4:]
