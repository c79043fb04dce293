"""Tenants never see each other's objects; test and live objects never mix; lists page."""

from __future__ import annotations

from tests.conftest import assert_error
from tests.helpers import seed_verification


def test_empty_list_answers_the_list_shape(client, auth):
    response = client.get("/v1/verifications", headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {"object": "list", "data": [], "has_more": False}


def test_foreign_tenant_object_is_404_like_an_unknown_one(app, client, make_key):
    ours, theirs = make_key(tenant="acme"), make_key(tenant="globex")
    verification_id = seed_verification(app, ours)
    assert client.get(f"/v1/verifications/{verification_id}", headers=ours).status_code == 200
    foreign = client.get(f"/v1/verifications/{verification_id}", headers=theirs)
    unknown = client.get("/v1/verifications/ver_000000000000000000000000", headers=theirs)
    assert_error(foreign, 404, "not_found", "resource_missing")
    assert foreign.get_json()["error"]["message"] == unknown.get_json()["error"]["message"]
    assert client.get("/v1/verifications", headers=theirs).get_json()["data"] == []


def test_test_and_live_objects_are_invisible_to_each_other(app, client, make_key):
    test_key, live_key = make_key(mode="test"), make_key(mode="live")
    test_id = seed_verification(app, test_key, reference="in-test")
    live_id = seed_verification(app, live_key, reference="in-live")
    assert [
        v["id"] for v in client.get("/v1/verifications", headers=test_key).get_json()["data"]
    ] == [test_id]
    assert [
        v["id"] for v in client.get("/v1/verifications", headers=live_key).get_json()["data"]
    ] == [live_id]
    assert client.get(f"/v1/verifications/{live_id}", headers=test_key).status_code == 404
    assert client.get(f"/v1/verifications/{test_id}", headers=live_key).status_code == 404
    assert client.get(f"/v1/verifications/{test_id}", headers=test_key).get_json()["mode"] == "test"


def test_list_pages_newest_first(app, client, auth):
    ids = [seed_verification(app, auth, reference=f"user-{n}") for n in range(5)]
    newest_first = list(reversed(ids))
    first = client.get("/v1/verifications?limit=2", headers=auth).get_json()
    assert [v["id"] for v in first["data"]] == newest_first[:2] and first["has_more"] is True
    second = client.get(
        f"/v1/verifications?limit=2&starting_after={first['data'][-1]['id']}", headers=auth
    ).get_json()
    assert [v["id"] for v in second["data"]] == newest_first[2:4] and second["has_more"] is True
    third = client.get(
        f"/v1/verifications?limit=2&starting_after={second['data'][-1]['id']}", headers=auth
    ).get_json()
    assert [v["id"] for v in third["data"]] == newest_first[4:] and third["has_more"] is False


def test_default_limit_is_20(app, client, auth):
    for n in range(21):
        seed_verification(app, auth, reference=f"u{n}")
    page = client.get("/v1/verifications", headers=auth).get_json()
    assert len(page["data"]) == 20 and page["has_more"] is True


def test_starting_after_a_foreign_id_is_404(app, client, make_key):
    foreign_id = seed_verification(app, make_key(tenant="globex"))
    response = client.get(f"/v1/verifications?starting_after={foreign_id}", headers=make_key())
    assert_error(response, 404, "not_found", "resource_missing")


def test_filters_by_reference_and_status(app, client, auth):
    wanted = seed_verification(app, auth, reference="user-9", status="in_review")
    seed_verification(app, auth, reference="user-9", status="verified")
    seed_verification(app, auth, reference="user-8", status="in_review")
    page = client.get(
        "/v1/verifications?reference=user-9&status=in_review", headers=auth
    ).get_json()
    assert [v["id"] for v in page["data"]] == [wanted]


def test_verification_object_shape(app, client, auth):
    verification_id = seed_verification(app, auth)
    body = client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()
    assert body["object"] == "verification" and body["id"] == verification_id
    for field in (
        "type",
        "mode",
        "reference",
        "status",
        "requirements",
        "checks",
        "last_error",
        "options",
        "attempt",
        "parent_id",
        "redacted",
        "created_at",
        "updated_at",
        "decided_at",
    ):
        assert field in body
    assert body["individual"] == {
        "name": "张*",
        "id_number": "1101**********123X",
        "phone": None,
        "bank_card": None,
    }
    assert body["organization"] is None
    assert body["created_at"].endswith("Z")
