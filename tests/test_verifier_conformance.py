"""The verifier conformance kit (``kyc-service verifier-conformance``).

Every case passes against the partner sandbox, for every role, directly and through the
CLI; against small verifiers that are wrong in one way each, the kit fails, naming the
case that catches it. Every server here listens on 127.0.0.1 (port 0) only.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterator

import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
import stdnum.luhn
from click.testing import CliRunner
from flask import Flask, Response, request

from adapters.http_verifiers import protocol
from adapters.sandbox import magic
from kyc_service.cli import VERIFIER_ROLES, main
from tests.helpers import serving_in_thread as serving
from verifier_sandbox import conformance
from verifier_sandbox.conformance import FAIL, PASS, SKIP
from verifier_sandbox.server import create_sandbox_app

SECRET = "conformance-secret"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with serving(create_sandbox_app(SECRET)) as url:
        yield url


def statuses(results: list[conformance.CaseResult]) -> dict[str, str]:
    return {result.case: result.status for result in results}


def failed(results: list[conformance.CaseResult]) -> set[str]:
    return {result.case for result in results if result.failed}


# --- against the partner sandbox -----------------------------------------------------------


@pytest.mark.parametrize("role", conformance.ROLES)
def test_every_case_passes_against_the_sandbox(sandbox, role):
    results = conformance.run_cases(sandbox, SECRET, role, sandbox_headers=True)
    assert {r.case: (r.status, r.reason) for r in results if r.status != PASS} == {}
    names = statuses(results)
    expected = {"match", "invalid_input", "busy", "daily_limit", "bad_signature"}
    expected |= {"stale_timestamp", "idempotent_repeat", "malformed_body", "responses_signed"}
    assert expected <= set(names)
    assert {r.role for r in results} == {role}


def test_one_case_per_magic_failure_code(sandbox):
    names = set(statuses(conformance.run_cases(sandbox, SECRET, "all", sandbox_headers=True)))
    codes = {*magic.IDENTITY_NAMES.values(), *magic.PORTRAIT_NAMES.values()}
    codes |= {*magic.RESERVED_PHONES.values(), *magic.ENTITY_NAMES.values()}
    codes |= set(magic.LEGAL_REPRESENTATIVE_NAMES.values())
    assert {name.split(":")[1] for name in names if ":" in name} == codes
    assert "no_record:id_not_found" in names and "mismatch:name_id_mismatch" in names


def test_busy_and_daily_limit_are_skipped_without_sandbox_headers(sandbox):
    results = conformance.run_cases(sandbox, SECRET, "bank")
    assert statuses(results)["busy"] == SKIP and statuses(results)["daily_limit"] == SKIP
    assert conformance.all_passed(results)
    assert "2 skipped" in conformance.format_table(results).splitlines()[-1]


def test_the_wrong_secret_fails_every_answer_and_says_why(sandbox):
    results = conformance.run_cases(sandbox, "not-the-secret", "identity")
    by_case = {r.case: r for r in results}
    assert by_case["match"].failed and "secret" in by_case["match"].reason
    assert by_case["malformed_body"].failed  # a 401 proves nothing about the body
    assert not conformance.all_passed(results)


def test_the_synthetic_values_have_valid_check_digits():
    assert stdnum.cn.ric.is_valid(conformance.ID_NUMBER)
    assert stdnum.luhn.is_valid(conformance.CARD_NUMBER)
    assert stdnum.cn.uscc.is_valid(conformance.USCC)
    assert set(conformance.MATCH_FIELDS) == set(protocol.ROLE_FIELDS)
    for role, fields in conformance.MATCH_FIELDS.items():
        assert tuple(fields) == protocol.ROLE_FIELDS[role]


def test_the_table_names_every_case_and_closes_with_the_failures():
    results = [
        conformance.CaseResult("identity", "match", PASS, "match, billable true"),
        conformance.CaseResult("identity", "bad_signature", FAIL, "status 200"),
        conformance.CaseResult("identity", "busy", SKIP, "needs --sandbox-headers"),
    ]
    table = conformance.format_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["ROLE", "CASE", "RESULT", "REASON"]
    assert lines[2].split()[:3] == ["identity", "bad_signature", "FAIL"]
    assert lines[-1] == "1 of 3 cases FAIL: identity/bad_signature"


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        conformance.run_cases("http://127.0.0.1:9", SECRET, "passport")


# --- through the CLI -----------------------------------------------------------------------


def test_the_cli_passes_against_the_sandbox(sandbox):
    result = CliRunner().invoke(
        main, ["verifier-conformance", "--role", "identity", sandbox, "--secret", SECRET]
    )
    assert result.exit_code == 0, result.output
    for case in ("match", "mismatch:name_id_mismatch", "no_record:id_not_found", "busy"):
        assert case in result.output
    assert "bad_signature" in result.output and "responses_signed" in result.output
    assert result.output.strip().splitlines()[-1] == "all 12 cases pass (2 skipped)"


def test_the_cli_runs_all_roles_with_the_secret_from_the_environment(sandbox):
    result = CliRunner(env={"KYC_VERIFIER_SECRET": SECRET}).invoke(
        main, ["verifier-conformance", "--role", "all", "--sandbox-headers", sandbox]
    )
    assert result.exit_code == 0, result.output
    assert {line.split()[0] for line in result.output.splitlines()[1:-1]} == set(VERIFIER_ROLES)
    assert "SKIP" not in result.output


def test_the_cli_exits_1_when_a_case_fails(sandbox):
    result = CliRunner().invoke(
        main, ["verifier-conformance", "--role", "sms", sandbox, "--secret", "wrong"]
    )
    assert result.exit_code == 1
    assert "FAIL" in result.output and "sms/match" in result.output.splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ["--role", "passport", "http://127.0.0.1:9", "--secret", "s"],
        ["--role", "identity", "ftp://127.0.0.1:9", "--secret", "s"],
        ["--role", "identity", "127.0.0.1:9", "--secret", "s"],
        ["--role", "identity", "http://127.0.0.1:9"],
        ["http://127.0.0.1:9", "--secret", "s"],
        ["--role", "identity", "http://[::1", "--secret", "s"],
    ],
    ids=["unknown-role", "not-http", "no-scheme", "no-secret", "no-role", "broken-ipv6"],
)
def test_usage_errors_exit_2(argv):
    result = CliRunner(env={"KYC_VERIFIER_SECRET": None}).invoke(
        main, ["verifier-conformance", *argv]
    )
    assert result.exit_code == 2, result.output


def test_the_cli_knows_the_protocols_roles():
    assert set(VERIFIER_ROLES) == set(protocol.ROLE_FIELDS) == set(conformance.ROLES)


# --- against verifiers that are wrong in one way each --------------------------------------


def verifier(defect: str = "") -> Flask:
    """A small identity verifier that speaks the protocol, but for ``defect``."""
    app = Flask(f"verifier-{defect or 'honest'}")
    seen: dict[str, dict] = {}
    calls = itertools.count()
    key = "another secret" if defect == "wrong_response_key" else SECRET

    def signed(answer: dict, rid: str) -> Response:
        body = json.dumps(answer).encode()
        headers = protocol.signed_headers(
            key, protocol.response_line(200, rid), int(time.time()), body
        )
        return Response(body, headers=headers, content_type="application/json")

    def decide(fields: dict) -> dict:
        name, forced = fields.get("name"), request.headers.get("X-Sandbox-Result")
        if defect == "always_match":
            return {"result": "match", "billable": True}
        if not name or not fields.get("id_number"):
            return {"result": "invalid_input", "reason": "validation_failed", "billable": False}
        if forced in ("busy", "daily_limit"):
            return {"result": forced, "billable": False}
        code = magic.IDENTITY_NAMES.get(name)
        if code == "id_not_found":
            return {"result": "no_record", "billable": True}
        if code:
            return {"result": "mismatch", "reason": code, "billable": True}
        return {"result": "match", "billable": True}

    @app.post("/v1/identity")
    def identity() -> Response:
        body = request.get_data()
        line = protocol.request_line("identity")
        checked = defect != "unchecked_signatures"
        if checked and not protocol.signature_valid(
            SECRET, line, request.headers, body, time.time()
        ):
            return Response(status=401)
        try:
            fields = json.loads(body)
            rid = fields["request_id"]
        except (ValueError, KeyError, TypeError):
            if defect == "malformed_ok":
                return signed({"request_id": "", "result": "match", "billable": True}, "")
            return Response(status=400)
        if defect == "not_idempotent":  # a fresh answer each time: billed again, new score
            return signed(
                {"request_id": rid, **decide(fields), "billable": next(calls) % 2 == 0}, rid
            )
        if defect == "other_request_id":  # signed over the request's id, but not echoing it
            return signed({"request_id": "vr_" + "0" * 32, **decide(fields)}, rid)
        seen.setdefault(rid, {"request_id": rid, **decide(fields)})
        return signed(seen[rid], rid)

    return app


def test_the_honest_test_verifier_passes_every_case():
    with serving(verifier()) as url:
        results = conformance.run_cases(url, SECRET, "identity", sandbox_headers=True)
    assert [r for r in results if r.status != PASS] == []


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        ("unchecked_signatures", {"bad_signature", "missing_signature", "stale_timestamp"}),
        ("wrong_response_key", {"responses_signed"}),
        (
            "always_match",  # match even when busy or daily_limit is forced
            {"mismatch:name_id_mismatch", "no_record:id_not_found", "invalid_input"}
            | {"busy", "daily_limit"},
        ),
        ("not_idempotent", {"idempotent_repeat"}),
        ("malformed_ok", {"malformed_body"}),
        (
            "other_request_id",
            {"match", "mismatch:name_id_mismatch", "no_record:id_not_found", "invalid_input"}
            | {"busy", "daily_limit", "idempotent_repeat"},
        ),
    ],
)
def test_a_wrong_verifier_fails_naming_the_case(defect, failing):
    with serving(verifier(defect)) as url:
        results = conformance.run_cases(url, SECRET, "identity", sandbox_headers=True)
    assert failed(results) == failing
    assert not conformance.all_passed(results)
    closing = conformance.format_table(results).splitlines()[-1]
    assert all(f"identity/{case}" in closing for case in failing)


def test_a_wrong_verifier_through_the_cli_exits_1_naming_the_case():
    with serving(verifier("unchecked_signatures")) as url:
        result = CliRunner().invoke(
            main, ["verifier-conformance", "--role", "identity", url, "--secret", SECRET]
        )
    assert result.exit_code == 1
    row = next(line for line in result.output.splitlines() if " bad_signature " in line)
    assert row.split()[2] == "FAIL" and "expected 401" in row


def test_a_redirect_is_not_followed_anywhere_else():
    hits: list[str] = []
    elsewhere = Flask("elsewhere")

    @elsewhere.post("/v1/identity")
    def record() -> Response:
        hits.append(request.path)
        return Response(status=200)

    with serving(elsewhere) as target:
        redirecting = Flask("redirecting")

        @redirecting.post("/v1/identity")
        def moved() -> Response:
            return Response(status=307, headers={"Location": f"{target}/v1/identity"})

        with serving(redirecting) as url:
            results = conformance.run_cases(url, SECRET, "identity")
    assert hits == []
    assert {"match", "invalid_input", "idempotent_repeat"} <= failed(results)


def test_a_verifier_that_is_down_fails_every_case_without_hanging():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    results = conformance.run_cases(f"http://127.0.0.1:{port}", SECRET, "sms", timeout=1)
    assert time.monotonic() - started < 10
    assert all(r.status in (FAIL, SKIP) for r in results)
    assert "no answer" in results[0].reason
