"""Reading a business licence (or another certificate): its entity name and USCC.

A licence prints ``统一社会信用代码`` followed by the 18-character code, and ``名称``
followed by the entity's name. OCR reads the code with the odd confusion (``O`` for ``0``),
so a candidate is accepted only when its check digit is valid (python-stdnum).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from stdnum.cn import uscc

from kyc_service.domain.checks import CheckResult, CheckStatus, check
from kyc_service.domain.id_card_text import simplified
from kyc_service.domain.results import TextLine

CHECK_NAME = "certificate_ocr"
NAME_LABEL = "名称"
USCC_LABEL = "统一社会信用代码"
LABELS = (NAME_LABEL, USCC_LABEL, "类型", "法定代表人", "负责人", "注册资本", "成立日期", "住所")
CANDIDATE = re.compile(r"[0-9A-Z]{18}")
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})
"""Letters a USCC never contains, read for the digit they look like."""
SEPARATORS = " :：·,，.。"
BRACKETS = str.maketrans({"（": "(", "）": ")"})


def _text(line: TextLine | str) -> str:
    """A line's text, NFKC-normalised (full-width letters and digits to ASCII), no spaces."""
    raw = line.text if isinstance(line, TextLine) else line
    return "".join(unicodedata.normalize("NFKC", raw).split())


def find_uscc(lines: Sequence[TextLine | str]) -> str | None:
    """Return the first valid USCC the lines carry (after its label, or anywhere)."""
    texts = [_text(line).upper() for line in lines]
    labelled = [t.split(USCC_LABEL, 1)[1] for t in texts if USCC_LABEL in t]
    for text in labelled + texts:
        for candidate in CANDIDATE.findall(text.translate(LOOK_ALIKES)):
            if uscc.is_valid(candidate):
                return candidate
    return None


def _before_next_label(text: str) -> str:
    """Cut ``text`` where another field's label starts."""
    cuts = [text.find(label) for label in LABELS if label in text]
    return text[: min(cuts)] if cuts else text


def find_entity_name(lines: Sequence[TextLine | str]) -> str | None:
    """Return the value after ``名称`` (same line, else the next one)."""
    texts = [_text(line) for line in lines]
    for index, text in enumerate(texts):
        if NAME_LABEL not in text or USCC_LABEL in text.split(NAME_LABEL)[0]:
            continue
        rest = _before_next_label(text.split(NAME_LABEL, 1)[1]).strip(SEPARATORS)
        if not rest and index + 1 < len(texts):
            rest = _before_next_label(texts[index + 1]).strip(SEPARATORS)
        if rest:
            return rest
    return None


def same_entity_name(read: str, submitted: str) -> bool:
    """Compare names with spaces, bracket widths and traditional forms folded."""

    def folded(text: str) -> str:
        return simplified("".join(unicodedata.normalize("NFKC", text).split())).translate(BRACKETS)

    return folded(read) == folded(submitted)


def certificate_ocr_check(
    lines: Iterable[TextLine | str], submitted_name: str, submitted_uscc: str
) -> CheckResult:
    """Compare what the certificate says with what was submitted.

    A USCC or a name that differs is ``ocr_mismatch``; one that cannot be read is
    ``ocr_unreadable`` (soft: a person looks at the certificate).
    """
    listed = list(lines)
    read_uscc, read_name = find_uscc(listed), find_entity_name(listed)
    if read_uscc is not None and read_uscc != uscc.compact(submitted_uscc):
        return check(CHECK_NAME, CheckStatus.FAILED, "ocr_mismatch")
    if read_name is not None and not same_entity_name(read_name, submitted_name):
        return check(CHECK_NAME, CheckStatus.FAILED, "ocr_mismatch")
    if read_uscc is None or read_name is None:
        return check(CHECK_NAME, CheckStatus.FAILED, "ocr_unreadable")
    return check(CHECK_NAME, CheckStatus.PASSED)
