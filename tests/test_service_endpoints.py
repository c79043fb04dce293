"""/healthz, /readyz (also with the database stopped), /metrics, the OpenAPI document, /docs."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from kyc_service.app import create_app
from tests.conftest import _migrated_sqlite, assert_error

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Forwarder:
    """A TCP relay from a loopback port to an upstream address; it can stop and restart."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen on the same port as before (any free port the first time)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and every relayed connection."""
        self._stopping.set()
        assert self._thread is not None
        self._thread.join(timeout=5)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                downstream, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.upstream, timeout=5)
            downstream.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [downstream, upstream]
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()
        listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def test_healthz_answers_200():
    app = create_app({"DATABASE_URL": "sqlite://", "KEYSTORE_URL": "sqlite://"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_200_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ready"}


def test_item_18_readyz_is_503_on_an_unmigrated_database(tmp_path: Path):
    """Issue 10, item 18: an empty database answered ready while every call was 500."""
    from kyc_service.app import create_app
    from kyc_service.bootstrap import migrate
    from kyc_service.config import load_settings

    keystore = f"sqlite:///{tmp_path / 'keys.db'}"
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "KEYSTORE_URL": keystore}
    migrate(load_settings({**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}))
    app = create_app(settings)
    try:
        response = app.test_client().get("/readyz")
        error = assert_error(response, 503, "unavailable", "database_unavailable")
        assert "migrated" in error["message"]
        migrate(load_settings(settings))
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        app.extensions["kyc"].close()


def test_item_18_readyz_is_503_with_the_key_store_gone(app, client, app_config):
    """The key store's database dropped (creates would answer 503): not ready."""
    keystore = make_url(app_config["KEYSTORE_URL"])
    assert client.get("/readyz").status_code == 200
    app.extensions["kyc"].keystore_engine.dispose()
    if keystore.get_backend_name() == "sqlite":
        Path(keystore.database).unlink()
    else:
        from sqlalchemy import create_engine, text

        admin = create_engine(keystore.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{keystore.database}" WITH (FORCE)'))
        admin.dispose()
    assert_error(client.get("/readyz"), 503, "unavailable", "database_unavailable")


def test_readyz_and_the_api_answer_503_while_postgres_is_stopped(postgres_url, tmp_path: Path):
    url = make_url(postgres_url)
    forwarder = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    forwarder.start()
    app = create_app(
        {
            "DATABASE_URL": url.set(host="127.0.0.1", port=forwarder.port).render_as_string(
                hide_password=False
            ),
            "KEYSTORE_URL": _migrated_sqlite(tmp_path / "keys.db", keystore=True),
            "TESTING": True,
        }
    )
    try:
        client = app.test_client()
        key = _make_key(app)
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/verifications", headers=key).status_code == 200

        forwarder.stop()
        assert_error(client.get("/readyz"), 503, "unavailable", "database_unavailable")
        response = client.get("/v1/verifications", headers=key)
        assert_error(response, 503, "unavailable", "database_unavailable")
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and "psycopg" not in text and 'File "' not in text

        forwarder.start()
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/verifications", headers=key).status_code == 200
    finally:
        forwarder.stop()
        app.extensions["kyc"].close()


def _make_key(app) -> dict[str, str]:
    from kyc_service.domain.access import Mode, parse_scopes
    from kyc_service.services.api_keys import create_key

    key = create_key(app.extensions["kyc"].unit_of_work(), "acme", Mode.TEST, parse_scopes("*"))
    return {"Authorization": f"Bearer {key}"}


def _samples(client) -> dict[tuple[str, tuple], float]:
    """Return the /metrics samples by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


@sqlite_only
def test_metrics_count_requests_by_endpoint_method_and_status(client, auth):
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    client.get("/v1/verifications")
    client.get("/v1/verifications", headers=auth)
    samples = _samples(client)

    def count(endpoint: str, status: str) -> float | None:
        labels = (("endpoint", endpoint), ("method", "GET"), ("status", status))
        return samples.get(("kyc_http_requests_total", labels))

    assert count("/healthz", "200") == 3
    assert count("unmatched", "404") == 1
    assert count("/v1/verifications", "401") == 1
    assert count("/v1/verifications", "200") == 1
    healthz = (("endpoint", "/healthz"), ("method", "GET"))
    assert samples[("kyc_http_request_duration_seconds_count", healthz)] == 3
    assert samples[("kyc_http_request_duration_seconds_sum", healthz)] > 0


@sqlite_only
def test_openapi_document_is_served_without_a_key(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert "/v1/verifications" in document["paths"]


@sqlite_only
def test_docs_use_only_local_assets_that_are_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    urls = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", html)
    assert urls
    assert not [u for u in urls if re.match(r"(https?:)?//", u)], urls
    assert not re.search(r"https?://", html)
    names = {u.rsplit("/", 1)[-1] for u in urls}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"} <= names
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.data) > 1000, url


@sqlite_only
def test_every_response_carries_a_request_id(app, auth):
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = app.test_client()
    responses = [
        client.get("/boom"),
        client.options("/healthz"),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.get("/docs"),
        client.get("/v1/openapi.json"),
        client.get("/no-such-page"),
        client.get("/docs/assets/no-such-file.js"),
        client.delete("/healthz"),
        client.get("/v1/verifications"),
        client.get("/v1/verifications/ver_unknown", headers=auth),
        client.get("/v1/verifications", headers=auth),
    ]
    ids = [r.headers.get("X-Request-Id", "") for r in responses]
    assert all(i.startswith("req_") and len(i) > 4 for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert_error(responses[0], 500, "internal", "internal_error")
    assert "ZeroDivision" not in responses[0].get_data(as_text=True)
    assert_error(responses[7], 404, "not_found", "resource_missing")
    assert_error(responses[11], 404, "not_found", "resource_missing")
