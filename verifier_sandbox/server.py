"""The partner verifier sandbox: a small Flask app that speaks the verifier protocol.

It answers every role with the magic values of API.md § Sandbox (it asks the in-process
sandbox adapters, so both sandboxes agree), checks every request's signature and signs
every answer. Knobs for tests and load work: ``latency_ms``, ``fail_rate`` (answers 503),
``timeout_rate`` (answers after ``timeout_seconds``); and per request, the header
``X-Sandbox-Result: busy|daily_limit|fail|timeout`` forces one outcome.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import time
from collections import OrderedDict
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

REMEMBERED = 100_000
"""Answers kept for repeats (the oldest are forgotten first)."""
BILLED = frozenset({"match", "mismatch", "no_record"})
"""The answers the sandbox bills, as real providers do (not busy, limits or bad input)."""


@dataclass
class Knobs:
    """How the sandbox misbehaves on purpose."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    seen: OrderedDict[tuple[str, str], dict[str, Any]] = field(default_factory=OrderedDict)
    """Answers by role and request id: a repeated request gets the same answer."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, key: tuple[str, str], answer: dict[str, Any]) -> None:
        """Keep an answer for repeats; the oldest go past :data:`REMEMBERED` answers."""
        self.seen[key] = answer
        while len(self.seen) > REMEMBERED:
            self.seen.popitem(last=False)


def _answer(
    role: str,
    fields: dict[str, Any],
    forced: str,
    answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
) -> dict[str, Any]:
    """The answer to a new request: refused input, a forced outcome, or the magic values'."""
    wrong = [name for name in protocol.ROLE_FIELDS[role] if not _text(fields.get(name))]
    if wrong:
        return {"result": "invalid_input", "reason": "validation_failed", "billable": False}
    if forced in protocol.UNAVAILABLE:
        return {"result": forced, "billable": False}
    try:
        answer = answers[role](fields)
    except UpstreamUnavailable:
        return {"result": "busy", "billable": False}
    except binascii.Error:  # a photo that is not base64
        return {"result": "invalid_input", "reason": "image_unreadable", "billable": False}
    if answer["result"] in BILLED:
        answer["billable"] = True  # as a real provider bills a definite answer
    return answer


def _text(value: Any) -> bool:
    """A non-empty string."""
    return isinstance(value, str) and bool(value)


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
            portrait.compare(f["name"], f["id_number"], base64.b64decode(f["photo"], validate=True))
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
            rid = fields["request_id"]
        except (ValueError, KeyError, TypeError):
            return Response(status=400)
        if not isinstance(rid, str) or not 0 < len(rid) <= protocol.MAX_REQUEST_ID:
            return Response(status=400)
        with knobs.lock:  # one answer per request id, even for two repeats at once
            answer = knobs.seen.get((role, rid)) or _answer(role, fields, forced, answers)
            if answer["result"] not in protocol.UNAVAILABLE:
                knobs.remember((role, rid), answer | {"request_id": rid})
        return _signed(secret, rid, {"request_id": rid, **answer})

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
