"""Document uploads: check the kind, harden and measure the image, then seal it."""

from __future__ import annotations

from typing import Any

from kyc_service.domain.access import Principal
from kyc_service.domain.document_policy import quality_problems
from kyc_service.domain.errors import InvalidRequest
from kyc_service.imaging import PreparedImage, UploadLimits, find_card, prepare_upload
from kyc_service.services import verifications

FACE_COUNTED = {"selfie", "id_card_front"}
ID_CARD_SIDES = {"id_card_front", "id_card_back"}


def upload_limits(settings: Any) -> UploadLimits:
    """Return the upload limits of the settings (``KYC_MAX_UPLOAD_MB`` …)."""
    return UploadLimits(
        max_bytes=int(float(settings["MAX_UPLOAD_MB"]) * 1024 * 1024),
        max_pixels=int(float(settings["MAX_IMAGE_MEGAPIXELS"]) * 1_000_000),
        min_width=int(settings["MIN_IMAGE_WIDTH"]),
        min_height=int(settings["MIN_IMAGE_HEIGHT"]),
    )


def accept_document(
    services: Any, principal: Principal, verification_id: str, kind: str, data: bytes
) -> dict[str, Any]:
    """Validate, re-encode and seal an uploaded image; return the document object."""
    row = verifications.get_verification(services.unit_of_work(), principal, verification_id)
    verifications.check_document_kind(row, kind)
    verifications.check_accepts_documents(row)
    prepared = prepare_upload(data, upload_limits(services.settings))
    quality = measure(services, principal, kind, prepared)
    problems = quality_problems({kind: quality})
    if problems:
        raise InvalidRequest(PROBLEMS[problems[0][1]], code=problems[0][1], field="file")
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
    "image_glare": "too much of the image is blown out by glare: avoid direct light",
    "document_not_detected": "no ID card was found: show the whole card on a plain surface",
}


def measure(
    services: Any, principal: Principal, kind: str, prepared: PreparedImage
) -> dict[str, Any]:
    """Return the quality of an accepted image: size, sharpness, glare, card found, faces."""
    faces = None
    if kind in FACE_COUNTED:
        faces = services.adapters.get("face", principal.mode).count_faces(prepared.data)
        if kind == "selfie" and faces == 0:
            raise InvalidRequest(
                "no face was found in the selfie", code="no_face_found", field="file"
            )
        if kind == "selfie" and faces > 1:
            raise InvalidRequest(
                "the selfie shows more than one face", code="multiple_faces", field="file"
            )
    return {
        "width": prepared.width,
        "height": prepared.height,
        "sharpness": round(prepared.sharpness, 2),
        "glare": round(prepared.glare, 4),
        "card_found": find_card(prepared.data) is not None if kind in ID_CARD_SIDES else None,
        "faces": faces,
    }
