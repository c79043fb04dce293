"""A real plugin: an adapter from a package outside ``adapters/``, installed in the venv.

``tests/plugins/kyc-example-verifier`` is its own distribution (``make install`` installs it)
that registers ``ExampleIdentityAuthority`` as ``example`` in ``kyc.identity_authorities``.
With ``KYC_IDENTITY_ADAPTER=example`` live keys get it through the real entry-point machinery
(no monkeypatching), while test keys keep the sandbox. Its rule differs from the sandbox's: a
name starting with 示例 is a ``name_id_mismatch``, any other a billable Match scored 0.97.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterator
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

import pytest
from flask import Config, Flask
from flask.testing import FlaskClient

from adapters.sandbox.identity import SandboxIdentityAuthority
from kyc_service.app import create_app
from kyc_service.bootstrap import Adapters, installed_adapters, load_adapter_class
from kyc_service.config import load_settings
from kyc_service.domain.access import Mode, parse_scopes
from kyc_service.domain.results import Match, Mismatch
from kyc_service.ports import IdentityAuthority
from kyc_service.services.api_keys import create_key
from tests.conftest import missing
from tests.helpers import checks_of, create, submit, upload
from tests.synthetic import card_photos, id_number, individual_body

REPO = Path(__file__).resolve().parents[1]
PLUGIN_SOURCE = REPO / "tests" / "plugins" / "kyc-example-verifier"
DISTRIBUTION = "kyc-example-verifier"
MODULE = "kyc_example_verifier"
GROUP = "kyc.identity_authorities"
NAME = "example"
ID_NUMBER = id_number(random.Random(7))
"""A synthetic resident ID number with a valid check digit (no real person's)."""
MISMATCHED_NAME = "示例用户"
SCORE = 0.97


@pytest.fixture(scope="module")
def plugin() -> Distribution:
    """The installed plugin distribution; a skip on a laptop without it, a failure under CI."""
    try:
        return distribution(DISTRIBUTION)
    except PackageNotFoundError:
        missing(
            f"the {DISTRIBUTION} plugin is not installed in this venv: run `make install` "
            f"(or pip install --no-deps --no-build-isolation -e {PLUGIN_SOURCE.relative_to(REPO)})"
        )
        raise  # unreachable: missing() skips or fails


@pytest.fixture
def settings(plugin: Distribution, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Config:
    """The service's settings as a deployment sets them: ``KYC_IDENTITY_ADAPTER=example``."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("KYC_IDENTITY_ADAPTER", NAME)
    return load_settings()


def test_the_distribution_registers_its_entry_point(plugin: Distribution) -> None:
    registered = [ep for ep in plugin.entry_points if ep.group == GROUP]
    assert [(ep.name, ep.value) for ep in registered] == [
        (NAME, f"{MODULE}:ExampleIdentityAuthority")
    ]


def test_the_composition_root_lists_it(plugin: Distribution) -> None:
    assert NAME in installed_adapters("identity")
    adapter_class = load_adapter_class("identity", NAME)
    assert issubclass(adapter_class, IdentityAuthority)
    assert adapter_class.__module__ == MODULE


def test_the_adapter_lives_outside_the_repos_adapters(plugin: Distribution) -> None:
    source = Path(inspect.getfile(load_adapter_class("identity", NAME))).resolve()
    assert not source.is_relative_to(REPO / "adapters"), source
    assert MODULE in source.parts


def test_settings_pick_it_for_live_keys_and_the_sandbox_for_test_keys(settings: Config) -> None:
    assert settings["IDENTITY_ADAPTER"] == NAME
    adapters = Adapters(settings)
    live = adapters.get("identity", Mode.LIVE)
    assert type(live).__module__ == MODULE
    assert type(live).__name__ == "ExampleIdentityAuthority"
    test = adapters.get("identity", Mode.TEST)
    assert isinstance(test, SandboxIdentityAuthority)
    adapters.close()


def test_its_answers_are_its_own_not_the_sandboxs(settings: Config) -> None:
    adapters = Adapters(settings)
    live, test = adapters.get("identity", Mode.LIVE), adapters.get("identity", Mode.TEST)
    assert live.verify(MISMATCHED_NAME, ID_NUMBER) == Mismatch("name_id_mismatch")
    assert test.verify(MISMATCHED_NAME, ID_NUMBER) == Match(billable=False)
    assert live.verify("张三", ID_NUMBER, request_id="req_plugin") == Match(score=SCORE)
    assert live.request_ids[-1] == "req_plugin"


def test_it_reads_its_own_settings(settings: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYC_IDENTITY_MISMATCH_PREFIX", "张")
    live = Adapters(load_settings()).get("identity", Mode.LIVE)
    assert live.verify("张三", ID_NUMBER) == Mismatch("name_id_mismatch")
    assert live.verify(MISMATCHED_NAME, ID_NUMBER) == Match(score=SCORE)


def test_the_check_accepts_it(settings: Config) -> None:
    Adapters(settings).check()


# --- end to end: an individual verification with a live key -------------------------------


@pytest.fixture
def plugin_app(plugin: Distribution, sqlite_url: str, sqlite_keystore_url: str) -> Iterator[Flask]:
    """The service on SQLite, its identity authority set to the plugin by name."""
    application = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "KEYSTORE_URL": sqlite_keystore_url,
            "RATE_LIMIT": "10000 per second",
            "TESTING": True,
            "IDENTITY_ADAPTER": NAME,
        }
    )
    yield application
    application.extensions["kyc"].close()


def _key(app: Flask, mode: Mode) -> dict[str, str]:
    """An ``Authorization`` header for a fresh key of ``mode``."""
    key = create_key(app.extensions["kyc"].unit_of_work(), "acme", mode, parse_scopes("*"))
    return {"Authorization": f"Bearer {key}"}


def _decide(client: FlaskClient, auth: dict[str, str], body: dict) -> dict:
    """Create a verification, upload both sides of the card, submit; return the decision."""
    created = create(client, auth, body)
    assert created.status_code == 201, created.get_json()
    verification_id = created.get_json()["id"]
    for kind, image in card_photos(body).items():
        uploaded = upload(client, auth, verification_id, kind, image)
        assert uploaded.status_code == 201, uploaded.get_json()
    submitted = submit(client, auth, verification_id)
    assert submitted.status_code == 200, submitted.get_json()
    return submitted.get_json()


def test_a_live_verification_is_decided_by_the_plugin(plugin_app: Flask) -> None:
    client = plugin_app.test_client()
    body = individual_body(random.Random(12), name=MISMATCHED_NAME, card=False)
    live = _decide(client, _key(plugin_app, Mode.LIVE), body)
    assert live["status"] == "rejected", live
    assert checks_of(live)["identity"] == ("failed", "name_id_mismatch")
    # The same person with a test key goes to the sandbox, which passes the name.
    test = _decide(client, _key(plugin_app, Mode.TEST), body)
    assert test["status"] == "verified", test
    assert checks_of(test)["identity"] == ("passed", None)
