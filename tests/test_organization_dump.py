"""Issue 11: dumps of both databases and the logs hold no organization's personal data.

Organizations go through the HTTP API on PostgreSQL — created (every field sealed), one of
them through the whole flow (documents, checks, the micro-deposit, verified), one erased.
Then both databases are dumped with ``pg_dump``, and the dumps and every log record of the
run are searched for the USCCs, account numbers, and the representatives' and agents'
names and ID numbers.
"""

from __future__ import annotations

import json
import random

from kyc_service.app import create_app
from tests.helpers import create, submit
from tests.synthetic import organization_body
from tests.test_organization_flow import confirm, ready_organization
from tests.test_vault_dump import captured_logs, pg_dump

ORGANIZATIONS = 20


def secrets_of(body: dict) -> list[str]:
    """The values of an organization body that must never appear in the clear."""
    org = body["organization"]
    values = [org["uscc"], org["bank_account"]["account_number"]]
    for role in ("legal_representative", "agent"):
        if org.get(role):
            values += [org[role]["name"], org[role]["id_number"], org[role]["phone"]]
    return values


def test_no_organization_value_in_either_dump_or_the_logs(postgres_url, postgres_keystore_url):
    app = create_app(
        {
            "DATABASE_URL": postgres_url,
            "KEYSTORE_URL": postgres_keystore_url,
            "RATE_LIMIT": "100000 per second",
            "TESTING": True,
        }
    )
    rng = random.Random(77)
    try:
        client = app.test_client()
        auth = _key(app)
        bodies = [organization_body(rng, reference=f"org-{n}") for n in range(ORGANIZATIONS)]
        with captured_logs() as lines:
            for body in bodies[1:]:
                assert create(client, auth, body).status_code == 201
            full = ready_organization(client, auth, bodies[0])
            assert submit(client, auth, full).get_json()["status"] == "awaiting_confirmation"
            assert confirm(client, auth, full, "0.32").get_json()["status"] == "verified"
            assert client.delete("/v1/subjects/org-5", headers=auth).status_code == 204
        texts = [pg_dump(postgres_url), pg_dump(postgres_keystore_url), "\n".join(lines)]
    finally:
        app.extensions["kyc"].close()
    secrets = [form for body in bodies for value in secrets_of(body) for form in forms(value)]
    for text in texts:
        leaked = [value for value in secrets if value in text]
        assert leaked == [], leaked[:5]
    shown = forms(bodies[3]["organization"]["name"])  # the entity's name is shown in full
    assert any(form in texts[0] for form in shown)


def forms(value: str) -> set[str]:
    """A value as text, as a JSON column stores it (non-ASCII as ``\\u`` escapes), and as
    ``pg_dump``'s COPY text writes that (backslashes doubled)."""
    escaped = json.dumps(value)[1:-1]
    return {value, escaped, escaped.replace("\\", "\\\\")}


def _key(app) -> dict[str, str]:  # noqa: ANN001
    from kyc_service.domain.access import ALL_SCOPES, Mode
    from kyc_service.services.api_keys import create_key

    key = create_key(app.extensions["kyc"].unit_of_work(), "dump", Mode.TEST, frozenset(ALL_SCOPES))
    return {"Authorization": f"Bearer {key}"}
