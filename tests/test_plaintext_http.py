"""Issue 4: the whole individual flow through the HTTP API leaves no plain personal data.

1,000 subjects are created through ``POST /v1/verifications`` on PostgreSQL (data and key
store in databases of their own); some go on to documents, submit and a decision (verified,
rejected, an upstream outage), a few are erased, phones are checked for signup. Both
databases are then dumped with ``pg_dump``, and the dumps and every log record of the run
are searched for the values and for any 7-digit piece of an ID, card or phone number.
"""

from __future__ import annotations

import io
import random
import shutil

from kyc_service.app import create_app
from tests.conftest import missing
from tests.synthetic import card_photos, face_photo, individual_body
from tests.test_vault_dump import captured_logs, pg_dump
from tests.vault_support import digit_windows, leaked_windows

SUBJECTS = 1000
FLOWS = range(0, SUBJECTS, 40)
ERASED = range(13, SUBJECTS, 125)
MAGIC = ("13900000001", "13900000009")


def numbers_of(body: dict) -> list[str]:
    person = body["individual"]
    return [
        person["id_number"],
        person["phone"],
        person["bank_card"]["number"],
        person["bank_card"]["reserved_phone"],
    ]


def run_flow(client, auth, verification_id: str, number: int, body: dict) -> str:
    for kind, image in card_photos(body, seed=number).items():
        response = client.post(
            f"/v1/verifications/{verification_id}/documents",
            data={"kind": kind, "file": (io.BytesIO(image), "id.jpg")},
            headers=auth,
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
    if number % 80 == 0:
        response = client.post(
            f"/v1/verifications/{verification_id}/documents",
            data={"kind": "selfie", "file": (io.BytesIO(face_photo("obama_2.jpg")), "me.jpg")},
            headers=auth,
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
    return client.post(f"/v1/verifications/{verification_id}/submit", headers=auth).get_json()[
        "status"
    ]


def test_http_flow_leaves_no_plain_data_in_dumps_or_logs(postgres_url, postgres_keystore_url):
    shutil.which("pg_dump") or missing("pg_dump is not installed")
    rng = random.Random(11)
    bodies = []
    with captured_logs() as logs:
        app = create_app(
            {
                "DATABASE_URL": postgres_url,
                "KEYSTORE_URL": postgres_keystore_url,
                "RATE_LIMIT": "100000 per second",
            }
        )
        client = app.test_client()
        from kyc_service.domain.access import ALL_SCOPES, Mode
        from kyc_service.services.api_keys import create_key

        key = create_key(
            app.extensions["kyc"].unit_of_work(), "dump", Mode.TEST, frozenset(ALL_SCOPES)
        )
        auth = {"Authorization": f"Bearer {key}"}
        statuses = {}
        for number in range(SUBJECTS):
            flow = number in FLOWS
            body = individual_body(
                rng, reference=f"cust-{number:04d}", face_match=flow and number % 80 == 0
            )
            if flow and number % 120 == 0:
                body["individual"]["bank_card"]["reserved_phone"] = MAGIC[(number // 120) % 2]
            bodies.append(body)
            created = client.post("/v1/verifications", json=body, headers=auth)
            assert created.status_code == 201, created.get_json()
            if flow:
                status = run_flow(client, auth, created.get_json()["id"], number, body)
                statuses[status] = statuses.get(status, 0) + 1
        for number in FLOWS[:10]:
            phone = bodies[number]["individual"]["phone"]
            started = client.post("/v1/phone-verifications", json={"phone": phone}, headers=auth)
            assert started.status_code == 201
            checked = client.post(
                f"/v1/phone-verifications/{started.get_json()['id']}/check",
                json={"code": "000000"},
                headers=auth,
            )
            assert checked.get_json()["status"] == "verified"
        for number in ERASED:
            assert client.delete(f"/v1/subjects/cust-{number:04d}", headers=auth).status_code in (
                204,
                404,
            )
        exported = [
            client.get("/v1/events?limit=100", headers=auth),
            client.get("/v1/verifications?limit=100", headers=auth),
        ]
        app.extensions["kyc"].close()
    assert (
        statuses.get("verified", 0) >= 10
        and statuses.get("rejected", 0) >= 1
        and statuses.get("processing", 0) >= 1
    ), statuses
    dumps = {"data": pg_dump(postgres_url), "key store": pg_dump(postgres_keystore_url)}
    assert dumps["data"].count("v1.") >= SUBJECTS * 4
    values = [value for body in bodies for value in numbers_of(body) if value not in MAGIC]
    names = [body["individual"]["name"] for body in bodies]
    windows = digit_windows(values)
    texts = {
        **dumps,
        "logs": "\n".join(logs),
        "responses": "\n".join(r.get_data(as_text=True) for r in exported),
    }
    assert len(logs) >= SUBJECTS
    for label, text in texts.items():
        assert leaked_windows(text, windows) == [], f"a 7-digit piece of a number in the {label}"
        for name in names:
            assert name not in text or len(name) < 2, f"a name in the {label}"
