"""The verifier conformance kit: the verifier protocol's test cases, run against any endpoint.

``kyc-service verifier-conformance --role ROLE URL --secret S`` sends each case of
``docs/verifier-protocol.md`` § Conformance kit to ``<URL>/v1/<role>`` and prints a
pass/fail table, so a verifier vendor proves its implementation before it is plugged in.

The requests carry only synthetic data: the sandbox magic values of API.md § Sandbox
(``adapters/sandbox/magic.py``) and ID, card and USCC numbers with valid check digits that
belong to no one. Nothing is sent anywhere but the URL given (redirects are not followed).

Each case is a small function of a :class:`Probe` answering a :class:`Verdict`;
:func:`run_cases` runs them all for a role and :func:`format_table` prints the results.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from adapters.http_verifiers import protocol
from adapters.sandbox import magic

ROLES: tuple[str, ...] = tuple(protocol.ROLE_FIELDS)
"""The six roles of the protocol (``--role``; ``all`` runs each in turn)."""
PASS, FAIL, SKIP = "pass", "fail", "skip"
SANDBOX_RESULT_HEADER = "X-Sandbox-Result"
"""The partner sandbox's header forcing an outcome (``busy``, ``daily_limit``, …)."""
STALE_SECONDS = 2 * protocol.TOLERANCE_SECONDS
"""How far from now the stale-timestamp case signs (well past the 300 s tolerance)."""
CONNECT_TIMEOUT = 2.0
DEFAULT_TIMEOUT = 10.0

# Synthetic values with valid check digits (GB 11643, Luhn, GB 32100); no one's data.
ID_NUMBER = "11010519491231002X"
CARD_NUMBER = "6222021234567890128"
USCC = "91440101MA5CYXTT22"
PHONE = "13800138000"
PERSON = "张三"
COMPANY = "示例科技有限公司"
REPRESENTATIVE = "王伟"
PHOTO = (  # an 8x8 grey JPEG, base64: enough for a sandbox, and no one's face
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxO"
    "QERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/wAALCAAIAAgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAEC"
    "AwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJ"
    "ipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3"
    "+Pn6/9oACAEBAAA/ACv/2Q=="
)

MATCH_FIELDS: dict[str, dict[str, str]] = {
    "identity": {"name": PERSON, "id_number": ID_NUMBER},
    "portrait": {"name": PERSON, "id_number": ID_NUMBER, "photo": PHOTO},
    "bank": {"card_number": CARD_NUMBER, "name": PERSON, "id_number": ID_NUMBER, "phone": PHONE},
    "account": {
        "bank_name": "中国工商银行",
        "account_number": "6222020200112233445",
        "account_name": COMPANY,
    },
    "registry": {"entity_name": COMPANY, "uscc": USCC, "legal_representative": REPRESENTATIVE},
    "sms": {"phone": PHONE, "text": f"【示例】验证码 {magic.SMS_CODE}，5 分钟内有效。"},
}
"""Each role's request that every verifier answers ``match`` (no magic value in it)."""

NOT_FOUND_CODES = frozenset({"id_not_found", "entity_not_found"})
"""Magic outcomes answered ``no_record``; every other magic code is a ``mismatch``."""
AMOUNT = re.compile(r"\d+(\.\d{1,2})?")
"""The form of an ``account`` answer's ``amount`` (CNY, as a string: ``"0.37"``)."""


@dataclass(frozen=True)
class Refusal:
    """A request made of magic values, and the answer the protocol expects to it."""

    changes: Mapping[str, str]
    code: str

    @property
    def result(self) -> str:
        """``no_record`` for the not-found codes, ``mismatch`` otherwise."""
        return "no_record" if self.code in NOT_FOUND_CODES else "mismatch"


def refusals(role: str) -> list[Refusal]:
    """The magic-value requests of ``role`` (API.md § Sandbox), one per failure code."""
    tables: dict[str, list[tuple[str, Mapping[str, str]]]] = {
        "identity": [("name", magic.IDENTITY_NAMES)],
        "portrait": [("name", magic.PORTRAIT_NAMES)],
        "bank": [("phone", magic.RESERVED_PHONES)],
        "registry": [
            ("entity_name", magic.ENTITY_NAMES),
            ("legal_representative", magic.LEGAL_REPRESENTATIVE_NAMES),
        ],
    }
    return [
        Refusal({name: value}, code)
        for name, table in tables.get(role, [])
        for value, code in table.items()
    ]


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case against one role: pass, fail or skip, and why."""

    role: str
    case: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        """Whether the case failed (a skipped case does not)."""
        return self.status == FAIL


Verdict = tuple[str, str]
"""A case's ``(status, one-line reason)``."""


@dataclass
class Probe:
    """Sends signed (or deliberately mis-signed) requests to one role of one verifier."""

    url: str
    secret: str
    role: str
    session: requests.Session
    sandbox_headers: bool = False
    timeout: float = DEFAULT_TIMEOUT
    answered: list[tuple[str, requests.Response, float]] = field(default_factory=list)
    """Each 200 answer with the time it arrived (its signature is judged at that time)."""
    """Every 200 answer to a request with a request id: ``(request_id, response)``."""

    @property
    def endpoint(self) -> str:
        """``<URL>/v1/<role>``."""
        return f"{self.url.rstrip('/')}/{protocol.VERSION}/{self.role}"

    def body(self, rid: str, changes: Mapping[str, str] | None = None, drop: str = "") -> bytes:
        """The role's ``match`` request as JSON, with ``changes`` applied and ``drop`` left out."""
        fields = {"request_id": rid, **MATCH_FIELDS[self.role], **(changes or {})}
        fields.pop(drop, None)
        return json.dumps(fields, ensure_ascii=False).encode()

    def post(
        self,
        body: bytes,
        rid: str | None,
        *,
        secret: str | None = None,
        skew: int = 0,
        signed: bool = True,
        force: str = "",
    ) -> requests.Response:
        """POST ``body`` signed with ``secret`` (default: the right one) ``skew`` s off now."""
        headers = {"Content-Type": "application/json"}
        if signed:
            line = protocol.request_line(self.role)
            stamp = int(time.time()) + skew
            headers |= protocol.signed_headers(secret or self.secret, line, stamp, body)
        if force:
            headers[SANDBOX_RESULT_HEADER] = force
        response = self.session.post(
            self.endpoint,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT, self.timeout),
            allow_redirects=False,
        )
        if rid is not None and response.status_code == 200:
            self.answered.append((rid, response, time.time()))
        return response


# --- what every answer must be ------------------------------------------------------------


def answer_of(probe: Probe, rid: str, response: requests.Response) -> dict[str, Any] | str:
    """The answer in ``response`` to request ``rid``, or the first way it breaks the protocol."""
    if response.status_code != 200:
        hint = " (is the secret the verifier's?)" if response.status_code == 401 else ""
        return f"status {response.status_code}, expected 200{hint}"
    try:
        answer = response.json()
    except ValueError:
        return "the body is not JSON"
    if not isinstance(answer, dict):
        return "the body is not a JSON object"
    return _shape_problem(probe.role, rid, answer) or answer


def _shape_problem(role: str, rid: str, answer: Mapping[str, Any]) -> str | None:
    """The first field of ``answer`` that breaks the protocol, if any."""
    result, reason = answer.get("result"), answer.get("reason")
    if answer.get("request_id") != rid:
        return f"request_id {answer.get('request_id')!r}, expected the request's {rid}"
    if result not in protocol.RESULTS:
        return f"result {result!r} is not one of {', '.join(protocol.RESULTS)}"
    if not isinstance(answer.get("billable"), bool):
        return f"billable {answer.get('billable')!r} is not a boolean"
    if result == "mismatch" and not (isinstance(reason, str) and reason):
        return "a mismatch without a reason"
    if reason is not None and not isinstance(reason, str):
        return f"reason {reason!r} is not a string"
    score = answer.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1
    ):
        return f"score {score!r} is not a number in 0-1"
    amount = answer.get("amount")
    paid = isinstance(amount, str) and AMOUNT.fullmatch(amount)
    if role == "account" and result == "match" and not paid:
        return f'amount {amount!r} is not a string amount like "0.37"'
    return None


def _summary(answer: Mapping[str, Any]) -> str:
    """An answer in a few words: ``mismatch name_id_mismatch, billable false``."""
    words = [str(answer["result"])]
    if answer.get("reason"):
        words.append(str(answer["reason"]))
    if answer.get("amount") is not None:
        words.append(f"amount {answer['amount']}")
    return " ".join(words) + f", billable {json.dumps(answer['billable'])}"


def expect(
    probe: Probe,
    result: str,
    reason: str | None = None,
    *,
    changes: Mapping[str, str] | None = None,
    drop: str = "",
    force: str = "",
) -> Callable[[], Verdict]:
    """A check that one request is answered ``result`` (and ``reason``, when given)."""

    def check() -> Verdict:
        rid = protocol.new_request_id()
        response = probe.post(probe.body(rid, changes, drop), rid, force=force)
        answer = answer_of(probe, rid, response)
        if isinstance(answer, str):
            return FAIL, answer
        if answer["result"] != result or (reason is not None and answer.get("reason") != reason):
            wanted = " ".join(filter(None, [result, reason]))
            return FAIL, f"answered {_summary(answer)}; expected {wanted}"
        return PASS, _summary(answer)

    return check


# --- the cases ----------------------------------------------------------------------------


def unavailable_case(probe: Probe, result: str) -> Verdict:
    """``busy`` / ``daily_limit``: forced through the sandbox's header, or skipped."""
    if not probe.sandbox_headers:
        return SKIP, f"forced only on the sandbox ({SANDBOX_RESULT_HEADER}): --sandbox-headers"
    return expect(probe, result, force=result)()


def bad_signature_case(probe: Probe) -> Verdict:
    """A request signed under another secret is refused 401, with no result in the body."""
    rid = protocol.new_request_id()
    response = probe.post(probe.body(rid), rid, secret=probe.secret + "-not-the-secret")
    return _refused(response, "signed under another secret")


def missing_signature_case(probe: Probe) -> Verdict:
    """A request without the signature headers is refused 401."""
    rid = protocol.new_request_id()
    return _refused(probe.post(probe.body(rid), rid, signed=False), "without a signature")


def stale_timestamp_case(probe: Probe) -> Verdict:
    """A request signed 600 s in the past, or in the future, is refused 401."""
    for skew, when in ((-STALE_SECONDS, "in the past"), (STALE_SECONDS, "in the future")):
        rid = protocol.new_request_id()
        verdict = _refused(
            probe.post(probe.body(rid), rid, skew=skew), f"signed {STALE_SECONDS} s {when}"
        )
        if verdict[0] == FAIL:
            return verdict
    return PASS, f"401 to requests signed {STALE_SECONDS} s in the past and in the future"


def _refused(response: requests.Response, what: str) -> Verdict:
    """Pass a 401 whose body is no answer; fail anything else, saying what was sent."""
    if response.status_code != 401:
        return FAIL, f"status {response.status_code} to a request {what}, expected 401"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "result" in body:
        return FAIL, f"401 to a request {what}, but its body carries result {body['result']!r}"
    return PASS, f"401 to a request {what}"


def idempotency_case(probe: Probe) -> Verdict:
    """The same request id and body, sent three times, get the same answer."""
    rid, keys = protocol.new_request_id(), ("result", "reason", "billable", "amount", "score")
    body, seen = probe.body(rid), []
    for _ in range(3):
        answer = answer_of(probe, rid, probe.post(body, rid))
        if isinstance(answer, str):
            return FAIL, f"answer {len(seen) + 1} of 3: {answer}"
        seen.append(answer)
    differing = [key for key in keys if len({json.dumps(a.get(key)) for a in seen}) > 1]
    if differing:
        values = "; ".join(f"{key}: {[a.get(key) for a in seen]}" for key in differing)
        return FAIL, f"a repeated request id got different answers ({values})"
    return PASS, f"3 answers to one request id agree ({_summary(seen[0])})"


def malformed_body_case(probe: Probe) -> Verdict:
    """A signed body that is not JSON, or not a JSON object, gets a 4xx (not 401), no answer."""
    for body, what in ((b"{not json", "not JSON"), (b'["not", "an object"]', "a JSON array")):
        response = probe.post(body, None)
        if response.status_code == 401:
            return FAIL, f"401 to a validly signed body that is {what} (is the secret right?)"
        if not 400 <= response.status_code < 500:
            got = f"status {response.status_code}"
            if response.status_code == 200:
                answer = _json_or_none(response)
                if isinstance(answer, dict) and "result" in answer:
                    got += f" with result {answer['result']!r}"
            return FAIL, f"{got} to a body that is {what}, expected 400 (or another 4xx)"
    return PASS, "4xx to a body that is not JSON, and to a JSON array"


def _json_or_none(response: requests.Response) -> Any:
    """The response's JSON, or None."""
    try:
        return response.json()
    except ValueError:
        return None


def responses_signed_case(probe: Probe) -> Verdict:
    """Every 200 answer of this run carries a valid signature over ``200 <request_id>``."""
    if not probe.answered:
        return FAIL, "no 200 answer to check"
    for rid, response, arrived in probe.answered:
        line = protocol.response_line(200, rid)
        if not protocol.signature_valid(
            probe.secret, line, response.headers, response.content, arrived
        ):
            stamp = response.headers.get(protocol.TIMESTAMP_HEADER, "none")
            return FAIL, f"the 200 answer to {rid} is not signed validly (timestamp {stamp})"
    return PASS, f"all {len(probe.answered)} answers of 200 signed over '200 <request_id>'"


def cases(probe: Probe) -> list[tuple[str, Callable[[], Verdict]]]:
    """The cases of ``probe``'s role, in order: results, signatures, idempotency, form."""
    role = probe.role
    named: list[tuple[str, Callable[[], Verdict]]] = [("match", expect(probe, "match"))]
    for refusal in refusals(role):
        reason = refusal.code if refusal.result == "mismatch" else None  # optional for no_record
        check = expect(probe, refusal.result, reason, changes=refusal.changes)
        named.append((f"{refusal.result}:{refusal.code}", check))
    named += [
        ("invalid_input", expect(probe, "invalid_input", drop=protocol.ROLE_FIELDS[role][-1])),
        ("busy", lambda: unavailable_case(probe, "busy")),
        ("daily_limit", lambda: unavailable_case(probe, "daily_limit")),
        ("bad_signature", lambda: bad_signature_case(probe)),
        ("missing_signature", lambda: missing_signature_case(probe)),
        ("stale_timestamp", lambda: stale_timestamp_case(probe)),
        ("idempotent_repeat", lambda: idempotency_case(probe)),
        ("malformed_body", lambda: malformed_body_case(probe)),
        ("responses_signed", lambda: responses_signed_case(probe)),  # last: sees every answer
    ]
    return named


def run_cases(
    url: str,
    secret: str,
    role: str,
    session: requests.Session | None = None,
    *,
    sandbox_headers: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[CaseResult]:
    """Run every case of ``role`` (or of each role, for ``all``) against the verifier at ``url``.

    Requests go to ``<url>/v1/<role>`` only. ``sandbox_headers`` lets the ``busy`` and
    ``daily_limit`` cases force their outcome with the partner sandbox's header; without
    it they are skipped. A case that gets no answer (refused connection, timeout) fails.
    """
    if role == "all":
        return [
            result
            for each in ROLES
            for result in run_cases(
                url, secret, each, session, sandbox_headers=sandbox_headers, timeout=timeout
            )
        ]
    if role not in protocol.ROLE_FIELDS:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)} or all")
    own = session is None
    session = session or requests.Session()
    try:
        probe = Probe(url, secret, role, session, sandbox_headers, timeout)
        return [CaseResult(role, name, *_run(check)) for name, check in cases(probe)]
    finally:
        if own:
            session.close()


def _run(check: Callable[[], Verdict]) -> Verdict:
    """Run one case; a request that gets no answer fails it."""
    try:
        return check()
    except requests.RequestException as exc:
        return FAIL, f"no answer: {type(exc).__name__}: {exc}"


def all_passed(results: Iterable[CaseResult]) -> bool:
    """Whether no case failed (skipped cases do not count against)."""
    return not any(result.failed for result in results)


def format_table(results: list[CaseResult]) -> str:
    """A fixed-width table of the results, and a closing line naming the failed cases."""
    rows = [("ROLE", "CASE", "RESULT", "REASON")] + [
        (r.role, r.case, r.status.upper(), r.reason) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
    failed = [f"{r.role}/{r.case}" for r in results if r.failed]
    skipped = sum(r.status == SKIP for r in results)
    if failed:
        lines.append(f"{len(failed)} of {len(results)} cases FAIL: {', '.join(failed)}")
    else:
        lines.append(f"all {len(results)} cases pass ({skipped} skipped)")
    return "\n".join(lines)
