"""Webhooks and events: endpoints, the event list, signed deliveries retried with backoff.

Every status change is recorded as an event (``services.events``);
``webhook_endpoints.enqueue_deliveries`` queues one delivery per subscribed endpoint, and
``webhook_delivery.deliver_due`` (``kyc-service webhooks deliver``) sends the due ones. A
receiver checks ``KYC-Signature`` with ``webhook_signing.verify_signature``. Endpoints are
changed, deleted and their secrets rotated by ``webhook_changes``, and the secrets kept by
``webhook_secrets``. This module gathers them for callers.
"""

from kyc_service.services.webhook_changes import delete_endpoint, rotate_secret, update_endpoint
from kyc_service.services.webhook_delivery import (
    FIRST_RETRY,
    LEASE,
    MAX_RETRY,
    RETRY_FOR,
    DeliveryReport,
    HttpPost,
    deliver_due,
    retry_delay,
)
from kyc_service.services.webhook_endpoints import (
    ALL_EVENTS,
    EVENT_TYPES,
    CreatedEndpoint,
    create_endpoint,
    endpoint_object,
    endpoint_status,
    enqueue_deliveries,
    event_object,
    get_endpoint,
    list_endpoints,
    list_events,
)
from kyc_service.services.webhook_secrets import (
    SECRET_OVERLAP,
    endpoint_secret,
    forget_expired,
    secret_context,
    signing_secrets,
)
from kyc_service.services.webhook_signing import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    sign,
    signature_header,
    verify_signature,
)

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "FIRST_RETRY",
    "LEASE",
    "MAX_RETRY",
    "RETRY_FOR",
    "SECRET_OVERLAP",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "CreatedEndpoint",
    "DeliveryReport",
    "HttpPost",
    "create_endpoint",
    "delete_endpoint",
    "deliver_due",
    "endpoint_object",
    "endpoint_secret",
    "endpoint_status",
    "enqueue_deliveries",
    "event_object",
    "forget_expired",
    "get_endpoint",
    "list_endpoints",
    "list_events",
    "retry_delay",
    "rotate_secret",
    "secret_context",
    "sign",
    "signature_header",
    "signing_secrets",
    "update_endpoint",
    "verify_signature",
]
