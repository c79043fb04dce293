"""A light Python client of the KYC service: the API, its errors, and webhook signatures.

It needs ``requests`` only, so a partner can check a webhook's signature without installing
the service::

    from kyc_client import KycClient, verify_webhook
"""

from kyc_client.client import DEFAULT_BASE_URL, KycClient
from kyc_client.errors import (
    ApiConnectionError,
    AuthenticationError,
    ConflictError,
    GoneError,
    InternalServerError,
    InvalidRequestError,
    KycError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PermissionError_,
    RateLimitError,
    ServiceUnavailableError,
    SignatureVerificationError,
    UnsupportedMediaTypeError,
)
from kyc_client.pagination import paginate
from kyc_client.transport import new_idempotency_key
from kyc_client.webhooks import SIGNATURE_HEADER, compute_signature, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "SIGNATURE_HEADER",
    "ApiConnectionError",
    "AuthenticationError",
    "ConflictError",
    "GoneError",
    "InternalServerError",
    "InvalidRequestError",
    "KycClient",
    "KycError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PermissionError_",
    "RateLimitError",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "UnsupportedMediaTypeError",
    "__version__",
    "compute_signature",
    "new_idempotency_key",
    "paginate",
    "verify_webhook",
]
