"""Issue 12 (first part): the verifier protocol's HTTP adapters and the partner sandbox.

Unit tests against a scripted verifier on loopback (``tests/stub_upstream.py``): each result
code, a timeout, a lost connection, a refused one, a broken stream, 5xx, malformed JSON, a
bad signature, the circuit breaker opening and closing. Then the adapters against the real
sandbox server on loopback: the same outcomes as the in-process sandbox, for every role.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest
import requests

from adapters.http_verifiers import protocol
from adapters.http_verifiers.adapters import (
    HttpAccountVerifier,
    HttpBankVerifier,
    HttpBusinessRegistry,
    HttpIdentityAuthority,
    HttpPortraitAuthority,
    HttpSmsSender,
)
from adapters.http_verifiers.client import CircuitBreaker
from adapters.sandbox.bank import SandboxBankVerifier
from adapters.sandbox.identity import SandboxIdentityAuthority
from adapters.sandbox.registry import SandboxBusinessRegistry
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match, Mismatch, NotFound, Payment
from tests.helpers import counted_connections, serving_in_thread
from tests.stub_upstream import CUT, DROP, HANG, StubUpstream, stub_upstream
from tests.worker_pool import free_port

SECRET = "s3cret-for-tests"
ID_NUMBER = "11010519491231002X"


def signed_answer(answer: dict, rid: str, status: int = 200, secret: str = SECRET):
    """A callback answering ``answer`` signed as the protocol says."""

    def callback(request):  # noqa: ANN001, ANN202
        body = json.dumps({"request_id": rid, **answer}).encode()
        line = protocol.response_line(status, rid)
        return status, protocol.signed_headers(secret, line, int(time.time()), body), body

    return callback


RID = "vr_abcdefghijklmnop"
"""The request id the tests' calls carry (the pipeline's is stable per verification and check)."""


def rid_of(fields: dict) -> str:  # noqa: ARG001 - the id does not depend on the fields
    return RID


FIELDS = {"name": "张三", "id_number": ID_NUMBER}


def unbilled(outcome):  # noqa: ANN001, ANN201
    """The outcome as the in-process sandbox gives it (free): the server bills definite ones."""
    assert outcome.billable, "the sandbox server bills a definite answer, as providers do"
    return dataclasses.replace(outcome, billable=False)


@pytest.fixture
def upstream() -> Iterator[StubUpstream]:
    with stub_upstream() as stub:
        yield stub


@pytest.fixture
def identity(upstream: StubUpstream) -> Iterator[HttpIdentityAuthority]:
    """The identity adapter on the stub, with the default timeouts (the tests that count
    calls must not see a retry after a slow moment of a busy machine)."""
    adapter = HttpIdentityAuthority(upstream.url, SECRET)
    yield adapter
    adapter.close()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"result": "match", "billable": True}, Match(billable=True)),
        (
            {"result": "mismatch", "reason": "name_id_mismatch", "billable": True},
            Mismatch("name_id_mismatch"),
        ),
        ({"result": "no_record", "billable": True}, NotFound("id_not_found")),
        (
            {"result": "invalid_input", "reason": "id_number_invalid", "billable": False},
            Mismatch("id_number_invalid", billable=False),
        ),
    ],
)
def test_each_result_code_maps_to_a_domain_result(upstream, identity, answer, expected):
    upstream.add("/v1/identity", signed_answer(answer, rid_of(FIELDS)))
    assert identity.verify("张三", ID_NUMBER, request_id=RID) == expected
    sent = upstream.calls[0]
    assert json.loads(sent.body) == {"request_id": rid_of(FIELDS), **FIELDS}
    assert protocol.signature_valid(
        SECRET, protocol.request_line("identity"), sent.headers, sent.body, time.time()
    )


@pytest.mark.parametrize("result", ["busy", "daily_limit"])
def test_busy_and_daily_limit_are_outages(upstream, identity, result):
    upstream.add("/v1/identity", signed_answer({"result": result, "billable": False}, RID))
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER, request_id=RID)


def test_a_lost_connection_is_retried_then_an_outage(upstream, identity):
    upstream.add("/v1/identity", DROP)
    with pytest.raises(UpstreamUnavailable, match="did not answer"):
        identity.verify("张三", ID_NUMBER, request_id=RID)
    assert len(upstream.calls) == 3  # the same request id, sent again: safe
    assert {json.loads(call.body)["request_id"] for call in upstream.calls} == {RID}


def test_a_read_timeout_ends_a_call_that_gets_no_answer(upstream):
    """The stub never answers (until the test ends): only the read timeout can end each
    try, so three tries and their backoff take about 3 × 0.3 s + 0.6 s, not the stub's
    30 s."""
    upstream.add("/v1/identity", HANG)
    adapter = HttpIdentityAuthority(upstream.url, SECRET, timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamUnavailable, match="did not answer"):
            adapter.verify("张三", ID_NUMBER, request_id=RID)
    finally:
        adapter.close()
    assert time.monotonic() - started < 10
    assert len(upstream.calls) == 3


def test_a_refused_connection_is_tried_three_times_then_an_outage(monkeypatch):
    """Each try is one connection attempt (urllib3 retries nothing itself: ``retries=False``;
    the client's own repeats carry the same request id)."""
    attempts = counted_connections(monkeypatch)
    adapter = HttpIdentityAuthority(f"http://127.0.0.1:{free_port()}", SECRET, timeout=1)
    with pytest.raises(UpstreamUnavailable, match="did not answer"):
        adapter.verify("张三", ID_NUMBER, request_id=RID)
    assert len(attempts) == 3


def test_a_verifier_whose_certificate_no_root_signs_gets_no_request(tmp_path):
    """HTTPS under a self-signed certificate: refused at the handshake, so no field leaves
    the service. The same stub answers a client that trusts that certificate on purpose
    (the refusal is the verification's, not a broken server)."""
    import urllib3

    with stub_upstream(tls_directory=tmp_path) as tls:
        tls.add("/v1/identity", signed_answer({"result": "match", "billable": True}, RID))
        adapter = HttpIdentityAuthority(tls.url, SECRET, timeout=1)
        try:
            with pytest.raises(UpstreamUnavailable):
                adapter.verify("张三", ID_NUMBER, request_id=RID)
        finally:
            adapter.close()
        assert tls.calls == []
        trusting = urllib3.PoolManager(ca_certs=str(tls.certificate), retries=False)
        assert trusting.request("POST", f"{tls.url}/v1/identity", body=b"{}").status == 200
        assert len(tls.calls) == 1


@pytest.mark.parametrize(
    "url", ["verifier.example.com", "verifier.example.com:8443", "ftp://127.0.0.1/", "https://"]
)
def test_a_verifier_url_that_is_not_http_or_https_to_a_host_is_refused_at_once(url):
    """Without a scheme urllib3 would take ``http``: the fields would go out in clear text.
    The adapter refuses to be built (at start-up), and sends nothing."""
    with pytest.raises(RuntimeError, match="http"):
        HttpIdentityAuthority(url, SECRET)


def test_a_lost_connection_then_an_answer_passes(upstream, identity):
    upstream.add("/v1/identity", DROP, signed_answer({"result": "match", "billable": True}, RID))
    assert identity.verify("张三", ID_NUMBER, request_id=RID) == Match()
    assert len(upstream.calls) == 2


def test_a_5xx_then_an_answer_passes_with_the_same_request_id(upstream, identity):
    rid = rid_of(FIELDS)
    upstream.add(
        "/v1/identity",
        upstream.answer(503),
        signed_answer({"result": "match", "billable": True}, rid),
    )
    assert identity.verify("张三", ID_NUMBER, request_id=RID) == Match()
    assert len(upstream.calls) == 2
    assert {json.loads(call.body)["request_id"] for call in upstream.calls} == {rid}


@pytest.mark.parametrize(
    "variant",
    [
        "malformed-json",
        "nested-json",
        "odd-timestamp",
        "bad-signature",
        "wrong-request-id",
        "no-result",
        "401",
    ],
)
def test_malformed_or_unsigned_answers_are_an_outage_never_a_pass(upstream, identity, variant):
    rid = rid_of(FIELDS)
    match = {"result": "match", "billable": True}
    if variant in ("malformed-json", "nested-json"):

        def callback(request):  # noqa: ANN001, ANN202
            body = b"{not json" if variant == "malformed-json" else b"[" * 50_000 + b"]" * 50_000
            headers = protocol.signed_headers(
                SECRET, protocol.response_line(200, rid), int(time.time()), body
            )
            return 200, headers, body

    elif variant == "odd-timestamp":  # a digit to str.isdigit, not to int()

        def callback(request):  # noqa: ANN001, ANN202
            status, headers, body = signed_answer(match, rid)(request)
            return status, headers | {protocol.TIMESTAMP_HEADER: "\u00b2"}, body

    elif variant == "bad-signature":
        callback = signed_answer(match, rid, secret="another secret")
    elif variant == "wrong-request-id":
        callback = signed_answer(match, "vr_other")
    elif variant == "no-result":
        callback = signed_answer({"billable": True}, rid)
    else:
        callback = signed_answer(match, rid, status=401)
    upstream.add("/v1/identity", callback)
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER, request_id=RID)
    assert len(upstream.calls) == 1, "an answer, even a bad one, is not sent again"


def test_the_breaker_opens_after_failures_and_a_probe_closes_it():
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(3):
        assert breaker.allow()
        breaker.failed()
    assert not breaker.allow()  # open: fail fast
    now[0] = 11
    assert breaker.allow()  # half-open: one probe
    assert not breaker.allow()
    breaker.succeeded()
    assert breaker.allow() and breaker.allow()


def test_an_open_breaker_fails_fast_without_a_request(upstream, identity):
    identity.client.breaker = CircuitBreaker(threshold=1, cooldown=60)
    upstream.add("/v1/identity", upstream.answer(500))
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER)
    sent = len(upstream.calls)
    assert sent == 3
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        identity.verify("张三", ID_NUMBER)
    assert len(upstream.calls) == sent


# --- against the partner sandbox on loopback -----------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    from verifier_sandbox.server import create_sandbox_app

    with serving_in_thread(create_sandbox_app(SECRET)) as url:
        yield url


@pytest.mark.parametrize("name", ["张三", "测试不符", "测试无此人"])
def test_identity_over_http_agrees_with_the_in_process_sandbox(sandbox, name):
    remote = HttpIdentityAuthority(sandbox, SECRET).verify(name, ID_NUMBER)
    assert unbilled(remote) == SandboxIdentityAuthority().verify(name, ID_NUMBER)


@pytest.mark.parametrize("phone", ["13800138000", "13900000001", "13900000002", "13900000003"])
def test_bank_over_http_agrees(sandbox, phone):
    card = "6222021234567890128"
    remote = HttpBankVerifier(sandbox, SECRET).verify(card, "张三", ID_NUMBER, phone)
    assert unbilled(remote) == SandboxBankVerifier().verify(card, "张三", ID_NUMBER, phone)


def test_an_unavailable_bank_is_an_outage_over_http(sandbox):
    with pytest.raises(UpstreamUnavailable):
        HttpBankVerifier(sandbox, SECRET).verify(
            "6222021234567890128", "张三", ID_NUMBER, "13900000009"
        )


@pytest.mark.parametrize(
    ("entity", "representative"),
    [
        ("示例公司", "王伟"),
        ("测试不存在企业", "王伟"),
        ("测试已注销企业", "王伟"),
        ("示例公司", "测试法人不符"),
    ],
)
def test_registry_over_http_agrees(sandbox, entity, representative):
    uscc = "91440101MA5CYXTT22"
    remote = HttpBusinessRegistry(sandbox, SECRET).verify(entity, uscc, representative)
    assert unbilled(remote) == SandboxBusinessRegistry().verify(entity, uscc, representative)


def test_account_portrait_and_sms_over_http(sandbox):
    assert HttpAccountVerifier(sandbox, SECRET).pay_micro_deposit(
        "工行", "1234567890", "示例"
    ) == Payment("0.32")
    portrait = HttpPortraitAuthority(sandbox, SECRET)
    assert isinstance(portrait.compare("张三", ID_NUMBER, b"\xff\xd8jpeg"), Match)
    refused = portrait.compare("测试人像不符", ID_NUMBER, b"\xff\xd8jpeg")
    assert isinstance(refused, Mismatch) and refused.code == "portrait_mismatch"
    HttpSmsSender(sandbox, SECRET).send("13800138000", "code 000000")


def test_the_sandbox_refuses_an_unsigned_or_wrongly_signed_request(sandbox):
    body = json.dumps({"request_id": "vr_1", **FIELDS}).encode()
    assert requests.post(f"{sandbox}/v1/identity", data=body, timeout=5).status_code == 401
    headers = protocol.signed_headers(
        "wrong", protocol.request_line("identity"), int(time.time()), body
    )
    assert (
        requests.post(f"{sandbox}/v1/identity", data=body, headers=headers, timeout=5).status_code
        == 401
    )


def test_a_repeated_request_id_gets_the_same_answer(sandbox):
    adapter = HttpIdentityAuthority(sandbox, SECRET)
    first = adapter.client.call(FIELDS, RID)
    again = adapter.client.call(FIELDS, RID)
    assert first == again


def test_the_cli_command_serves_the_sandbox_loaded_by_its_entry_point():
    from click.testing import CliRunner

    from kyc_service.bootstrap import sandbox_verifiers_app
    from kyc_service.cli import main

    assert "--fail-rate" in CliRunner().invoke(main, ["sandbox-verifiers", "--help"]).output
    with serving_in_thread(sandbox_verifiers_app(SECRET)) as url:
        assert HttpIdentityAuthority(url, SECRET).verify("张三", ID_NUMBER) == Match(billable=True)


# --- request ids, refused answers, redirects (review of issue 12) --------------------------

ROLE_CALLS = {
    "identity": lambda url: HttpIdentityAuthority(url, SECRET).verify(
        "张三", ID_NUMBER, request_id=RID
    ),
    "portrait": lambda url: HttpPortraitAuthority(url, SECRET).compare(
        "张三", ID_NUMBER, b"\xff\xd8jpeg", request_id=RID
    ),
    "bank": lambda url: HttpBankVerifier(url, SECRET).verify(
        "6222021234567890128", "张三", ID_NUMBER, "13800138000", request_id=RID
    ),
    "registry": lambda url: HttpBusinessRegistry(url, SECRET).verify(
        "示例公司", "91440101MA5CYXTT22", "王伟", request_id=RID
    ),
    "account": lambda url: HttpAccountVerifier(url, SECRET).pay_micro_deposit(
        "工行", "1234567890", "示例", request_id=RID
    ),
    "sms": lambda url: HttpSmsSender(url, SECRET).send("13800138000", "code", request_id=RID),
}


@pytest.mark.parametrize("role", sorted(ROLE_CALLS))
def test_every_role_sends_the_callers_request_id_and_only_its_fields(upstream, role):
    answer = {"result": "match", "billable": True} | (
        {"amount": "0.45"} if role == "account" else {}
    )
    upstream.add(f"/v1/{role}", signed_answer(answer, RID))
    ROLE_CALLS[role](upstream.url)
    sent = json.loads(upstream.calls[0].body)
    assert sent["request_id"] == RID
    assert set(sent) == {"request_id", *protocol.ROLE_FIELDS[role]}


@pytest.mark.parametrize(
    "answer",
    [
        {"result": "mismatch", "reason": "张三 110105194912310021", "billable": True},
        {"result": "mismatch", "reason": "x" * 65, "billable": True},
        {"result": "mismatch", "reason": "code1", "billable": True},
        {"result": "match", "score": 1.5, "billable": True},
        {"result": "match", "score": True, "billable": True},
        {"result": "match", "score": float("nan"), "billable": True},
    ],
    ids=["personal-data", "too-long", "digits", "score-above-1", "score-bool", "score-nan"],
)
def test_a_reason_that_is_no_failure_code_or_a_bad_score_is_an_outage(upstream, identity, answer):
    upstream.add("/v1/identity", signed_answer(answer, RID))
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER, request_id=RID)


@pytest.mark.parametrize("amount", ["abc", "100", "0.00", "1.00", "0.3", "0.321", 0.32, None])
def test_a_deposit_amount_out_of_form_is_an_outage_but_billed(upstream, amount):
    answer = {"result": "match", "billable": True, "amount": amount}
    upstream.add("/v1/account", signed_answer(answer, RID))
    with pytest.raises(UpstreamUnavailable) as raised:
        HttpAccountVerifier(upstream.url, SECRET).pay_micro_deposit(
            "工行", "1234567890", "示例", request_id=RID
        )
    assert raised.value.billable is True


def test_a_redirect_is_not_followed_and_is_an_outage(upstream, identity):
    elsewhere = f"{upstream.url}/elsewhere"
    upstream.add("/v1/identity", upstream.answer(307, headers={"Location": elsewhere}))
    upstream.add("/elsewhere", signed_answer({"result": "match", "billable": True}, RID))
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER, request_id=RID)
    assert [call.path for call in upstream.calls] == ["/v1/identity"]


def test_no_proxy_from_the_environment_sees_the_fields(upstream, monkeypatch):
    """A proxy named in the environment (here a closed loopback port) is not used: the
    call goes straight to the verifier."""
    proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    upstream.add("/v1/identity", signed_answer({"result": "match", "billable": True}, RID))
    adapter = HttpIdentityAuthority(upstream.url, SECRET, timeout=1)
    assert adapter.verify("张三", ID_NUMBER, request_id=RID) == Match()
    assert len(upstream.calls) == 1


def test_a_broken_stream_is_retried_then_an_outage(upstream, identity):
    upstream.add("/v1/identity", CUT)
    with pytest.raises(UpstreamUnavailable):
        identity.verify("张三", ID_NUMBER, request_id=RID)
    assert len(upstream.calls) == 3


def _post_signed(sandbox: str, role: str, payload: object) -> requests.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = protocol.signed_headers(SECRET, protocol.request_line(role), int(time.time()), body)
    return requests.post(f"{sandbox}/v1/{role}", data=body, headers=headers, timeout=5)


def test_the_sandbox_refuses_odd_fields_without_a_500(sandbox):
    for payload, status in (
        ({"request_id": "vr_" + "a" * 62, **FIELDS}, 400),  # longer than 64
        ({"request_id": 7, **FIELDS}, 400),
        (["not", "an", "object"], 400),
    ):
        assert _post_signed(sandbox, "identity", payload).status_code == status
    odd_name = _post_signed(
        sandbox, "identity", {"request_id": "vr_odd", "name": 5, "id_number": ID_NUMBER}
    )
    assert odd_name.json()["result"] == "invalid_input"
    bad_photo = {"request_id": "vr_photo", "name": "张三", "id_number": ID_NUMBER, "photo": "@@"}
    assert _post_signed(sandbox, "portrait", bad_photo).json()["result"] == "invalid_input"


def test_the_sandbox_remembers_answers_per_role(sandbox):
    first = _post_signed(sandbox, "identity", {"request_id": "vr_shared", **FIELDS}).json()
    other = {
        "request_id": "vr_shared",
        "entity_name": "测试不存在企业",
        "uscc": "91440101MA5CYXTT22",
    }
    registry = _post_signed(sandbox, "registry", other | {"legal_representative": "王伟"}).json()
    assert first["result"] == "match" and registry["result"] == "no_record"
