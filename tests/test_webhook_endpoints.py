"""Managing webhook endpoints (SQLite and PostgreSQL): read one, update, disable, delete,
rotate the secret with a 24 h overlap — tenancy, URL rules, deliveries to a loopback
receiver, idempotency, audit, and rotations racing each other."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from kyc_service.domain.events import Event
from kyc_service.domain.timestamps import utc_text
from kyc_service.persistence.tables import WebhookEndpointRow
from kyc_service.services import webhooks
from kyc_service.services.webhook_secrets import stored_secrets
from kyc_service.services.webhooks import sign, verify_signature
from tests.conftest import assert_error
from tests.helpers import principal_of
from tests.synthetic import individual_body
from tests.test_kek_rotation import rotate as rotate_kek_with_cli
from tests.test_races import at_once
from tests.test_webhooks import (
    PUBLIC_ADDRESS,
    FakeClock,
    deliveries,
    make_event,
    register,
    run_deliveries,
)
from tests.test_webhooks import receiver as receiver  # noqa: PLC0414 - a fixture
from tests.test_webhooks import resolver as resolver  # noqa: PLC0414 - a fixture
from tests.vault_support import kek_document
from tests.webhook_receiver import Receiver

HOOKS = "/v1/webhook-endpoints"


@pytest.fixture
def clock(app, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One clock moved by hand, for the service (rotations) and the delivery runs alike."""
    moved = FakeClock()
    monkeypatch.setattr(app.extensions["kyc"].vault, "clock", moved)
    return moved


def create(client, headers: dict[str, str], url: str, events: list[str] | None = None) -> dict:
    response = register(client, headers, url, events)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def stored(app, endpoint_id: str) -> WebhookEndpointRow | None:
    with app.extensions["kyc"].unit_of_work() as uow:
        return uow.session.scalar(
            select(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id)
        )


def secrets_held(app, endpoint_id: str) -> list[str]:
    """The secrets the endpoint's wrapped value holds (current first)."""
    return stored_secrets(app.extensions["kyc"].vault.keystore.wrapper, stored(app, endpoint_id))


def v1_values(header: str) -> tuple[int, list[str]]:
    parts = [part.partition("=") for part in header.split(",")]
    [timestamp] = [int(value) for key, _, value in parts if key == "t"]
    return timestamp, [value for key, _, value in parts if key == "v1"]


def last_request(receiver: Receiver):
    with receiver.lock:
        return receiver.requests[-1]


# --- read one -----------------------------------------------------------------------------


def test_get_one_shows_the_endpoint_without_its_secret(client, auth):
    created = create(client, auth, "http://127.0.0.1:9/hook", ["verification.verified"])
    response = client.get(f"{HOOKS}/{created['id']}", headers=auth)
    assert response.status_code == 200
    shown = response.get_json()
    assert shown == {
        "id": created["id"],
        "object": "webhook_endpoint",
        "url": "http://127.0.0.1:9/hook",
        "events": ["verification.verified"],
        "status": "enabled",
        "created_at": created["created_at"],
        "previous_secret_expires_at": None,
    }
    assert created["secret"] not in response.get_data(as_text=True)


def test_every_call_on_one_endpoint_is_404_for_other_tenants_modes_and_unknown_ids(
    client, make_key
):
    ours = make_key(tenant="acme")
    created = create(client, ours, "http://127.0.0.1:9/hook")
    others = [(make_key(tenant="globex"), created["id"]), (make_key(mode="live"), created["id"])]
    for headers, endpoint_id in [*others, (ours, "we_unknown"), (ours, "x" * 300)]:
        path = f"{HOOKS}/{endpoint_id}"
        assert_error(client.get(path, headers=headers), 404, "not_found", "resource_missing")
        update = client.post(path, json={"disabled": True}, headers=headers)
        assert_error(update, 404, "not_found", "resource_missing")
        rotated = client.post(f"{path}/rotate-secret", headers=headers)
        assert_error(rotated, 404, "not_found", "resource_missing")
        deleted = client.delete(path, headers=headers)
        assert_error(deleted, 404, "not_found", "resource_missing")
    mine = client.get(f"{HOOKS}/{created['id']}", headers=ours).get_json()
    assert mine["status"] == "enabled" and mine["previous_secret_expires_at"] is None


def test_reads_and_writes_need_the_webhooks_scope(client, auth, make_key):
    endpoint_id = create(client, auth, "http://127.0.0.1:9/hook")["id"]
    reader = make_key(scopes="verifications:read,ops")
    path = f"{HOOKS}/{endpoint_id}"
    for response in (
        client.get(path, headers=reader),
        client.post(path, json={"disabled": True}, headers=reader),
        client.post(f"{path}/rotate-secret", headers=reader),
        client.delete(path, headers=reader),
    ):
        assert_error(response, 403, "permission", "scope_missing")
    assert client.get(path, headers=auth).get_json()["status"] == "enabled"


# --- update -------------------------------------------------------------------------------


def test_update_changes_url_and_events_and_keeps_what_is_left_out(client, auth):
    created = create(client, auth, "http://127.0.0.1:9/a", ["verification.verified"])
    path = f"{HOOKS}/{created['id']}"
    moved = client.post(path, json={"url": "http://localhost:9/b"}, headers=auth)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["url"] == "http://localhost:9/b"
    assert moved.get_json()["events"] == ["verification.verified"]
    assert "secret" not in moved.get_json()
    events = ["verification.rejected", "*"]
    changed = client.post(path, json={"events": events}, headers=auth).get_json()
    assert changed["events"] == ["*"] and changed["url"] == "http://localhost:9/b"
    unchanged = client.post(path, json={}, headers=auth)
    assert unchanged.status_code == 200 and unchanged.get_json() == changed
    assert client.get(path, headers=auth).get_json() == changed


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://169.254.169.254/latest/meta-data"},
        {"url": "http://10.0.0.1/hook"},
        {"url": "ftp://127.0.0.1/"},
        {"url": "http://user:password@127.0.0.1/"},
        {"url": "http://127.0.0.1:99999/", "events": ["*"], "disabled": True},
    ],
)
def test_a_refused_url_changes_nothing(app, client, auth, body):
    created = create(client, auth, "http://127.0.0.1:9/hook", ["verification.verified"])
    response = client.post(f"{HOOKS}/{created['id']}", json=body, headers=auth)
    assert assert_error(response, 422, "invalid_request", "url_invalid")["field"] == "url"
    row = stored(app, created["id"])
    assert (row.url, row.events, row.disabled_at) == (
        "http://127.0.0.1:9/hook",
        ["verification.verified"],
        None,
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"events": ["verification.approved"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "verification.verified"}, "events"),
        ({"disabled": "yes"}, "disabled"),
        ({"url": ""}, "url"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_a_bad_update_is_refused_with_the_contract_error(app, client, auth, body, field):
    created = create(client, auth, "http://127.0.0.1:9/hook")
    response = client.post(f"{HOOKS}/{created['id']}", json=body, headers=auth)
    error = assert_error(response, 422, "invalid_request", "validation_failed")
    assert error["field"] == field
    row = stored(app, created["id"])
    assert (row.url, row.events, row.disabled_at) == ("http://127.0.0.1:9/hook", ["*"], None)


def test_live_mode_updates_follow_the_live_url_rules(client, make_key, resolver):
    resolver["hooks.example.com"] = [PUBLIC_ADDRESS]
    resolver["other.example.com"] = [PUBLIC_ADDRESS]
    resolver["private.example.com"] = ["10.1.2.3"]
    live = make_key(mode="live", scopes="webhooks:write")
    path = f"{HOOKS}/{create(client, live, 'https://hooks.example.com/kyc')['id']}"
    for url in (
        "http://other.example.com/kyc",
        "https://127.0.0.1/kyc",
        "https://private.example.com/kyc",
    ):
        refused = client.post(path, json={"url": url}, headers=live)
        assert_error(refused, 422, "invalid_request", "url_invalid")
    assert client.get(path, headers=live).get_json()["url"] == "https://hooks.example.com/kyc"
    moved = client.post(path, json={"url": "https://other.example.com/kyc"}, headers=live)
    assert moved.status_code == 200 and moved.get_json()["url"] == "https://other.example.com/kyc"


def test_an_update_to_another_endpoints_url_is_a_conflict(app, client, auth):
    first = create(client, auth, "http://127.0.0.1:9/a")
    second = create(client, auth, "http://127.0.0.1:9/b")
    client.post(f"{HOOKS}/{first['id']}", json={"disabled": True}, headers=auth)
    taken = client.post(f"{HOOKS}/{second['id']}", json={"url": first["url"]}, headers=auth)
    assert_error(taken, 409, "conflict", "webhook_endpoint_exists")
    assert stored(app, second["id"]).url == "http://127.0.0.1:9/b"
    same = client.post(f"{HOOKS}/{second['id']}", json={"url": second["url"]}, headers=auth)
    assert same.status_code == 200
    assert_error(register(client, auth, first["url"]), 409, "conflict", "webhook_endpoint_exists")


def test_disabled_endpoints_count_toward_the_limit(app_config, make_key):
    from kyc_service.app import create_app

    app = create_app({**app_config, "WEBHOOKS_ENDPOINTS_PER_MODE": 2})
    try:
        client = app.test_client()
        headers = {"Authorization": make_key()["Authorization"]}
        first = create(client, headers, "http://127.0.0.1:9/0")
        create(client, headers, "http://127.0.0.1:9/1")
        client.post(f"{HOOKS}/{first['id']}", json={"disabled": True}, headers=headers)
        over = register(client, headers, "http://127.0.0.1:9/2")
        assert_error(over, 409, "conflict", "webhook_endpoint_limit")
        assert client.delete(f"{HOOKS}/{first['id']}", headers=headers).status_code == 204
        assert register(client, headers, "http://127.0.0.1:9/2").status_code == 201
    finally:
        app.extensions["kyc"].close()


# --- disable ------------------------------------------------------------------------------


def test_a_disabled_endpoint_gets_nothing_and_its_pending_deliveries_stop(
    app, client, auth, clock, receiver
):
    created = create(client, auth, receiver.url)
    path = f"{HOOKS}/{created['id']}"
    before = make_event(app, auth, "verified", clock())
    disabled = client.post(path, json={"disabled": True}, headers=auth)
    assert disabled.status_code == 200 and disabled.get_json()["status"] == "disabled"
    [canceled] = deliveries(app)
    assert (canceled.event_id, canceled.state, canceled.last_error) == (
        before,
        "canceled",
        "endpoint disabled",
    )
    make_event(app, auth, "rejected", clock())
    assert len(deliveries(app)) == 1
    assert run_deliveries(app, clock).attempted == 0
    assert receiver.requests == []
    listed = client.get(HOOKS, headers=auth).get_json()["data"]
    assert [(e["id"], e["status"]) for e in listed] == [(created["id"], "disabled")]

    enabled = client.post(path, json={"disabled": False}, headers=auth)
    assert enabled.get_json()["status"] == "enabled"
    after = make_event(app, auth, "in_review", clock())
    assert run_deliveries(app, clock).succeeded == 1
    [request] = receiver.requests
    assert json.loads(request.body)["id"] == after
    assert verify_signature(
        created["secret"], request.headers["KYC-Signature"], request.body, clock()
    )


# --- delete -------------------------------------------------------------------------------


def test_a_deleted_endpoint_is_gone_and_its_pending_deliveries_are_never_sent(
    app, client, auth, clock, receiver
):
    kept = create(client, auth, "http://127.0.0.1:9/kept")
    created = create(client, auth, receiver.url)
    make_event(app, auth, "verified", clock())
    assert len(deliveries(app)) == 2
    deleted = client.delete(f"{HOOKS}/{created['id']}", headers=auth)
    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert_error(
        client.get(f"{HOOKS}/{created['id']}", headers=auth), 404, "not_found", "resource_missing"
    )
    assert_error(
        client.delete(f"{HOOKS}/{created['id']}", headers=auth),
        404,
        "not_found",
        "resource_missing",
    )
    assert [e["id"] for e in client.get(HOOKS, headers=auth).get_json()["data"]] == [kept["id"]]
    assert {d.endpoint_id for d in deliveries(app)} == {kept["id"]}
    clock.advance(minutes=1)
    run_deliveries(app, clock)
    assert receiver.requests == []
    assert stored(app, created["id"]) is None
    again = create(client, auth, receiver.url)
    assert again["id"] != created["id"]


# --- rotate -------------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_for_24_hours_then_the_new_one_only(
    app, client, auth, clock, receiver
):
    created = create(client, auth, receiver.url)
    old = created["secret"]
    response = client.post(f"{HOOKS}/{created['id']}/rotate-secret", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    rotated = response.get_json()
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated["id"] == created["id"] and rotated["status"] == "enabled"
    expires = utc_text(clock() + timedelta(hours=24))
    assert rotated["previous_secret_expires_at"] == expires
    shown = client.get(f"{HOOKS}/{created['id']}", headers=auth)
    assert "secret" not in shown.get_json() and new not in shown.get_data(as_text=True)
    assert shown.get_json()["previous_secret_expires_at"] == expires

    make_event(app, auth, "verified", clock())
    assert run_deliveries(app, clock).succeeded == 1
    request = last_request(receiver)
    timestamp, values = v1_values(request.headers["KYC-Signature"])
    assert values == [sign(new, timestamp, request.body), sign(old, timestamp, request.body)]
    for value, secret, other in ((values[0], new, old), (values[1], old, new)):
        alone = f"t={timestamp},v1={value}"
        assert verify_signature(secret, alone, request.body, clock())
        assert not verify_signature(other, alone, request.body, clock())
    for secret in (new, old):
        assert verify_signature(secret, request.headers["KYC-Signature"], request.body, clock())
    assert secrets_held(app, created["id"]) == [new, old]

    clock.advance(hours=23, minutes=59)
    make_event(app, auth, "rejected", clock())
    assert run_deliveries(app, clock).succeeded == 1
    assert len(v1_values(last_request(receiver).headers["KYC-Signature"])[1]) == 2

    clock.advance(minutes=1)
    make_event(app, auth, "in_review", clock())
    report = run_deliveries(app, clock)
    assert (report.succeeded, report.secrets_forgotten) == (1, 1)
    request = last_request(receiver)
    header = request.headers["KYC-Signature"]
    assert v1_values(header)[1] == [sign(new, v1_values(header)[0], request.body)]
    assert verify_signature(new, header, request.body, clock())
    assert not verify_signature(old, header, request.body, clock())
    assert secrets_held(app, created["id"]) == [new]
    assert stored(app, created["id"]).previous_secret_expires_at is None
    shown = client.get(f"{HOOKS}/{created['id']}", headers=auth).get_json()
    assert shown["previous_secret_expires_at"] is None


def test_a_second_rotation_within_24_hours_overlaps_with_the_secret_just_replaced(
    app, client, auth, clock, receiver
):
    created = create(client, auth, receiver.url)
    path = f"{HOOKS}/{created['id']}/rotate-secret"
    first = client.post(path, headers=auth).get_json()["secret"]
    clock.advance(hours=1)
    second = client.post(path, headers=auth).get_json()
    assert second["previous_secret_expires_at"] == utc_text(clock() + timedelta(hours=24))
    assert secrets_held(app, created["id"]) == [second["secret"], first]
    make_event(app, auth, "verified", clock())
    assert run_deliveries(app, clock).succeeded == 1
    request = last_request(receiver)
    header = request.headers["KYC-Signature"]
    assert len(v1_values(header)[1]) == 2
    assert verify_signature(second["secret"], header, request.body, clock())
    assert verify_signature(first, header, request.body, clock())
    assert not verify_signature(created["secret"], header, request.body, clock())


def test_the_secrets_are_stored_wrapped_and_the_pair_survives_a_kek_rotation(
    app_config, make_key, tmp_path: Path, receiver
):
    from kyc_service.app import create_app

    kek_file = tmp_path / "kek.json"
    kek_file.write_text(json.dumps(kek_document("kek-1")))
    config = {**app_config, "KEK": "", "KEK_FILE": str(kek_file)}
    app = create_app(config)
    try:
        client, auth = app.test_client(), make_key()
        created = create(client, auth, receiver.url)
        new = client.post(f"{HOOKS}/{created['id']}/rotate-secret", headers=auth).get_json()
        row = stored(app, created["id"])
        columns = [str(getattr(row, c.key)) for c in WebhookEndpointRow.__table__.columns]
        for secret in (created["secret"], new["secret"]):
            assert not any(secret.removeprefix("whsec_") in value for value in columns)
        assert "retired: kek-1" in rotate_kek_with_cli(config, kek_file)
        assert stored(app, created["id"]).secret_kek_id == "kek-2"
        make_event(app, auth, "verified", app.extensions["kyc"].clock())
        assert run_deliveries(app, app.extensions["kyc"].clock).succeeded == 1
        request = last_request(receiver)
        for secret in (created["secret"], new["secret"]):
            assert verify_signature(
                secret,
                request.headers["KYC-Signature"],
                request.body,
                app.extensions["kyc"].clock(),
            )
    finally:
        app.extensions["kyc"].close()


def test_idempotency_keys_replay_updates_and_rotations(app, client, auth):
    created = create(client, auth, "http://127.0.0.1:9/hook")
    rotate = {**auth, "Idempotency-Key": "rotate-1"}
    path = f"{HOOKS}/{created['id']}"
    first = client.post(f"{path}/rotate-secret", headers=rotate)
    replay = client.post(f"{path}/rotate-secret", headers=rotate)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first.get_json()
    assert secrets_held(app, created["id"]) == [first.get_json()["secret"], created["secret"]]
    with app.extensions["kyc"].unit_of_work() as uow:
        bodies = uow.session.execute(text("SELECT response_body FROM idempotency_keys")).all()
    assert not any(first.get_json()["secret"] in (row[0] or "") for row in bodies)

    update = {**auth, "Idempotency-Key": "update-1"}
    disabled = client.post(path, json={"disabled": True}, headers=update)
    client.post(path, json={"disabled": False}, headers=auth)
    replayed = client.post(path, json={"disabled": True}, headers=update)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.get_json() == disabled.get_json()
    assert client.get(path, headers=auth).get_json()["status"] == "enabled"
    reused = client.post(path, json={"disabled": False}, headers=update)
    assert_error(reused, 409, "conflict", "idempotency_key_reused")


def test_each_change_is_audited_without_secrets_or_urls(client, auth):
    url = "http://127.0.0.1:9/hook?token=private-token-123"
    created = create(client, auth, url)
    path = f"{HOOKS}/{created['id']}"
    client.post(path, json={"events": ["verification.verified"]}, headers=auth)
    client.post(path, json={"disabled": True}, headers=auth)
    client.post(path, json={}, headers=auth)
    rotated = client.post(f"{path}/rotate-secret", headers=auth).get_json()
    client.delete(path, headers=auth)
    page = client.get("/v1/ops/audit-events?limit=100", headers=auth)
    mine = [e for e in page.get_json()["data"] if e["action"].startswith("webhook_endpoint.")]
    assert [e["action"] for e in reversed(mine)] == [
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.updated",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.deleted",
    ]
    assert all(e["details"]["endpoint"] == created["id"] for e in mine)
    created_event, events_event, disabled_event = mine[-1], mine[-2], mine[-3]
    assert created_event["details"]["url_host"] == "127.0.0.1"
    assert events_event["details"]["changed"] == ["events"]
    assert disabled_event["details"] == {
        "endpoint": created["id"],
        "changed": ["disabled"],
        "status": "disabled",
    }
    written = page.get_data(as_text=True)
    for hidden in (created["secret"], rotated["secret"], "private-token-123"):
        assert hidden not in written


# --- receivers, races ---------------------------------------------------------------------


def test_a_receiver_accepts_a_header_with_several_v1_values_if_any_matches():
    body, t = b'{"id":"evt_x"}', 1_700_000_000
    new, old, stranger = "whsec_new", "whsec_old", "whsec_stranger"
    header = f"t={t},v1={sign(new, t, body)},v1={sign(old, t, body)}"
    assert header == webhooks.signature_header(new, t, body, old)
    assert verify_signature(new, header, body, now=t)
    assert verify_signature(old, header, body, now=t)
    assert not verify_signature(stranger, header, body, now=t)
    assert not verify_signature(old, header, body + b" ", now=t)
    assert not verify_signature(old, header, body, now=t + 301)
    three = f"t={t},v1=00,v1={sign(old, t, body)},v0={sign(stranger, t, body)}"
    assert verify_signature(old, three, body, now=t)
    assert not verify_signature(stranger, three, body, now=t)


def test_rotations_racing_each_other_leave_one_consistent_secret_pair(app, client, auth):
    """Real parallel requests (threads share the app and its pool, so their transactions
    interleave in the database). Each round: both rotations answer 200, and the stored pair
    is the two secrets they showed — the one that went second current, the other kept
    beside it; the creation's secret is gone."""
    for round_ in range(10):
        created = create(client, auth, f"http://127.0.0.1:9/race/{round_}")
        path = f"{HOOKS}/{created['id']}/rotate-secret"
        answers = at_once(*[partial(app.test_client().post, path, headers=auth) for _ in range(2)])
        assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
        shown = {a.get_json()["secret"] for a in answers}
        held = secrets_held(app, created["id"])
        assert len(held) == 2 and set(held) == shown, round_
        assert created["secret"] not in held
        assert stored(app, created["id"]).previous_secret_expires_at is not None


def test_a_delete_racing_a_status_change_fails_neither(app, client, auth):
    """DELETE ‖ a verification's status change queueing a delivery to that endpoint (real
    parallel requests): both succeed each round — the change is never undone by a delivery
    to an endpoint deleted meanwhile, the delete never trips over one queued meanwhile."""
    rng = random.Random(16)
    for round_ in range(10):
        created = create(client, auth, f"http://127.0.0.1:9/gone/{round_}")
        body = individual_body(rng, reference=f"race-{round_}")
        answers = at_once(
            partial(app.test_client().delete, f"{HOOKS}/{created['id']}", headers=auth),
            partial(app.test_client().post, "/v1/verifications", json=body, headers=auth),
        )
        statuses = [a.status_code for a in answers]
        assert statuses == [204, 201], [a.get_data(as_text=True)[:300] for a in answers]
        assert stored(app, created["id"]) is None
        with app.extensions["kyc"].unit_of_work() as uow:
            orphans = uow.session.execute(
                text("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = :id"),
                {"id": created["id"]},
            ).scalar()
        assert orphans == 0, round_


def status_event(app, auth, number: int) -> Event:
    """An event of the tenant behind ``auth``, as a status change records it."""
    principal = principal_of(app, auth)
    return Event(
        id=f"evt_lock{number}",
        tenant_id=principal.tenant_id,
        mode=principal.mode.value,
        type="verification.verified",
        verification_id=f"ver_lock{number}",
        payload={"status": "verified"},
        created_at=datetime.now(UTC),
    )


def test_an_event_and_the_endpoints_it_goes_to_are_one_statement_on_postgresql(app, client, auth):
    """``add_for_delivery`` writes the event and reads the enabled endpoints of its tenant
    and mode (never a disabled one): one statement on PostgreSQL (a data-modifying WITH),
    an insert and a select on SQLite."""
    enabled = create(client, auth, "http://127.0.0.1:9/enabled")
    disabled = create(client, auth, "http://127.0.0.1:9/disabled")
    kyc = app.extensions["kyc"]
    with kyc.unit_of_work() as uow:
        uow.session.execute(
            text("UPDATE webhook_endpoints SET disabled_at = created_at WHERE id = :id"),
            {"id": disabled["id"]},
        )
        uow.commit()
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        sent.append(statement)

    event = status_event(app, auth, 1)
    with kyc.unit_of_work() as uow:
        sqlalchemy_event.listen(kyc.engine, "before_cursor_execute", note)
        try:
            endpoints = uow.events.add_for_delivery(event)
        finally:
            sqlalchemy_event.remove(kyc.engine, "before_cursor_execute", note)
        uow.commit()
    assert [endpoint.id for endpoint in endpoints] == [enabled["id"]]
    assert len(sent) == (1 if kyc.engine.dialect.name == "postgresql" else 2), sent
    with kyc.unit_of_work() as uow:
        row = uow.events.get(event.tenant_id, event.mode, event.id)
        assert (row.type, row.verification_id, row.payload) == (
            "verification.verified",
            "ver_lock1",
            {"status": "verified"},
        )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_status_changes_share_the_endpoints_lock_and_a_delete_or_disable_waits(app, client, auth):
    """PostgreSQL: a status change holds its tenant's endpoints ``FOR KEY SHARE`` until it
    commits. A second status change of that tenant meanwhile goes on (it once waited: the
    lock was ``FOR NO KEY UPDATE``); a delete or an update of an endpoint waits (here: times
    out), so a disable cancels the delivery the status change queued."""
    endpoint = create(client, auth, "http://127.0.0.1:9/shared")
    kyc = app.extensions["kyc"]
    with kyc.unit_of_work() as first:
        assert [e.id for e in first.events.add_for_delivery(status_event(app, auth, 1))] == [
            endpoint["id"]
        ]
        with kyc.unit_of_work() as second:
            second.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert len(second.events.add_for_delivery(status_event(app, auth, 2))) == 1
            second.commit()
        with kyc.unit_of_work() as deleting:
            deleting.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                deleting.webhooks.delete_endpoint(endpoint["id"])
        with kyc.unit_of_work() as disabling:
            disabling.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                disabling.webhooks.update_endpoint(endpoint["id"], disabled_at=datetime.now(UTC))
        first.commit()
    assert stored(app, endpoint["id"]) is not None


def test_a_disable_racing_a_status_change_leaves_no_delivery_pending(app, client, auth):
    """An update to ``disabled: true`` ‖ a verification's status change that would queue a
    delivery to that endpoint (real parallel requests): each round, whichever goes first,
    no delivery to the disabled endpoint is left pending — a delivery queued before the
    disable is canceled by it, none is queued after."""
    rng = random.Random(17)
    for round_ in range(10):
        created = create(client, auth, f"http://127.0.0.1:9/off/{round_}")
        body = individual_body(rng, reference=f"off-{round_}")
        answers = at_once(
            partial(
                app.test_client().post,
                f"{HOOKS}/{created['id']}",
                json={"disabled": True},
                headers=auth,
            ),
            partial(app.test_client().post, "/v1/verifications", json=body, headers=auth),
        )
        statuses = [a.status_code for a in answers]
        assert statuses == [200, 201], [a.get_data(as_text=True)[:300] for a in answers]
        with app.extensions["kyc"].unit_of_work() as uow:
            pending = uow.session.execute(
                text(
                    "SELECT count(*) FROM webhook_deliveries"
                    " WHERE endpoint_id = :id AND state = 'pending'"
                ),
                {"id": created["id"]},
            ).scalar()
        assert pending == 0, round_
