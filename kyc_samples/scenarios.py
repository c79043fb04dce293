"""The walkthrough's scenarios: who is verified, with which documents, and what must come of it.

Every scenario names its request body, the documents it uploads (``kind`` → an image file
that :mod:`kyc_samples.documents` draws) and the outcome API.md promises in test mode
(§ Sandbox magic values): a final or waiting status and ``last_error.code``. The people,
companies and identifiers are made up, the same on every run, with valid check digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kyc_samples.people import Person, account_number, bank_card_number, person, uscc

POLICY_VERSION = "2025-02-24"
DEPOSIT_AMOUNT = "0.32"
"""The micro-deposit the sandbox account verifier always pays in test mode."""


@dataclass(frozen=True)
class CardHolder:
    """A person whose ID card is drawn: the card's file stem and whether a photo or a scan."""

    stem: str
    holder: Person
    scan: bool = False

    @property
    def front(self) -> str:
        """The card front's file name."""
        return f"images/{self.stem}_id_front.jpg"

    @property
    def back(self) -> str:
        """The card back's file name."""
        return f"images/{self.stem}_id_back.jpg"


@dataclass(frozen=True)
class Page:
    """An organization page to draw: a business licence or a power of attorney."""

    file: str
    kind: str
    company: str
    uscc: str = ""
    representative: str = ""
    agent: Person | None = None
    sealed: bool = True
    photo: bool = False


@dataclass(frozen=True)
class Scenario:
    """One walkthrough scenario: its body, its documents and the outcome to expect."""

    name: str
    title: str
    body: dict[str, Any]
    documents: dict[str, str]
    status: str
    code: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def body_file(self) -> str:
        """The request body's file name."""
        return f"bodies/{self.name}.json"

    @property
    def outcome(self) -> str:
        """The expected outcome as the walkthrough prints it: ``status`` or ``status (code)``."""
        return f"{self.status} ({self.code})" if self.code else self.status


@dataclass(frozen=True)
class Samples:
    """Everything to write: the cards, the pages, the selfie and the scenarios."""

    cards: list[CardHolder]
    pages: list[Page]
    selfie: str
    selfie_face: str
    scenarios: list[Scenario]


SELFIE = "images/person_selfie.jpg"
PERSON = person(101, face="obama_1")
"""The individual of the walkthrough; the selfie (another photo of the same face) is his."""
REPRESENTATIVE = person(201, face="obama_1")
AGENT = person(202, face="biden_1")
COMPANY = "北京星河科技有限公司"
BANK_NAME = "中国工商银行北京朝阳支行"


def samples() -> Samples:
    """Return the walkthrough's documents and scenarios, the same on every call."""
    cards = [
        CardHolder("person", PERSON),
        CardHolder("person_scan", PERSON, scan=True),
        *(CardHolder(stem, person(seed, face="obama_1", name=name)) for stem, name, seed in MAGIC),
        CardHolder("legal_rep", REPRESENTATIVE),
        CardHolder("agent", AGENT),
        CardHolder("rep_mismatch", person(203, face="obama_1", name="测试法人不符")),
    ]
    holders = {card.stem: card for card in cards}
    pages = _pages()
    scenarios = [
        *_individual_scenarios(holders),
        *_organization_scenarios(holders, {page.file: page for page in pages}),
    ]
    return Samples(cards, pages, SELFIE, "obama_2", scenarios)


MAGIC = (
    ("name_mismatch", "测试不符", 102),
    ("not_found", "测试无此人", 103),
    ("portrait_mismatch", "测试人像不符", 104),
)
"""The individual name magic values: (file stem, name printed on the card, person seed)."""
BANK_MAGIC = (
    ("bank_phone_mismatch", "13900000001", "rejected", "phone_mismatch"),
    ("bank_card_mismatch", "13900000002", "rejected", "bank_card_mismatch"),
    ("bank_card_not_supported", "13900000003", "rejected", "card_not_supported"),
    ("bank_unavailable", "13900000009", "processing", "upstream_unavailable"),
)
"""The bank ``reserved_phone`` magic values: (scenario, phone, status, code)."""


def _individual_scenarios(holders: dict[str, CardHolder]) -> list[Scenario]:
    """The person verified (photos with a selfie, and flat scans), then each magic value."""
    photos, scans = holders["person"], holders["person_scan"]
    found = [
        Scenario(
            "individual",
            "a person, card photographed on a desk, with a selfie (face match): verified",
            _individual_body("individual", PERSON, seed=1, face_match=True),
            {**_card_documents(photos, "id_card"), "selfie": SELFIE},
            "verified",
        ),
        Scenario(
            "individual_scans",
            "the same person's card as flat scans, without face match: verified",
            _individual_body("individual_scans", PERSON, seed=1),
            _card_documents(scans, "id_card"),
            "verified",
        ),
    ]
    codes = {"name_mismatch": "name_id_mismatch", "not_found": "id_not_found"}
    codes["portrait_mismatch"] = "portrait_mismatch"
    for stem, name, seed in MAGIC:
        card, face_match = holders[stem], stem == "portrait_mismatch"
        documents = _card_documents(card, "id_card")
        if face_match:
            documents["selfie"] = SELFIE
        body = _individual_body(f"individual_{stem}", card.holder, seed, face_match=face_match)
        title = f"name {name} on the card and in the body"
        found.append(
            Scenario(f"individual_{stem}", title, body, documents, "rejected", codes[stem])
        )
    for name, phone, status, code in BANK_MAGIC:
        body = _individual_body(name, PERSON, seed=1, reserved_phone=phone)
        title = f"the person's bank card with the bank-reserved phone {phone}"
        documents = _card_documents(photos, "id_card")
        notes = [RETRIED] if status == "processing" else []
        found.append(Scenario(name, title, body, documents, status, code, notes))
    return found


RETRIED = (
    "stays processing: `kyc-service retry-pending` (cron) retries it, and sends it to"
    " in_review once the retries are spent"
)


def _pages() -> list[Page]:
    """The organization pages: licences of each company and the powers of attorney."""
    return [
        Page("images/licence.jpg", "licence", COMPANY, uscc(301), REPRESENTATIVE.name),
        Page("images/licence_photo.jpg", "licence", COMPANY, uscc(301), REPRESENTATIVE.name,
             photo=True),
        Page("images/power_of_attorney_sealed.jpg", "attorney", COMPANY, agent=AGENT),
        Page("images/power_of_attorney_unsealed_photo.jpg", "attorney", COMPANY, agent=AGENT,
             sealed=False, photo=True),
        Page("images/licence_not_found.jpg", "licence", "测试不存在企业", uscc(302),
             REPRESENTATIVE.name),
        Page("images/licence_deregistered.jpg", "licence", "测试已注销企业", uscc(303),
             REPRESENTATIVE.name),
        Page("images/licence_rep_mismatch.jpg", "licence", "北京远航科技有限公司", uscc(304),
             "测试法人不符"),
    ]  # fmt: skip


def _organization_scenarios(
    holders: dict[str, CardHolder], pages: dict[str, Page]
) -> list[Scenario]:
    """The company verified through its agent, unsealed, and each registry magic value."""
    rep, agent = holders["legal_rep"], holders["agent"]
    with_agent = {**_card_documents(rep, "legal_rep_id_card"), **_card_documents(agent, "agent")}
    verified = Scenario(
        "organization",
        "a company acting through an agent, sealed power of attorney, micro-deposit 0.32: verified",
        _organization_body("organization", pages["images/licence.jpg"], rep, agent),
        {
            "certificate": "images/licence.jpg",
            "power_of_attorney": "images/power_of_attorney_sealed.jpg",
            **with_agent,
        },
        "verified",
        notes=["waits in awaiting_confirmation until the deposit amount 0.32 is confirmed"],
    )
    unsealed = Scenario(
        "organization_unsealed",
        "the same company, pages photographed, the power of attorney without a seal",
        _organization_body("organization_unsealed", pages["images/licence.jpg"], rep, agent),
        {
            "certificate": "images/licence_photo.jpg",
            "power_of_attorney": "images/power_of_attorney_unsealed_photo.jpg",
            **with_agent,
        },
        "in_review",
        "seal_not_found",
        notes=["ops decides it: POST /v1/ops/verifications/{id}/review (scope ops)"],
    )
    found = [verified, unsealed]
    for stem, code, holder in (
        ("not_found", "entity_not_found", rep),
        ("deregistered", "entity_deregistered", rep),
        ("rep_mismatch", "legal_representative_mismatch", holders["rep_mismatch"]),
    ):
        page = pages[f"images/licence_{stem}.jpg"]
        name = f"organization_{stem}"
        documents = {"certificate": page.file, **_card_documents(holder, "legal_rep_id_card")}
        title = f"company {page.company}, legal representative {page.representative}"
        body = _organization_body(name, page, holder, None)
        found.append(Scenario(name, title, body, documents, "rejected", code))
    return found


def _card_documents(card: CardHolder, prefix: str) -> dict[str, str]:
    """The two sides of ``card`` as documents ``<prefix>_front`` and ``<prefix>_back``."""
    prefix = "agent_id_card" if prefix == "agent" else prefix
    return {f"{prefix}_front": card.front, f"{prefix}_back": card.back}


def _consent(*purposes: str) -> dict[str, Any]:
    """A granted consent for ``real_name_authentication`` and ``purposes``."""
    return {
        "granted": True,
        "policy_version": POLICY_VERSION,
        "purposes": ["real_name_authentication", *purposes],
    }


def _individual_body(
    reference: str,
    holder: Person,
    seed: int,
    face_match: bool = False,
    reserved_phone: str | None = None,
) -> dict[str, Any]:
    """The ``POST /v1/verifications`` body of ``holder`` with a UnionPay card."""
    phone = _mobile(seed)
    purposes = ["bank_card_verification"] + (["facial_recognition"] if face_match else [])
    card = {"number": bank_card_number(seed), "reserved_phone": reserved_phone or phone}
    return {
        "type": "individual",
        "reference": f"sample-{reference.replace('_', '-')}",
        "consent": _consent(*purposes),
        "individual": {
            "name": holder.name,
            "id_number": holder.id_number,
            "phone": phone,
            "bank_card": card,
        },
        "options": {"face_match": face_match},
    }


def _organization_body(
    reference: str, licence: Page, rep: CardHolder, agent: CardHolder | None
) -> dict[str, Any]:
    """The ``POST /v1/verifications`` body of the company on ``licence``."""
    contact = agent or rep
    organization: dict[str, Any] = {
        "name": licence.company,
        "uscc": licence.uscc,
        "entity_kind": "enterprise",
        "certificate_type": "business_license",
        "legal_representative": _party(rep.holder, 11),
        "bank_account": {"bank_name": BANK_NAME, "account_number": account_number(401)},
        "contact": {
            "name": contact.holder.name,
            "phone": _mobile(12 if agent else 11),
            "email": "ops@example.cn",
        },
    }
    if agent is not None:
        organization["agent"] = _party(agent.holder, 12)
    return {
        "type": "organization",
        "reference": f"sample-{reference.replace('_', '-')}",
        "consent": _consent("bank_account_verification"),
        "organization": organization,
        "options": {"face_match": False},
    }


def _party(holder: Person, seed: int) -> dict[str, str]:
    """A legal representative or agent: name, ID number and phone."""
    return {"name": holder.name, "id_number": holder.id_number, "phone": _mobile(seed)}


def _mobile(seed: int) -> str:
    """A mainland mobile number that is no sandbox magic value."""
    return f"138{(seed * 7919 + 13800000) % 10**8:08d}"
