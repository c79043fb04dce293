"""Every documented answer of the three Cloudauth operations, mapped to a domain result.

Each table maps a documented code to ``Match``, ``Mismatch(code)``, ``NotFound(code)`` or an
``Outage`` (raised as ``UpstreamUnavailable``), each with whether Alibaba bills it. A code
that is in no table, a ``Code`` other than the operation's success code, a body that is not
the documented shape: an outage, never a pass. Where the documentation is silent the entry
takes the safe side (an outage, or billed so the ledger never under-counts) and says so.

Sources (read 2026):

- ``Id2MetaVerify``, 2019-03-07 — codes and BizCode:
  https://help.aliyun.com/zh/id-verification/information-verification/developer-reference/vatsl9lfmbwe74iv
  billing (BizCode 1 计费, 2 计费, 3 不计费), stated on the same operation's international
  page: https://www.alibabacloud.com/help/zh/ekyc/latest/ok4bwxwmu1n94o76
- ``BankMetaVerify``, 2019-03-07 — codes:
  https://help.aliyun.com/en/id-verification/information-verification/developer-reference/bank-card-verification
  BizCode with billing and every SubCode: the API metadata the official SDK is generated
  from (``alibabacloud_cloudauth20190307`` 3.14.0,
  ``models/_bank_meta_verify_response_body.py``); the same list on
  https://www.alibabacloud.com/help/en/ekyc/latest/bank-card-n-meta
- ``EntElementVerify``, 2022-11-25 (not in the 2019-03-07 SDK; called through its
  generic ``call_api``) — codes, BizCode, ReasonCode, ReasonDetail, Status:
  https://help.aliyun.com/zh/id-verification/enterprise-identity-authentication/developer-reference/enterprise-element-verification
  https://help.aliyun.com/document_detail/600343.html ; Status values as in the
  2022-11-25 SDK's ``models/_ent_element_verify_response_body.py``
  (github.com/aliyun/alibabacloud-python-sdk, ``cloudauth-20221125``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.results import CheckOutcome, Match, Mismatch, NotFound


@dataclass(frozen=True)
class Outage:
    """A documented answer that is no result: raised as ``UpstreamUnavailable``."""

    reason: str
    billable: bool = False


Entry = Match | Mismatch | NotFound | Outage

# --- Codes of the 2019-03-07 information-verification operations -------------------------
# Id2MetaVerify and BankMetaVerify answer HTTP 200 with ``Code`` in the body: "200" is
# success; every other documented Code is an outage, not billed (no BizCode is returned).
# https://help.aliyun.com/zh/id-verification/information-verification/developer-reference/vatsl9lfmbwe74iv
# https://help.aliyun.com/en/id-verification/information-verification/developer-reference/bank-card-verification

VERIFY_SUCCESS = frozenset({"200"})
VERIFY_CODES: dict[str, Outage] = {
    "400": Outage("a required parameter is empty (400)"),
    "401": Outage("a parameter is invalid (401)"),
    "402": Outage("the authoritative source is unavailable (402)"),
    "403": Outage("abnormal repeated calls over the limit (403)"),
    "410": Outage("the service is not activated (410)"),
    "411": Outage("the RAM user lacks permission (411)"),
    "412": Outage("the account is in arrears (412)"),
    "500": Outage("Alibaba's system error (500)"),
}

# --- Id2MetaVerify: ResultObject.BizCode -----------------------------------------------
# 1 校验一致 (billed), 2 校验不一致 (billed), 3 查无记录 (not billed).

ID_2META: dict[str, Entry] = {
    "1": Match(billable=True),
    "2": Mismatch("name_id_mismatch", billable=True),
    "3": NotFound("id_not_found", billable=False),
}

# --- BankMetaVerify (BANK_CARD_4_META): ResultObject.BizCode and SubCode ------------------
# BizCode 1 consistent (billed), 2 inconsistent (billed), 3 no record / unable to verify
# (not billed). A (BizCode, SubCode) pair not listed here is an outage, billed as its
# BizCode is (BANK_BILLED; an unknown BizCode: not billed).

BANK_BILLED: dict[str, bool] = {"1": True, "2": True, "3": False}
BANK_4META: dict[tuple[str, str], Entry] = {
    ("1", "101"): Match(billable=True),  # verification passed
    # 2: inconsistent (billed)
    ("2", "201"): Mismatch("bank_card_mismatch", billable=True),  # cardholder data wrong
    ("2", "202"): Mismatch("card_not_supported", billable=True),  # no card-not-present payment
    ("2", "203"): Mismatch("card_not_supported", billable=True),  # card expired
    ("2", "204"): Mismatch("card_not_supported", billable=True),  # card restricted
    ("2", "205"): Mismatch("card_not_supported", billable=True),  # card confiscated
    ("2", "206"): Mismatch("bank_card_mismatch", billable=True),  # invalid card (number)
    ("2", "207"): Mismatch("bank_card_mismatch", billable=True),  # no issuing bank for it
    ("2", "208"): Mismatch("card_not_supported", billable=True),  # not initialised / dormant
    ("2", "209"): Mismatch("card_not_supported", billable=True),  # fraudulent / retained card
    ("2", "210"): Mismatch("card_not_supported", billable=True),  # reported lost
    ("2", "211"): Mismatch("card_not_supported", billable=True),  # password tries exceeded
    ("2", "212"): Mismatch("card_not_supported", billable=True),  # issuer refuses the kind
    ("2", "213"): Mismatch("card_not_supported", billable=True),  # abnormal status / invalid
    ("2", "214"): Mismatch("phone_mismatch", billable=True),  # no phone reserved at the bank
    ("2", "215"): Mismatch("bank_card_mismatch", billable=True),  # password/expiry/CVN2 wrong
    ("2", "216"): Mismatch("card_not_supported", billable=True),  # other card exception
    # 3: unable to verify (not billed)
    ("3", "301"): Mismatch("card_not_supported", billable=False),  # card lacks the service
    ("3", "302"): Mismatch("card_not_supported", billable=False),  # the bank refused; ask it
    ("3", "303"): Mismatch("card_not_supported", billable=False),  # no phone verification
    ("3", "304"): Mismatch("bank_card_mismatch", billable=False),  # card number wrong
    ("3", "305"): Outage("unable to verify for another reason (305)"),  # unclear: safe side
    ("3", "306"): Outage("verification attempts over the limit (306)"),  # retry later
}

# --- EntElementVerify (ENT_3META), 2022-11-25 ------------------------------------------
# ``Code`` "Success" (documented, HTTP 200). Assumption: "200", the success code of every
# other Cloudauth operation, is accepted too — it decides nothing, the Result does. The
# documented errors come with an HTTP 4xx (the SDK raises; an outage); in a body they are
# outages too. Billing per BizCode is not documented: assumed billed, all three (the
# ledger then never under-counts).

ENT_SUCCESS = frozenset({"Success", "200"})
ENT_CODES: dict[str, Outage] = {
    "MissingParameter": Outage("a required parameter is missing"),
    "InvalidParameter": Outage("a parameter is invalid"),
    "Forbidden.AccountAccessDenied": Outage("not activated, or the account is in arrears"),
    "Forbidden.RAMUserAccessDenied": Outage("the RAM user lacks permission"),
}
ENT_BILLED: dict[str, bool] = {"1": True, "2": True, "3": True}

# BizCode 1 (consistent): the entity's Status (经营状态) decides.
ENT_STATUS: dict[str, Entry] = {
    "1": Match(billable=True),  # in operation (在营/开业)
    "2": Match(billable=True),  # relocated (迁出): the entity still exists
    "3": Mismatch("entity_deregistered", billable=True),  # deregistered (注销)
    "4": Mismatch("entity_deregistered", billable=True),  # licence revoked (吊销)
    "5": Mismatch("entity_deregistered", billable=True),  # registration cancelled (撤销)
    "6": Outage("the entity's business is suspended (停业)", billable=True),  # unclear
    "0": Outage("the entity's status is 'other'", billable=True),  # unclear
}

# BizCode 2 (inconsistent): ReasonDetail names the elements, comma-separated. An entity
# element outranks the legal representative. LegalPersonCertNoFlag (4-element only, not
# sent) or an unknown flag: an outage.
ENT_FLAGS: dict[str, str] = {
    "EntNameFlag": "entity_name_mismatch",
    "LicenseNoFlag": "entity_name_mismatch",
    "LegalPersonNameFlag": "legal_representative_mismatch",
}
ENT_FLAG_RANK = ("entity_name_mismatch", "legal_representative_mismatch")
# ReasonCode (stopped on 2023-06-15 but still sent to older accounts), read for BizCode 2
# only when ReasonDetail is empty: 201 person-entity mismatch, 202 entity two-element
# mismatch, 302 legal person not in the registry.
ENT_REASON_CODES: dict[str, str] = {
    "201": "legal_representative_mismatch",
    "202": "entity_name_mismatch",
    "302": "legal_representative_mismatch",
}

# BizCode 3 (未查得): no such entity.
ENT_NOT_FOUND = NotFound("entity_not_found", billable=ENT_BILLED["3"])


def code_of(value: Any) -> str | None:
    """A code as text: a string, or an integer (Alibaba's examples show both); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def fail(outage: Outage, role: str) -> NoReturn:
    """Raise the outage as ``UpstreamUnavailable`` (its reason names codes, never data)."""
    raise UpstreamUnavailable(
        f"the Alibaba {role} check is unavailable: {outage.reason}", billable=outage.billable
    )


def resolve(entry: Entry, role: str) -> CheckOutcome:
    """The domain result of a table entry; an ``Outage`` raises ``UpstreamUnavailable``."""
    if isinstance(entry, Outage):
        fail(entry, role)
    return entry


def result_of(
    body: Any,
    role: str,
    *,
    success: frozenset[str],
    errors: Mapping[str, Outage],
    result_key: str,
) -> Mapping[str, Any]:
    """The result object of a body whose ``Code`` is the success code; else raise."""
    if not isinstance(body, Mapping):
        fail(Outage("the answer is not a JSON object"), role)
    code = code_of(body.get("Code"))
    if code not in success:
        known = errors.get(code or "")
        fail(known or Outage("the answer has an undocumented Code"), role)
    result = body.get(result_key)
    if not isinstance(result, Mapping):
        fail(Outage(f"the answer has no {result_key}"), role)
    return result


def id_2meta_outcome(body: Any) -> CheckOutcome:
    """Map an ``Id2MetaVerify`` body (``ResultObject.BizCode``)."""
    role = "identity"
    result = result_of(
        body, role, success=VERIFY_SUCCESS, errors=VERIFY_CODES, result_key="ResultObject"
    )
    entry = ID_2META.get(code_of(result.get("BizCode")) or "")
    return resolve(entry or Outage("the answer has an undocumented BizCode"), role)


def bank_4meta_outcome(body: Any) -> CheckOutcome:
    """Map a ``BankMetaVerify`` body (``ResultObject.BizCode`` and ``SubCode``)."""
    role = "bank card"
    result = result_of(
        body, role, success=VERIFY_SUCCESS, errors=VERIFY_CODES, result_key="ResultObject"
    )
    biz = code_of(result.get("BizCode")) or ""
    sub = code_of(result.get("SubCode")) or ""
    billed = BANK_BILLED.get(biz, False)
    unknown = Outage("the answer has an undocumented BizCode/SubCode", billable=billed)
    return resolve(BANK_4META.get((biz, sub), unknown), role)


def ent_3meta_outcome(body: Any) -> CheckOutcome:
    """Map an ``EntElementVerify`` body (``Result``: BizCode, Status, ReasonDetail)."""
    role = "business registry"
    result = result_of(body, role, success=ENT_SUCCESS, errors=ENT_CODES, result_key="Result")
    biz = code_of(result.get("BizCode")) or ""
    if biz == "1":
        status = code_of(result.get("Status")) or ""
        unknown = Outage("the answer has no documented Status", billable=ENT_BILLED["1"])
        return resolve(ENT_STATUS.get(status, unknown), role)
    if biz == "2":
        return resolve(_ent_mismatch(result), role)
    if biz == "3":
        return ENT_NOT_FOUND
    fail(Outage("the answer has an undocumented BizCode"), role)


def _ent_mismatch(result: Mapping[str, Any]) -> Entry:
    """The failure of an inconsistent answer: from ReasonDetail, else ReasonCode."""
    billed = ENT_BILLED["2"]
    detail = result.get("ReasonDetail")
    flags = [flag.strip() for flag in detail.split(",")] if isinstance(detail, str) else []
    flags = [flag for flag in flags if flag]
    if not flags:
        code = ENT_REASON_CODES.get(code_of(result.get("ReasonCode")) or "")
        if code is None:
            return Outage("an inconsistent answer names no documented element", billed)
        return Mismatch(code, billable=billed)
    codes = {ENT_FLAGS.get(flag) for flag in flags}
    if None in codes:
        return Outage("an inconsistent answer names an element not sent or unknown", billed)
    first = next(code for code in ENT_FLAG_RANK if code in codes)
    return Mismatch(first, billable=billed)
