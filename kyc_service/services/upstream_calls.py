"""The call ledger: every upstream verifier call noted (role, provider, check, request id,
outcome, billable, latency — never personal data), stored, and summed per role and provider
for ``GET /v1/ops/usage``.

A check's request id is stable per verification and check (``domain.usage.request_id_for``):
a step repeated after a timeout or a crash sends the same id, the verifier answers it once,
and the ledger counts it billable once (a second billable row for one request id is stored
as not billable).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from kyc_service.domain.access import Mode
from kyc_service.domain.errors import UpstreamUnavailable
from kyc_service.domain.usage import UNAVAILABLE, UpstreamCall, outcome_name, request_id_for
from kyc_service.services.dependencies import AdapterLookup, CheckDependencies

Answer = TypeVar("Answer")


def metered(
    adapters: AdapterLookup,
    mode: Mode,
    verification_id: str,
    role: str,
    check: str,
    call: Callable[[Any, str], Answer],
    calls: list[UpstreamCall],
) -> Answer:
    """Run ``call(port, request_id)`` on the ``role`` port and append its record to
    ``calls`` — also when it raises ``UpstreamUnavailable`` (then not billable)."""
    port = adapters.get(role, mode)
    rid = request_id_for(verification_id, check)
    started = time.perf_counter()

    def note(outcome: str, billable: bool) -> None:
        latency = round((time.perf_counter() - started) * 1000)
        provider = adapters.name_for(role, mode)
        calls.append(UpstreamCall(role, provider, check, rid, outcome, billable, latency))

    try:
        answer = call(port, rid)
    except UpstreamUnavailable:
        note(UNAVAILABLE, False)
        raise
    note(outcome_name(answer), bool(getattr(answer, "billable", False)))
    return answer


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


def usage(
    deps: CheckDependencies, tenant_id: str, mode: Mode, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The calls of ``[start, end)`` per role and provider: count, billable count, outcomes."""
    with deps.unit_of_work() as uow:
        rows = uow.upstream_calls.summary(tenant_id, mode.value, start, end)
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
