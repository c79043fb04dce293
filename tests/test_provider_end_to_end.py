"""Issue 14: the individual and organization flows end to end with live-mode keys on the
Tencent Cloud FaceID and Alibaba Cloud Cloudauth adapters, against loopback fakes of both
providers (``tests/provider_fakes.py``) that check every request's signature and answer in
*magic* mode — by the request's content, as the in-process sandbox would, with each
provider's own codes. The outcomes are the sandbox's.

The flow tests of ``test_individual_flow`` and ``test_organization_flow`` are imported here
and collected a second time (as ``test_http_end_to_end`` does); this module's fixtures make
the app a production one with identity and portrait on ``tencent``, bank and registry on
``alibaba`` (so both providers are exercised), account and SMS — which neither provider
offers — on ``http`` to the verifier sandbox served in a thread, and every key a live one.
SQLite only, to stay quick.

Then: the call ledger names each provider; a failover chain ``tencent,alibaba`` hands an
outage over to Alibaba and never a definite answer.

Not reproducible with a provider: the sandbox's ``phone_mismatch`` (reserved phone
13900000001) on Tencent's BankCard4EVerification, which answers ``-1`` (认证未通过) for any
wrong element, phone included; the adapter reports ``bank_card_mismatch``. The flows here
put the bank card on Alibaba (SubCode 214 is ``phone_mismatch``), so they reproduce it;
``test_tencent_bank_magic_answers_match_the_sandbox_but_for_the_phone`` shows the difference.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask

from adapters.alibaba_cloudauth import codes as alibaba_codes
from adapters.sandbox.magic import (
    ENTITY_NAMES,
    IDENTITY_NAMES,
    LEGAL_REPRESENTATIVE_NAMES,
    PORTRAIT_NAMES,
    RESERVED_PHONES,
)
from adapters.tencent_faceid import codes as tencent_codes
from adapters.tencent_faceid.adapters import TencentBankVerifier
from kyc_service.app import create_app
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match, Mismatch, NotFound
from kyc_service.domain.usage import UpstreamCall
from kyc_service.services.api_keys import create_key
from tests.helpers import checks_of, production_config, serving_in_thread, submit
from tests.provider_fakes import (
    ALIBABA_BANK_MAGIC,
    ALIBABA_ENTITY_MAGIC,
    ALIBABA_IDENTITY_MAGIC,
    ALIBABA_KEY_ID,
    ALIBABA_REPRESENTATIVE_MAGIC,
    ALIBABA_SECRET,
    TENCENT_BANK_MAGIC,
    TENCENT_DIFFERS,
    TENCENT_IDENTITY_MAGIC,
    TENCENT_PORTRAIT_MAGIC,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    FakeCloudauth,
    FakeFaceId,
    create_fake,
    quiet_werkzeug,
    tencent_error,
)
from tests.synthetic import individual_body
from tests.test_individual_flow import (  # noqa: F401 (collected again, on the providers)
    ready,
    test_a_failed_identity_check_asks_no_further_upstream,
    test_face_match_flow_needs_a_selfie_and_passes_the_portrait_check,
    test_happy_path_is_verified_and_never_shows_plain_data,
    test_magic_values_reject_with_their_code,
    test_portrait_magic_name_rejects,
    test_the_sandbox_outage_value_goes_to_review_when_retries_are_spent,
)
from tests.test_organization_flow import (  # noqa: F401 (collected again, on the providers)
    test_a_power_of_attorney_without_a_seal_goes_to_review_then_ops_approves,
    test_the_happy_path_with_an_agent_waits_for_the_deposit_then_verifies,
    test_the_identity_magic_values_reject,
    test_the_registry_magic_values_reject,
    test_three_wrong_amounts_reject,
)
from verifier_sandbox.server import create_sandbox_app

SECRET = secrets.token_urlsafe(24)
"""The verifier sandbox's signing secret (account and SMS)."""
PROVIDER_ADAPTERS = {
    "IDENTITY_ADAPTER": "tencent",
    "PORTRAIT_ADAPTER": "tencent",
    "BANK_ADAPTER": "alibaba",
    "REGISTRY_ADAPTER": "alibaba",
}
HTTP_ROLES = ("ACCOUNT", "SMS")
"""Roles neither provider offers: on ``http``, to the verifier sandbox."""
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "DEBUG",  # DEBUG=sdk makes the Alibaba SDK log whole requests
)


@dataclass(frozen=True)
class Upstreams:
    """The two provider fakes and the verifier sandbox, served on loopback."""

    tencent: FakeFaceId
    tencent_endpoint: str
    alibaba: FakeCloudauth
    alibaba_endpoint: str
    sandbox_url: str


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    """Both fakes in magic mode and the verifier sandbox, each in a thread on 127.0.0.1,
    with the proxy variables unset (the Alibaba SDK reads them: nothing leaves loopback)."""
    tencent, alibaba = FakeFaceId(magic=True), FakeCloudauth(magic=True)
    with (
        pytest.MonkeyPatch.context() as patch,
        quiet_werkzeug(),
        serving_in_thread(create_fake(tencent)) as tencent_url,
        serving_in_thread(alibaba) as alibaba_url,
        serving_in_thread(create_sandbox_app(SECRET)) as sandbox_url,
    ):
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        yield Upstreams(
            tencent,
            tencent_url.removeprefix("http://"),
            alibaba,
            alibaba_url.removeprefix("http://"),
            sandbox_url,
        )


@pytest.fixture(autouse=True)
def fakes(upstreams: Upstreams) -> Iterator[Upstreams]:
    """Each test starts with fakes that saw nothing and answer by magic; afterwards, every
    request must have carried a valid signature."""
    tencent, alibaba = upstreams.tencent, upstreams.alibaba
    with tencent.lock:
        tencent.seen, tencent.refused, tencent.overrides = [], 0, {}
    alibaba.reset()
    yield upstreams
    assert tencent.refused == 0, "a request to Tencent was not signed as documented"
    assert alibaba.rejected == [], f"Alibaba refused a request: {alibaba.rejected}"


@pytest.fixture(params=["sqlite"], ids=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: the providers, not the database, are under test here."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app_config(database_url: str, keystore_url: str, upstreams: Upstreams) -> dict:
    """Production; identity and portrait on Tencent, bank and registry on Alibaba, account
    and SMS on ``http`` to the verifier sandbox."""
    config = production_config(
        database_url, keystore_url, http_url=upstreams.sandbox_url, secret=SECRET, roles=HTTP_ROLES
    )
    config |= {
        **PROVIDER_ADAPTERS,
        "TENCENT_SECRET_ID": TENCENT_SECRET_ID,
        "TENCENT_SECRET_KEY": TENCENT_SECRET_KEY,
        "TENCENT_REGION": "ap-guangzhou",
        "TENCENT_ENDPOINT": upstreams.tencent_endpoint,
        "ALIBABA_ACCESS_KEY_ID": ALIBABA_KEY_ID,
        "ALIBABA_ACCESS_KEY_SECRET": ALIBABA_SECRET,
        "ALIBABA_REGION": "cn-hangzhou",
        "ALIBABA_ENDPOINT": upstreams.alibaba_endpoint,
    }
    for setting in PROVIDER_ADAPTERS:
        config[setting.replace("_ADAPTER", "_TIMEOUT")] = 5
    return config


def live_key(app: Flask, tenant: str = "acme", mode: str = "live", scopes: str = "*") -> dict:
    """A key's ``Authorization`` header (live by default)."""
    key = create_key(app.extensions["kyc"].unit_of_work(), tenant, Mode(mode), parse_scopes(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_key(app: Flask) -> Callable[..., dict[str, str]]:
    """Live-mode keys: the provider adapters answer them (test keys stay on the sandbox)."""
    return lambda tenant="acme", mode="live", scopes="*": live_key(app, tenant, mode, scopes)


def ledger(app: Flask, verification_id: str) -> list[UpstreamCall]:
    """The call ledger of one verification, in order."""
    with app.extensions["kyc"].unit_of_work() as uow:
        return list(uow.upstream_calls.of_verification(verification_id))


# --- The adapters in use, and the magic tables ------------------------------------------------


def test_live_keys_use_the_providers_and_test_keys_the_sandbox(app):
    adapters = app.extensions["kyc"].adapters
    expected = {
        "identity": "adapters.tencent_faceid.adapters",
        "portrait": "adapters.tencent_faceid.adapters",
        "bank": "adapters.alibaba_cloudauth.adapters",
        "registry": "adapters.alibaba_cloudauth.adapters",
        "account": "adapters.http_verifiers.adapters",
        "sms": "adapters.http_verifiers.adapters",
    }
    for port, module in expected.items():
        assert adapters.get(port, Mode.LIVE).__module__ == module
        assert adapters.get(port, Mode.TEST).__module__.startswith("adapters.sandbox.")


def failure_of(answer: object) -> tuple[type, str] | None:
    """The kind and failure code of a code table's entry (None: a match or an outage)."""
    return (type(answer), answer.code) if isinstance(answer, Mismatch | NotFound) else None


def sandbox_failure(code: str) -> tuple[type, str]:
    """The kind of result the sandbox answers with ``code``."""
    return (NotFound if code.endswith("_not_found") else Mismatch), code


def test_each_magic_answer_maps_to_the_sandboxs_code():
    """The fakes' magic tables cover every sandbox value, and each provider code maps, in
    the adapter's own code table, to exactly the sandbox's failure code (but for
    ``TENCENT_DIFFERS``)."""
    pairs = [
        (IDENTITY_NAMES, TENCENT_IDENTITY_MAGIC, tencent_codes.IDENTITY_RESULTS, TENCENT_DIFFERS),
        (RESERVED_PHONES, TENCENT_BANK_MAGIC, tencent_codes.BANK_RESULTS, TENCENT_DIFFERS),
        (PORTRAIT_NAMES, TENCENT_PORTRAIT_MAGIC, tencent_codes.PORTRAIT_RESULTS, TENCENT_DIFFERS),
        (IDENTITY_NAMES, ALIBABA_IDENTITY_MAGIC, alibaba_codes.ID_2META, {}),
        (RESERVED_PHONES, ALIBABA_BANK_MAGIC, alibaba_codes.BANK_4META, {}),
    ]
    for sandbox, magic, table, differs in pairs:
        assert set(magic) == set(sandbox.values())
        for code, provider_code in magic.items():
            expected = sandbox_failure(differs.get(code, code))
            assert failure_of(table[provider_code]) == expected, (code, provider_code)
    entity = {**ALIBABA_ENTITY_MAGIC, **ALIBABA_REPRESENTATIVE_MAGIC}
    assert set(entity) == set(ENTITY_NAMES.values()) | set(LEGAL_REPRESENTATIVE_NAMES.values())
    for code, result in entity.items():
        body = {"Code": "Success", "Result": result}
        assert failure_of(alibaba_codes.ent_3meta_outcome(body)) == sandbox_failure(code)
    assert TENCENT_DIFFERS == {"phone_mismatch": "bank_card_mismatch"}


def test_tencent_bank_magic_answers_match_the_sandbox_but_for_the_phone(fakes):
    """Tencent's bank check is not in the flows (the bank is on Alibaba there): asked
    directly, it answers every reserved phone as the sandbox does, but ``phone_mismatch``."""
    bank = TencentBankVerifier.from_settings(
        {
            "secret_id": TENCENT_SECRET_ID,
            "secret_key": TENCENT_SECRET_KEY,
            "endpoint": fakes.tencent_endpoint,
            "timeout": "5",
        }
    )

    def ask(phone: str) -> object:
        try:
            return bank.verify("6222021234567890128", "韦小宝", "11010519491231002X", phone)
        except UpstreamUnavailable:
            return "unavailable"

    try:
        assert ask("13800138000") == Match(billable=True)
        assert ask("13900000001") == Mismatch("bank_card_mismatch", billable=True)  # differs
        assert ask("+86 139 0000 0002") == Mismatch("bank_card_mismatch", billable=True)
        assert ask("13900000003") == Mismatch("card_not_supported", billable=True)
        assert ask("13900000009") == "unavailable"
    finally:
        bank.close()
    assert fakes.tencent.actions() == ["BankCard4EVerification"] * 5


# --- The call ledger names each provider ------------------------------------------------------


def test_the_ledger_names_tencent_for_identity_and_alibaba_for_the_bank(app, client, auth, fakes):
    rng = random.Random(14)
    verified = submit(client, auth, ready(client, auth, individual_body(rng, face_match=True)))
    decided = verified.get_json()
    assert decided["status"] == "verified", checks_of(decided)
    calls = ledger(app, decided["id"])
    assert [(c.role, c.provider, c.check, c.outcome, c.billable) for c in calls] == [
        ("identity", "tencent", "identity", "match", True),
        ("bank", "alibaba", "bank_card", "match", True),
        ("portrait", "tencent", "portrait_authority", "match", True),
    ]
    assert fakes.tencent.actions() == ["IdCardVerification", "ImageRecognitionV2"]
    assert fakes.alibaba.actions() == ["BankMetaVerify"]
    assert fakes.tencent.seen[0].headers["X-Tc-Region"] == "ap-guangzhou"

    body = individual_body(rng, reserved_phone="13900000001", reference="u-phone")
    rejected = submit(client, auth, ready(client, auth, body)).get_json()
    assert checks_of(rejected)["bank_card"] == ("failed", "phone_mismatch")
    calls = ledger(app, rejected["id"])
    assert [(c.role, c.provider, c.outcome, c.billable) for c in calls] == [
        ("identity", "tencent", "match", True),
        ("bank", "alibaba", "mismatch", True),
    ]


# --- A failover chain: tencent, then alibaba ----------------------------------------------------


@contextmanager
def failover_app(app_config: dict) -> Iterator[Flask]:
    """The app of this module with ``IDENTITY_ADAPTER=tencent,alibaba``."""
    application = create_app(app_config | {"IDENTITY_ADAPTER": "tencent,alibaba"})
    try:
        yield application
    finally:
        application.extensions["kyc"].close()


def test_a_tencent_outage_is_decided_by_alibaba(app_config, fakes):
    fakes.tencent.overrides["IdCardVerification"] = lambda: tencent_error("RequestLimitExceeded")
    with failover_app(app_config) as app:
        client, auth = app.test_client(), live_key(app)
        body = individual_body(random.Random(15), name="测试不符")
        decided = submit(client, auth, ready(client, auth, body)).get_json()
        calls = ledger(app, decided["id"])
    assert decided["status"] == "rejected", checks_of(decided)
    assert checks_of(decided)["identity"] == ("failed", "name_id_mismatch")
    assert [(c.provider, c.outcome, c.billable) for c in calls] == [
        ("tencent", "unavailable", False),
        ("alibaba", "mismatch", True),
    ]
    assert calls[0].request_id != calls[1].request_id, "each provider bills the check once"
    assert fakes.tencent.actions() == ["IdCardVerification"]
    assert fakes.alibaba.actions() == ["Id2MetaVerify"], "no bank check after a mismatch"


def test_a_definite_tencent_answer_never_reaches_alibaba(app_config, fakes):
    with failover_app(app_config) as app:
        client, auth = app.test_client(), live_key(app)
        body = individual_body(random.Random(16), name="测试不符")
        decided = submit(client, auth, ready(client, auth, body)).get_json()
        calls = ledger(app, decided["id"])
    assert decided["status"] == "rejected", checks_of(decided)
    assert checks_of(decided)["identity"] == ("failed", "name_id_mismatch")
    assert [(c.provider, c.outcome, c.billable) for c in calls] == [("tencent", "mismatch", True)]
    assert fakes.tencent.actions() == ["IdCardVerification"]
    assert fakes.alibaba.seen == [], "Alibaba was asked after Tencent's definite answer"
