"""Parsing the OCR lines of an ID card front, and the ``id_card_ocr`` decision (pure, fast)."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from kyc_service.domain.id_card_text import (
    find_name,
    find_number,
    id_card_ocr_check,
    normalise_name,
    number_candidates,
    parse_front,
)
from kyc_service.domain.results import TextLine
from kyc_service.domain.verification import SOFT_FAILURES


def valid(body: str) -> str:
    number = body + ric.calc_check_digit(body + "0")
    assert ric.is_valid(number), number
    return number


NUMBER = valid("11010519900307123")
OTHER = valid("31010419751102456")
WRONG_CHECK = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def front(name: str = "张三丰", number: str = NUMBER) -> list[TextLine]:
    """The lines an OCR engine returns for a card front, label and value on one line."""
    texts = [
        f"姓名 {name}",
        "性别男",
        "民族汉",
        "出生 1990年3月7日",
        "住址 北京市朝阳区建国路88号",
        f"公民身份号码{number}",
    ]
    return [TextLine(text, 0.98) for text in texts]


# --- the number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        NUMBER,
        f"公民身份号码 {NUMBER}",
        f"公民身份号码：{NUMBER}",
        NUMBER.translate(FULL_WIDTH),
        f"{NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:]}",
        f"{NUMBER[:6]}　{NUMBER[6:]}",  # an ideographic space
        NUMBER.replace("0", "O"),
        NUMBER.replace("0", "o", 2),
    ],
)
def test_the_number_is_found_however_it_is_written(text: str) -> None:
    assert find_number([text]) == NUMBER


def test_a_lower_case_x_is_the_check_character() -> None:
    number = next(
        valid(f"1101051990030712{digit}")
        for digit in "0123456789"
        if valid(f"1101051990030712{digit}").endswith("X")
    )
    assert find_number([f"公民身份号码{number.lower()}"]) == number


def test_o_is_only_a_zero_inside_digits() -> None:
    assert number_candidates("OO11010519900307123X") == ["11010519900307123X"]
    assert number_candidates("HOTEL 123") == []


def test_a_valid_number_is_preferred_to_an_invalid_one() -> None:
    assert find_number([WRONG_CHECK, NUMBER]) == NUMBER
    assert find_number([WRONG_CHECK]) == WRONG_CHECK


def test_a_number_split_over_two_lines() -> None:
    assert find_number(["公民身份号码", NUMBER[:10], NUMBER[10:]]) == NUMBER


def test_other_digits_are_not_a_number() -> None:
    assert find_number(["出生 1990年3月7日", "住址 建国路88号2栋1001室", "电话13812345678"]) is None


def test_the_longest_run_gives_the_valid_window() -> None:
    assert find_number([f"9{NUMBER}7"]) == NUMBER


# --- the name --------------------------------------------------------------------------------


def test_the_name_on_the_label_line() -> None:
    assert find_name(front()) == "张三丰"


@pytest.mark.parametrize(
    "lines",
    [
        ["姓名", "张三丰", "性别男"],
        ["张三丰", "姓名", "民族汉", "性别男"],  # the value's box sorted before the label's
        ["姓名：张三丰"],
        ["姓 名 张 三 丰"],
        ["姓名张三丰性别男"],
    ],
)
def test_the_name_wherever_the_engine_put_it(lines: list[str]) -> None:
    assert find_name(lines) == "张三丰"


def test_no_name_label_no_name() -> None:
    assert find_name(["张三丰", "性别男"]) is None


def test_a_label_next_to_a_bare_name_label_is_not_a_name() -> None:
    assert find_name(["姓名", "性别男", "民族汉"]) is None


def test_minority_names_keep_one_kind_of_middle_dot() -> None:
    assert find_name(["姓名 买买提•艾力"]) == "买买提·艾力"
    assert normalise_name("买买提・艾力") == "买买提·艾力"


def test_names_are_compared_in_nfc() -> None:
    decomposed = "e\u0301"  # é as e + combining acute
    assert normalise_name(decomposed) == "\u00e9"


def test_parse_front() -> None:
    assert parse_front(front()) == ("张三丰", NUMBER)
    assert parse_front([]) == (None, None)


# --- the check -------------------------------------------------------------------------------


def test_both_match_passes() -> None:
    record = id_card_ocr_check(front(), "张三丰", NUMBER)
    assert record.to_record() == {
        "name": "id_card_ocr",
        "status": "passed",
        "code": None,
        "score": None,
    }


def test_submitted_values_are_normalised_too() -> None:
    lowered = NUMBER[:-1] + NUMBER[-1].lower()
    assert id_card_ocr_check(front(), " 张 三丰 ", f" {lowered} ").status == "passed"


def test_another_persons_number_is_a_mismatch() -> None:
    record = id_card_ocr_check(front(number=OTHER), "张三丰", NUMBER)
    assert (record.status, record.code) == ("failed", "ocr_mismatch")
    assert record.code not in SOFT_FAILURES


def test_another_name_is_a_mismatch() -> None:
    record = id_card_ocr_check(front(name="李四"), "张三丰", NUMBER)
    assert (record.status, record.code) == ("failed", "ocr_mismatch")


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [TextLine("中华人民共和国", 0.99), TextLine("居民身份证", 0.99)],
        front(number=WRONG_CHECK),  # a misread digit: review, not rejection
        front()[1:],  # the name could not be read
    ],
    ids=["nothing", "no-number", "misread-number", "no-name"],
)
def test_unreadable_is_a_soft_failure(lines: list[TextLine]) -> None:
    record = id_card_ocr_check(lines, "张三丰", NUMBER)
    assert (record.status, record.code) == ("failed", "ocr_unreadable")
    assert record.code in SOFT_FAILURES


def test_a_name_read_in_traditional_forms_is_the_same_name() -> None:
    from kyc_service.domain.id_card_text import id_card_ocr_check

    record = id_card_ocr_check(
        ["姓名 黃静勇", "公民身份号码 11010519491231002X"], "黄静勇", "11010519491231002X"
    )
    assert record.status == "passed"
    other = id_card_ocr_check(
        ["姓名 黃静勇", "公民身份号码 11010519491231002X"], "黄静英", "11010519491231002X"
    )
    assert other.code == "ocr_mismatch"
