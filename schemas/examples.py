"""Example bodies of the OpenAPI document: complete, valid, and wholly synthetic.

The ID numbers, the USCC and the bank card carry valid check digits (python-stdnum:
``stdnum.cn.ric``, ``stdnum.cn.uscc``, ``stdnum.luhn``), so "Try it out" in ``/docs``
creates a verification; none of the values is a sandbox magic value (API.md § Sandbox).
"""

from __future__ import annotations

from typing import Any

POLICY_VERSION = "2025-02-24"

INDIVIDUAL_CREATE: dict[str, Any] = {
    "type": "individual",
    "reference": "user-123",
    "consent": {
        "granted": True,
        "policy_version": POLICY_VERSION,
        "purposes": ["real_name_authentication", "bank_card_verification", "facial_recognition"],
    },
    "individual": {
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "bank_card": {"number": "6222021234567890128", "reserved_phone": "13800138000"},
    },
    "options": {"face_match": True},
}

ORGANIZATION_CREATE: dict[str, Any] = {
    "type": "organization",
    "reference": "org-42",
    "consent": {
        "granted": True,
        "policy_version": POLICY_VERSION,
        "purposes": ["real_name_authentication", "bank_account_verification"],
    },
    "organization": {
        "name": "广州示例科技有限公司",
        "uscc": "91440101MA59UR3Q71",
        "entity_kind": "enterprise",
        "certificate_type": "business_license",
        "legal_representative": {
            "name": "李四",
            "id_number": "440106198501010015",
            "phone": "13900139000",
        },
        "agent": {"name": "王五", "id_number": "440104199003150025", "phone": "13700137000"},
        "bank_account": {
            "bank_name": "中国工商银行广州天河支行",
            "account_number": "3602000109000123456",
        },
        "contact": {"name": "王五", "phone": "13700137000", "email": "ops@example.cn"},
    },
    "options": {"face_match": False},
}

CREATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "individual": {
        "summary": "An individual, with a bank card and face match",
        "value": INDIVIDUAL_CREATE,
    },
    "organization": {
        "summary": "An organization acting through an agent",
        "value": ORGANIZATION_CREATE,
    },
}
"""The examples of ``POST /v1/verifications`` (the first is the one "Try it out" fills)."""
