"""Masking of personal data in text and logs; JSON log lines carrying the request id."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from stdnum import luhn
from stdnum.cn import ric

from kyc_service.observability.logs import HANDLER_NAME, configure_logging
from kyc_service.observability.masking import mask_text

ID_BASE = "11010519491231002"
ID_NUMBER = ID_BASE + ric.calc_check_digit(ID_BASE + "0")
CARD_BASE = "621700123456789012"
CARD = CARD_BASE + luhn.calc_check_digit(CARD_BASE)
MOBILE = "13800138000"
PERSONAL = (ID_NUMBER, CARD, MOBILE, "+86" + MOBILE)
LOG_KEYS = {"time", "level", "logger", "message", "request_id"}


def test_the_synthetic_numbers_are_valid():
    assert ric.is_valid(ID_NUMBER) and len(ID_NUMBER) == 18
    assert luhn.is_valid(CARD) and len(CARD) == 19


def leaks(original: str, text: str) -> list[str]:
    """Return the runs of 7 digits of ``original`` that are still in ``text``."""
    digits = re.sub(r"\D", "", original)
    return [digits[i : i + 7] for i in range(len(digits) - 6) if digits[i : i + 7] in text]


@pytest.mark.parametrize("value", PERSONAL)
@pytest.mark.parametrize("template", ["{}", "号码：{}。", "value={},next", '{{"v": "{}"}}'])
def test_mask_text_masks_personal_numbers(value, template):
    masked = mask_text(template.format(value))
    assert not leaks(value, masked), masked
    assert not re.search(r"\d{7,}", masked), masked
    assert value[-4:] in masked


def test_mask_text_masks_several_numbers_and_keeps_other_text():
    text = f"身份证{ID_NUMBER} 卡 {CARD} 手机 {MOBILE} / {PERSONAL[3]} order 42"
    masked = mask_text(text)
    for value in PERSONAL:
        assert not leaks(value, masked), masked
    assert masked.startswith("身份证") and masked.endswith(" order 42")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Point the service's installed JSON handler at a buffer for one test."""
    configure_logging("INFO")
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def lines(buffer: io.StringIO) -> list[dict]:
    """Parse every line of the buffer as one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_configure_logging_writes_one_json_object_per_line_to_stderr():
    code = (
        "import logging\n"
        "from kyc_service.observability.logs import configure_logging\n"
        "configure_logging('INFO'); configure_logging('INFO')\n"
        "logging.getLogger('kyc.probe').info('first\\nsecond')\n"
        "logging.getLogger('kyc.probe').warning('phone %s', '13800138000')\n"
        "logging.getLogger('kyc.probe').debug('not shown')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert len(records) == 2, done.stderr
    for record in records:
        assert set(record) >= LOG_KEYS
        assert record["logger"] == "kyc.probe"
        assert record["request_id"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["time"]), record["time"]
        assert isinstance(record["pid"], int)
    assert [r["level"] for r in records] == ["INFO", "WARNING"]
    assert records[0]["message"] == "first\nsecond"
    assert "13800138000" not in done.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_log_lines_made_during_a_request_carry_its_id(client, log_stream):
    response = client.get("/healthz")
    request_id = response.headers["X-Request-Id"]
    access = [r for r in lines(log_stream) if r["logger"] == "kyc_service.access"]
    assert len(access) == 1
    assert set(access[0]) >= LOG_KEYS
    assert access[0]["request_id"] == request_id
    assert access[0]["message"] == "GET /healthz 200"


def test_personal_data_in_arguments_and_extras_is_masked(log_stream):
    log = logging.getLogger("kyc_service.probe")
    log.warning("subject %s paid with %s", ID_NUMBER, CARD, extra={"contact": f"tel {MOBILE}"})
    try:
        raise ValueError(f"bad phone +86{MOBILE}")
    except ValueError:
        log.exception("failed for %s", MOBILE)
    output = log_stream.getvalue()
    for value in PERSONAL:
        assert not leaks(value, output), output
    first, second = lines(log_stream)
    assert re.fullmatch(r"subject \S+ paid with \S+", first["message"]), first["message"]
    assert first["contact"].startswith("tel ") and first["contact"].endswith(MOBILE[-4:])
    assert first["level"] == "WARNING" and first["request_id"] is None
    assert "ValueError" in second["exc_info"]
