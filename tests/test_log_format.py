"""Issue 16: one log format, UTF-8 JSON answers, one timestamp format, no leftovers.

The served half runs the real ``kyc-service serve`` (gunicorn, one worker) on loopback with
its own temporary directory, sends a whole verification (OCR and face match), an error of
the app and one of gunicorn, reads the events, an export and a phone verification, stops the
server, and then looks at everything it wrote to stdout and stderr and at what it left in
the temporary directory.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from gunicorn.glogging import SafeAtoms

from benchmarks.servers import BIN, free_port, random_kek, serving
from kyc_service.domain.timestamps import utc_text
from kyc_service.observability import metrics_folder as metrics
from kyc_service.observability.logs import (
    GunicornAccessFilter,
    json_handler,
)
from kyc_service.observability.logs import gunicorn_log_config as log_config
from kyc_service.services.representation import timestamp
from schemas.common import UtcTimestamp
from tests import synthetic

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
TIME_KEYS = {"time", "retain_until", "delete_after"}
LOG_KEYS = {"time", "level", "logger", "message", "request_id", "pid"}
JSON_UTF8 = "application/json; charset=utf-8"


def times_in(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) of a key that holds an instant (``…_at``, ``time``…), non-null."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if (key.endswith("_at") or key in TIME_KEYS) and item is not None:
                found.append((where, item))
            found.extend(times_in(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(times_in(item, f"{path}[{index}]"))
    return found


def leaks(original: str, text: str) -> list[str]:
    """The runs of 7 digits of ``original`` (or the whole of a short value) still in ``text``."""
    digits = re.sub(r"\D", "", original)
    runs = [digits[i : i + 7] for i in range(len(digits) - 6) if digits[i : i + 7] in text]
    return runs + ([original] if not digits and original in text else [])


# --- the one time format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 6, 10, 0, 0, 999999, tzinfo=UTC),
        datetime(2026, 12, 6, 18, 0, 0, 123, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 12, 6, 10, 0),
    ],
    ids=["utc", "microseconds", "plus-8", "naive"],
)
def test_every_writer_of_an_instant_writes_the_same_text(moment):
    assert utc_text(moment) == "2026-12-06T10:00:00Z"
    assert timestamp(moment) == utc_text(moment)
    assert UtcTimestamp().serialize("at", {"at": moment}) == utc_text(moment)


def test_no_instant_is_no_text():
    assert timestamp(None) is None
    assert UtcTimestamp(allow_none=True).serialize("at", {"at": None}) is None


# --- the Prometheus folder ---------------------------------------------------------------------


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory of its own, and no Prometheus folder set."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(metrics.MULTIPROC_DIR, raising=False)
    monkeypatch.delenv(metrics.CREATED_DIR, raising=False)
    return tmp_path


def test_a_folder_the_service_made_is_removed(temp_dir):
    made = Path(metrics.make_multiprocess_dir())
    assert made.parent == temp_dir and made.name.startswith("kyc-metrics-")
    (made / "counter_1.db").write_bytes(b"x")
    assert metrics.remove_own_multiprocess_dir()
    assert not made.exists()
    assert metrics.MULTIPROC_DIR not in os.environ  # no setting left naming a folder gone


def test_a_folder_the_operator_set_is_never_removed(temp_dir, monkeypatch):
    mine = temp_dir / "kyc-metrics-operator"
    mine.mkdir()
    monkeypatch.setenv(metrics.MULTIPROC_DIR, str(mine))
    assert metrics.make_multiprocess_dir() == str(mine)
    assert not metrics.remove_own_multiprocess_dir()
    monkeypatch.setenv(metrics.CREATED_DIR, str(temp_dir / "kyc-metrics-other"))
    assert not metrics.remove_own_multiprocess_dir()
    assert mine.is_dir()


# --- log lines ---------------------------------------------------------------------------------


def test_gunicorns_access_line_keeps_safe_fields_only():
    number = synthetic.id_number(random.Random(3))
    buffer = io.StringIO()
    log = logging.getLogger(f"test.gunicorn.access.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addFilter(GunicornAccessFilter())
    log.addHandler(json_handler(buffer))
    atoms = SafeAtoms(
        {
            "m": "GET",
            "s": "200",
            "B": 120,
            "D": 1500,
            "r": f"GET /v1/subjects/u1/export?id_number={number} HTTP/1.1",
            "q": f"id_number={number}",
            "h": "192.0.2.7",
            "a": "agent",
            "{x-request-id}o": "req_abc",
        }
    )
    log.info('%(h)s "%(r)s" %(s)s %(q)s', atoms)
    (line,) = buffer.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "GET 200"
    assert (record["method"], record["status"], record["bytes"]) == ("GET", 200, 120)
    assert record["duration_ms"] == 1.5 and record["request_id"] == "req_abc"
    assert not leaks(number, line) and "192.0.2.7" not in line and "export" not in line


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; return what it wrote."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )


def json_lines(text: str) -> list[dict]:
    """Parse every non-empty line as one JSON object (fail on any other line)."""
    records = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict), line
            records.append(record)
    return records


@pytest.mark.parametrize("imported_first", [False, True], ids=["configured-first", "import-first"])
def test_library_logs_and_warnings_are_json_lines(imported_first):
    configure = "from kyc_service.observability.logs import configure_logging\n"
    code = (
        "import logging, warnings\n"
        + ("import rapidocr\n" if imported_first else "")
        + configure
        + "configure_logging('INFO')\n"
        + ("" if imported_first else "import rapidocr\n")
        + "logging.getLogger('RapidOCR').warning('The text detection result is empty')\n"
        + "logging.getLogger('RapidOCR').info('chatter')\n"
        + "logging.getLogger('werkzeug').info('GET /v1/x?name=y 200')\n"
        + "logging.getLogger('alembic.runtime.migration').info('Context impl')\n"
        + "warnings.warn('a library warning')\n"
    )
    done = run_python(code)
    records = json_lines(done.stderr + done.stdout)
    assert [(r["logger"], r["level"]) for r in records] == [
        ("RapidOCR", "WARNING"),
        ("py.warnings", "WARNING"),
    ]
    assert "\x1b[" not in done.stderr
    for record in records:
        assert set(record) >= LOG_KEYS and INSTANT.match(record["time"]), record


def test_gunicorns_log_configuration_writes_json():
    code = (
        "import logging, logging.config\n"
        "from kyc_service.observability.logs import gunicorn_log_config as log_config\n"
        "logging.config.dictConfig(log_config('INFO'))\n"
        "logging.getLogger('gunicorn.error').info('Booting worker with pid: %s', 42)\n"
        "logging.getLogger('gunicorn.access').info('%(r)s', {'r': 'GET /?q=1', 'm': 'GET'})\n"
        "logging.getLogger('kyc_service.probe').info('hello')\n"
    )
    done = run_python(code)
    records = json_lines(done.stderr + done.stdout)
    assert [r["logger"] for r in records] == ["gunicorn.error", "kyc_service.probe"]
    assert log_config("WARNING")["loggers"]["gunicorn.error"]["level"] == "WARNING"


# --- JSON answers through the app --------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_json_answers_are_raw_utf8_and_say_so(client, auth):
    body = synthetic.individual_body(random.Random(5), reference="用户-1")
    created = client.post("/v1/verifications", json=body, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Content-Type"] == JSON_UTF8
    assert "用户-1".encode() in created.data and b"\\u" not in created.data
    for where, value in times_in(created.get_json()):
        assert INSTANT.match(value), (where, value)
    replay_headers = {**auth, "Idempotency-Key": "k-1"}
    first = client.post("/v1/verifications", json=body, headers=replay_headers)
    again = client.post("/v1/verifications", json=body, headers=replay_headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers["Content-Type"] == again.headers["Content-Type"] == JSON_UTF8
    missing_one = client.get("/v1/verifications/ver_nope", headers=auth)
    assert missing_one.status_code == 404
    assert missing_one.headers["Content-Type"] == JSON_UTF8
    phone = client.post("/v1/phone-verifications", json={"phone": "13800138000"}, headers=auth)
    assert phone.headers["Content-Type"] == JSON_UTF8
    for where, value in times_in(phone.get_json()):
        assert INSTANT.match(value), (where, value)


# --- the served service ------------------------------------------------------------------------


def _call(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers, body."""
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _multipart(kind: str, image: bytes) -> tuple[bytes, str]:
    """A document upload's body and content type."""
    boundary = uuid.uuid4().hex
    disposition = f"--{boundary}\r\nContent-Disposition: form-data; "
    body = b"".join(
        [
            f'{disposition}name="kind"\r\n\r\n{kind}\r\n'.encode(),
            f'{disposition}name="file"; filename="p.jpg"\r\n'.encode(),
            b"Content-Type: image/jpeg\r\n\r\n",
            image,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _images(person: dict) -> dict[str, bytes]:
    """Photos of a synthetic card printed with ``person``'s name and number, and a selfie."""
    from tests import cards

    cards.require_font()
    folder = cards.faces_folder()
    holder = cards.person(7, face="obama_1", name=person["name"], id_number=person["id_number"])
    front = cards.photo_of(cards.card_front(holder, folder), angle=4, seed=7)
    back = cards.photo_of(cards.card_back(holder), angle=-3, seed=8)
    return {
        "id_card_front": cards.to_jpeg(front),
        "id_card_back": cards.to_jpeg(back),
        "selfie": (folder / "obama_2.jpg").read_bytes(),
    }


def _environment(workdir: Path) -> dict[str, str]:
    """The server's environment: its own databases and temporary directory, no metrics folder."""
    import os

    env = dict(os.environ)
    for name in ("PROMETHEUS_MULTIPROC_DIR", metrics.CREATED_DIR, "KYC_KEK_FILE"):
        env.pop(name, None)
    (workdir / "tmp").mkdir()
    env.update(
        {
            "TMPDIR": str(workdir / "tmp"),
            "KYC_DATABASE_URL": f"sqlite:///{workdir / 'kyc.db'}",
            "KYC_KEYSTORE_URL": f"sqlite:///{workdir / 'keys.db'}",
            "KYC_KEK": random_kek(),
            "KYC_LOG_LEVEL": "INFO",
            "KYC_FACE_ADAPTER": "face_recognition",
            "KYC_RATE_LIMIT": "100000 per second",
        }
    )
    return env


def _cli(env: dict[str, str], workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``kyc-service <args>``; return what it wrote."""
    return subprocess.run(
        [str(BIN / "kyc-service"), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the scenario against ``kyc-service serve``; yield its answers, log and leftovers."""
    workdir = tmp_path_factory.mktemp("log-format")
    body = synthetic.individual_body(random.Random(16), reference="用户-16", face_match=True)
    images = _images(body["individual"])
    env = _environment(workdir)
    setup = [_cli(env, workdir, "db", "upgrade")]
    setup.append(
        _cli(env, workdir, "keys", "create", "--tenant", "t", "--mode", "test", "--scopes", "*")
    )
    key = setup[-1].stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
    argv = [str(BIN / "kyc-service"), "serve", "--port", "{port}", "--workers", "1"]
    with serving(argv, env, workdir, "served", port=free_port()) as server:
        port = server.port
        answers["create"] = _call(
            port,
            "POST",
            "/v1/verifications",
            json.dumps(body).encode(),
            {**auth, "Content-Type": "application/json"},
        )
        verification_id = json.loads(answers["create"][2])["id"]
        for kind, image in images.items():
            payload, content_type = _multipart(kind, image)
            answers[kind] = _call(
                port,
                "POST",
                f"/v1/verifications/{verification_id}/documents",
                payload,
                {**auth, "Content-Type": content_type},
            )
        answers["submit"] = _call(
            port, "POST", f"/v1/verifications/{verification_id}/submit", b"", auth
        )
        bad = {**body, "individual": {**body["individual"], "id_number": _wrong(body)}}
        answers["invalid"] = _call(
            port,
            "POST",
            "/v1/verifications",
            json.dumps(bad).encode(),
            {**auth, "Content-Type": "application/json"},
        )
        answers["unauthenticated"] = _call(port, "GET", "/v1/verifications")
        answers["events"] = _call(port, "GET", "/v1/events?limit=100", headers=auth)
        answers["export"] = _call(
            port, "GET", f"/v1/subjects/{quote(body['reference'])}/export", headers=auth
        )
        answers["phone"] = _call(
            port,
            "POST",
            "/v1/phone-verifications",
            json.dumps({"phone": body["individual"]["phone"]}).encode(),
            {**auth, "Content-Type": "application/json"},
        )
        answers["gunicorn"] = _raw(port, b"GARBAGE\r\n\r\n")
        answers["metrics"] = _call(port, "GET", "/metrics")
    yield {
        "body": body,
        "answers": answers,
        "log": server.stderr_path.read_text(encoding="utf-8"),
        "setup": setup,
        "leftovers": sorted(p.name for p in (workdir / "tmp").iterdir()),
    }


def _wrong(body: dict) -> str:
    """The body's ID number with a wrong check character."""
    number = body["individual"]["id_number"]
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def _raw(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; parse gunicorn's answer."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_the_workers_metrics_reach_the_metrics_page(served):
    """With no folder set by the operator, the one the server makes is in place before
    prometheus_client is imported: each worker's counts are written there and summed."""
    status, _, text = served["answers"]["metrics"]
    assert status == 200
    counted = [
        line
        for line in text.decode().splitlines()
        if line.startswith("kyc_http_requests_total{") and 'method="POST"' in line
    ]
    assert counted, text.decode()[:2000]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counted) >= 5


def test_served_the_scenario_as_expected(served):
    statuses = {name: status for name, (status, _, _) in served["answers"].items()}
    assert statuses == {
        "create": 201,
        "id_card_front": 201,
        "id_card_back": 201,
        "selfie": 201,
        "submit": 200,
        "invalid": 422,
        "unauthenticated": 401,
        "events": 200,
        "export": 200,
        "phone": 201,
        "gunicorn": 400,
        "metrics": 200,
    }, {name: answer[2][:300] for name, answer in served["answers"].items()}
    checks = {c["name"]: c["status"] for c in json.loads(served["answers"]["submit"][2])["checks"]}
    assert checks["id_card_ocr"] == "passed" and checks["face_match"] == "passed", checks


def test_every_line_the_server_wrote_is_one_json_object(served):
    records = json_lines(served["log"])
    assert records, "the server wrote nothing"
    for record in records:
        assert set(record) >= LOG_KEYS, record
        assert INSTANT.match(record["time"]), record
    loggers = {r["logger"] for r in records}
    assert {"gunicorn.error", "kyc_service.access"} <= loggers, loggers
    for setup in served["setup"]:
        json_lines(setup.stderr)


def test_no_line_holds_the_submitted_personal_data(served):
    person = served["body"]["individual"]
    values = [person["name"], person["id_number"], person["phone"], person["bank_card"]["number"]]
    everything = served["log"] + "".join(s.stderr for s in served["setup"])
    for value in values:
        assert not leaks(value, everything), value


def test_every_json_answer_is_raw_utf8_with_its_charset(served):
    for name, (_, headers, body) in served["answers"].items():
        if name == "metrics":  # Prometheus text, not JSON
            continue
        assert headers["Content-Type"] == JSON_UTF8, (name, headers)
        assert b"\\u" not in body, name
    create_body = served["answers"]["create"][2]
    assert "用户-16".encode() in create_body
    assert served["body"]["individual"]["name"][0].encode() in create_body


@pytest.mark.parametrize("name", ["submit", "events", "export", "phone"])
def test_every_timestamp_is_one_format(served, name):
    answer = json.loads(served["answers"][name][2])
    found = times_in(answer)
    assert found, f"no timestamp in {name}"
    for where, value in found:
        assert isinstance(value, str) and INSTANT.match(value), (where, value)


def test_the_server_leaves_no_metrics_folder(served):
    assert not [name for name in served["leftovers"] if name.startswith("kyc-metrics-")]
