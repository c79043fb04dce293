"""Webhooks and events: endpoints, URL rules, signatures, deliveries to a loopback receiver."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, text

from kyc_service.cli import main
from kyc_service.domain.access import Mode
from kyc_service.domain.checks import CheckStatus, check
from kyc_service.persistence.tables import (
    EventRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from kyc_service.persistence.webhook_repository import WebhookRepository
from kyc_service.services import webhooks
from kyc_service.services.events import save
from kyc_service.services.webhooks import deliver_due, sign, signature_header, verify_signature
from tests.conftest import assert_error
from tests.helpers import seed_verification, self_signed_certificate
from tests.webhook_receiver import Receiver, start_receiver

OUTCOMES = {
    "verified": check("identity", CheckStatus.PASSED),
    "rejected": check("identity", CheckStatus.FAILED, "name_id_mismatch"),
    "in_review": check("id_card_ocr", CheckStatus.FAILED, "ocr_unreadable"),
}
"""One check result that leads a processing verification to each status."""

PUBLIC_ADDRESS = "93.184.216.34"
"""What the fake resolver answers for public names; nothing is ever sent there."""


# --- a loopback receiver, a fake clock, a fake resolver -----------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Answer chosen addresses for names under ``example.com``; no real DNS is asked for them."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(host, str) and host.endswith("example.com"):
            if not answers.get(host):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


# --- helpers ------------------------------------------------------------------------------


def register(client, headers: dict[str, str], url: str, events: list[str] | None = None):
    """POST /v1/webhook-endpoints."""
    return client.post(
        "/v1/webhook-endpoints", json={"url": url, "events": events or ["*"]}, headers=headers
    )


def make_event(app: Flask, headers: dict[str, str], status: str, when: datetime) -> str:
    """Seed a verification and move it to ``status`` (which records the event); return its id."""
    verification_id = seed_verification(app, headers, status="processing")
    with app.extensions["kyc"].unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id, for_update=True)
        verification.record_checks([OUTCOMES[status]], when)
        save(uow, verification)
        uow.commit()
        return uow.session.scalar(
            select(EventRow.id)
            .where(EventRow.verification_id == verification_id)
            .order_by(EventRow.seq.desc())
        )


def deliveries(app: Flask) -> list[WebhookDeliveryRow]:
    with app.extensions["kyc"].unit_of_work() as uow:
        return list(uow.session.scalars(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)))


def run_deliveries(app: Flask, clock: Callable[[], datetime], **kwargs) -> webhooks.DeliveryReport:
    kyc = app.extensions["kyc"]
    transport = kyc.adapters.get("webhooks", Mode.LIVE)
    return deliver_due(kyc.unit_of_work, kyc.vault.keystore.wrapper, clock, transport, **kwargs)


# --- signatures ---------------------------------------------------------------------------


def test_signature_verifies_within_five_minutes_only():
    body, secret, t = b'{"id":"evt_x"}', "whsec_test", 1_700_000_000
    header = signature_header(secret, t, body)
    assert header == f"t={t},v1={sign(secret, t, body)}"
    assert verify_signature(secret, header, body, now=t + 299)
    assert not verify_signature(secret, header, body, now=t + 301)
    assert not verify_signature(secret, header, body, now=t - 301)
    assert not verify_signature(secret, header, body + b" ", now=t)
    assert not verify_signature("whsec_other", header, body, now=t)
    assert not verify_signature(secret, f"t={t}", body, now=t)
    assert not verify_signature(secret, "garbage", body, now=t)
    rotated = f"t={t},v1={sign('whsec_old', t, body)},v1={sign(secret, t, body)}"
    assert verify_signature(secret, rotated, body, now=datetime.fromtimestamp(t, UTC))


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_k", b"42.{}", hashlib.sha256).hexdigest()
    assert sign("whsec_k", 42, b"{}") == expected


# --- endpoints ----------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_the_list_never(client, auth):
    created = register(client, auth, "http://127.0.0.1:9/hook", ["verification.verified"])
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["id"].startswith("we_") and body["object"] == "webhook_endpoint"
    assert body["url"] == "http://127.0.0.1:9/hook"
    assert body["events"] == ["verification.verified"]
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["created_at"]
    listed = client.get("/v1/webhook-endpoints", headers=auth)
    assert listed.status_code == 200
    page = listed.get_json()
    assert page["object"] == "list" and page["has_more"] is False
    assert [e["id"] for e in page["data"]] == [body["id"]]
    assert "secret" not in page["data"][0]
    assert body["secret"] not in listed.get_data(as_text=True)


def test_secret_is_stored_wrapped_by_the_kek(app, client, auth):
    body = register(client, auth, "http://127.0.0.1:9/hook").get_json()
    with app.extensions["kyc"].unit_of_work() as uow:
        row = uow.session.scalar(
            select(WebhookEndpointRow).where(WebhookEndpointRow.id == body["id"])
        )
        stored = [str(getattr(row, c.key)) for c in WebhookEndpointRow.__table__.columns]
    assert not any(body["secret"] in value for value in stored)
    assert not any(body["secret"].removeprefix("whsec_") in value for value in stored)
    wrapper = app.extensions["kyc"].vault.keystore.wrapper
    assert webhooks.endpoint_secret(wrapper, row) == body["secret"]


@pytest.mark.parametrize(
    "events", [["verification.approved"], [], ["*", "nope"], "verification.verified"]
)
def test_events_must_be_known_types(client, auth, events):
    response = client.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/", "events": events}, headers=auth
    )
    assert assert_error(response, 422, "invalid_request", "validation_failed")["field"] == "events"


def test_star_subscribes_to_everything(client, auth):
    body = register(client, auth, "http://127.0.0.1:9/", ["verification.verified", "*"]).get_json()
    assert body["events"] == ["*"]


def test_registering_needs_the_webhooks_scope(client, make_key):
    reader = make_key(scopes="verifications:read")
    assert_error(
        register(client, reader, "http://127.0.0.1:9/"), 403, "permission", "scope_missing"
    )
    listed = client.get("/v1/webhook-endpoints", headers=reader)
    assert_error(listed, 403, "permission", "scope_missing")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123/hook", "https://127.0.0.1/hook", "http://localhost:9/x?y=1"]
)
def test_test_mode_accepts_http_and_loopback(client, auth, url):
    assert register(client, auth, url).status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://100.100.100.200/",
        "http://0.0.0.0:8000/",
        "ftp://127.0.0.1/",
        "http://user:password@127.0.0.1/",
        "http:///no-host",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1/a b",
    ],
)
def test_test_mode_still_refuses_metadata_addresses_and_odd_urls(client, auth, url):
    response = register(client, auth, url)
    assert assert_error(response, 422, "invalid_request", "url_invalid")["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://private.example.com/hook",
        "https://mixed.example.com/hook",
        "https://nowhere.example.com/hook",
    ],
)
def test_live_mode_refuses_http_and_private_targets(client, make_key, resolver, url):
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS]
    resolver["private.example.com"] = ["10.1.2.3"]
    resolver["mixed.example.com"] = [PUBLIC_ADDRESS, "127.0.0.1"]
    live = make_key(mode="live", scopes="webhooks:write")
    response = register(client, live, url)
    error = assert_error(response, 422, "invalid_request", "url_invalid")
    assert error["field"] == "url"


IPV4_INSIDE_IPV6 = [
    "64:ff9b:1::7f00:1",
    "64:ff9b::7f00:1",
    "::7f00:1",
    "::ffff:0:a00:1",
    "::ffff:7f00:1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::",
    "2002:a00:1::",
    "fec0::1",
    "fd00::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]
"""Private, loopback or metadata IPv4 addresses carried in IPv6 forms (issue 10, item 10)."""


@pytest.mark.parametrize("address", IPV4_INSIDE_IPV6)
def test_item_10_ipv4_hidden_in_ipv6_is_refused_at_creation(client, make_key, resolver, address):
    resolver["wrapped.example.com"] = [address]
    live = make_key(mode="live", scopes="webhooks:write")
    for url in (f"https://[{address}]/hook", "https://wrapped.example.com/hook"):
        assert_error(register(client, live, url), 422, "invalid_request", "url_invalid")


@pytest.mark.parametrize("address", IPV4_INSIDE_IPV6[:4])
def test_item_10_ipv4_hidden_in_ipv6_is_refused_at_delivery(
    app, client, make_key, resolver, address
):
    """A host that resolved to a public address at creation and to a wrapped private one
    at delivery: the send is refused, and no connection is opened (the transport's post is
    never reached)."""
    resolver["rebind.example.com"] = [PUBLIC_ADDRESS]
    live = make_key(mode="live", scopes="webhooks:write")
    assert register(client, live, "https://rebind.example.com/hook").status_code == 201
    make_event(app, live, "verified", datetime.now(UTC))
    resolver["rebind.example.com"] = [address]
    sent = []
    report = deliver_due(
        app.extensions["kyc"].unit_of_work,
        app.extensions["kyc"].vault.keystore.wrapper,
        lambda: datetime.now(UTC) + timedelta(seconds=1),
        app.extensions["kyc"].adapters.get("webhooks", Mode.LIVE),
        http_post=lambda *args: sent.append(args) or 200,
    )
    assert sent == [] and report.succeeded == 0
    assert "url refused" in (deliveries(app)[0].last_error or "")


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/", "http://192.168.1.10/hook", "http://172.16.0.1/", "http://[fd00::1]/"],
)
def test_item_11_test_mode_refuses_private_networks(client, auth, url):
    """API.md: test mode allows http and loopback; a private LAN is refused at creation."""
    assert_error(register(client, auth, url), 422, "invalid_request", "url_invalid")


def test_live_mode_accepts_https_to_a_public_host(client, make_key, resolver):
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS, "2606:2800:220:1:248:1893:25c8:1946"]
    live = make_key(mode="live", scopes="webhooks:write")
    response = register(client, live, "https://hooks.example.com/kyc")
    assert response.status_code == 201, response.get_data(as_text=True)


def test_endpoints_are_isolated_by_tenant_and_mode(client, make_key):
    ours = make_key(tenant="acme")
    created = register(client, ours, "http://127.0.0.1:9/").get_json()
    for other in (make_key(tenant="globex"), make_key(tenant="acme", mode="live")):
        assert client.get("/v1/webhook-endpoints", headers=other).get_json()["data"] == []
        foreign = client.get(f"/v1/webhook-endpoints?starting_after={created['id']}", headers=other)
        assert_error(foreign, 404, "not_found", "resource_missing")
    assert len(client.get("/v1/webhook-endpoints", headers=ours).get_json()["data"]) == 1


# --- fan-out ------------------------------------------------------------------------------


def test_an_event_is_queued_only_for_endpoints_that_want_it(app, client, make_key, clock, resolver):
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS]
    acme = make_key(tenant="acme")
    wants_verified = register(client, acme, "http://127.0.0.1:9/a", ["verification.verified"])
    wants_rejected = register(client, acme, "http://127.0.0.1:9/b", ["verification.rejected"])
    wants_all = register(client, acme, "http://127.0.0.1:9/c", ["*"])
    register(client, make_key(tenant="globex"), "http://127.0.0.1:9/d", ["*"])
    live = make_key(tenant="acme", mode="live", scopes="webhooks:write")
    live_endpoint = register(client, live, "https://hooks.example.com/", ["*"])
    assert live_endpoint.status_code == 201
    event_id = make_event(app, acme, "verified", clock())
    queued = {d.endpoint_id for d in deliveries(app) if d.event_id == event_id}
    assert queued == {wants_verified.get_json()["id"], wants_all.get_json()["id"]}
    assert wants_rejected.get_json()["id"] not in queued
    assert all(d.state == "pending" and d.attempts == 0 for d in deliveries(app))
    assert all(d.next_attempt_at == clock() for d in deliveries(app))


def test_an_event_is_recorded_without_any_endpoint(app, client, auth, clock):
    event_id = make_event(app, auth, "rejected", clock())
    assert deliveries(app) == []
    listed = client.get("/v1/events", headers=auth).get_json()["data"]
    assert [e["id"] for e in listed] == [event_id]


# --- delivery to a real loopback receiver -------------------------------------------------


def test_delivery_arrives_signed(app, client, auth, clock, receiver):
    secret = register(client, auth, receiver.url, ["verification.verified"]).get_json()["secret"]
    event_id = make_event(app, auth, "verified", clock())
    report = run_deliveries(app, clock)
    assert (report.succeeded, report.retrying, report.failed) == (1, 0, 0)
    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    header = request.headers["KYC-Signature"]
    assert verify_signature(secret, header, request.body, now=clock())
    assert not verify_signature("whsec_wrong", header, request.body, now=clock())
    delivered = json.loads(request.body.decode("utf-8"))
    assert delivered["id"] == event_id and delivered["type"] == "verification.verified"
    assert delivered["data"]["object"]["object"] == "verification"
    assert delivered["data"]["object"]["status"] == "verified"
    assert delivered == client.get("/v1/events", headers=auth).get_json()["data"][0]
    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status) == ("succeeded", 1, 200)
    assert row.delivered_at == clock()
    assert run_deliveries(app, clock).attempted == 0
    assert len(receiver.requests) == 1


def test_a_failed_delivery_is_retried_with_backoff(app, client, auth, clock, receiver):
    receiver.statuses = [500]
    secret = register(client, auth, receiver.url).get_json()["secret"]
    make_event(app, auth, "in_review", clock())
    first = run_deliveries(app, clock)
    assert (first.succeeded, first.retrying) == (0, 1)
    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert clock() + timedelta(seconds=30) <= row.next_attempt_at
    assert row.next_attempt_at <= clock() + timedelta(seconds=33)
    assert run_deliveries(app, clock).attempted == 0
    assert len(receiver.requests) == 1
    clock.now = row.next_attempt_at + timedelta(seconds=1)
    second = run_deliveries(app, clock)
    assert second.succeeded == 1
    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        "succeeded",
        2,
        200,
        None,
    )
    assert len(receiver.requests) == 2
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1
    assert verify_signature(secret, receiver.requests[1].headers["KYC-Signature"], *bodies, clock())


def test_backoff_doubles_and_is_capped_at_six_hours():
    delays = [webhooks.retry_delay(n).total_seconds() for n in range(1, 16)]
    assert 30 <= delays[0] <= 33 and 60 <= delays[1] <= 66 and 120 <= delays[2] <= 132
    assert all(6 * 3600 <= d <= 6 * 3600 * 1.1 for d in delays[-5:])


def test_a_delivery_fails_after_three_days_of_failures(app, client, auth, clock, receiver):
    receiver.default_status = 503
    register(client, auth, receiver.url)
    created = clock()
    make_event(app, auth, "verified", created)
    deadline = created + timedelta(days=3)
    for _ in range(60):
        run_deliveries(app, clock)
        [row] = deliveries(app)
        if row.state != "pending":
            break
        assert clock() < deadline
        clock.now = row.next_attempt_at
    assert row.state == "failed"
    assert clock() >= deadline
    assert 15 <= row.attempts <= 30 and row.last_status == 503
    assert len(receiver.requests) == row.attempts
    clock.advance(days=1)
    assert run_deliveries(app, clock).attempted == 0
    assert len(receiver.requests) == row.attempts


def test_a_refused_connection_is_retried(app, client, auth, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    register(client, auth, f"http://127.0.0.1:{closed_port}/hook")
    make_event(app, auth, "verified", clock())
    assert run_deliveries(app, clock).retrying == 1
    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, None)
    assert row.last_error == "connection failed: ConnectionRefusedError"


def test_https_certificates_are_verified(app, client, auth, clock, receiver, tmp_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed_certificate(tmp_path))
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    register(client, auth, receiver.url.replace("http://", "https://"))
    make_event(app, auth, "verified", clock())
    assert run_deliveries(app, clock).retrying == 1
    assert receiver.requests == []
    [row] = deliveries(app)
    assert row.last_status is None
    assert row.last_error == "TLS error: SSLCertVerificationError"


def test_redirects_are_not_followed(app, client, auth, clock, receiver, other_receiver):
    receiver.default_status, receiver.location = 302, other_receiver.url
    register(client, auth, receiver.url)
    make_event(app, auth, "verified", clock())
    assert run_deliveries(app, clock).retrying == 1
    assert len(receiver.requests) == 1 and other_receiver.requests == []
    [row] = deliveries(app)
    assert row.last_status == 302 and "redirect" in row.last_error


def test_live_mode_checks_the_address_again_at_send_time(app, client, make_key, clock, resolver):
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS]
    live = make_key(mode="live", scopes="*")
    secret = register(client, live, "https://hooks.example.com/kyc").get_json()["secret"]
    sent: list = []

    def fake_post(target, body, headers):  # noqa: ANN001, ANN202 - never touches the network
        sent.append((target, body, headers))
        return 204

    resolver["hooks.example.com"] = ["127.0.0.1"]
    make_event(app, live, "verified", clock())
    assert run_deliveries(app, clock, http_post=fake_post).retrying == 1
    assert sent == []
    [row] = deliveries(app)
    assert row.last_error.startswith("url refused") and row.attempts == 1
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS]
    clock.now = row.next_attempt_at
    assert run_deliveries(app, clock, http_post=fake_post).succeeded == 1
    [(target, body, headers)] = sent
    assert (target.address, target.host, target.port, target.path) == (
        PUBLIC_ADDRESS,
        "hooks.example.com",
        443,
        "/kyc",
    )
    assert verify_signature(secret, headers["KYC-Signature"], body, clock())


def test_a_live_endpoint_on_loopback_is_never_sent_to(app, clock, make_key, receiver):
    live = make_key(mode="live", scopes="*")
    register_directly = WebhookEndpointRow(
        id="we_planted",
        tenant_id=_tenant_of(app, live),
        mode="live",
        url=receiver.url.replace("http://", "https://"),
        events=["*"],
        secret_kek_id="kek-1",
        secret_wrapped="x",
        created_at=clock(),
    )
    with app.extensions["kyc"].unit_of_work() as uow:
        uow.session.add(register_directly)
        uow.commit()
    make_event(app, live, "verified", clock())
    assert run_deliveries(app, clock).retrying == 1
    assert receiver.requests == []
    assert deliveries(app)[0].last_error.startswith("url refused")


def _tenant_of(app: Flask, headers: dict[str, str]) -> str:
    from tests.helpers import principal_of

    return principal_of(app, headers).tenant_id


def test_an_idempotent_create_keeps_no_clear_secret(app, client, auth):
    headers = {**auth, "Idempotency-Key": "create-hook-1"}
    secret = register(client, headers, "http://127.0.0.1:9/").get_json()["secret"]
    replay = register(client, headers, "http://127.0.0.1:9/")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["secret"] == secret
    with app.extensions["kyc"].unit_of_work() as uow:
        stored = uow.session.execute(text("SELECT response_body FROM idempotency_keys")).all()
    assert not any(secret in (row[0] or "") for row in stored)


def test_two_runners_never_send_the_same_delivery_twice(app, client, auth, clock, receiver):
    receiver.delay = 0.05
    register(client, auth, receiver.url)
    event_ids = {make_event(app, auth, "verified", clock()) for _ in range(6)}
    reports: list[webhooks.DeliveryReport] = []
    runners = [
        threading.Thread(target=lambda: reports.append(run_deliveries(app, clock)))
        for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=60)
    sent = [json.loads(r.body)["id"] for r in receiver.requests]
    assert sorted(sent) == sorted(event_ids)
    assert sum(r.succeeded for r in reports) == 6


def test_a_delivery_can_be_claimed_only_once(app, client, auth, clock):
    register(client, auth, "http://127.0.0.1:9/")
    make_event(app, auth, "verified", clock())
    [row] = deliveries(app)
    lease = clock() + webhooks.LEASE
    with app.extensions["kyc"].unit_of_work() as uow:
        repository = WebhookRepository(uow.session)
        assert repository.claim(row.id, row.next_attempt_at, lease) is True
        assert repository.claim(row.id, row.next_attempt_at, lease) is False
        uow.commit()
    assert run_deliveries(app, clock).attempted == 0


def test_the_cli_delivers_due_webhooks(app, client, auth, receiver, app_config):
    register(client, auth, receiver.url)
    make_event(app, auth, "verified", datetime.now(UTC))
    env = {
        "KYC_DATABASE_URL": app_config["DATABASE_URL"],
        "KYC_KEYSTORE_URL": app_config["KEYSTORE_URL"],
    }
    result = CliRunner().invoke(main, ["webhooks", "deliver"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "delivered 1; retrying 0; failed 0"
    assert len(receiver.requests) == 1


# --- GET /v1/events -----------------------------------------------------------------------


def test_events_page_newest_first(app, client, auth, clock):
    ids = []
    for n in range(5):
        ids.append(make_event(app, auth, "verified" if n % 2 else "rejected", clock()))
        clock.advance(seconds=1)
    newest_first = list(reversed(ids))
    first = client.get("/v1/events?limit=2", headers=auth).get_json()
    assert first["object"] == "list" and first["has_more"] is True
    assert [e["id"] for e in first["data"]] == newest_first[:2]
    second = client.get(
        f"/v1/events?limit=2&starting_after={first['data'][-1]['id']}", headers=auth
    ).get_json()
    assert [e["id"] for e in second["data"]] == newest_first[2:4] and second["has_more"] is True
    third = client.get(
        f"/v1/events?limit=2&starting_after={second['data'][-1]['id']}", headers=auth
    ).get_json()
    assert [e["id"] for e in third["data"]] == newest_first[4:] and third["has_more"] is False
    event = first["data"][0]
    assert set(event) == {"id", "object", "type", "created_at", "data"}
    assert event["object"] == "event" and event["data"]["object"]["object"] == "verification"


def test_events_filter_by_type(app, client, auth, clock):
    verified = make_event(app, auth, "verified", clock())
    make_event(app, auth, "rejected", clock())
    page = client.get("/v1/events?type=verification.verified", headers=auth).get_json()
    assert [e["id"] for e in page["data"]] == [verified]
    bad = client.get("/v1/events?type=verification.nope", headers=auth)
    assert assert_error(bad, 422, "invalid_request", "validation_failed")["field"] == "type"


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_events_limit_is_bounded(client, auth, limit):
    response = client.get(f"/v1/events?limit={limit}", headers=auth)
    assert assert_error(response, 422, "invalid_request", "validation_failed")["field"] == "limit"


def test_events_are_isolated_by_tenant_and_mode(app, client, make_key, clock):
    ours = make_key(tenant="acme")
    event_id = make_event(app, ours, "verified", clock())
    for other in (make_key(tenant="globex"), make_key(tenant="acme", mode="live")):
        assert client.get("/v1/events", headers=other).get_json()["data"] == []
        foreign = client.get(f"/v1/events?starting_after={event_id}", headers=other)
        assert_error(foreign, 404, "not_found", "resource_missing")
    assert [e["id"] for e in client.get("/v1/events", headers=ours).get_json()["data"]] == [
        event_id
    ]


def test_events_need_the_read_scope(client, make_key):
    writer = make_key(scopes="webhooks:write")
    assert_error(client.get("/v1/events", headers=writer), 403, "permission", "scope_missing")


# --- issue 10, item 3: one tenant cannot stall or flood delivery ------------------------


class Dribbler:
    """A loopback receiver that answers one byte every ``pause`` seconds, forever."""

    def __init__(self, pause: float = 2.0) -> None:
        self.pause = pause
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open_now = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener closed by ``stop`` while it waited
                return
            threading.Thread(target=self._dribble, args=(connection,), daemon=True).start()

    def _dribble(self, connection: socket.socket) -> None:
        with self.lock:
            self.open_now += 1
            self.most_at_once = max(self.most_at_once, self.open_now)
        try:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                if self.stopped.wait(self.pause):
                    return
                connection.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            with self.lock:
                self.open_now -= 1
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


def test_item_3_a_dribbling_receiver_is_cut_at_the_deadline_and_others_go_on(
    app, client, auth, clock
):
    from adapters.http_webhooks import HttpWebhookTransport

    slow = [Dribbler(), Dribbler()]
    try:
        for dribbler in slow:
            url = f"http://127.0.0.1:{dribbler.port}/hook"
            assert register(client, auth, url).status_code == 201
        make_event(app, auth, "verified", clock())
        kyc = app.extensions["kyc"]
        started = time.monotonic()
        report = deliver_due(
            kyc.unit_of_work,
            kyc.vault.keystore.wrapper,
            clock,
            HttpWebhookTransport(deadline=1.0),
            concurrency=4,
        )
        elapsed = time.monotonic() - started
        assert (report.succeeded, report.retrying) == (0, 2)
        assert elapsed < 8, elapsed  # a byte every 2 s would hold it for ~80 s
        assert max(d.most_at_once for d in slow) == 1
        assert sum(d.most_at_once for d in slow) == 2
        assert all("deadline" in (d.last_error or "") for d in deliveries(app))
    finally:
        for dribbler in slow:
            dribbler.stop()


def test_item_3_deliveries_run_concurrently_within_the_bound(app, client, auth, clock):
    from adapters.http_webhooks import HttpWebhookTransport

    dribbler = Dribbler(pause=0.2)
    try:
        for n in range(3):
            url = f"http://127.0.0.1:{dribbler.port}/hook/{n}"
            assert register(client, auth, url).status_code == 201
        make_event(app, auth, "verified", clock())
        kyc = app.extensions["kyc"]
        report = deliver_due(
            kyc.unit_of_work,
            kyc.vault.keystore.wrapper,
            clock,
            HttpWebhookTransport(deadline=30),
            concurrency=2,
        )
        assert report.succeeded == 3
        assert dribbler.most_at_once == 2  # two at once, never more than the bound
    finally:
        dribbler.stop()


def test_item_3_endpoints_are_capped_per_mode_and_duplicates_refused(app_config, make_key):
    from kyc_service.app import create_app

    app = create_app({**app_config, "WEBHOOKS_ENDPOINTS_PER_MODE": 3})
    try:
        client = app.test_client()
        headers = {"Authorization": make_key()["Authorization"]}
        for n in range(3):
            assert register(client, headers, f"http://127.0.0.1:9/{n}").status_code == 201
        duplicate = register(client, headers, "http://127.0.0.1:9/0")
        assert_error(duplicate, 409, "conflict", "webhook_endpoint_exists")
        over = register(client, headers, "http://127.0.0.1:9/3")
        assert_error(over, 409, "conflict", "webhook_endpoint_limit")
    finally:
        app.extensions["kyc"].close()
