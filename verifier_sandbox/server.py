"""The partner verifier sandbox: a small Flask app that speaks the verifier protocol.

It answers every role with the magic values of API.md § Sandbox (it asks the in-process
sandbox adapters, so both sandboxes agree), checks every request's signature and signs
every answer. Knobs for tests and load work: ``latency_ms``, ``fail_rate`` (answers 503),
``timeout_rate`` (answers after ``timeout_seconds``); and per request, the header
``X-Sandbox-Result: busy|daily_limit|fail|timeout`` forces one outcome.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from adapters.http_verifiers import protocol
from adapters.sandbox.account import SandboxAccountVerifier
from adapters.sandbox.bank import SandboxBankVerifier
from adapters.sandbox.identity import SandboxIdentityAuthority
from adapters.sandbox.portrait import SandboxPortraitAuthority
from adapters.sandbox.registry import SandboxBusinessRegistry
from adapters.sandbox.sms import SandboxSmsSender
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import Match

BILLED = frozenset({"match", "mismatch", "no_record"})
"""The answers the sandbox bills, as real providers do (not busy, limits or bad input)."""


@dataclass
class Knobs:
    """How the sandbox misbehaves on purpose."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers by request id: a repeated request gets the same answer (idempotency)."""


def _answers() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    """Each role's answer to its fields, from the in-process sandbox adapters."""
    identity, portrait = SandboxIdentityAuthority(), SandboxPortraitAuthority()
    bank, registry = SandboxBankVerifier(), SandboxBusinessRegistry()
    account, sms = SandboxAccountVerifier(), SandboxSmsSender()

    def paid(f: dict[str, Any]) -> dict[str, Any]:
        payment = account.pay_micro_deposit(f["bank_name"], f["account_number"], f["account_name"])
        return {"result": "match", "billable": True, "amount": payment.amount}

    def sent(f: dict[str, Any]) -> dict[str, Any]:
        sms.send(f["phone"], f["text"])
        return protocol.answer_of(Match())

    return {
        "identity": lambda f: protocol.answer_of(identity.verify(f["name"], f["id_number"])),
        "portrait": lambda f: protocol.answer_of(
            portrait.compare(f["name"], f["id_number"], base64.b64decode(f["photo"]))
        ),
        "bank": lambda f: protocol.answer_of(
            bank.verify(f["card_number"], f["name"], f["id_number"], f["phone"])
        ),
        "registry": lambda f: protocol.answer_of(
            registry.verify(f["entity_name"], f["uscc"], f["legal_representative"])
        ),
        "account": paid,
        "sms": sent,
    }


def create_sandbox_app(
    secret: str,
    knobs: Knobs | None = None,
    *,
    latency_ms: float = 0.0,
    fail_rate: float = 0.0,
    timeout_rate: float = 0.0,
) -> Flask:
    """The sandbox verifier app, signing with ``secret``."""
    knobs = knobs or Knobs(latency_ms, fail_rate, timeout_rate)
    answers = _answers()
    app = Flask("kyc-sandbox-verifiers")

    @app.post(f"/{protocol.VERSION}/<role>")
    def verify(role: str) -> Response:
        if role not in protocol.ROLE_FIELDS:
            return Response(status=404)
        body = request.get_data()
        line = protocol.request_line(role)
        if not protocol.signature_valid(secret, line, request.headers, body, time.time()):
            return Response(status=401)
        forced = request.headers.get("X-Sandbox-Result", "")
        _misbehave(knobs, forced)
        try:
            fields = json.loads(body)
            rid = str(fields["request_id"])
            missing = [name for name in protocol.ROLE_FIELDS[role] if not fields.get(name)]
        except (ValueError, KeyError, TypeError):
            return Response(status=400)
        if rid in knobs.seen:
            return _signed(secret, rid, knobs.seen[rid])
        if missing:
            answer = {"result": "invalid_input", "reason": "validation_failed", "billable": False}
        elif forced in ("busy", "daily_limit"):
            answer = {"result": forced, "billable": False}
        else:
            try:
                answer = answers[role](fields)
            except UpstreamUnavailable:
                answer = {"result": "busy", "billable": False}
        answer = {"request_id": rid, **answer}
        if answer["result"] in BILLED:
            answer["billable"] = True  # as a real provider bills a definite answer
        if answer["result"] not in protocol.UNAVAILABLE:
            knobs.seen[rid] = answer
        return _signed(secret, rid, answer)

    return app


def _misbehave(knobs: Knobs, forced: str) -> None:
    """Wait, fail or stall as the knobs (or the request's header) say."""
    if knobs.latency_ms:
        time.sleep(knobs.latency_ms / 1000)
    if forced == "timeout" or random.random() < knobs.timeout_rate:
        time.sleep(knobs.timeout_seconds)
    if forced == "fail" or random.random() < knobs.fail_rate:
        from werkzeug.exceptions import ServiceUnavailable

        raise ServiceUnavailable()


def _signed(secret: str, rid: str, answer: dict[str, Any]) -> Response:
    """A signed JSON answer."""
    body = json.dumps(answer, ensure_ascii=False).encode()
    line = protocol.response_line(200, rid)
    headers = protocol.signed_headers(secret, line, int(time.time()), body)
    return Response(body, status=200, headers=headers, content_type="application/json")
