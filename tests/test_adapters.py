"""Adapter plugins: entry points, the composition root's rules, and the sandbox's magic values.

No database and no models: constructing the face and OCR adapters is lazy, and the
sandbox verifiers answer in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as real_entry_points
from pathlib import Path
from typing import Any

import pytest
import stdnum.cn.ric
import stdnum.luhn

from adapters.sandbox.bank import SandboxBankVerifier
from adapters.sandbox.identity import SandboxIdentityAuthority
from adapters.sandbox.portrait import SandboxPortraitAuthority
from adapters.sandbox.registry import SandboxBusinessRegistry
from adapters.sandbox.sms import SandboxSmsSender
from kyc_service import bootstrap
from kyc_service.bootstrap import (
    SANDBOX,
    SANDBOXED_PORTS,
    AdapterConfigurationError,
    Adapters,
    installed_adapters,
    load_adapter_class,
    setting_name,
)
from kyc_service.config import DEFAULTS, adapter_settings, load_settings
from kyc_service.domain.access import Mode
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match, Mismatch, NotFound, Payment
from kyc_service.ports import (
    PORT_GROUPS,
    AccountVerifier,
    BankVerifier,
    BusinessRegistry,
    IdentityAuthority,
    PortraitAuthority,
    SmsSender,
)

REPO = Path(__file__).resolve().parents[1]
PLUGIN_MODULE = "kyc_test_fake_plugin"


# --- synthetic data -----------------------------------------------------------------------


def synthetic_id_number(body: str = "11010519900307123") -> str:
    """An 18-character resident ID number with a valid check digit (no real person's)."""
    assert len(body) == 17 and body.isdigit()
    # calc_check_digit ignores the last character it is given: pass a placeholder.
    number = body + stdnum.cn.ric.calc_check_digit(body + "0")
    assert stdnum.cn.ric.is_valid(number), number
    return number


def synthetic_card_number(body: str = "621483000012345") -> str:
    """A 16-digit UnionPay-style card number (starts 62) with a valid Luhn digit."""
    assert body.startswith("62") and body.isdigit()
    number = body + stdnum.luhn.calc_check_digit(body)
    assert stdnum.luhn.is_valid(number), number
    return number


ID_NUMBER = synthetic_id_number()
CARD_NUMBER = synthetic_card_number()
USCC = "91350100M000100Y43"
SELFIE = b"\xff\xd8\xff\xe0 not really a jpeg; the sandbox never looks at it"


def test_synthetic_data_is_well_formed() -> None:
    assert len(ID_NUMBER) == 18 and stdnum.cn.ric.is_valid(ID_NUMBER)
    assert len(CARD_NUMBER) == 16 and CARD_NUMBER.startswith("62")
    assert stdnum.luhn.is_valid(CARD_NUMBER)


# --- fake third-party plugins ---------------------------------------------------------------


class FakeHttpIdentity(IdentityAuthority):
    """A third party's identity adapter that remembers the settings it was built from."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FakeHttpIdentity:
        return cls(settings)

    def verify(self, name: str, id_number: str, *, request_id: str = "") -> Match:
        return Match()


class FakeHttpPortrait(PortraitAuthority):
    def compare(self, name: str, id_number: str, selfie_jpeg: bytes, **_: Any) -> Match:
        return Match()


class FakeHttpBank(BankVerifier):
    def verify(self, card: str, name: str, id_number: str, phone: str, **_: Any) -> Match:
        return Match()


class FakeHttpRegistry(BusinessRegistry):
    def verify(self, entity: str, uscc: str, representative: str, **_: Any) -> Match:
        return Match()


class FakeHttpAccount(AccountVerifier):
    def pay_micro_deposit(self, bank: str, number: str, name: str, **_: Any) -> Payment:
        return Payment("0.45")


class FakeHttpSms(SmsSender):
    def send(self, phone: str, text: str, *, request_id: str = "") -> Match:
        return Match()


class OldStyleIdentity(IdentityAuthority):
    """Written for the port before ``request_id``: it would fail at its first call."""

    def verify(self, name: str, id_number: str) -> Match:  # type: ignore[override]
        return Match()


class NotAnAdapter:
    """Has the right method but does not subclass the port."""

    def verify(self, name: str, id_number: str) -> Match:
        return Match()


def not_a_class() -> None:
    """An entry point may point at anything; a function is not an adapter."""


HTTP_CLASSES = {
    "identity": "FakeHttpIdentity",
    "portrait": "FakeHttpPortrait",
    "bank": "FakeHttpBank",
    "registry": "FakeHttpRegistry",
    "account": "FakeHttpAccount",
    "sms": "FakeHttpSms",
}


@pytest.fixture
def add_plugins(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Register extra entry points, as if third-party packages were installed."""
    module = types.ModuleType(PLUGIN_MODULE)
    for name in [*HTTP_CLASSES.values(), "NotAnAdapter", "not_a_class", "OldStyleIdentity"]:
        setattr(module, name, globals()[name])
    monkeypatch.setitem(sys.modules, PLUGIN_MODULE, module)
    extra: list[EntryPoint] = []

    def fake_entry_points(**params: Any) -> list[EntryPoint]:
        found = list(real_entry_points(**params))
        return found + [ep for ep in extra if ep.group == params.get("group")]

    monkeypatch.setattr(bootstrap, "entry_points", fake_entry_points)

    def add(port: str, name: str, attribute: str) -> None:
        group, _ = PORT_GROUPS[port]
        extra.append(EntryPoint(name=name, value=f"{PLUGIN_MODULE}:{attribute}", group=group))

    return add


@pytest.fixture
def http_verifiers(add_plugins: Callable[..., None]) -> dict[str, str]:
    """Install an ``http`` adapter for every sandboxed port; return settings that pick them."""
    for port, attribute in HTTP_CLASSES.items():
        add_plugins(port, "vendor", attribute)
    return {setting_name(port): "vendor" for port in SANDBOXED_PORTS}


# --- entry points of the default adapters --------------------------------------------------


def test_every_port_has_a_default_and_a_setting() -> None:
    assert set(SANDBOXED_PORTS) <= set(PORT_GROUPS)
    for port in PORT_GROUPS:
        assert DEFAULTS[setting_name(port)], port
    assert setting_name("identity") == "IDENTITY_ADAPTER"
    assert setting_name("executor") == "EXECUTOR"


@pytest.mark.parametrize("port", sorted(PORT_GROUPS))
def test_default_adapter_is_installed_loads_and_builds(port: str) -> None:
    group, base = PORT_GROUPS[port]
    name = DEFAULTS[setting_name(port)]
    registered = [ep for ep in real_entry_points(group=group) if ep.name == name]
    assert len(registered) == 1, f"{group}:{name} is not installed exactly once"
    assert name in installed_adapters(port)
    adapter_class = load_adapter_class(port, name)
    assert adapter_class is registered[0].load()
    assert isinstance(adapter_class, type) and issubclass(adapter_class, base)
    assert not getattr(adapter_class, "__abstractmethods__", None)
    own_settings = {"key": os.environ["KYC_KEK"]} if port == "kek" else {}
    adapter = adapter_class.from_settings(own_settings)
    assert isinstance(adapter, base)
    adapter.close()


def test_sandbox_is_installed_for_every_sandboxed_port() -> None:
    for port in SANDBOXED_PORTS:
        assert SANDBOX in installed_adapters(port), port


def test_building_the_default_adapters_loads_no_model() -> None:
    """``check()`` and ``from_settings`` must not import dlib's or RapidOCR's models."""
    script = textwrap.dedent(
        """
        import os
        import sys
        from kyc_service.bootstrap import Adapters
        from kyc_service.config import DEFAULTS
        from kyc_service.domain.access import Mode
        from kyc_service.ports import PORT_GROUPS

        adapters = Adapters({**DEFAULTS, "KEK": os.environ["KYC_KEK"]})
        adapters.check()
        for port in PORT_GROUPS:
            for mode in Mode:
                adapters.get(port, mode)
        loaded = sorted({"face_recognition", "dlib", "rapidocr", "onnxruntime"} & set(sys.modules))
        print("loaded:", ",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded:", result.stdout


def test_default_settings_pass_the_check_in_development() -> None:
    Adapters(dict(DEFAULTS)).check()


# --- unknown and refused adapters ----------------------------------------------------------


@pytest.mark.parametrize("port", sorted(PORT_GROUPS))
def test_unknown_adapter_names_the_setting_and_lists_the_installed(port: str) -> None:
    setting = setting_name(port)
    with pytest.raises(AdapterConfigurationError) as raised:
        Adapters({**DEFAULTS, setting: "no_such_adapter"}).check()
    message = str(raised.value)
    assert setting in message
    assert "no_such_adapter" in message
    installed = installed_adapters(port)
    assert installed
    for name in installed:
        assert name in message


def test_unknown_identity_adapter_message() -> None:
    with pytest.raises(AdapterConfigurationError, match=r"IDENTITY_ADAPTER='vendor'") as raised:
        load_adapter_class("identity", "vendor")
    assert "kyc.identity_authorities" in str(raised.value)
    assert "installed: " + ", ".join(installed_adapters("identity")) in str(raised.value)
    assert {"http", "sandbox"} <= set(installed_adapters("identity"))


def test_unknown_adapter_fails_on_first_use_too() -> None:
    adapters = Adapters({**DEFAULTS, "OCR_ADAPTER": "tesseract"})
    with pytest.raises(AdapterConfigurationError, match="OCR_ADAPTER"):
        adapters.get("ocr", Mode.TEST)


def test_production_refuses_sandbox_for_live() -> None:
    with pytest.raises(AdapterConfigurationError) as raised:
        Adapters({**DEFAULTS, "ENV": "production"}).check()
    message = str(raised.value)
    assert "sandbox" in message and "production" in message
    assert any(setting_name(port) in message for port in SANDBOXED_PORTS)


def test_development_allows_sandbox() -> None:
    Adapters({**DEFAULTS, "ENV": "development"}).check()


@pytest.mark.parametrize("port", SANDBOXED_PORTS)
def test_production_refuses_each_sandboxed_port_alone(
    port: str, http_verifiers: dict[str, str]
) -> None:
    settings = {**DEFAULTS, **http_verifiers, "ENV": "production", setting_name(port): SANDBOX}
    with pytest.raises(AdapterConfigurationError, match=setting_name(port)):
        Adapters(settings).check()


@pytest.mark.parametrize("port", SANDBOXED_PORTS)
def test_production_refuses_an_empty_setting(port: str, http_verifiers: dict[str, str]) -> None:
    """An empty ``KYC_<PORT>_ADAPTER`` means sandbox, so it is refused as well."""
    settings = {**DEFAULTS, **http_verifiers, "ENV": "production", setting_name(port): ""}
    with pytest.raises(AdapterConfigurationError, match=setting_name(port)):
        Adapters(settings).check()


def test_production_with_real_verifiers_passes(http_verifiers: dict[str, str]) -> None:
    adapters = Adapters({**DEFAULTS, **http_verifiers, "ENV": "production"})
    adapters.check()
    for port, attribute in HTTP_CLASSES.items():
        assert type(adapters.get(port, Mode.LIVE)).__name__ == attribute
        # Test-mode keys still use the sandbox, even in production.
        assert adapters.name_for(port, Mode.TEST) == SANDBOX
        assert type(adapters.get(port, Mode.TEST)).__module__.startswith("adapters.sandbox.")


# --- test mode -----------------------------------------------------------------------------


def test_test_mode_always_uses_the_sandbox_verifiers() -> None:
    settings = {**DEFAULTS, **{setting_name(port): "vendor" for port in SANDBOXED_PORTS}}
    adapters = Adapters(settings)
    for port in SANDBOXED_PORTS:
        assert adapters.name_for(port, Mode.TEST) == SANDBOX
        assert adapters.name_for(port, Mode.LIVE) == "vendor"
    # "vendor" is not installed, yet test mode never looks it up.
    assert isinstance(adapters.get("identity", Mode.TEST), SandboxIdentityAuthority)
    assert isinstance(adapters.get("portrait", Mode.TEST), SandboxPortraitAuthority)
    assert isinstance(adapters.get("bank", Mode.TEST), SandboxBankVerifier)
    assert isinstance(adapters.get("registry", Mode.TEST), SandboxBusinessRegistry)
    assert isinstance(adapters.get("sms", Mode.TEST), SandboxSmsSender)
    with pytest.raises(AdapterConfigurationError, match="IDENTITY_ADAPTER"):
        adapters.get("identity", Mode.LIVE)


def test_image_and_executor_ports_are_real_in_test_mode() -> None:
    """Face matching and OCR are real computations in both modes (API.md § Sandbox)."""
    adapters = Adapters(dict(DEFAULTS))
    for port in ("face", "ocr", "executor"):
        assert adapters.name_for(port, Mode.TEST) == DEFAULTS[setting_name(port)]
        assert adapters.name_for(port, Mode.LIVE) == DEFAULTS[setting_name(port)]


def test_adapters_are_built_once_per_port_and_mode() -> None:
    adapters = Adapters(dict(DEFAULTS))
    first = adapters.get("sms", Mode.TEST)
    assert adapters.get("sms", Mode.TEST) is first
    assert adapters.get("sms", Mode.LIVE) is not first
    adapters.close()
    assert adapters.get("sms", Mode.TEST) is not first


# --- adapter settings ----------------------------------------------------------------------


def test_adapter_settings_are_sliced_by_port() -> None:
    settings = {
        **DEFAULTS,
        "IDENTITY_ADAPTER": "vendor",
        "IDENTITY_URL": "https://identity.example.test/v1",
        "IDENTITY_TIMEOUT": 5,
        "BANK_URL": "https://bank.example.test",
        "FACE_UPSAMPLE": 2,
    }
    assert adapter_settings(settings, "identity") == {
        "url": "https://identity.example.test/v1",
        "timeout": 5,
    }
    assert adapter_settings(settings, "bank") == {"url": "https://bank.example.test"}
    assert adapter_settings(settings, "face") == {"upsample": 2}
    assert adapter_settings(settings, "registry") == {}
    assert adapter_settings(settings, "executor") == {}


def test_adapter_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYC_IDENTITY_ADAPTER", "vendor")
    monkeypatch.setenv("KYC_IDENTITY_URL", "https://identity.example.test/v1")
    monkeypatch.setenv("KYC_IDENTITY_TIMEOUT", "5")
    settings = load_settings()
    assert adapter_settings(settings, "identity") == {
        "url": "https://identity.example.test/v1",
        "timeout": 5,
    }


def test_adapter_is_built_from_its_own_settings(add_plugins: Callable[..., None]) -> None:
    add_plugins("identity", "vendor", "FakeHttpIdentity")
    settings = {
        **DEFAULTS,
        "IDENTITY_ADAPTER": "vendor",
        "IDENTITY_URL": "https://identity.example.test/v1",
        "IDENTITY_TIMEOUT": 5,
        "BANK_URL": "https://bank.example.test",
    }
    adapter = Adapters(settings).get("identity", Mode.LIVE)
    assert isinstance(adapter, FakeHttpIdentity)
    assert adapter.settings == {"url": "https://identity.example.test/v1", "timeout": 5}


def test_face_adapter_reads_its_setting() -> None:
    matcher = Adapters({**DEFAULTS, "FACE_UPSAMPLE": "2"}).get("face", Mode.LIVE)
    assert matcher.upsample == 2
    assert Adapters(dict(DEFAULTS)).get("face", Mode.LIVE).upsample == 0


# --- third-party plugins -------------------------------------------------------------------


def test_third_party_adapter_is_loaded(add_plugins: Callable[..., None]) -> None:
    add_plugins("identity", "acme", "FakeHttpIdentity")
    assert "acme" in installed_adapters("identity")
    assert load_adapter_class("identity", "acme") is FakeHttpIdentity
    Adapters({**DEFAULTS, "IDENTITY_ADAPTER": "acme"}).check()


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ("NotAnAdapter", "a class that does not subclass the port"),
        ("not_a_class", "not a class at all"),
        ("FakeHttpBank", "an adapter of another port"),
        ("OldStyleIdentity", "a verify() that does not take request_id="),
    ],
)
def test_entry_point_that_does_not_implement_the_port_is_rejected(
    add_plugins: Callable[..., None], attribute: str, reason: str
) -> None:
    add_plugins("identity", "rogue", attribute)
    with pytest.raises(AdapterConfigurationError, match="IdentityAuthority") as raised:
        load_adapter_class("identity", "rogue")
    assert "kyc.identity_authorities:rogue" in str(raised.value), reason
    if attribute == "OldStyleIdentity":
        assert "verify(request_id=) not accepted" in str(raised.value)
    with pytest.raises(AdapterConfigurationError):
        Adapters({**DEFAULTS, "IDENTITY_ADAPTER": "rogue"}).check()


# --- the sandbox's magic values (API.md § Sandbox) -----------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("测试不符", Mismatch("name_id_mismatch", billable=False)),
        ("测试无此人", NotFound("id_not_found", billable=False)),
        ("张三丰", Match(billable=False)),
        ("李四", Match(billable=False)),
        # A magic value of another check passes this one.
        ("测试人像不符", Match(billable=False)),
        ("测试法人不符", Match(billable=False)),
    ],
)
def test_sandbox_identity(name: str, expected: object) -> None:
    assert SandboxIdentityAuthority().verify(name, ID_NUMBER) == expected


def test_sandbox_identity_matches_near_misses_of_magic_names() -> None:
    authority = SandboxIdentityAuthority()
    for name in ("测试", "测试不符 ", "不符测试", "测试无此人甲"):
        assert authority.verify(name, ID_NUMBER) == Match(billable=False), name


@pytest.mark.parametrize(
    ("name", "code"),
    [("测试人像不符", "portrait_mismatch"), ("张三丰", None), ("测试不符", None)],
)
def test_sandbox_portrait(name: str, code: str | None) -> None:
    outcome = SandboxPortraitAuthority().compare(name, ID_NUMBER, SELFIE)
    if code is None:
        assert isinstance(outcome, Match)
    else:
        assert isinstance(outcome, Mismatch)
        assert outcome.code == code
    assert outcome.billable is False


@pytest.mark.parametrize(
    ("reserved_phone", "code"),
    [
        ("13900000001", "phone_mismatch"),
        ("13900000002", "bank_card_mismatch"),
        ("13900000003", "card_not_supported"),
        ("+8613900000001", "phone_mismatch"),
        ("+86 139 0000 0002", "bank_card_mismatch"),
        ("+86-139-0000-0003", "card_not_supported"),
        ("13900000004", None),
        ("13800138000", None),
        ("+8613800138000", None),
    ],
)
def test_sandbox_bank(reserved_phone: str, code: str | None) -> None:
    outcome = SandboxBankVerifier().verify(CARD_NUMBER, "张三丰", ID_NUMBER, reserved_phone)
    expected = Mismatch(code, billable=False) if code else Match(billable=False)
    assert outcome == expected


@pytest.mark.parametrize("reserved_phone", ["13900000009", "+8613900000009"])
def test_sandbox_bank_outage(reserved_phone: str) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        SandboxBankVerifier().verify(CARD_NUMBER, "张三丰", ID_NUMBER, reserved_phone)
    assert raised.value.code == "upstream_unavailable"
    assert raised.value.status == 503


def test_sandbox_bank_ignores_magic_names() -> None:
    """Only the reserved phone picks the bank outcome."""
    verifier = SandboxBankVerifier()
    for name in ("测试不符", "测试无此人", "测试人像不符"):
        assert verifier.verify(CARD_NUMBER, name, ID_NUMBER, "13800138000") == Match(billable=False)


@pytest.mark.parametrize(
    ("entity_name", "legal_representative", "expected"),
    [
        ("测试不存在企业", "张三丰", NotFound("entity_not_found", billable=False)),
        ("测试已注销企业", "张三丰", Mismatch("entity_deregistered", billable=False)),
        (
            "示例科技有限公司",
            "测试法人不符",
            Mismatch("legal_representative_mismatch", billable=False),
        ),
        ("示例科技有限公司", "张三丰", Match(billable=False)),
        # The representative's identity magic values belong to the identity check.
        ("示例科技有限公司", "测试不符", Match(billable=False)),
    ],
)
def test_sandbox_registry(entity_name: str, legal_representative: str, expected: object) -> None:
    outcome = SandboxBusinessRegistry().verify(entity_name, USCC, legal_representative)
    assert outcome == expected


def test_sandbox_sms_sends_nothing_and_records() -> None:
    sender = SandboxSmsSender()
    sender.send("+8613800138000", "您的验证码是 000000")
    assert list(sender.outbox) == [("+8613800138000", "您的验证码是 000000")]
