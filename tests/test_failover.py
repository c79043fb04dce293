"""Issue 14: a failover chain of verifier providers (``KYC_IDENTITY_ADAPTER=http,sandbox``):
the next provider is asked only when one is unavailable, never after a definite answer;
the ledger names each call's provider, and each provider gets its own request id."""

from __future__ import annotations

import os
import random

import pytest

from kyc_service.bootstrap import AdapterConfigurationError, Adapters
from kyc_service.config import DEFAULTS
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.services.api_keys import create_key
from tests.helpers import checks_of, serving_in_thread, submit
from tests.synthetic import individual_body
from tests.test_individual_flow import ready
from verifier_sandbox.server import create_sandbox_app

SECRET = "failover-secret"
DEAD = "http://127.0.0.1:9"
"""Nothing listens on the discard port: every call there is refused at once."""


@pytest.fixture(params=["sqlite"], ids=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app_config(database_url: str, keystore_url: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "KEYSTORE_URL": keystore_url,
        "RATE_LIMIT": "10000 per second",
        "TESTING": True,
        "IDENTITY_ADAPTER": "http,sandbox",
        "IDENTITY_URL": DEAD,
        "IDENTITY_SECRET": SECRET,
        "IDENTITY_TIMEOUT": 1,
    }


def live_key(app) -> dict[str, str]:
    key = create_key(app.extensions["kyc"].unit_of_work(), "acme", Mode.LIVE, parse_scopes("*"))
    return {"Authorization": f"Bearer {key}"}


def ledger(app, verification_id: str):
    with app.extensions["kyc"].unit_of_work() as uow:
        return [
            c for c in uow.upstream_calls.of_verification(verification_id) if c.role == "identity"
        ]


def test_an_unavailable_first_provider_hands_over_to_the_next(app, client):
    auth = live_key(app)
    decided = submit(
        client, auth, ready(client, auth, individual_body(random.Random(1)))
    ).get_json()
    assert decided["status"] == "verified", checks_of(decided)
    first, second = ledger(app, decided["id"])
    assert (first.provider, first.outcome, first.billable) == ("http", "unavailable", False)
    assert (second.provider, second.outcome) == ("sandbox", "match")
    assert first.request_id != second.request_id, "each provider bills the check once"


@pytest.fixture
def live_sandbox():
    with serving_in_thread(create_sandbox_app(SECRET)) as url:
        yield url


def test_a_definite_answer_is_never_asked_again_elsewhere(app, client, live_sandbox):
    adapters = app.extensions["kyc"].adapters
    adapters.named("identity", Mode.LIVE, "http").client.url = f"{live_sandbox}/v1/identity"
    auth = live_key(app)
    body = individual_body(random.Random(2), name="测试不符")
    decided = submit(client, auth, ready(client, auth, body)).get_json()
    assert decided["status"] == "rejected"
    assert checks_of(decided)["identity"] == ("failed", "name_id_mismatch")
    (only,) = ledger(app, decided["id"])
    assert (only.provider, only.outcome, only.billable) == ("http", "mismatch", True)


def test_only_verifier_ports_take_a_chain_and_production_refuses_a_sandbox_in_it():
    base = {**DEFAULTS, "KEK": os.environ["KYC_KEK"]}
    with pytest.raises(AdapterConfigurationError, match="failover"):
        Adapters({**base, "FACE_ADAPTER": "face_recognition,face_recognition"}).check()
    production = {**base, "ENV": "production", "IDENTITY_URL": DEAD, "IDENTITY_SECRET": "s"}
    with pytest.raises(AdapterConfigurationError, match="sandbox is refused"):
        Adapters({**production, "IDENTITY_ADAPTER": "http,sandbox"}).check()
    with pytest.raises(AdapterConfigurationError, match="names no adapter"):
        Adapters({**base, "IDENTITY_ADAPTER": " , "}).check()
    chain = Adapters(
        {**base, "IDENTITY_ADAPTER": "http, sandbox", "IDENTITY_URL": DEAD, "IDENTITY_SECRET": "s"}
    )
    assert chain.names_for("identity", Mode.LIVE) == ["http", "sandbox"]
    assert chain.names_for("identity", Mode.TEST) == ["sandbox"], "test keys: the sandbox only"


def test_an_answer_about_the_person_is_never_taken_elsewhere_even_when_useless(app, client):
    """An outage the provider billed (it answered, but nothing usable) stays with it."""
    from kyc_service.domain.errors import UpstreamUnavailable

    http = app.extensions["kyc"].adapters.named("identity", Mode.LIVE, "http")

    def billed_but_useless(*args, **kwargs):
        raise UpstreamUnavailable("an answer that maps to nothing", billable=True)

    http.verify = billed_but_useless
    auth = live_key(app)
    decided = submit(
        client, auth, ready(client, auth, individual_body(random.Random(3)))
    ).get_json()
    assert decided["status"] == "processing", "retried later with the same provider"
    (only,) = ledger(app, decided["id"])
    assert (only.provider, only.billable) == ("http", True)


def test_chains_only_for_the_four_checks_and_without_repeats():
    base = {**DEFAULTS, "KEK": os.environ["KYC_KEK"]}
    for port in ("ACCOUNT", "SMS"):
        with pytest.raises(AdapterConfigurationError, match="failover chain"):
            Adapters({**base, f"{port}_ADAPTER": "sandbox,http"}).check()
    with pytest.raises(AdapterConfigurationError, match="twice"):
        Adapters({**base, "IDENTITY_ADAPTER": "sandbox,sandbox"}).check()


def test_a_provider_whose_settings_are_missing_fails_at_start():
    base = {**DEFAULTS, "KEK": os.environ["KYC_KEK"]}
    with pytest.raises(RuntimeError, match="URL and a secret"):
        Adapters({**base, "IDENTITY_ADAPTER": "sandbox,http"}).check()


def test_a_missing_extra_fails_at_start_with_the_pip_command(monkeypatch):
    import sys

    for name in [name for name in sys.modules if name.startswith("tencentcloud")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tencentcloud", None)
    settings = {
        **DEFAULTS,
        "KEK": os.environ["KYC_KEK"],
        "IDENTITY_ADAPTER": "tencent",
        "TENCENT_SECRET_ID": "id",
        "TENCENT_SECRET_KEY": "key",
    }
    with pytest.raises(RuntimeError, match=r'pip install "kyc-service\[tencent\]"'):
        Adapters(settings).check()


def test_a_providers_own_settings_win_over_the_ports():
    settings = {
        **DEFAULTS,
        "IDENTITY_ENDPOINT": "port-wide.example",
        "IDENTITY_TIMEOUT": 3,
        "TENCENT_ENDPOINT": "tencent.example",
    }
    tencent = Adapters(settings).settings_for("identity", "tencent")
    assert tencent["endpoint"] == "tencent.example" and tencent["timeout"] == 3
    assert Adapters(settings).settings_for("identity", "alibaba")["endpoint"] == "port-wide.example"
