"""Reading a business licence's name and USCC from OCR lines (pure domain, no OCR)."""

from __future__ import annotations

from kyc_service.domain.certificate_text import (
    certificate_ocr_check,
    find_entity_name,
    find_uscc,
)
from kyc_service.domain.results import TextLine

USCC = "91440101MA5CYXTT22"
NAME = "广州示例科技有限公司"


def licence(name: str = NAME, code: str = USCC) -> list[TextLine]:
    texts = [
        f"统一社会信用代码 {code}",
        "营业执照",
        f"名称　{name}",
        "类型　有限责任公司（自然人投资或控股）",
        "法定代表人　王伟",
    ]
    return [TextLine(text, 0.97) for text in texts]


def test_both_match_passes() -> None:
    assert certificate_ocr_check(licence(), NAME, USCC).status == "passed"


def test_a_code_read_with_look_alike_letters_is_still_found() -> None:
    lines = licence(code=USCC.replace("0", "O"))
    assert find_uscc(lines) == USCC


def test_another_uscc_or_name_is_a_mismatch() -> None:
    other = "91440101MA5CYXTT3X"
    from stdnum.cn import uscc

    other = other[:17] + uscc.calc_check_digit(other[:17])
    assert certificate_ocr_check(licence(code=other), NAME, USCC).code == "ocr_mismatch"
    assert certificate_ocr_check(licence(name="广州别的公司"), NAME, USCC).code == "ocr_mismatch"


def test_nothing_readable_is_soft() -> None:
    result = certificate_ocr_check([TextLine("营业执照", 0.9)], NAME, USCC)
    assert (result.status, result.code) == ("failed", "ocr_unreadable")


def test_the_name_on_the_next_line_and_full_width_brackets() -> None:
    lines = [TextLine("名称", 0.9), TextLine("广州示例（科技）有限公司", 0.9)]
    assert find_entity_name(lines) == "广州示例(科技)有限公司"
    check = certificate_ocr_check(lines + [TextLine(USCC, 0.9)], "广州示例(科技)有限公司", USCC)
    assert check.status == "passed"
