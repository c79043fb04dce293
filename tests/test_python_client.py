"""The light Python client (``clients/python``, import ``kyc_client``) against a live service.

One ``kyc-service serve`` (SQLite in a temporary folder, one worker) is started for the
module; the client runs a whole individual flow on it, meets its errors, walks its pages,
replays an idempotent call, and checks a real webhook delivery's signature. A scripted
loopback server checks what the client sends where the live service cannot show it (retries,
the webhook endpoint calls), and a fresh interpreter proves the client needs no part of the
service.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.servers import (
    BIN,
    free_port,
    prepare_service,
    run_command,
    serve_argv,
    service_env,
    serving,
)
from kyc_service.services.webhook_signing import sign, signature_header
from tests.conftest import missing
from tests.synthetic import card_photos, individual_body
from tests.webhook_receiver import Receiver, start_receiver

ROOT = Path(__file__).resolve().parent.parent
CLIENT_DIR = ROOT / "clients" / "python"
if str(CLIENT_DIR) not in sys.path:
    sys.path.insert(0, str(CLIENT_DIR))

import kyc_client  # noqa: E402
from kyc_client import (  # noqa: E402
    ApiConnectionError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    KycClient,
    KycError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    SignatureVerificationError,
    paginate,
    verify_webhook,
)

FORBIDDEN_MODULES = ("kyc_service", "cv2", "dlib", "numpy", "flask")
rng = random.Random(2031)


@dataclass(frozen=True)
class Live:
    """The served instance: its base URL, keys, and what the CLI needs to act on it."""

    base_url: str
    key: str
    read_only_key: str
    env: dict
    workdir: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``kyc-service serve`` on a free loopback port, with a key of every scope."""
    workdir = tmp_path_factory.mktemp("client-live")
    env = service_env(workdir)
    key = prepare_service(workdir, env)
    read_only = run_command(
        [str(BIN / "kyc-service"), "keys", "create", "--tenant", "bench", "--mode", "test"]
        + ["--scopes", "verifications:read"],
        env,
        workdir,
    )
    with serving(serve_argv(1), env, workdir, "client-live") as running:
        base_url = f"http://{running.host}:{running.port}"
        yield Live(base_url, key, read_only.strip().splitlines()[-1], env, workdir)


@pytest.fixture
def client(live: Live) -> Iterator[KycClient]:
    with KycClient(live.key, base_url=live.base_url, timeout=120) as kyc:
        yield kyc


def unique_reference(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def deliver(live: Live) -> str:
    """Run ``kyc-service webhooks deliver`` once against the live service's database."""
    return run_command([str(BIN / "kyc-service"), "webhooks", "deliver"], live.env, live.workdir)


def header(received, name: str) -> str | None:
    """A request header, whatever its case."""
    return next((v for k, v in received.headers.items() if k.lower() == name.lower()), None)


# --- the package itself -------------------------------------------------------------------


def test_the_package_declares_requests_as_its_only_dependency():
    project = tomllib.loads((CLIENT_DIR / "pyproject.toml").read_text())["project"]
    assert project["name"] == "kyc-client" and project["version"] == "0.1.0"
    dependencies = project["dependencies"]
    names = {re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in dependencies}
    assert names == {"requests"}, dependencies
    assert (CLIENT_DIR / "kyc_client" / "py.typed").is_file()


def test_importing_the_client_loads_nothing_of_the_service():
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(CLIENT_DIR)!r})\n"
        "import kyc_client\n"
        "from kyc_client import KycClient, verify_webhook\n"
        f"forbidden = {FORBIDDEN_MODULES!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in forbidden)\n"
        "print(json.dumps({'file': kyc_client.__file__, 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=CLIENT_DIR,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["file"].startswith(str(CLIENT_DIR)), report
    assert report["loaded"] == [], report


# --- every endpoint has a method ----------------------------------------------------------

ENDPOINT_METHODS = {
    ("post", "/v1/verifications"): "create_verification",
    ("get", "/v1/verifications"): "list_verifications",
    ("get", "/v1/verifications/{}"): "get_verification",
    ("post", "/v1/verifications/{}/documents"): "upload_document",
    ("post", "/v1/verifications/{}/submit"): "submit_verification",
    ("post", "/v1/verifications/{}/cancel"): "cancel_verification",
    ("post", "/v1/verifications/{}/deposit-confirmation"): "confirm_deposit",
    ("post", "/v1/phone-verifications"): "create_phone_verification",
    ("post", "/v1/phone-verifications/{}/check"): "check_phone_verification",
    ("get", "/v1/subjects/{}/export"): "export_subject",
    ("delete", "/v1/subjects/{}"): "erase_subject",
    ("post", "/v1/subjects/{}/consent-withdrawal"): "withdraw_consent",
    ("post", "/v1/webhook-endpoints"): "create_webhook_endpoint",
    ("get", "/v1/webhook-endpoints"): "list_webhook_endpoints",
    ("get", "/v1/webhook-endpoints/{}"): "get_webhook_endpoint",
    ("post", "/v1/webhook-endpoints/{}"): "update_webhook_endpoint",
    ("delete", "/v1/webhook-endpoints/{}"): "delete_webhook_endpoint",
    ("post", "/v1/webhook-endpoints/{}/rotate-secret"): "rotate_webhook_secret",
    ("get", "/v1/events"): "list_events",
    ("post", "/v1/ops/verifications/{}/reverify"): "reverify_verification",
    ("post", "/v1/ops/verifications/{}/review"): "review_verification",
    ("get", "/v1/ops/verifications"): "list_review_queue",
    ("get", "/v1/ops/audit-events"): "list_audit_events",
    ("get", "/v1/ops/usage"): "get_usage",
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_every_endpoint_the_service_serves_has_a_client_method(client):
    document = client.openapi()
    served = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
        if method in HTTP_METHODS and path.startswith("/v1/")
    }
    assert len(served) >= 18
    assert served - set(ENDPOINT_METHODS) == set(), "endpoints without a client method"
    for name in ENDPOINT_METHODS.values():
        assert callable(getattr(KycClient, name)), name


# --- the individual flow ------------------------------------------------------------------


def test_a_full_individual_flow_is_verified(client, tmp_path):
    body = individual_body(rng, reference=unique_reference("flow"))
    created = client.create_verification(body)
    assert created["object"] == "verification" and created["status"] == "requires_input"
    assert created["requirements"] == ["document.id_card_front", "document.id_card_back"]
    assert body["individual"]["id_number"] not in json.dumps(created, ensure_ascii=False)
    photos = card_photos(body)
    front = client.upload_document(created["id"], "id_card_front", photos["id_card_front"])
    assert front["object"] == "document" and front["status"] == "accepted"
    back_path = tmp_path / "back.jpg"
    back_path.write_bytes(photos["id_card_back"])
    back = client.upload_document(created["id"], "id_card_back", back_path)
    assert back["kind"] == "id_card_back" and back["id"] != front["id"]
    decided = client.submit_verification(created["id"])
    assert decided["status"] == "verified", decided["checks"]
    assert client.last_response.status_code == 200
    assert client.get_verification(created["id"])["status"] == "verified"
    listed = client.list_verifications(reference=body["reference"])
    assert [v["id"] for v in listed["data"]] == [created["id"]] and listed["has_more"] is False
    events = [
        e
        for e in client.iter_events(type="verification.verified", limit=100)
        if e["data"]["object"]["id"] == created["id"]
    ]
    assert len(events) == 1


# --- errors -------------------------------------------------------------------------------


def test_an_invalid_field_raises_invalid_request_with_code_and_field(client):
    body = individual_body(rng, reference=unique_reference("bad"))
    good = body["individual"]["id_number"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    body["individual"]["id_number"] = bad
    with pytest.raises(InvalidRequestError) as caught:
        client.create_verification(body)
    error = caught.value
    assert (error.status, error.type, error.code) == (422, "invalid_request", "id_number_invalid")
    assert error.field == "individual.id_number"
    assert error.request_id.startswith("req_")
    assert error.request_id == client.last_response.headers["X-Request-Id"]
    assert {"field": "individual.id_number", "code": "id_number_invalid"}.items() <= (
        error.errors[0].items()
    )
    assert bad not in str(error) and bad not in repr(error.args)
    assert body["individual"]["name"] not in str(error)


def test_each_error_type_has_its_exception(client, live):
    with pytest.raises(NotFoundError) as unknown:
        client.get_verification("ver_doesnotexist")
    assert (unknown.value.status, unknown.value.code) == (404, "resource_missing")
    bad_key = KycClient("kyc_test_not-a-real-key", base_url=live.base_url)
    with pytest.raises(AuthenticationError) as unauthenticated:
        bad_key.list_verifications()
    assert unauthenticated.value.status == 401 and unauthenticated.value.code == "api_key_invalid"
    reader = KycClient(live.read_only_key, base_url=live.base_url)
    with pytest.raises(PermissionDeniedError) as forbidden:
        reader.create_verification(individual_body(rng))
    assert (forbidden.value.status, forbidden.value.code) == (403, "scope_missing")
    assert kyc_client.PermissionError_ is PermissionDeniedError
    created = client.create_verification(individual_body(rng, reference=unique_reference("c")))
    with pytest.raises(ConflictError) as conflict:
        client.submit_verification(created["id"])
    assert conflict.value.code == "requirements_missing"
    assert set(conflict.value.requirements) == {"document.id_card_front", "document.id_card_back"}
    for caught in (unknown, unauthenticated, forbidden, conflict):
        assert isinstance(caught.value, KycError) and caught.value.request_id.startswith("req_")


def test_an_unreachable_service_raises_a_connection_error():
    nobody = KycClient("kyc_test_x", base_url=f"http://127.0.0.1:{free_port()}", max_retries=1)
    nobody._transport.backoff = 0
    with pytest.raises(ApiConnectionError) as caught:
        nobody.health()
    assert caught.value.status is None and isinstance(caught.value, KycError)


# --- pagination ---------------------------------------------------------------------------


def test_pagination_walks_every_page(client):
    reference = unique_reference("pages")
    created = [
        client.create_verification(individual_body(rng, reference=reference))["id"]
        for _ in range(5)
    ]
    pages: list[dict] = []

    def counted(**params):
        page = client.list_verifications(**params)
        pages.append(page)
        return page

    walked = [v["id"] for v in paginate(counted, reference=reference, limit=2)]
    assert sorted(walked) == sorted(created) and len(walked) == 5
    assert [len(p["data"]) for p in pages] == [2, 2, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [v["id"] for v in client.iter_verifications(reference=reference, limit=3)] == walked


# --- idempotency --------------------------------------------------------------------------


def test_an_idempotency_key_reused_replays_the_same_object(client):
    body = individual_body(rng, reference=unique_reference("idem"))
    key = kyc_client.new_idempotency_key()
    first = client.create_verification(body, idempotency_key=key)
    assert client.last_response.headers.get("Idempotent-Replayed") is None
    again = client.create_verification(body, idempotency_key=key)
    assert again["id"] == first["id"]
    assert client.last_response.headers.get("Idempotent-Replayed") == "true"
    listed = client.list_verifications(reference=body["reference"])["data"]
    assert [v["id"] for v in listed] == [first["id"]]
    with pytest.raises(ConflictError) as reused:
        client.create_verification(dict(body, reference="other"), idempotency_key=key)
    assert reused.value.code == "idempotency_key_reused"
    fresh = client.create_verification(body)
    assert fresh["id"] != first["id"], "each call gets its own key unless one is given"


def test_an_upload_repeated_with_its_key_replays_too(client):
    body = individual_body(rng, reference=unique_reference("upload"))
    created = client.create_verification(body)
    image = card_photos(body)["id_card_back"]
    key = kyc_client.new_idempotency_key()
    first = client.upload_document(created["id"], "id_card_back", image, idempotency_key=key)
    again = client.upload_document(created["id"], "id_card_back", image, idempotency_key=key)
    assert again["id"] == first["id"]
    assert client.last_response.headers.get("Idempotent-Replayed") == "true"


# --- webhooks: a real delivery, the service's signer --------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.server.shutdown()


def test_verify_webhook_accepts_a_real_delivery_and_refuses_tampering(client, live, receiver):
    endpoint = client.create_webhook_endpoint(receiver.url, ["verification.canceled"])
    secret = endpoint["secret"]
    try:
        created = client.create_verification(individual_body(rng, reference=unique_reference("w")))
        client.cancel_verification(created["id"])
        deliver(live)
        mine = [r for r in receiver.requests if created["id"] in r.body.decode()]
        assert len(mine) == 1, [r.body for r in receiver.requests]
        delivery = mine[0]
        signature = header(delivery, "KYC-Signature")
        event = verify_webhook(secret, signature, delivery.body)
        assert event["type"] == "verification.canceled"
        assert event["data"]["object"]["id"] == created["id"]
        listed = next(e for e in client.iter_events() if e["id"] == event["id"])
        assert {**listed, "created_at": None} == {**event, "created_at": None}
        assert listed["created_at"][:19] == event["created_at"][:19]
        tampered = delivery.body.replace(b"verification.canceled", b"verification.verified")
        with pytest.raises(SignatureVerificationError):
            verify_webhook(secret, signature, tampered)
        sent_at = int(re.search(r"t=(\d+)", signature).group(1))
        with pytest.raises(SignatureVerificationError):
            verify_webhook(secret, signature, delivery.body, now=sent_at + 301)
        with pytest.raises(SignatureVerificationError):
            verify_webhook("whsec_wrong", signature, delivery.body)
    finally:
        _delete_quietly(client, endpoint["id"])


def _delete_quietly(client: KycClient, endpoint_id: str) -> None:
    """Remove a test endpoint when the service can (the route may not be served yet)."""
    with contextlib.suppress(KycError):
        client.delete_webhook_endpoint(endpoint_id)


def test_verify_webhook_agrees_with_the_service_signer():
    body = json.dumps({"id": "evt_1", "type": "verification.verified", "data": {}}).encode()
    now = int(time.time())
    assert kyc_client.compute_signature("s3cret", now, body) == sign("s3cret", now, body)
    assert verify_webhook("s3cret", signature_header("s3cret", now, body), body)["id"] == "evt_1"
    assert verify_webhook("s3cret", signature_header("s3cret", now, body), body.decode())
    rotated = f"t={now},v1={sign('old-secret', now, body)},v1={sign('new-secret', now, body)}"
    for secret in ("old-secret", "new-secret", ["unknown", "new-secret"]):
        assert verify_webhook(secret, rotated, body, now=now)["type"] == "verification.verified"
    old = signature_header("s3cret", now - 300, body)
    assert verify_webhook("s3cret", old, body, now=now)
    for refused in (
        signature_header("s3cret", now - 301, body),
        signature_header("s3cret", now + 301, body),
        signature_header("other", now, body),
        f"t={now}",
        f"v1={sign('s3cret', now, body)}",
        "",
    ):
        with pytest.raises(SignatureVerificationError):
            verify_webhook("s3cret", refused, body, now=now)
    with pytest.raises(SignatureVerificationError):
        verify_webhook("s3cret", None, body)
    with pytest.raises(SignatureVerificationError):
        verify_webhook("s3cret", signature_header("s3cret", now, b"[1]"), b"[1]", now=now)


def test_webhook_endpoints_can_be_read_changed_rotated_and_deleted(client, live, receiver):
    paths = client.openapi()["paths"]
    if not any(re.fullmatch(r"/v1/webhook-endpoints/\{[^}]+\}/rotate-secret", p) for p in paths):
        missing("the service does not serve the webhook endpoint changes of API.md yet")
    endpoint = client.create_webhook_endpoint(receiver.url, ["verification.verified"])
    read = client.get_webhook_endpoint(endpoint["id"])
    assert read["id"] == endpoint["id"] and "secret" not in read
    changed = client.update_webhook_endpoint(endpoint["id"], events=["verification.canceled"])
    assert changed["events"] == ["verification.canceled"]
    rotated = client.rotate_webhook_secret(endpoint["id"])
    assert rotated["secret"] and rotated["secret"] != endpoint["secret"]
    created = client.create_verification(individual_body(rng, reference=unique_reference("r")))
    client.cancel_verification(created["id"])
    deliver(live)
    [delivery] = [r for r in receiver.requests if created["id"] in r.body.decode()]
    signature = header(delivery, "KYC-Signature")
    assert signature.count("v1=") == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        assert verify_webhook(secret, signature, delivery.body)["data"]["object"]["id"]
    client.delete_webhook_endpoint(endpoint["id"])
    with pytest.raises(NotFoundError):
        client.get_webhook_endpoint(endpoint["id"])


# --- what the client sends, seen by a scripted loopback server ----------------------------


@dataclass
class Seen:
    """One request the scripted server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Scripted:
    """A loopback server that records requests and answers scripted (status, JSON) pairs."""

    server: ThreadingHTTPServer
    answers: list[tuple[int, object]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _scripted_handler(box: list[Scripted]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            scripted = box[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            scripted.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            status, payload = scripted.answers.pop(0) if scripted.answers else (200, {})
            data = b"" if status == 204 else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", "req_scripted")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _any  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    box: list[Scripted] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _scripted_handler(box))
    box.append(Scripted(server))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box[0]
    server.shutdown()


UNAVAILABLE = {"error": {"type": "unavailable", "code": "database_unavailable", "message": "x"}}


def test_a_retry_after_a_5xx_resends_the_same_key_and_bytes(scripted):
    kyc = KycClient("kyc_test_k", base_url=scripted.url, backoff=0)
    scripted.answers = [(503, UNAVAILABLE), (502, {}), (201, {"id": "doc_1"})]
    assert kyc.upload_document("ver_1", "selfie", b"\xff\xd8jpeg")["id"] == "doc_1"
    assert len(scripted.seen) == 3
    assert len({s.headers["Idempotency-Key"] for s in scripted.seen}) == 1
    assert len({s.body for s in scripted.seen}) == 1
    assert b'name="kind"' in scripted.seen[0].body and b"\xff\xd8jpeg" in scripted.seen[0].body
    scripted.answers = [(503, UNAVAILABLE)] * 3
    with pytest.raises(ServiceUnavailableError) as caught:
        kyc.create_verification({"type": "individual"})
    assert caught.value.code == "database_unavailable" and len(scripted.seen) == 6
    keys = [s.headers["Idempotency-Key"] for s in scripted.seen[3:]]
    assert len(set(keys)) == 1 and keys[0] != scripted.seen[0].headers["Idempotency-Key"]


def test_each_method_sends_its_method_path_and_body(scripted):
    kyc = KycClient("kyc_test_k", base_url=scripted.url)
    calls = [
        (lambda: kyc.get_webhook_endpoint("we_1"), "GET", "/v1/webhook-endpoints/we_1", None),
        (
            lambda: kyc.update_webhook_endpoint("we_1", url="https://x.test/h", disabled=True),
            "POST",
            "/v1/webhook-endpoints/we_1",
            {"url": "https://x.test/h", "disabled": True},
        ),
        (
            lambda: kyc.rotate_webhook_secret("we_1"),
            "POST",
            "/v1/webhook-endpoints/we_1/rotate-secret",
            None,
        ),
        (lambda: kyc.delete_webhook_endpoint("we_1"), "DELETE", "/v1/webhook-endpoints/we_1", None),
        (
            lambda: kyc.confirm_deposit("ver_1", "0.32"),
            "POST",
            "/v1/verifications/ver_1/deposit-confirmation",
            {"amount": "0.32"},
        ),
        (
            lambda: kyc.check_phone_verification("pv_1", "000000"),
            "POST",
            "/v1/phone-verifications/pv_1/check",
            {"code": "000000"},
        ),
        (
            lambda: kyc.export_subject("a/b c", include_documents=True),
            "GET",
            "/v1/subjects/a%2Fb%20c/export?include=documents",
            None,
        ),
        (
            lambda: kyc.review_verification("ver_1", "approve", "ok"),
            "POST",
            "/v1/ops/verifications/ver_1/review",
            {"decision": "approve", "note": "ok"},
        ),
        (
            lambda: kyc.get_usage(start="2026-12-01", end="2027-01-01"),
            "GET",
            "/v1/ops/usage?from=2026-12-01&to=2027-01-01",
            None,
        ),
        (lambda: kyc.erase_subject("user-1"), "DELETE", "/v1/subjects/user-1", None),
    ]
    for call, method, path, body in calls:
        scripted.answers = [(204 if method == "DELETE" else 200, {"ok": True})]
        answer = call()
        seen = scripted.seen[-1]
        assert (seen.method, seen.path) == (method, path)
        assert seen.headers["Authorization"] == "Bearer kyc_test_k"
        assert ("Idempotency-Key" in seen.headers) == (method == "POST"), path
        assert (json.loads(seen.body) if seen.body else None) == body, path
        assert answer == (None if method == "DELETE" else {"ok": True})
