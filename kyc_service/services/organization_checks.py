"""The checks of an organization, as steps of the pipeline (``services.pipeline``).

Local checks first — document quality, the certificate's and the ID cards' text, the
representative's face, the seal on the power of attorney — then the billed ones: the
business registry and the identity authority for the representative and the agent. When
all pass, the micro-deposit is paid (:func:`pay_micro_deposit`) and the verification waits
for its amount (``awaiting_confirmation``).
"""

from __future__ import annotations

from kyc_service.domain import sealed_fields as sealed
from kyc_service.domain.certificate_text import certificate_ocr_check
from kyc_service.domain.checks import CheckResult, CheckStatus, check
from kyc_service.domain.document_policy import document_quality_check
from kyc_service.domain.face_policy import face_match_check
from kyc_service.domain.id_card_text import id_card_ocr_check
from kyc_service.domain.results import FaceBox
from kyc_service.domain.verification import BANK_ACCOUNT_CHECK
from kyc_service.services.card_reading import card_portrait, read_front
from kyc_service.services.dependencies import AdapterLookup
from kyc_service.services.pipeline import CheckInput, Step, _outcome, ask_upstream

REP_FRONT = "legal_rep_id_card_front"
AGENT_FRONT = "agent_id_card_front"
REP_PHOTO = "legal_rep_photo"
SEAL_CHECK = "power_of_attorney_seal"


def _document_quality(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """Sharpness, glare and outlines of every document, as measured on upload."""
    return document_quality_check(given.quality)


def _certificate_ocr(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The entity name and USCC printed on the certificate against the submitted ones."""
    page = given.page("certificate", adapters.get("imaging", given.mode))
    if page is None:
        return check("certificate_ocr", CheckStatus.FAILED, "ocr_unreadable")
    lines = adapters.get("ocr", given.mode).read_lines(page)
    return certificate_ocr_check(lines, given.fields[sealed.ORG_NAME], given.fields[sealed.USCC])


def _card_ocr(name: str, kind: str, person: tuple[str, str]) -> Step:
    """The name and number on a person's ID card front against the submitted ones."""

    def run(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
        front = given.rectified_card(kind, adapters.get("imaging", given.mode))
        if front is None:
            return check(name, CheckStatus.FAILED, "ocr_unreadable")
        lines = read_front(adapters.get("ocr", given.mode), front[0])
        result = id_card_ocr_check(lines, given.fields[person[0]], given.fields[person[1]])
        return check(name, result.status, result.code, result.score)

    applies = (lambda given: True) if kind == REP_FRONT else _has_agent
    return Step(name, applies, run)


def _face_match(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The representative's photo against the portrait on their ID card."""
    front = given.rectified_card(REP_FRONT, adapters.get("imaging", given.mode))
    photo = given.documents(REP_PHOTO)
    if front is None or photo is None:
        return check("face_match", CheckStatus.FAILED, "no_face_found")
    card, rectified = front
    portrait = card_portrait(card) if rectified else card
    box = given.quality.get(REP_PHOTO, {}).get("face_box")
    probe_face = FaceBox(*box) if box and len(box) == 4 else None
    comparison = adapters.get("face", given.mode).compare(portrait, photo, probe_face)
    return face_match_check(comparison)


def _seal(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """A red official seal on the power of attorney; none found is soft (a person looks)."""
    imaging = adapters.get("imaging", given.mode)
    page = given.page("power_of_attorney", imaging)
    if page is None:
        return check(SEAL_CHECK, CheckStatus.FAILED, "seal_not_found")
    finding = imaging.find_seal(page)
    if not finding.found:
        return check(SEAL_CHECK, CheckStatus.FAILED, "seal_not_found", round(finding.confidence, 4))
    return check(SEAL_CHECK, CheckStatus.PASSED, score=round(finding.confidence, 4))


def _registry(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """Entity name, USCC and legal representative at the business registry."""
    fields = given.fields
    entity = (fields[sealed.ORG_NAME], fields[sealed.USCC], fields[sealed.REP_NAME])
    outcome = ask_upstream(
        adapters,
        given,
        "registry",
        "business_registry",
        lambda port, rid: port.verify(*entity, request_id=rid),
    )
    return _outcome("business_registry", outcome)


def _identity(name: str, person: tuple[str, str]) -> Step:
    """A person's name and ID number at the identity authority."""

    def run(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
        elements = (given.fields[person[0]], given.fields[person[1]])
        outcome = ask_upstream(
            adapters,
            given,
            "identity",
            name,
            lambda port, rid: port.verify(*elements, request_id=rid),
        )
        return _outcome(name, outcome)

    applies = (lambda given: True) if person[0] == sealed.REP_NAME else _has_agent
    return Step(name, applies, run, upstream=True)


def _portrait(adapters: AdapterLookup, given: CheckInput) -> CheckResult:
    """The representative's photo against the identity authority's."""
    photo = given.documents(REP_PHOTO)
    if photo is None:
        return check("portrait_authority", CheckStatus.FAILED, "no_face_found")
    person = (given.fields[sealed.REP_NAME], given.fields[sealed.REP_ID_NUMBER])
    outcome = ask_upstream(
        adapters,
        given,
        "portrait",
        "portrait_authority",
        lambda port, rid: port.compare(*person, photo, request_id=rid),
    )
    return _outcome("portrait_authority", outcome)


def _has_agent(given: CheckInput) -> bool:
    """Tell whether an agent acts (their fields were sealed)."""
    return sealed.AGENT_NAME in given.fields


def _has_face_match(given: CheckInput) -> bool:
    """Tell whether the caller asked for face matching."""
    return bool(given.options.get("face_match"))


REPRESENTATIVE = (sealed.REP_NAME, sealed.REP_ID_NUMBER)
AGENT = (sealed.AGENT_NAME, sealed.AGENT_ID_NUMBER)

ORGANIZATION_STEPS: tuple[Step, ...] = (
    Step("document_quality", lambda given: True, _document_quality),
    Step("certificate_ocr", lambda given: True, _certificate_ocr),
    _card_ocr("id_card_ocr", REP_FRONT, REPRESENTATIVE),
    _card_ocr("agent_id_card_ocr", AGENT_FRONT, AGENT),
    Step("face_match", _has_face_match, _face_match),
    Step(SEAL_CHECK, _has_agent, _seal),
    Step("business_registry", lambda given: True, _registry, upstream=True),
    _identity("legal_representative_identity", REPRESENTATIVE),
    _identity("agent_identity", AGENT),
    Step("portrait_authority", _has_face_match, _portrait, upstream=True),
)


def pay_micro_deposit(adapters: AdapterLookup, given: CheckInput) -> str:
    """Pay the micro-deposit into the organization's account; return its amount."""
    fields = given.fields
    account = (fields[sealed.BANK_NAME], fields[sealed.ACCOUNT_NUMBER], fields[sealed.ORG_NAME])
    payment = ask_upstream(
        adapters,
        given,
        "account",
        BANK_ACCOUNT_CHECK,
        lambda port, rid: port.pay_micro_deposit(*account, request_id=rid),
    )
    return payment.amount
