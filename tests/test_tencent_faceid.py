"""Issue 14: the Tencent Cloud FaceID adapters against a loopback fake of the Tencent API.

The fake (``tests/provider_fakes.py``) checks every request's TC3-HMAC-SHA256 signature with
the tests' own implementation of Tencent's documented algorithm (which first reproduces the
worked example of Tencent's "Signature v3" document), answers AuthFailure when it does not
verify, and answers each test the documented ``Result`` codes, errors, 5xx, bodies that are
not JSON and a slow answer. Every code must map as this file lists it (written from Tencent's
documents, apart from ``codes``), with its billable flag; every outage must be
``UpstreamUnavailable``, never a pass.
"""

from __future__ import annotations

import base64
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest
from flask import Response, jsonify

from adapters.http_verifiers.client import CircuitBreaker
from adapters.tencent_faceid import codes
from adapters.tencent_faceid.adapters import (
    TencentBankVerifier,
    TencentIdentityAuthority,
    TencentPortraitAuthority,
)
from adapters.tencent_faceid.client import ClientSettings, parse_endpoint
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match, Mismatch, NotFound
from tests.helpers import serving_in_thread
from tests.provider_fakes import TENCENT_SECRET_ID as SECRET_ID
from tests.provider_fakes import TENCENT_SECRET_KEY as SECRET_KEY
from tests.provider_fakes import (
    FakeFaceId,
    canonical_request,
    create_fake,
    sha256_hex,
    string_to_sign,
    tc3_signature,
    tencent_answer,
)
from tests.provider_fakes import tencent_error as error
from tests.provider_fakes import tencent_result as result

NAME = "韦小宝"
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890128"
PHONE = "13800138000"
SELFIE = b"\xff\xd8\xff\xe0 a selfie \xff\xd9"
OUTAGE = "outage"
"""An expected outage: ``UpstreamUnavailable``, unbilled."""


# --- TC3-HMAC-SHA256, written from Tencent's "Signature v3" document ------------------------
# (the signer is in tests/provider_fakes.py)

# Tencent's worked example (POST cvm DescribeInstances, ap-guangzhou, 2019-02-25): "Signature
# v3" / 签名方法 v3, https://cloud.tencent.com/document/api/213/30654 — its SecretKey
# Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, X-TC-Timestamp 1551113065, the payload below, the hashes
# it prints at each step and the final Signature.
DOC_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
DOC_TIMESTAMP = 1551113065
DOC_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
DOC_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
DOC_PAYLOAD_HASH = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
DOC_CANONICAL_HASH = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
DOC_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


def test_the_signer_reproduces_tencents_worked_example():
    canonical = canonical_request("POST", "/", "", DOC_HEADERS, DOC_PAYLOAD)
    assert sha256_hex(DOC_PAYLOAD) == DOC_PAYLOAD_HASH
    assert canonical.endswith("\n\ncontent-type;host\n" + DOC_PAYLOAD_HASH)
    assert sha256_hex(canonical.encode()) == DOC_CANONICAL_HASH
    to_sign = string_to_sign(DOC_TIMESTAMP, "cvm", canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" + DOC_CANONICAL_HASH
    )
    assert tc3_signature(DOC_SECRET_KEY, "2019-02-25", "cvm", to_sign) == DOC_SIGNATURE


def test_the_signer_agrees_with_the_sdks():
    from tencentcloud.common.sign import Sign

    canonical = canonical_request("POST", "/", "", DOC_HEADERS, b'{"IdCard": "x"}')
    to_sign = string_to_sign(1_700_000_000, "faceid", canonical)
    ours = tc3_signature(SECRET_KEY, "2023-11-14", "faceid", to_sign)
    assert ours == Sign.sign_tc3(SECRET_KEY, "2023-11-14", "faceid", to_sign)


# --- The fake Tencent endpoint (tests/provider_fakes.py) --------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FakeFaceId]]:
    fake = FakeFaceId()
    with serving_in_thread(create_fake(fake)) as url:
        yield url.removeprefix("http://"), fake


@pytest.fixture
def fake(server) -> Iterator[FakeFaceId]:
    _, state = server
    state.reply, state.seen, state.refused, state.refusals_expected = lambda: result("0"), [], 0, 0
    yield state
    assert state.refused == state.refusals_expected, "a request was not signed as documented"


@pytest.fixture
def settings(server) -> dict[str, Any]:
    endpoint, _ = server
    return {
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "endpoint": endpoint,
        "timeout": "2",
    }


def identity_call(settings: dict[str, Any]):  # noqa: ANN201
    adapter = TencentIdentityAuthority.from_settings(settings)
    return lambda: adapter.verify(NAME, ID_NUMBER, request_id="vr_identity")


def bank_call(settings: dict[str, Any]):  # noqa: ANN201
    adapter = TencentBankVerifier.from_settings(settings)
    return lambda: adapter.verify(CARD, NAME, ID_NUMBER, PHONE, request_id="vr_bank")


def portrait_call(settings: dict[str, Any]):  # noqa: ANN201
    adapter = TencentPortraitAuthority.from_settings(settings)
    return lambda: adapter.compare(NAME, ID_NUMBER, SELFIE, request_id="vr_portrait")


def outcome_or_outage(call: Callable[[], Any]) -> Any:
    """The call's result, or ``OUTAGE`` for an unbilled ``UpstreamUnavailable``."""
    try:
        return call()
    except UpstreamUnavailable as outage:
        assert outage.billable is False
        assert SECRET_KEY not in str(outage) and NAME not in str(outage)
        return OUTAGE


# --- What each operation sends --------------------------------------------------------------


def test_identity_sends_exactly_name_and_id_number(fake, settings):
    assert identity_call(settings)() == Match(billable=True)
    [seen] = fake.seen
    assert seen.action == "IdCardVerification"
    assert seen.fields == {"Name": NAME, "IdCard": ID_NUMBER}  # no phone, no card, no photo
    assert seen.headers["X-Tc-Version"] == "2018-03-01"
    assert "X-Tc-Region" not in seen.headers  # FaceID takes no region unless one is set


def test_bank_sends_exactly_the_four_elements(fake, settings):
    assert bank_call(settings)() == Match(billable=True)
    [seen] = fake.seen
    assert seen.action == "BankCard4EVerification"
    assert seen.fields == {"Name": NAME, "BankCard": CARD, "Phone": PHONE, "IdCard": ID_NUMBER}


def test_portrait_sends_exactly_the_selfie_name_and_id_number(fake, settings):
    fake.reply = lambda: result("Success", Sim=89.88)
    assert portrait_call(settings)() == Match(billable=True, score=0.8988)
    [seen] = fake.seen
    assert seen.action == "ImageRecognitionV2"
    assert set(seen.fields) == {"IdCard", "Name", "ImageBase64"}
    assert (seen.fields["IdCard"], seen.fields["Name"]) == (ID_NUMBER, NAME)
    assert base64.b64decode(seen.fields["ImageBase64"], validate=True) == SELFIE


def test_a_configured_region_is_sent(fake, settings):
    identity_call(settings | {"region": "ap-guangzhou"})()
    assert fake.seen[0].headers["X-Tc-Region"] == "ap-guangzhou"


def test_a_wrong_key_is_refused_by_the_fake_and_is_an_outage(fake, settings, caplog):
    fake.refusals_expected = 1
    caplog.set_level(logging.DEBUG)
    call = identity_call(settings | {"secret_key": "a-wrong-key-0000"})
    assert outcome_or_outage(call) == OUTAGE
    assert fake.seen == [] and fake.refused == 1
    assert "a-wrong-key-0000" not in caplog.text


# --- Every documented code, as Tencent's documents define it --------------------------------
# IdCardVerification, https://cloud.tencent.com/document/api/1007/33188: billed 0, -1.

IDENTITY_EXPECTED = {
    "0": Match(billable=True),
    "-1": Mismatch("name_id_mismatch", billable=True),
    "-2": Mismatch("id_number_invalid", billable=False),
    "-3": Mismatch("name_invalid", billable=False),
    "-4": OUTAGE,
    "-5": NotFound("id_not_found", billable=False),
    "-6": OUTAGE,
    "-7": OUTAGE,
}

# BankCard4EVerification, https://cloud.tencent.com/document/api/1007/35775: billed 0, -1,
# -6 … -17, -21.
_CARD_REFUSED = Mismatch("card_not_supported", billable=True)
BANK_EXPECTED = {
    "0": Match(billable=True),
    "-1": Mismatch("bank_card_mismatch", billable=True),
    "-6": Mismatch("bank_card_mismatch", billable=True),
    "-9": Mismatch("bank_card_mismatch", billable=True),
    **{str(code): _CARD_REFUSED for code in (-7, -8, -10, -11, -12, -13, -14, -15, -16, -17)},
    "-21": _CARD_REFUSED,
    "-2": Mismatch("name_invalid", billable=False),
    "-3": Mismatch("id_number_invalid", billable=False),
    "-4": Mismatch("bank_card_invalid", billable=False),
    "-5": Mismatch("phone_invalid", billable=False),
    "-18": OUTAGE,
    "-19": OUTAGE,
    "-20": Mismatch("card_not_supported", billable=False),
}

# ImageRecognitionV2, https://cloud.tencent.com/document/api/1007/102203; billed (人脸核验类,
# https://cloud.tencent.com/document/product/1007/47911): Success, IdNameMisMatch,
# CompareLowSimilarity. The fake sends Sim 89.88 with Success, 41.5 with a low similarity and
# 0 with anything else: only a comparison's Sim is a score.
_F = "FailedOperation."
PORTRAIT_EXPECTED = {
    "Success": Match(billable=True, score=0.8988),
    _F + "CompareLowSimilarity": Mismatch("portrait_mismatch", billable=True, score=0.415),
    _F + "IdNameMisMatch": Mismatch("name_id_mismatch", billable=True),
    _F + "IdNoExistSystem": NotFound("id_not_found", billable=False),
    _F + "IdFormatError": Mismatch("id_number_invalid", billable=False),
    _F + "NameFormatError": Mismatch("name_invalid", billable=False),
    _F + "LifePhotoDetectFake": Mismatch("portrait_mismatch", billable=False),
    _F + "LifePhotoDetectNoFaces": Mismatch("no_face_found", billable=False),
    _F + "IncompleteFace": Mismatch("no_face_found", billable=False),
    _F + "CoveredFace": Mismatch("no_face_found", billable=False),
    _F + "LifePhotoDetectFaces": Mismatch("multiple_faces", billable=False),
    _F + "LifePhotoPoorQuality": Mismatch("face_too_small", billable=False),
    _F + "ImageBlur": Mismatch("image_blurry", billable=False),
    _F + "PoorImageQuality": Mismatch("image_blurry", billable=False),
    _F + "ImageDecodeFailed": Mismatch("image_unreadable", billable=False),
    _F + "EmptyImageError": Mismatch("image_unreadable", billable=False),
    **{
        _F + code: OUTAGE
        for code in (
            "IdPhotoNoExist",
            "IdPhotoPoorQuality",
            "LifePhotoSizeError",
            "ImageSizeTooLarge",
            "IdentityAuthLimitExceeded",
            "IdPhotoSystemNoanswer",
            "CompareFail",
            "CompareSystemError",
            "CompareLibServiceUnavailable",
            "DetectEngineSystemError",
            "DecryptSystemError",
            "StsUnAuthErrError",
            "RequestLimitExceeded",
            "UnKnown",
        )
    },
}


def sim_for(code: str) -> float:
    return {"Success": 89.88, _F + "CompareLowSimilarity": 41.5}.get(code, 0)


def test_every_documented_code_is_in_the_tables_and_in_this_file():
    assert set(codes.IDENTITY_RESULTS) == set(IDENTITY_EXPECTED)
    assert set(codes.BANK_RESULTS) == set(BANK_EXPECTED)
    assert set(codes.PORTRAIT_RESULTS) == set(PORTRAIT_EXPECTED)
    assert set(IDENTITY_EXPECTED) == {"0"} | {str(-n) for n in range(1, 8)}
    assert set(BANK_EXPECTED) == {"0"} | {str(-n) for n in range(1, 22)}
    assert billed(IDENTITY_EXPECTED) == {"0", "-1"}
    assert billed(BANK_EXPECTED) == {"0", "-1", "-21"} | {str(-n) for n in range(6, 18)}
    assert billed(PORTRAIT_EXPECTED) == {
        "Success",
        _F + "CompareLowSimilarity",
        _F + "IdNameMisMatch",
    }


def billed(expected: dict[str, Any]) -> set[str]:
    """The codes Tencent bills (收费结果码) in an expected table."""
    return {code for code, answer in expected.items() if answer != OUTAGE and answer.billable}


@pytest.mark.parametrize(("code", "expected"), IDENTITY_EXPECTED.items())
def test_each_identity_result(fake, settings, code, expected):
    fake.reply = lambda: result(code)
    assert outcome_or_outage(identity_call(settings)) == expected
    assert len(fake.seen) == 1  # never repeated: a repeat could be billed twice


@pytest.mark.parametrize(("code", "expected"), BANK_EXPECTED.items())
def test_each_bank_result(fake, settings, code, expected):
    fake.reply = lambda: result(code)
    assert outcome_or_outage(bank_call(settings)) == expected


@pytest.mark.parametrize(("code", "expected"), PORTRAIT_EXPECTED.items())
def test_each_portrait_result(fake, settings, code, expected):
    fake.reply = lambda: result(code, Sim=sim_for(code))
    assert outcome_or_outage(portrait_call(settings)) == expected


@pytest.mark.parametrize(
    "code", [_F + "CompareLowSimilarity", _F + "IdNameMisMatch", _F + "LifePhotoDetectFaces"]
)
def test_a_portrait_code_sent_as_an_error_means_the_same(fake, settings, code):
    fake.reply = lambda: error(code)
    expected = PORTRAIT_EXPECTED[code]
    if isinstance(expected, Mismatch):
        expected = Mismatch(expected.code, billable=expected.billable)  # no Sim, no score
    assert outcome_or_outage(portrait_call(settings)) == expected


def test_a_success_without_a_similarity_passes_without_a_score(fake, settings):
    fake.reply = lambda: result("Success")
    assert portrait_call(settings)() == Match(billable=True, score=None)


@pytest.mark.parametrize("sim", [150, -1, "89.88", True, None])
def test_a_similarity_outside_0_to_100_is_an_outage(fake, settings, sim):
    fake.reply = lambda: tencent_answer({"Result": "Success", "Sim": sim})
    expected = Match(billable=True) if sim is None else OUTAGE
    assert outcome_or_outage(portrait_call(settings)) == expected


# --- Errors and outages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "RequestLimitExceeded",
        "InternalError",
        "AuthFailure.SecretIdNotFound",
        "UnauthorizedOperation.Arrears",
        "InvalidParameterValue",
        "FailedOperation.UnKnown",
        "ResourceUnavailable.SomethingNew",  # undocumented
        "0",  # a success code where an error code belongs
    ],
)
@pytest.mark.parametrize("call", [identity_call, bank_call, portrait_call])
def test_tencent_errors_are_outages(fake, settings, code, call):
    fake.reply = lambda: error(code)
    assert outcome_or_outage(call(settings)) == OUTAGE


@pytest.mark.parametrize(
    "reply",
    [
        lambda: result("-99"),  # undocumented
        lambda: result(0),  # not a string
        lambda: result(None),
        lambda: tencent_answer({"Description": "no result"}),
        lambda: Response("busy", status=503),
        lambda: Response("oops", status=500),
        lambda: Response(b'{"Response": {"Result": "0"', mimetype="application/json"),
        lambda: Response(b"<html>0</html>", mimetype="text/html"),
        lambda: jsonify({"Result": "0"}),  # no Response
        lambda: jsonify({"Response": ["0"]}),
        lambda: jsonify({"Response": {"Error": "AuthFailure"}}),
    ],
    ids=[
        "undocumented",
        "number",
        "null",
        "missing",
        "503",
        "500",
        "malformed-json",
        "html",
        "no-response",
        "response-list",
        "error-string",
    ],
)
def test_answers_that_are_not_documented_are_outages_never_a_pass(fake, settings, reply):
    fake.reply = reply
    assert outcome_or_outage(identity_call(settings)) == OUTAGE


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_not_followed(fake, settings, status):
    """The redirect's target would answer a Match: followed, the call would pass."""
    from flask import Flask, request

    elsewhere = Flask("elsewhere")
    reached: list[str] = []

    @elsewhere.route("/", methods=["GET", "POST"])
    def answer() -> Response:
        reached.append(request.method)
        return result("0")

    with serving_in_thread(elsewhere) as target:
        fake.reply = lambda: Response(status=status, headers={"Location": f"{target}/"})
        assert outcome_or_outage(identity_call(settings)) == OUTAGE
    assert reached == [], "the redirect's target got nothing"
    assert len(fake.seen) == 1  # the fields were not sent again


def test_a_slow_answer_past_the_timeout_is_an_outage(fake, settings):
    def slow() -> Response:
        time.sleep(1.5)
        return result("0")

    fake.reply = slow
    started = time.monotonic()
    assert outcome_or_outage(identity_call(settings | {"timeout": "0.5"})) == OUTAGE
    assert time.monotonic() - started < 1.4


def test_a_refused_connection_is_an_outage(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert outcome_or_outage(identity_call(settings | {"endpoint": f"127.0.0.1:{port}"})) == OUTAGE


def test_proxies_of_the_environment_are_ignored(fake, settings, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert identity_call(settings)() == Match(billable=True)
    assert len(fake.seen) == 1


# --- The circuit breaker --------------------------------------------------------------------


def test_the_breaker_opens_after_repeated_outages(fake, settings):
    adapter = TencentIdentityAuthority.from_settings(settings)
    adapter.caller.breaker = CircuitBreaker(threshold=3, cooldown=60)
    fake.reply = lambda: Response("down", status=503)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            adapter.verify(NAME, ID_NUMBER)
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        adapter.verify(NAME, ID_NUMBER)
    assert len(fake.seen) == 3  # the fourth failed fast, without a request


def test_the_breaker_counts_a_failing_service_code_but_not_one_persons_refusal(fake, settings):
    adapter = TencentPortraitAuthority.from_settings(settings)
    adapter.caller.breaker = CircuitBreaker(threshold=2, cooldown=60)
    fake.reply = lambda: result(_F + "IdPhotoNoExist")  # about this person only
    for _ in range(4):
        with pytest.raises(UpstreamUnavailable):
            adapter.compare(NAME, ID_NUMBER, SELFIE)
    assert len(fake.seen) == 4
    fake.reply = lambda: result(_F + "CompareSystemError")  # the service is failing
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            adapter.compare(NAME, ID_NUMBER, SELFIE)
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        adapter.compare(NAME, ID_NUMBER, SELFIE)
    assert len(fake.seen) == 6


def test_each_adapter_has_its_own_breaker(settings):
    first = TencentIdentityAuthority.from_settings(settings)
    second = TencentIdentityAuthority.from_settings(settings)
    assert first.caller.breaker is not second.caller.breaker
    assert first.caller.client is not second.caller.client


# --- Settings, the SDK, secrets -------------------------------------------------------------


@pytest.mark.parametrize(
    "adapter", [TencentIdentityAuthority, TencentBankVerifier, TencentPortraitAuthority]
)
def test_without_the_sdk_from_settings_names_the_pip_command(monkeypatch, settings, adapter):
    for name in [name for name in sys.modules if name.startswith("tencentcloud")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tencentcloud", None)
    with pytest.raises(RuntimeError) as raised:
        adapter.from_settings(settings)
    assert 'pip install "kyc-service[tencent]"' in str(raised.value)


@pytest.mark.parametrize(
    ("missing", "setting"),
    [("secret_id", "KYC_TENCENT_SECRET_ID"), ("secret_key", "KYC_TENCENT_SECRET_KEY")],
)
def test_missing_credentials_name_the_setting_never_a_value(settings, missing, setting):
    with pytest.raises(RuntimeError) as raised:
        TencentIdentityAuthority.from_settings(settings | {missing: "  "})
    assert setting in str(raised.value)
    assert SECRET_KEY not in str(raised.value) and SECRET_ID not in str(raised.value)


def test_the_secret_key_is_never_logged_nor_in_a_message(fake, settings, caplog):
    adapter = TencentIdentityAuthority.from_settings(settings)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="tencentcloud_sdk_common")  # it dumps requests
    assert SECRET_KEY not in repr(ClientSettings.parse(settings))
    fake.reply = lambda: error("InternalError")
    with pytest.raises(UpstreamUnavailable) as raised:
        adapter.verify(NAME, ID_NUMBER)
    fake.reply = lambda: result("0")
    adapter.verify(NAME, ID_NUMBER)
    assert "InternalError" in caplog.text  # the outage is logged, with its code
    assert raised.value.__context__ is None and raised.value.__cause__ is None  # no SDK text
    for secret in (SECRET_KEY, NAME, ID_NUMBER):
        assert secret not in caplog.text
        assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("", ("https", "faceid.tencentcloudapi.com")),
        ("faceid.tencentcloudapi.com", ("https", "faceid.tencentcloudapi.com")),
        (
            "https://faceid.ap-hongkong.tencentcloudapi.com",
            ("https", "faceid.ap-hongkong.tencentcloudapi.com"),
        ),
        ("127.0.0.1:8080", ("http", "127.0.0.1:8080")),
        ("localhost:8080", ("http", "localhost:8080")),
        ("http://[::1]:8080", ("http", "[::1]:8080")),
    ],
)
def test_endpoints(endpoint, expected):
    assert parse_endpoint(endpoint) == expected


@pytest.mark.parametrize(
    "endpoint",
    ["http://faceid.example.com", "ftp://127.0.0.1", "https://x/path", "user@host", "h:99999"],
)
def test_plain_http_elsewhere_and_odd_endpoints_are_refused(endpoint):
    with pytest.raises(RuntimeError, match="KYC_TENCENT_ENDPOINT"):
        parse_endpoint(endpoint)


@pytest.mark.parametrize(
    ("group", "adapter"),
    [
        ("kyc.identity_authorities", TencentIdentityAuthority),
        ("kyc.bank_verifiers", TencentBankVerifier),
        ("kyc.portrait_authorities", TencentPortraitAuthority),
    ],
)
def test_registered_as_tencent(group, adapter):
    [found] = [ep for ep in entry_points(group=group) if ep.name == "tencent"]
    assert found.load() is adapter


def test_an_sdk_whose_session_cannot_be_hardened_is_refused():
    from adapters.tencent_faceid.client import _harden_session

    with pytest.raises(RuntimeError, match="proxies and redirects"):
        _harden_session(object())
