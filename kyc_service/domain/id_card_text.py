"""Reading the holder's name and ID number out of the OCR lines of an ID card front.

OCR engines return boxes of text in reading order, more or less: a label and its value may
come as one line (``姓名 张三``) or as two, and the value's box may even sort before its
label's. The number is looked for anywhere: an 18-character run ``[0-9]{17}[0-9X]`` once
full-width characters are folded, spaces inside the run dropped, a letter O inside a digit
run read as 0 and a lower-case x upper-cased; a candidate whose check digit is right is
preferred. The name is the value after ``姓名``, compared with traditional forms folded into
simplified ones (an OCR engine reads 黄 as 黃 now and then).

The ``id_card_ocr`` check compares both with what was submitted. A number whose check digit
is wrong is treated as a misread, not as a different number: it sends the verification to
review (``ocr_unreadable``) rather than rejecting it, as does a card where no number or no
name could be read.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from stdnum.cn import ric

from kyc_service.domain.checks import CheckResult, CheckStatus, check
from kyc_service.domain.results import TextLine

CHECK_NAME = "id_card_ocr"
NAME_LABEL = "姓名"
FIELD_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码", "签发机关", "有效期限")
NUMBER_RUN = re.compile(r"[0-9][0-9Oo ]*[0-9Xx]?")
NUMBER = re.compile(r"(?=([0-9]{17}[0-9X]))")
NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff·]{2,}")
MIDDLE_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", ".": "·", "‧": "·"})
SEPARATORS = ":：;；,，"


def _text(line: TextLine | str) -> str:
    """Return a line's text, whether it came as a :class:`TextLine` or a plain string."""
    return line.text if isinstance(line, TextLine) else line


# --- the number ------------------------------------------------------------------------------


def normalise_number(text: str) -> str:
    """Fold full-width forms, upper-case the check character and drop spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def number_candidates(text: str) -> list[str]:
    """Return every 18-character ID number that ``text`` may contain, in reading order."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"\s+", " ", folded)
    found: list[str] = []
    for run in NUMBER_RUN.findall(folded):
        cleaned = run.replace(" ", "").replace("O", "0").replace("o", "0").upper()
        found.extend(match.group(1) for match in NUMBER.finditer(cleaned))
    return found


def find_number(lines: Sequence[TextLine | str]) -> str | None:
    """Return the ID number read on the card: the first valid one, else the first one seen.

    Each line is searched, then all of them joined, for a number split across two boxes.
    """
    texts = [_text(line) for line in lines]
    candidates = [c for text in texts for c in number_candidates(text)]
    candidates += number_candidates("".join(texts))
    valid = [candidate for candidate in candidates if ric.is_valid(candidate)]
    return (valid or candidates or [None])[0]


# --- the name --------------------------------------------------------------------------------


def normalise_name(text: str) -> str:
    """Return a name in NFC with no spaces and one kind of middle dot."""
    composed = unicodedata.normalize("NFC", text).translate(MIDDLE_DOTS)
    return "".join(composed.split())


def simplified(text: str) -> str:
    """Fold traditional character forms into simplified ones (OpenCC ``t2s``)."""
    return _to_simplified().convert(text)


@functools.cache
def _to_simplified() -> Any:
    """The OpenCC converter, built once."""
    import opencc

    return opencc.OpenCC("t2s")


def same_name(read: str, submitted: str) -> bool:
    """Tell whether a name read from a card is the submitted one.

    Both are normalised and folded to simplified forms: OCR engines trained on both scripts
    read 黄 as 黃 now and then, and a card printed in one form is the same name.
    """
    return simplified(normalise_name(read)) == simplified(normalise_name(submitted))


def _plausible_name(text: str) -> str | None:
    """Return ``text`` as a name if it is only Chinese characters (and dots), else None."""
    name = normalise_name(text).strip(SEPARATORS)
    if not name or any(label in name for label in FIELD_LABELS):
        return None
    return name if NAME.fullmatch(name) else None


def _before_next_label(text: str) -> str:
    """Cut ``text`` where another field's label starts (lines may run two fields together)."""
    cuts = [text.find(label) for label in FIELD_LABELS if label in text]
    return text[: min(cuts)] if cuts else text


def find_name(lines: Sequence[TextLine | str]) -> str | None:
    """Return the value after ``姓名``: on the same line, else the next or the previous one."""
    texts = [normalise_name(_text(line)) for line in lines]
    for index, text in enumerate(texts):
        if NAME_LABEL not in text:
            continue
        rest = _before_next_label(text.split(NAME_LABEL, 1)[1])
        if rest.strip(SEPARATORS):
            return _plausible_name(rest)
        neighbours = texts[index + 1 : index + 2] + texts[max(index - 1, 0) : index]
        for neighbour in neighbours:
            name = _plausible_name(neighbour)
            if name:
                return name
    return None


def parse_front(lines: Iterable[TextLine | str]) -> tuple[str | None, str | None]:
    """Return the (name, ID number) read from the OCR lines of a card front; None if not read."""
    listed = list(lines)
    return find_name(listed), find_number(listed)


# --- the check -------------------------------------------------------------------------------


NAME_FIELD = "name"
NUMBER_FIELD = "id_number"


def differing_fields(
    name: str | None, number: str | None, submitted_name: str, submitted_number: str
) -> tuple[str, ...]:
    """Return the names of the fields read from the card that differ from the submitted ones
    (``name``, ``id_number``): a field not read, or a number whose check digit is wrong (a
    misread), differs from nothing. Names only, never the values."""
    differing = []
    if name is not None and not same_name(name, submitted_name):
        differing.append(NAME_FIELD)
    number_ok = number is not None and ric.is_valid(number)
    if number_ok and number != normalise_number(submitted_number):
        differing.append(NUMBER_FIELD)
    return tuple(differing)


def id_card_ocr_check(
    lines: Iterable[TextLine | str], submitted_name: str, submitted_number: str
) -> CheckResult:
    """Compare what the card front says with what was submitted; return the check record.

    A valid number or a name that differs from the submitted one fails with
    ``ocr_mismatch`` (:func:`differing_fields` names them); no number, an invalid one, or
    no name fails with the soft ``ocr_unreadable``; both read and equal passes.
    """
    name, number = parse_front(lines)
    differing = differing_fields(name, number, submitted_name, submitted_number)
    if differing:
        return check(CHECK_NAME, CheckStatus.FAILED, "ocr_mismatch", fields=differing)
    if number is None or not ric.is_valid(number) or name is None:
        return check(CHECK_NAME, CheckStatus.FAILED, "ocr_unreadable")
    return check(CHECK_NAME, CheckStatus.PASSED)
