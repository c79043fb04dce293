"""Issue 14: the Alibaba Cloud ID Verification (Cloudauth) adapters, against a loopback fake.

The fake speaks Cloudauth's wire format on 127.0.0.1 and checks every request's V3
signature (``ACS3-HMAC-SHA256``, the official SDK's default) with its own implementation of
Alibaba's documented algorithm, itself checked against the worked example of
https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature. A
request it cannot verify gets Alibaba's error shape (``SignatureDoesNotMatch``, HTTP 400).
Per test it answers each documented code, throttling, 5xx, malformed bodies or too late.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import pytest
import requests

from adapters.alibaba_cloudauth import codes
from adapters.alibaba_cloudauth.adapters import (
    AlibabaBankVerifier,
    AlibabaBusinessRegistry,
    AlibabaIdentityAuthority,
    merchant_id_of,
)
from adapters.http_verifiers.client import CircuitBreaker
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match, Mismatch, NotFound
from tests.helpers import serving_in_thread
from tests.provider_fakes import ACS3_ALGORITHM as ALGORITHM
from tests.provider_fakes import ALIBABA_KEY_ID as KEY_ID
from tests.provider_fakes import ALIBABA_SECRET as SECRET
from tests.provider_fakes import CloudauthAnswer as Answer
from tests.provider_fakes import FakeCloudauth, acs3_signature, alibaba_json
from tests.provider_fakes import alibaba_error as error
from tests.provider_fakes import alibaba_success as success

NAME = "张三"
ID_NUMBER = "11010519491231002X"
CARD = "6222020200112233445"
PHONE = "+86 138 0013 8000"
ENTITY = "测试科技有限公司"
USCC = "91330106673959654P"
LEGAL_REP = "李四"
RID = "vr_ffkjimipddbjboidkihjkgchoaiaimhi"


# --- Alibaba's V3 signature, written from the documentation ---------------------------
# (the signer and the fake are in tests/provider_fakes.py)


def test_the_signature_check_matches_alibabas_worked_example():
    # The fixed example of Alibaba's V3 signature page (RunInstances, empty body).
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    query = [
        ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
        ("RegionId", "cn-shanghai"),
    ]
    signature = acs3_signature("YourAccessKeySecret", "POST", "/", query, headers, sorted(headers))
    assert signature == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"


# --- The fake Cloudauth endpoint (tests/provider_fakes.py) ---------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeCloudauth, str]]:
    fake = FakeCloudauth()
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.ERROR)  # the request lines would show the test data
    with serving_in_thread(fake) as url:
        yield fake, url.removeprefix("http://")
    werkzeug_log.setLevel(level)


@pytest.fixture
def fake(served, monkeypatch) -> FakeCloudauth:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "DEBUG"):
        monkeypatch.delenv(name, raising=False)  # the SDK reads these; nothing leaves loopback
    served[0].reset()
    return served[0]


@pytest.fixture
def settings(served) -> dict[str, str]:
    """The merged settings an adapter gets (KYC_ALIBABA_* and KYC_<PORT>_TIMEOUT)."""
    return {
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        "region": "cn-hangzhou",
        "endpoint": served[1],
        "timeout": "2",
    }


@pytest.fixture
def identity(settings) -> AlibabaIdentityAuthority:
    return AlibabaIdentityAuthority.from_settings(settings)


@pytest.fixture
def bank(settings) -> AlibabaBankVerifier:
    return AlibabaBankVerifier.from_settings(settings)


@pytest.fixture
def registry(settings) -> AlibabaBusinessRegistry:
    return AlibabaBusinessRegistry.from_settings(settings | {"scene_code": "kyc_test_scene"})


def ask_bank(bank: AlibabaBankVerifier):  # noqa: ANN201
    return bank.verify(CARD, NAME, ID_NUMBER, PHONE, request_id=RID)


def ask_registry(registry: AlibabaBusinessRegistry):  # noqa: ANN201
    return registry.verify(ENTITY, USCC, LEGAL_REP, request_id=RID)


# --- Exactly the operation's fields, signed ----------------------------------------------


def test_identity_sends_exactly_its_fields_signed(fake, identity):
    fake.answers["Id2MetaVerify"] = success({"BizCode": "1"})
    assert identity.verify(NAME, ID_NUMBER, request_id=RID) == Match(billable=True)
    (seen,) = fake.seen
    assert (seen.action, seen.version) == ("Id2MetaVerify", "2019-03-07")
    assert seen.form == {"ParamType": "normal", "UserName": NAME, "IdentifyNum": ID_NUMBER}
    assert seen.query == {}
    assert fake.rejected == []


def test_bank_sends_exactly_its_fields_with_the_national_mobile(fake, bank):
    fake.answers["BankMetaVerify"] = success({"BizCode": "1", "SubCode": "101"})
    assert ask_bank(bank) == Match(billable=True)
    (seen,) = fake.seen
    assert (seen.action, seen.version) == ("BankMetaVerify", "2019-03-07")
    assert seen.form == {}  # the official SDK sends this operation's fields in the query
    assert seen.query == {
        "ParamType": "normal",
        "ProductType": "BANK_CARD_4_META",
        "VerifyMode": "VERIFY_BANK_CARD",
        "BankCard": CARD,
        "UserName": NAME,
        "IdentifyNum": ID_NUMBER,
        "Mobile": "13800138000",
    }


def test_registry_sends_the_three_elements_under_the_request_id(fake, registry):
    fake.answers["EntElementVerify"] = success({"BizCode": "1", "Status": "1"}, "Success", "Result")
    assert ask_registry(registry) == Match(billable=True)
    (seen,) = fake.seen
    assert (seen.action, seen.version) == ("EntElementVerify", "2022-11-25")
    assert seen.query == {
        "SceneCode": "kyc_test_scene",
        "MerchantBizId": "ffkjimipddbjboidkihjkgchoaiaimhi",
        "MerchantUserId": "ffkjimipddbjboidkihjkgchoaiaimhi",
        "UserAuthorization": "1",
        "InfoVerifyType": "ENT_3META",
        "EntName": ENTITY,
        "LicenseNo": USCC,
        "LegalPersonName": LEGAL_REP,
    }
    assert seen.form == {}


def test_merchant_ids_are_at_most_32_letters_and_digits():
    assert merchant_id_of(RID) == RID.removeprefix("vr_")
    fresh = merchant_id_of("")
    assert len(fresh) == 32 and fresh.isalnum() and fresh != merchant_id_of("")
    assert merchant_id_of("a-b_c" * 20) == ("abc" * 20)[-32:]


# --- Id2MetaVerify: every documented code -------------------------------------------------

ID_EXPECTED = {
    "1": Match(billable=True),
    "2": Mismatch("name_id_mismatch", billable=True),
    "3": NotFound("id_not_found", billable=False),
}


def test_the_identity_table_is_the_tested_one():
    assert codes.ID_2META == ID_EXPECTED


@pytest.mark.parametrize("biz_code", sorted(ID_EXPECTED))
@pytest.mark.parametrize("as_number", [False, True], ids=["string", "number"])
def test_each_identity_biz_code_maps_with_its_billing(fake, identity, biz_code, as_number):
    answer = {"BizCode": int(biz_code) if as_number else biz_code}
    fake.answers["Id2MetaVerify"] = success(answer, 200 if as_number else "200")
    assert identity.verify(NAME, ID_NUMBER, request_id=RID) == ID_EXPECTED[biz_code]


@pytest.mark.parametrize("code", [*sorted(codes.VERIFY_CODES), "201", "Success", "999"])
def test_every_other_code_is_an_unbilled_outage(fake, identity, code):
    fake.answers["Id2MetaVerify"] = success({"BizCode": "1"}, code)
    with pytest.raises(UpstreamUnavailable) as raised:
        identity.verify(NAME, ID_NUMBER, request_id=RID)
    assert raised.value.billable is False


@pytest.mark.parametrize(
    "result", [{"BizCode": "4"}, {"BizCode": "0"}, {"BizCode": ""}, {}, {"BizCode": True}]
)
def test_an_undocumented_identity_biz_code_is_an_outage(fake, identity, result):
    fake.answers["Id2MetaVerify"] = success(result)
    with pytest.raises(UpstreamUnavailable):
        identity.verify(NAME, ID_NUMBER, request_id=RID)


# --- BankMetaVerify: every documented BizCode/SubCode pair -----------------------------------

BANK_EXPECTED: dict[tuple[str, str], tuple[str, str | None, bool]] = {
    ("1", "101"): ("match", None, True),
    ("2", "201"): ("mismatch", "bank_card_mismatch", True),
    ("2", "202"): ("mismatch", "card_not_supported", True),
    ("2", "203"): ("mismatch", "card_not_supported", True),
    ("2", "204"): ("mismatch", "card_not_supported", True),
    ("2", "205"): ("mismatch", "card_not_supported", True),
    ("2", "206"): ("mismatch", "bank_card_mismatch", True),
    ("2", "207"): ("mismatch", "bank_card_mismatch", True),
    ("2", "208"): ("mismatch", "card_not_supported", True),
    ("2", "209"): ("mismatch", "card_not_supported", True),
    ("2", "210"): ("mismatch", "card_not_supported", True),
    ("2", "211"): ("mismatch", "card_not_supported", True),
    ("2", "212"): ("mismatch", "card_not_supported", True),
    ("2", "213"): ("mismatch", "card_not_supported", True),
    ("2", "214"): ("mismatch", "phone_mismatch", True),
    ("2", "215"): ("mismatch", "bank_card_mismatch", True),
    ("2", "216"): ("mismatch", "card_not_supported", True),
    ("3", "301"): ("mismatch", "card_not_supported", False),
    ("3", "302"): ("mismatch", "card_not_supported", False),
    ("3", "303"): ("mismatch", "card_not_supported", False),
    ("3", "304"): ("mismatch", "bank_card_mismatch", False),
    ("3", "305"): ("outage", None, False),
    ("3", "306"): ("outage", None, False),
}


def test_the_bank_table_covers_every_documented_sub_code():
    assert set(codes.BANK_4META) == set(BANK_EXPECTED)
    subs = {sub for _, sub in BANK_EXPECTED}
    assert subs == {"101", *map(str, range(201, 217)), *map(str, range(301, 307))}


@pytest.mark.parametrize(("biz", "sub"), sorted(BANK_EXPECTED))
def test_each_bank_code_maps_with_its_billing(fake, bank, biz, sub):
    kind, code, billable = BANK_EXPECTED[(biz, sub)]
    fake.answers["BankMetaVerify"] = success({"BizCode": biz, "SubCode": sub})
    if kind == "outage":
        with pytest.raises(UpstreamUnavailable) as raised:
            ask_bank(bank)
        assert raised.value.billable is billable
        return
    expected = Match(billable=billable) if kind == "match" else Mismatch(code, billable=billable)
    assert ask_bank(bank) == expected


@pytest.mark.parametrize(
    ("result", "billable"),
    [
        ({"BizCode": "1", "SubCode": "201"}, True),  # a pair that contradicts itself
        ({"BizCode": "1"}, True),  # no SubCode
        ({"BizCode": "2", "SubCode": "299"}, True),
        ({"BizCode": "2", "SubCode": "101"}, True),
        ({"BizCode": "3", "SubCode": "399"}, False),
        ({"BizCode": "3", "SubCode": "201"}, False),
        ({"BizCode": "9", "SubCode": "101"}, False),
    ],
)
def test_an_undocumented_bank_pair_is_an_outage_billed_as_its_biz_code(
    fake, bank, result, billable
):
    fake.answers["BankMetaVerify"] = success(result)
    with pytest.raises(UpstreamUnavailable) as raised:
        ask_bank(bank)
    assert raised.value.billable is billable


# --- EntElementVerify: BizCode, Status, ReasonDetail, ReasonCode ---------------------------


def ent(result: Mapping[str, Any], code: str = "Success") -> Answer:
    return success(result, code, "Result")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("1", Match(billable=True)),
        ("2", Match(billable=True)),
        ("3", Mismatch("entity_deregistered", billable=True)),
        ("4", Mismatch("entity_deregistered", billable=True)),
        ("5", Mismatch("entity_deregistered", billable=True)),
        ("6", None),
        ("0", None),
        ("7", None),
        ("", None),
    ],
)
def test_a_consistent_entity_passes_only_while_it_operates(fake, registry, status, expected):
    result = {"BizCode": "1", "Status": status, "OpenTime": "2018-09-25/9999-09-09"}
    fake.answers["EntElementVerify"] = ent(result)
    if expected is None:
        with pytest.raises(UpstreamUnavailable) as raised:
            ask_registry(registry)
        assert raised.value.billable is True
        return
    assert ask_registry(registry) == expected


@pytest.mark.parametrize(
    ("detail", "reason_code", "expected"),
    [
        ("EntNameFlag", None, "entity_name_mismatch"),
        ("LicenseNoFlag", None, "entity_name_mismatch"),
        ("LegalPersonNameFlag", None, "legal_representative_mismatch"),
        ("LegalPersonNameFlag,EntNameFlag", None, "entity_name_mismatch"),
        ("LegalPersonNameFlag, LicenseNoFlag", "201", "entity_name_mismatch"),
        ("", "201", "legal_representative_mismatch"),
        (None, "202", "entity_name_mismatch"),
        (None, "302", "legal_representative_mismatch"),
        ("LegalPersonCertNoFlag", None, None),  # the 4th element: never sent
        ("LegalPersonNameFlag,SomethingNewFlag", None, None),
        (None, None, None),
        ("", "100", None),
    ],
)
def test_an_inconsistent_entity_names_the_element(fake, registry, detail, reason_code, expected):
    result = {"BizCode": "2", "Status": "1"}
    result |= {"ReasonDetail": detail} if detail is not None else {}
    result |= {"ReasonCode": reason_code} if reason_code is not None else {}
    fake.answers["EntElementVerify"] = ent(result)
    if expected is None:
        with pytest.raises(UpstreamUnavailable) as raised:
            ask_registry(registry)
        assert raised.value.billable is True
        return
    assert ask_registry(registry) == Mismatch(expected, billable=True)


@pytest.mark.parametrize("code", ["Success", "200"])
def test_an_unknown_entity_is_not_found(fake, registry, code):
    fake.answers["EntElementVerify"] = ent({"BizCode": "3", "ReasonCode": "301"}, code)
    assert ask_registry(registry) == NotFound("entity_not_found", billable=True)


@pytest.mark.parametrize(
    "answer",
    [
        ent({"BizCode": "1", "Status": "1"}, "InvalidParameter"),
        ent({"BizCode": "1", "Status": "1"}, "Forbidden.AccountAccessDenied"),
        ent({"BizCode": "4", "Status": "1"}),
        ent({"Status": "1"}),
        success({"BizCode": "1", "Status": "1"}, "Success", "ResultObject"),
        error("MissingParameter"),
        error("Forbidden.RAMUserAccessDenied", 403),
    ],
)
def test_registry_errors_are_unbilled_outages(fake, registry, answer):
    fake.answers["EntElementVerify"] = answer
    with pytest.raises(UpstreamUnavailable) as raised:
        ask_registry(registry)
    assert raised.value.billable is False


# --- Outages: throttling, 5xx, malformed, slow, a bad signature ------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        error("Throttling.User"),
        error("Throttling.User", 400, **{"x-acs-retry-after": "1000"}),
        error("ServiceUnavailable", 503),
        error("InternalError", 500),
        Answer(b"<html>502 Bad Gateway</html>", 502),
        Answer(b'{"Code": "200", "ResultObject": {"BizCode": "1"', 200),
        Answer(b"[1]", 200),
        Answer(b"", 200),
        alibaba_json({"Code": "200", "Message": "success"}),
        alibaba_json({"Code": "200", "ResultObject": "1"}),
        Answer(b'{"Code": "200", "ResultObject": {"BizCode": "1"}}', 201),
    ],
    ids=[
        "throttled",
        "throttled-retry-after",
        "503",
        "500",
        "502-html",
        "truncated-json",
        "json-array",
        "empty",
        "no-result",
        "result-not-object",
        "201",
    ],
)
def test_transport_failures_are_outages(fake, identity, answer):
    fake.answers["Id2MetaVerify"] = answer
    with pytest.raises(UpstreamUnavailable) as raised:
        identity.verify(NAME, ID_NUMBER, request_id=RID)
    assert raised.value.billable is False
    assert len(fake.seen) == 1, "sent once: the SDK never retries (a retry is billed again)"


def test_a_slow_answer_is_an_outage_at_the_timeout(fake, settings):
    identity = AlibabaIdentityAuthority.from_settings(settings | {"timeout": "0.3"})
    fake.answers["Id2MetaVerify"] = Answer(success({"BizCode": "1"}).body, delay=1.0)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        identity.verify(NAME, ID_NUMBER, request_id=RID)
    assert time.monotonic() - started < 0.9


def test_a_wrong_secret_is_refused_and_never_shown(fake, settings):
    identity = AlibabaIdentityAuthority.from_settings(
        settings | {"access_key_secret": "wrong-secret-value"}
    )
    fake.answers["Id2MetaVerify"] = success({"BizCode": "1"})
    with pytest.raises(UpstreamUnavailable) as raised:
        identity.verify(NAME, ID_NUMBER, request_id=RID)
    assert fake.rejected == ["SignatureDoesNotMatch"] and fake.seen == []
    assert "SignatureDoesNotMatch" in str(raised.value)
    for secret in ("wrong-secret-value", SECRET, NAME, ID_NUMBER):
        assert secret not in str(raised.value)


def test_an_unknown_key_id_is_refused(fake, settings):
    registry = AlibabaBusinessRegistry.from_settings(settings | {"access_key_id": "LTAI-other"})
    with pytest.raises(UpstreamUnavailable, match="InvalidAccessKeyId.NotFound"):
        ask_registry(registry)
    assert fake.rejected == ["InvalidAccessKeyId.NotFound"]


def signed_by_hand(url: str, secret: str, nonce: str) -> requests.Response:
    """POST an Id2MetaVerify signed with this file's own signing code (no SDK)."""
    body = b"ParamType=normal"
    host = url.removeprefix("http://")
    headers = {
        "host": host,
        "x-acs-action": "Id2MetaVerify",
        "x-acs-version": "2019-03-07",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/x-www-form-urlencoded",
    }
    signed = sorted(headers)
    signature = acs3_signature(secret, "POST", "/", [], headers, signed)
    authorization = (
        f"{ALGORITHM} Credential={KEY_ID},SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    session = requests.Session()
    session.trust_env = False
    return session.post(
        f"{url}/", data=body, headers=headers | {"Authorization": authorization}, timeout=2
    )


def test_the_fake_checks_signatures_it_did_not_see_the_sdk_make(fake, served):
    url = f"http://{served[1]}"
    fake.answers["Id2MetaVerify"] = success({"BizCode": "1"})
    wrong = signed_by_hand(url, "not-the-secret", "nonce-wrong-secret")
    assert wrong.status_code == 400 and wrong.json()["Code"] == "SignatureDoesNotMatch"
    assert {"RequestId", "Message"} <= set(wrong.json())
    right = signed_by_hand(url, SECRET, "nonce-by-hand")
    assert right.status_code == 200 and right.json()["ResultObject"] == {"BizCode": "1"}
    replayed = signed_by_hand(url, SECRET, "nonce-by-hand")
    assert replayed.status_code == 400 and replayed.json()["Code"] == "SignatureNonceUsed"


# --- The circuit breaker ------------------------------------------------------------------


def test_the_breaker_opens_after_repeated_outages_and_a_probe_closes_it(fake, identity):
    now = [0.0]
    identity.breaker = CircuitBreaker(threshold=2, cooldown=30, clock=lambda: now[0])
    fake.answers["Id2MetaVerify"] = error("ServiceUnavailable", 503)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            identity.verify(NAME, ID_NUMBER, request_id=RID)
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        identity.verify(NAME, ID_NUMBER, request_id=RID)
    assert len(fake.seen) == 2, "an open breaker sends nothing"
    now[0] = 31.0
    fake.answers["Id2MetaVerify"] = success({"BizCode": "2"})
    assert identity.verify(NAME, ID_NUMBER, request_id=RID) == Mismatch("name_id_mismatch")
    assert identity.breaker.opened_at is None


def test_each_adapter_has_its_own_client_and_breaker(settings):
    first = AlibabaIdentityAuthority.from_settings(settings)
    second = AlibabaBankVerifier.from_settings(settings)
    assert first.breaker is not second.breaker and first.client is not second.client


# --- Settings, the missing SDK, entry points ----------------------------------------------


def test_without_the_sdk_building_names_the_pip_command(monkeypatch, settings):
    monkeypatch.setitem(sys.modules, "alibabacloud_cloudauth20190307.client", None)
    with pytest.raises(RuntimeError) as raised:
        AlibabaIdentityAuthority.from_settings(settings)
    assert 'pip install "kyc-service[alibaba]"' in str(raised.value)


@pytest.mark.parametrize(
    ("missing", "name"),
    [
        ("access_key_id", "KYC_ALIBABA_ACCESS_KEY_ID"),
        ("access_key_secret", "KYC_ALIBABA_ACCESS_KEY_SECRET"),
    ],
)
def test_missing_credentials_name_the_setting_never_a_value(settings, missing, name):
    with pytest.raises(RuntimeError) as raised:
        AlibabaBankVerifier.from_settings(settings | {missing: "  "})
    assert name in str(raised.value)
    assert KEY_ID not in str(raised.value) and SECRET not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"endpoint": "http://cloudauth.aliyuncs.com"}, "KYC_ALIBABA_ENDPOINT"),
        ({"endpoint": "ftp://127.0.0.1:21"}, "KYC_ALIBABA_ENDPOINT"),
        ({"endpoint": "cloudauth.aliyuncs.com/path"}, "KYC_ALIBABA_ENDPOINT"),
        ({"timeout": "soon"}, "KYC_REGISTRY_TIMEOUT"),
        ({"timeout": "0"}, "KYC_REGISTRY_TIMEOUT"),
        ({"scene_code": "has spaces"}, "KYC_ALIBABA_SCENE_CODE"),
    ],
)
def test_bad_settings_are_refused_by_name(settings, change, name):
    with pytest.raises(RuntimeError, match=name):
        AlibabaBusinessRegistry.from_settings(settings | change)


def test_https_is_the_default_away_from_loopback(settings):
    registry = AlibabaBusinessRegistry.from_settings(settings | {"endpoint": ""})
    assert registry.client.client._endpoint == "cloudauth.aliyuncs.com"
    assert registry.client.client._protocol == "https"


@pytest.mark.parametrize(
    ("group", "cls"),
    [
        ("kyc.identity_authorities", AlibabaIdentityAuthority),
        ("kyc.bank_verifiers", AlibabaBankVerifier),
        ("kyc.business_registries", AlibabaBusinessRegistry),
    ],
)
def test_the_adapters_are_registered_as_alibaba(group, cls):
    (point,) = [point for point in entry_points(group=group) if point.name == "alibaba"]
    assert point.load() is cls


def test_the_sdks_own_logger_writes_no_request(settings):
    import logging

    from adapters.alibaba_cloudauth.client import SDK_LOGGER

    AlibabaIdentityAuthority.from_settings(settings)
    logger = logging.getLogger(SDK_LOGGER)
    assert logger.handlers == [] and not logger.isEnabledFor(logging.DEBUG)
