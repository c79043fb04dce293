"""Document uploads: check the kind, harden and measure the image, then seal it."""

from __future__ import annotations

from typing import Any

from kyc_service.domain.access import Principal
from kyc_service.domain.errors import InvalidRequest
from kyc_service.imaging import PreparedImage, UploadLimits, prepare_upload
from kyc_service.services import document_measures, verifications
from kyc_service.services.dependencies import CheckDependencies
from kyc_service.services.document_measures import upload_problem


def upload_limits(settings: Any) -> UploadLimits:
    """Return the upload limits of the settings (``KYC_MAX_UPLOAD_MB`` …)."""
    return UploadLimits(
        max_bytes=int(float(settings["MAX_UPLOAD_MB"]) * 1024 * 1024),
        max_pixels=int(float(settings["MAX_IMAGE_MEGAPIXELS"]) * 1_000_000),
        min_width=int(settings["MIN_IMAGE_WIDTH"]),
        min_height=int(settings["MIN_IMAGE_HEIGHT"]),
    )


def accept_document(
    services: CheckDependencies, principal: Principal, verification_id: str, kind: str, data: bytes
) -> dict[str, Any]:
    """Validate, re-encode, measure and seal an uploaded image; return the document object."""
    verification = verifications.get_verification(
        services.unit_of_work(), principal, verification_id
    )
    verification.check_document(kind)
    prepared = prepare_upload(data, upload_limits(services.settings))
    quality = measure(services, principal, kind, prepared)
    code = upload_problem(kind, quality)
    if code is not None:
        raise InvalidRequest(problem_message(kind, code), code=code, field="file")
    document_id, _ = verifications.add_document(
        services.unit_of_work(),
        services.vault,
        principal,
        verification_id,
        kind,
        prepared.data,
        quality,
    )
    return {
        "id": document_id,
        "object": "document",
        "kind": kind,
        "status": "accepted",
        "quality": quality,
    }


PROBLEMS = {
    "image_blurry": "the image is out of focus: take the photo again, steady and in good light",
    "image_glare": "a reflection hides part of the image: tilt it away from the light",
    "document_not_detected": (
        "no ID card was found: upload a scan of the card, or a photo of the whole card lying flat"
    ),
    "face_too_small": "the face is too small to compare: hold the camera closer",
    "no_face_found": "no face was found in the photo: face the camera in good light",
    "multiple_faces": "the photo shows more than one face: only the person should be in it",
}
SWAPPED = {
    "id_card_front": (
        "this side of the card shows no portrait: it looks like the back; upload the side "
        "with the photo as id_card_front"
    ),
    "id_card_back": (
        "this side of the card shows a portrait: it looks like the front; upload the side "
        "with the national emblem as id_card_back"
    ),
}


def problem_message(kind: str, code: str) -> str:
    """The message of an upload refused with ``code``: what the person can do about it."""
    if code == "document_side_swapped":
        prefix, _, side = kind.rpartition("id_card_")
        base = SWAPPED["id_card_" + side]
        return base.replace("id_card_" + side, kind) if prefix else base
    return PROBLEMS[code]


def measure(
    services: CheckDependencies, principal: Principal, kind: str, prepared: PreparedImage
) -> dict[str, Any]:
    """Return the measures of an accepted image (where the document or face is, and how)."""
    faces = services.adapters.get("face", principal.mode)
    imaging = services.adapters.get("imaging", principal.mode)
    return document_measures.measure(prepared.pixels, kind, faces, imaging)
