"""The call ledger: every upstream verifier call noted (role, provider, check, request id,
outcome, billable, latency — never personal data), stored, and summed per role and provider
for ``GET /v1/ops/usage``.

A check's request id is stable per verification and check (``domain.usage.request_id_for``):
a step repeated after a timeout or a crash sends the same id, the verifier answers it once,
and the ledger counts it billable once (a second billable row for one request id is stored
as not billable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import InvalidRequest, UpstreamUnavailable
from kyc_service.domain.timestamps import utc_text
from kyc_service.domain.usage import UNAVAILABLE, UpstreamCall, outcome_name, request_id_for
from kyc_service.services.dependencies import AdapterLookup, CheckDependencies

Answer = TypeVar("Answer")
log = logging.getLogger(__name__)


def metered(
    port: Any,
    provider: str,
    role: str,
    owner_id: str,
    check: str,
    call: Callable[[Any, str], Answer],
    note: Callable[[UpstreamCall], None],
    request_key: str = "",
) -> Answer:
    """Run ``call(port, request_id)`` for ``check`` of the verification (or phone check)
    ``owner_id``, and give the call's record to ``note`` — also when it fails (billable
    only if the verifier said so). The request id comes from ``request_key`` (by default
    the check's name)."""
    rid = request_id_for(owner_id, request_key or check)
    started = time.perf_counter()

    def noted(outcome: str, billable: bool) -> None:
        latency = round((time.perf_counter() - started) * 1000)
        note(UpstreamCall(role, provider, check, rid, outcome, billable, latency))

    try:
        answer = call(port, rid)
    except UpstreamUnavailable as down:
        noted(UNAVAILABLE, down.billable)
        raise
    except Exception:
        noted(UNAVAILABLE, False)  # a bug or a broken adapter: noted, then raised as it is
        raise
    noted(outcome_name(role, answer), bool(getattr(answer, "billable", False)))
    return answer


def metered_port(
    adapters: AdapterLookup,
    mode: Mode,
    verification_id: str,
    role: str,
    check: str,
    call: Callable[[Any, str], Answer],
    note: Callable[[UpstreamCall], None],
) -> Answer:
    """:func:`metered` on the ``role`` providers of ``mode``, in failover order. The next
    is asked only when one could not answer at all (an outage it did not bill: no
    connection, a 5xx, throttling, its breaker open, its daily limit) — never after an
    answer about the person, even one that is of no use (billed). Each call is noted with
    its provider; a fallback's request id is its own (``check@provider``)."""
    names = adapters.names_for(role, mode)
    for position, provider in enumerate(names):
        key = check if position == 0 else f"{check}@{provider}"
        port = adapters.named(role, mode, provider)
        try:
            return metered(port, provider, role, verification_id, check, call, note, key)
        except UpstreamUnavailable as down:
            if down.billable or position == len(names) - 1:
                raise
    raise UpstreamUnavailable(f"no {role} verifier is configured")


def record_calls(
    deps: CheckDependencies,
    tenant_id: str,
    mode: Mode,
    verification_id: str | None,
    calls: Sequence[UpstreamCall],
) -> None:
    """Store ``calls`` in the ledger, in a transaction of their own (kept even when the
    verification moved meanwhile and the run's results are dropped)."""
    if not calls:
        return
    with deps.unit_of_work() as uow:
        uow.upstream_calls.add(tenant_id, mode.value, verification_id, calls, deps.clock())
        uow.commit()


def record_calls_after(
    deps: CheckDependencies,
    tenant_id: str,
    mode: Mode,
    verification_id: str | None,
    calls: Sequence[UpstreamCall],
) -> None:
    """``record_calls`` at the end of a use case (in a ``finally``): a failure to write is
    logged, never raised over the use case's own outcome."""
    try:
        record_calls(deps, tenant_id, mode, verification_id, calls)
    except Exception:  # noqa: BLE001 - the use case's own error (or answer) wins
        log.error("the call ledger could not be written (%d calls)", len(calls))


DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD = timedelta(days=366)


def usage_period(
    now: datetime, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """``[start, end)``: by default the 30 days up to now (or up to ``end``); ``start``
    before ``end``, at most 366 days apart — else 422 naming the parameter at fault."""
    end = end or now
    start = start or end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidRequest("from must be before to", field="from")
    if end - start > MAX_PERIOD:
        raise InvalidRequest("at most 366 days at once", field="from")
    return start, end


def usage(
    deps: CheckDependencies,
    tenant_id: str,
    mode: Mode,
    start: datetime,
    end: datetime,
    actor: str = "",
) -> list[dict[str, Any]]:
    """The calls of ``[start, end)`` per role and provider: count, billable count, outcomes."""
    with deps.unit_of_work() as uow:
        rows = uow.upstream_calls.summary(tenant_id, mode.value, start, end)
        if actor:
            deps.vault.record_access(
                uow,
                tenant_id,
                mode.value,
                actor=actor,
                action="ops.usage.read",
                details={"from": utc_text(start), "to": utc_text(end)},
            )
            uow.commit()
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for role, provider, outcome, count, billable in rows:
        entry = totals.setdefault(
            (role, provider),
            {"role": role, "provider": provider, "calls": 0, "billable": 0, "outcomes": {}},
        )
        entry["calls"] += count
        entry["billable"] += billable
        entry["outcomes"][outcome] = entry["outcomes"].get(outcome, 0) + count
    return [totals[key] for key in sorted(totals)]
