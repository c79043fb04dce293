"""Webhooks and events: endpoints, the event list, signed deliveries retried with backoff.

Every status change is recorded as an event (``services.events``);
``webhook_endpoints.enqueue_deliveries`` queues one delivery per subscribed endpoint, and
``webhook_delivery.deliver_due`` (``kyc-service webhooks deliver``) sends the due ones. A
receiver checks ``KYC-Signature`` with ``webhook_signing.verify_signature``. This module
gathers the three for callers.
"""

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
    endpoint_secret,
    enqueue_deliveries,
    event_object,
    list_endpoints,
    list_events,
    secret_context,
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
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "CreatedEndpoint",
    "DeliveryReport",
    "HttpPost",
    "create_endpoint",
    "deliver_due",
    "endpoint_object",
    "endpoint_secret",
    "enqueue_deliveries",
    "event_object",
    "list_endpoints",
    "list_events",
    "retry_delay",
    "secret_context",
    "sign",
    "signature_header",
    "verify_signature",
]
