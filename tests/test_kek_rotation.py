"""KEK rotation re-wraps every value a KEK wraps (SQLite and PostgreSQL).

``kyc-service kek rotate --retire-old`` used to re-wrap data keys only and then retire
the old KEK: webhook secrets and stored idempotent responses became unreadable for good.
Here, after a rotation with ``--retire-old``: a webhook is delivered and its signature
checks with the secret shown at creation, an idempotent request replays, every sealed
field opens, and ``audit verify`` passes. A scan of both databases finds every column that
holds a KEK-wrapped value and fails when one is not in ``WRAPPED_VALUES``.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, String, Text, create_engine, select

from kyc_service.cli import main
from kyc_service.domain.access import Mode
from kyc_service.persistence.database import normalise_url
from kyc_service.services.key_rotation import WRAPPED_VALUES
from kyc_service.services.webhooks import deliver_due, verify_signature
from kyc_service.vault import SubjectRef
from tests.synthetic import individual_body
from tests.test_individual_flow import ready
from tests.vault_support import kek_document
from tests.webhook_receiver import start_receiver

rng = random.Random(11)


@pytest.fixture
def kek_file(tmp_path: Path) -> Path:
    path = tmp_path / "kek.json"
    path.write_text(json.dumps(kek_document("kek-1")))
    return path


@pytest.fixture
def app_config(app_config: dict, kek_file: Path) -> dict:
    return {**app_config, "KEK": "", "KEK_FILE": str(kek_file)}


def rotate(app_config: dict, kek_file: Path) -> str:
    env = {
        "KYC_DATABASE_URL": app_config["DATABASE_URL"],
        "KYC_KEYSTORE_URL": app_config["KEYSTORE_URL"],
        "KYC_KEK": "",
        "KYC_KEK_FILE": str(kek_file),
    }
    result = CliRunner().invoke(main, ["kek", "rotate", "--retire-old"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def wrapped_columns_found(urls: list[str], kek_id: str) -> set[tuple[str, str]]:
    """Every (table, column) whose values name ``kek_id``: a KEK id, or a sealed value."""
    found = set()
    for url in urls:
        engine = create_engine(normalise_url(url))
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.tables.values():
                texts = [c for c in table.columns if isinstance(c.type, String | Text)]
                for row in connection.execute(select(*texts)) if texts else []:
                    for column, value in zip(texts, row, strict=True):
                        if isinstance(value, str) and (
                            value == kek_id or value.startswith(f"sealed:{kek_id}:")
                        ):
                            found.add((table.name, column.name))
        engine.dispose()
    return found


def test_rotation_keeps_every_wrapped_value_readable(app, client, auth, app_config, kek_file):
    services = app.extensions["kyc"]
    receiver = start_receiver()
    try:
        created = client.post(
            "/v1/webhook-endpoints",
            json={"url": receiver.url, "events": ["verification.verified"]},
            headers={**auth, "Idempotency-Key": "hook-1"},
        )
        assert created.status_code == 201
        secret = created.get_json()["secret"]
        body = individual_body(rng)
        verification_id = ready(client, auth, body)
        verified = client.post(f"/v1/verifications/{verification_id}/submit", headers=auth)
        assert verified.get_json()["status"] == "verified"

        found = wrapped_columns_found(
            [app_config["DATABASE_URL"], app_config["KEYSTORE_URL"]], "kek-1"
        )
        registered = {(w.table, w.kek_id_column or w.column) for w in WRAPPED_VALUES}
        assert found == registered, "a KEK-wrapped column is missing from WRAPPED_VALUES"

        output = rotate(app_config, kek_file)
        assert "retired: kek-1" in output
        assert "1 webhook secrets" in output and "1 stored responses" in output
        assert set(json.loads(kek_file.read_text())["keys"]) == {"kek-2"}
        assert (
            wrapped_columns_found([app_config["DATABASE_URL"], app_config["KEYSTORE_URL"]], "kek-1")
            == set()
        )

        replayed = client.post(
            "/v1/webhook-endpoints",
            json={"url": receiver.url, "events": ["verification.verified"]},
            headers={**auth, "Idempotency-Key": "hook-1"},
        )
        assert replayed.status_code == 201
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.get_json()["secret"] == secret

        report = deliver_due(
            services.unit_of_work,
            services.vault.keystore.wrapper,
            services.vault.clock,
            services.adapters.get("webhooks", Mode.LIVE),
        )
        assert report.succeeded == 1, report
        (request,) = receiver.requests
        assert verify_signature(
            secret, request.headers["KYC-Signature"], request.body, now=time.time()
        )

        with services.unit_of_work() as uow:
            row = uow.verifications.by_id(verification_id)
            ref = SubjectRef(row.tenant_id, row.mode, row.reference)
            fields = services.vault.get_fields(
                uow.session, ref, row.id, actor="test", action="test.rotation"
            )
            uow.commit()
        assert fields["individual.id_number"] == body["individual"]["id_number"]

        env = {
            "KYC_DATABASE_URL": app_config["DATABASE_URL"],
            "KYC_KEYSTORE_URL": app_config["KEYSTORE_URL"],
            "KYC_KEK": "",
            "KYC_KEK_FILE": str(kek_file),
        }
        audit = CliRunner().invoke(main, ["audit", "verify"], env=env)
        assert audit.exit_code == 0, audit.output
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
