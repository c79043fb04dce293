"""Loopback fakes of the two cloud providers' verification APIs, shared by their unit tests
(``test_tencent_faceid``, ``test_alibaba_cloudauth``) and the end-to-end flows
(``test_provider_end_to_end``).

- ``FakeFaceId`` / ``create_fake``: Tencent Cloud FaceID (``faceid.tencentcloudapi.com``),
  which checks every request's TC3-HMAC-SHA256 signature (``signed_by_us``) with this file's
  own implementation of Tencent's "Signature v3" document.
- ``FakeCloudauth``: Alibaba Cloud Cloudauth, which checks every request's V3 signature
  (``ACS3-HMAC-SHA256``) with this file's own implementation of Alibaba's documented
  algorithm, plus its date and nonce.

Each fake records what passed the signature check. By default it answers what a unit test
sets (``FakeFaceId.reply``, ``FakeCloudauth.answers``); in *magic* mode it answers by the
request's content as the in-process sandbox would (``adapters/sandbox/magic.py``), with each
provider's own codes — the ``*_MAGIC`` tables below, keyed by the sandbox's failure code. A
per-action answer set by a test (``FakeFaceId.overrides``, ``FakeCloudauth.answers``) wins
over magic.

One sandbox outcome has no provider code: Tencent's BankCard4EVerification does not tell a
wrong reserved phone from another wrong element (``-1`` covers both), so its magic answer
for the ``phone_mismatch`` phone is ``-1``, which the adapter maps to
``bank_card_mismatch`` (``TENCENT_DIFFERS``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Flask, Response, jsonify, request
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as WerkzeugResponse

from adapters.sandbox.magic import (
    ENTITY_NAMES,
    IDENTITY_NAMES,
    LEGAL_REPRESENTATIVE_NAMES,
    PORTRAIT_NAMES,
    RESERVED_PHONES,
    UNAVAILABLE_RESERVED_PHONE,
    national_number,
)


@contextmanager
def quiet_werkzeug() -> Iterator[None]:
    """Keep werkzeug's request lines out of the logs while serving a fake (an Alibaba request
    line carries the submitted fields in its query string)."""
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        werkzeug_log.setLevel(level)


# === Tencent Cloud FaceID =====================================================================

TENCENT_SECRET_ID = "AKIDtestsecretid0000000000000000"
TENCENT_SECRET_KEY = "test-secret-key-never-logged-0001"

# --- TC3-HMAC-SHA256, written from Tencent's "Signature v3" document ------------------------


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_request(
    method: str, uri: str, query: str, headers: dict[str, str], payload: bytes
) -> str:
    """Step 1: method, URI, query, the signed headers (lower-case ``key:value``, sorted by
    key), their names, and the payload's SHA-256."""
    names = sorted(key.lower().strip() for key in headers)
    values = {key.lower().strip(): value.strip().lower() for key, value in headers.items()}
    canonical_headers = "".join(f"{name}:{values[name]}\n" for name in names)
    return "\n".join([method, uri, query, canonical_headers, ";".join(names), sha256_hex(payload)])


def string_to_sign(timestamp: int, service: str, canonical: str) -> str:
    """Step 2: algorithm, timestamp, ``date/service/tc3_request`` (UTC date), the canonical
    request's SHA-256."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    return "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, sha256_hex(canonical.encode())])


def tc3_signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    """Step 3: the key derived from ``"TC3" + SecretKey`` over date, service and
    ``tc3_request``, then HMAC-SHA256 of the string to sign, in lower-case hex."""

    def mac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


# --- The fake Tencent endpoint ------------------------------------------------------------

TC3_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class TencentSeen:
    """One request that passed the signature check."""

    action: str
    fields: dict[str, Any]
    headers: dict[str, str]


def tencent_answer(response: dict[str, Any]) -> Response:
    """A Tencent-shaped JSON answer (HTTP 200, ``application/json``)."""
    body = {"Response": {**response, "RequestId": str(uuid.uuid4())}}
    return jsonify(body)


def tencent_result(code: Any, **extra: Any) -> Response:
    """An answer with a ``Result``."""
    return tencent_answer({"Result": code, "Description": "描述", **extra})


def tencent_error(code: str) -> Response:
    """An answer with an ``Error``."""
    return tencent_answer({"Error": {"Code": code, "Message": f"{code} 的说明"}})


@dataclass
class FakeFaceId:
    """What the fake answers, and what it saw.

    ``reply`` answers every request (a unit test sets it); with ``magic`` the request's
    content decides instead (``tencent_magic_answer``); ``overrides`` (by ``X-TC-Action``)
    wins over both. ``refused`` counts requests whose signature did not verify.
    """

    reply: Callable[[], Any] = lambda: tencent_result("0")
    seen: list[TencentSeen] = field(default_factory=list)
    refused: int = 0
    refusals_expected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    magic: bool = False
    overrides: dict[str, Callable[[], Any]] = field(default_factory=dict)
    secret_id: str = TENCENT_SECRET_ID
    secret_key: str = field(default=TENCENT_SECRET_KEY, repr=False)

    def answer(self, seen: TencentSeen) -> Any:
        """The answer to a request that passed the signature check."""
        override = self.overrides.get(seen.action)
        if override is not None:
            return override()
        if self.magic:
            return tencent_magic_answer(seen)
        return self.reply()

    def actions(self) -> list[str]:
        """The actions asked so far, in order."""
        with self.lock:
            return [seen.action for seen in self.seen]


def signed_by_us(
    headers: Any,
    body: bytes,
    secret_id: str = TENCENT_SECRET_ID,
    secret_key: str = TENCENT_SECRET_KEY,
) -> bool:
    """Whether the request (flask's current one) carries a valid TC3 signature of the given
    key, made now."""
    found = TC3_AUTHORIZATION.fullmatch(headers.get("Authorization", ""))
    timestamp = headers.get("X-TC-Timestamp", "")
    if not found or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    signed = found["signed"].split(";")
    if found["id"] != secret_id or found["service"] != "faceid" or "host" not in signed:
        return False
    signed_headers = {name: headers.get(name, "") for name in signed}
    canonical = canonical_request(
        request.method, request.path, request.query_string.decode(), signed_headers, body
    )
    to_sign = string_to_sign(int(timestamp), found["service"], canonical)
    if not to_sign.split("\n")[2].startswith(found["date"] + "/"):
        return False
    expected = tc3_signature(secret_key, found["date"], found["service"], to_sign)
    return hmac.compare_digest(expected, found["signature"])


def create_fake(fake: FakeFaceId) -> Flask:
    """A fake of ``faceid.tencentcloudapi.com``: POST / with the X-TC-* headers."""
    app = Flask("fake-faceid")

    @app.post("/")
    def api():  # noqa: ANN202
        body = request.get_data()
        if not signed_by_us(request.headers, body, fake.secret_id, fake.secret_key):
            with fake.lock:
                fake.refused += 1
            return tencent_error("AuthFailure.SignatureFailure")
        if request.headers.get("X-TC-Version") != "2018-03-01":
            return tencent_error("NoSuchVersion")
        seen = TencentSeen(request.headers["X-TC-Action"], json.loads(body), dict(request.headers))
        with fake.lock:
            fake.seen.append(seen)
        return fake.answer(seen)

    return app


# --- Tencent's magic answers ----------------------------------------------------------------
# Keyed by the sandbox's failure code; each value is the FaceID ``Result`` that
# ``adapters/tencent_faceid/codes.py`` maps to that code (billed as Tencent bills it).

TENCENT_IDENTITY_MAGIC: dict[str, str] = {
    "name_id_mismatch": "-1",  # 姓名和身份证号不一致
    "id_not_found": "-5",  # 证件库中无此身份证记录
}
TENCENT_BANK_MAGIC: dict[str, str] = {
    "phone_mismatch": "-1",  # 认证未通过: Tencent has no code of its own for a wrong phone
    "bank_card_mismatch": "-1",  # 认证未通过
    "card_not_supported": "-7",  # 未开通无卡支付
}
TENCENT_BANK_OUTAGE = "-18"
"""验证中心服务繁忙: the answer to the sandbox's outage phone (an unbilled outage)."""
TENCENT_PORTRAIT_MAGIC: dict[str, str] = {
    "portrait_mismatch": "FailedOperation.CompareLowSimilarity",
}
TENCENT_PORTRAIT_SIM = {"Success": 95, "FailedOperation.CompareLowSimilarity": 12}
TENCENT_DIFFERS: dict[str, str] = {"phone_mismatch": "bank_card_mismatch"}
"""Sandbox outcomes no Tencent answer reproduces: the sandbox's code → the adapter's."""


def tencent_magic_answer(seen: TencentSeen) -> Response:
    """What FaceID answers ``seen`` when it behaves like the sandbox (``magic.py``)."""
    fields = seen.fields
    if seen.action == "IdCardVerification":
        code = IDENTITY_NAMES.get(fields.get("Name", ""), "")
        return tencent_result(TENCENT_IDENTITY_MAGIC.get(code, "0"))
    if seen.action == "BankCard4EVerification":
        phone = national_number(str(fields.get("Phone", "")))
        if phone == UNAVAILABLE_RESERVED_PHONE:
            return tencent_result(TENCENT_BANK_OUTAGE)
        return tencent_result(TENCENT_BANK_MAGIC.get(RESERVED_PHONES.get(phone, ""), "0"))
    if seen.action == "ImageRecognitionV2":
        code = PORTRAIT_NAMES.get(fields.get("Name", ""), "")
        result = TENCENT_PORTRAIT_MAGIC.get(code, "Success")
        return tencent_result(result, Sim=TENCENT_PORTRAIT_SIM[result])
    return tencent_error("InvalidAction")


# === Alibaba Cloud Cloudauth ==================================================================

ALIBABA_KEY_ID = "LTAI-test-key-id"
ALIBABA_SECRET = "test-secret-never-shown"
ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
ACS3_MUST_SIGN = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")

# --- Alibaba's V3 signature, written from the documentation ---------------------------


def rfc3986(text: str) -> str:
    """Percent-encode as the V3 signature wants: every byte but A-Z a-z 0-9 - _ . ~."""
    return quote(text, safe="~")


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """Encoded ``key=value`` pairs, sorted by key, joined by ``&``."""
    encoded = sorted((rfc3986(key), rfc3986(value)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def acs3_signature(
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    signed: list[str],
) -> str:
    """The hex HMAC-SHA256 of the string to sign (CanonicalRequest hashed)."""
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            quote(path or "/", safe="/~"),
            canonical_query(query),
            canonical_headers,
            ";".join(signed),
            headers["x-acs-content-sha256"],
        ]
    )
    hashed = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ACS3_ALGORITHM}\n{hashed}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


# --- The fake Cloudauth endpoint ------------------------------------------------------


@dataclass
class CloudauthAnswer:
    """What the fake answers an action: a status, a body, after a delay."""

    body: bytes
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class CloudauthSeen:
    """A request the fake verified: its action, version, query and form fields."""

    action: str
    version: str
    query: dict[str, str]
    form: dict[str, str]


def alibaba_json(payload: Any, status: int = 200, **headers: str) -> CloudauthAnswer:
    """An answer of JSON ``payload``."""
    return CloudauthAnswer(
        json.dumps(payload, ensure_ascii=False).encode(), status, headers=headers
    )


def alibaba_success(
    result: Mapping[str, Any], code: Any = "200", key: str = "ResultObject"
) -> CloudauthAnswer:
    """A 2019-03-07 style success (``Code`` 200) carrying ``result``."""
    return alibaba_json(
        {
            "RequestId": "8FC3D6AC-9FED-4311-8DA7-C4BF47D9F260",
            "Code": code,
            "Message": "success",
            key: dict(result),
        }
    )


def alibaba_ent(result: Mapping[str, Any], code: str = "Success") -> CloudauthAnswer:
    """An EntElementVerify (2022-11-25) success: ``Code`` Success, the ``Result``."""
    return alibaba_success(result, code, "Result")


def alibaba_error(code: str, status: int = 400, **headers: str) -> CloudauthAnswer:
    """Alibaba's error shape."""
    payload = {
        "RequestId": "5C1A2B3D",
        "HostId": "cloudauth.aliyuncs.com",
        "Code": code,
        "Message": f"{code} (fake)",
        "Recommend": "https://api.aliyun.com/troubleshoot",
    }
    return alibaba_json(payload, status, **headers)


class FakeCloudauth:
    """A loopback Cloudauth: checks the signature, records the fields, answers per action
    (``answers``, set by a test), else — with ``magic`` — by the request's content as the
    sandbox would (``alibaba_magic_answer``)."""

    def __init__(
        self,
        *,
        magic: bool = False,
        key_id: str = ALIBABA_KEY_ID,
        secret: str = ALIBABA_SECRET,
    ) -> None:
        self.answers: dict[str, CloudauthAnswer] = {}
        self.seen: list[CloudauthSeen] = []
        self.rejected: list[str] = []
        self.nonces: set[str] = set()
        self.magic = magic
        self.key_id = key_id
        self._secret = secret

    def reset(self) -> None:
        """Forget answers and requests (not nonces: a nonce is never reusable; not the
        mode)."""
        self.answers.clear()
        self.seen.clear()
        self.rejected.clear()

    def actions(self) -> list[str]:
        """The actions asked so far, in order."""
        return [seen.action for seen in self.seen]

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.application(environ, start_response)

    @Request.application
    def application(self, request: Request) -> WerkzeugResponse:
        body = request.get_data(cache=True)
        problem = self.signature_problem(request, body)
        if problem is not None:
            self.rejected.append(problem[0])
            return self.respond(alibaba_error(problem[0], problem[1]))
        action = request.headers["x-acs-action"]
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        query = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        seen = CloudauthSeen(action, request.headers["x-acs-version"], query, form)
        self.seen.append(seen)
        answer = self.answers.get(action)
        if answer is None and self.magic:
            answer = alibaba_magic_answer(seen)
        answer = answer or alibaba_error("InvalidAction.NotFound", 404)
        time.sleep(answer.delay)
        return self.respond(answer)

    @staticmethod
    def respond(answer: CloudauthAnswer) -> WerkzeugResponse:
        """The HTTP response of ``answer``."""
        response = WerkzeugResponse(
            answer.body, status=answer.status, content_type="application/json"
        )
        response.headers.update(answer.headers)
        return response

    def signature_problem(self, request: Request, body: bytes) -> tuple[str, int] | None:
        """Alibaba's error code and status for a request that does not verify, or None."""
        scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
        parts = dict(part.partition("=")[::2] for part in rest.split(","))
        signed = parts.get("SignedHeaders", "").split(";")
        headers = {name.lower(): value for name, value in request.headers.items()}
        present = {name for name in headers if name.startswith("x-acs-")} | {"host"}
        if "content-type" in headers:
            present.add("content-type")
        if scheme != ACS3_ALGORITHM or not set(ACS3_MUST_SIGN) <= set(signed):
            return "IncompleteSignature", 400
        if present - set(signed):
            return "IncompleteSignature", 400
        if signed != sorted(signed) or any(name not in headers for name in signed):
            return "IncompleteSignature", 400
        if parts.get("Credential") != self.key_id:
            return "InvalidAccessKeyId.NotFound", 404
        if headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return "SignatureDoesNotMatch", 400
        query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        expected = acs3_signature(
            self._secret, request.method, request.path, query, headers, signed
        )
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return "SignatureDoesNotMatch", 400
        return self.replay_problem(headers)

    def replay_problem(self, headers: Mapping[str, str]) -> tuple[str, int] | None:
        """A stale date (over 15 minutes) or a nonce seen before."""
        when = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - when).total_seconds()) > 900:
            return "InvalidTimeStamp.Expired", 400
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self.nonces:
            return "SignatureNonceUsed", 400
        self.nonces.add(nonce)
        return None


# --- Alibaba's magic answers ----------------------------------------------------------------
# Keyed by the sandbox's failure code; each value is the result that
# ``adapters/alibaba_cloudauth/codes.py`` maps to that code (billed as Alibaba bills it).

ALIBABA_IDENTITY_MAGIC: dict[str, str] = {
    "name_id_mismatch": "2",  # 校验不一致
    "id_not_found": "3",  # 查无记录
}
ALIBABA_BANK_MAGIC: dict[str, tuple[str, str]] = {
    "phone_mismatch": ("2", "214"),  # no phone reserved at the bank (for this card)
    "bank_card_mismatch": ("2", "201"),  # cardholder data wrong
    "card_not_supported": ("2", "202"),  # no card-not-present payment
}
ALIBABA_BANK_OUTAGE = ("ServiceUnavailable", 503)
"""The answer to the sandbox's outage phone: Alibaba's error shape, HTTP 503."""
ALIBABA_ENTITY_MAGIC: dict[str, dict[str, str]] = {
    "entity_not_found": {"BizCode": "3", "ReasonCode": "301"},  # 未查得
    "entity_deregistered": {"BizCode": "1", "Status": "3"},  # consistent, but 注销
}
ALIBABA_REPRESENTATIVE_MAGIC: dict[str, dict[str, str]] = {
    "legal_representative_mismatch": {
        "BizCode": "2",
        "Status": "1",
        "ReasonDetail": "LegalPersonNameFlag",
    },
}
ALIBABA_ENTITY_OPERATING = {"BizCode": "1", "Status": "1", "OpenTime": "2018-09-25/9999-09-09"}


def alibaba_magic_answer(seen: CloudauthSeen) -> CloudauthAnswer | None:
    """What Cloudauth answers ``seen`` when it behaves like the sandbox (``magic.py``); None
    for an action it does not know."""
    fields = {**seen.query, **seen.form}
    if seen.action == "Id2MetaVerify":
        code = IDENTITY_NAMES.get(fields.get("UserName", ""), "")
        return alibaba_success({"BizCode": ALIBABA_IDENTITY_MAGIC.get(code, "1")})
    if seen.action == "BankMetaVerify":
        phone = national_number(fields.get("Mobile", ""))
        if phone == UNAVAILABLE_RESERVED_PHONE:
            return alibaba_error(*ALIBABA_BANK_OUTAGE)
        biz, sub = ALIBABA_BANK_MAGIC.get(RESERVED_PHONES.get(phone, ""), ("1", "101"))
        return alibaba_success({"BizCode": biz, "SubCode": sub})
    if seen.action == "EntElementVerify":
        entity = ALIBABA_ENTITY_MAGIC.get(ENTITY_NAMES.get(fields.get("EntName", ""), ""))
        if entity is not None:
            return alibaba_ent(entity)
        representative = LEGAL_REPRESENTATIVE_NAMES.get(fields.get("LegalPersonName", ""), "")
        return alibaba_ent(
            ALIBABA_REPRESENTATIVE_MAGIC.get(representative, ALIBABA_ENTITY_OPERATING)
        )
    return None
