"""The ``Idempotency-Key`` header on ``POST``: claim, replay, or store the response."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, g, request

from kyc_service.api.context import check_scope_of_view, current_principal, services
from kyc_service.services import idempotency

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Content-Type", "Location", "Retry-After")


def claim_or_replay() -> Response | None:
    """Before the view: replay a finished twin, wait for a running one, or claim the key."""
    if request.method != "POST" or HEADER not in request.headers or "principal" not in g:
        return None
    check_scope_of_view()
    outcome = idempotency.claim(
        services().unit_of_work(),
        current_principal(),
        request.headers[HEADER],
        idempotency.fingerprint(request.method, request.path, request.get_data(cache=True)),
        ttl=timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]),
        wait_seconds=float(current_app.config["IDEMPOTENCY_WAIT_SECONDS"]),
        lease=timedelta(seconds=float(current_app.config["IDEMPOTENCY_LEASE_SECONDS"])),
    )
    if isinstance(outcome, idempotency.StoredResponse):
        body = idempotency.open_body(
            services().vault.keystore.wrapper,
            current_principal(),
            request.headers[HEADER],
            outcome.body,
        )
        response = Response(body, status=outcome.status, headers=outcome.headers)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    g.idempotency_claim = outcome
    return None


def store_response(response: Response) -> Response:
    """After the view: keep a success or a validation answer for replay; free the key after
    any other error (a 403 of one key, a 409, a 5xx must not be replayed)."""
    held = g.pop("idempotency_claim", None)
    if held is None:
        return response
    if not idempotency.worth_keeping(response.status_code):
        idempotency.release(services().unit_of_work(), held)
        return response
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    body = idempotency.seal_body(
        services().vault.keystore.wrapper,
        current_principal(),
        request.headers[HEADER],
        response.get_data(as_text=True),
    )
    stored = idempotency.StoredResponse(response.status_code, body, headers)
    idempotency.complete(services().unit_of_work(), held, stored)
    return response


def release_on_teardown(_exc: BaseException | None) -> None:
    """Free a key whose request died before a response was made."""
    held = g.pop("idempotency_claim", None)
    if held is not None:
        idempotency.release(services().unit_of_work(), held)


def register(app: Flask) -> None:
    """Install the hooks."""
    app.before_request(claim_or_replay)
    app.after_request(store_response)
    app.teardown_request(release_on_teardown)
