"""The verification's state machine (API.md § Statuses), and its one gate."""

from __future__ import annotations

import pytest

from kyc_service.domain.verification import FINAL_STATUSES, MOVES, Status, can_move


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
@pytest.mark.parametrize("target", list(Status))
def test_a_final_status_never_changes(final: Status, target: Status) -> None:
    assert can_move(final, target) is (target == final)


def test_every_non_final_status_may_be_canceled() -> None:
    for status in set(Status) - FINAL_STATUSES:
        assert can_move(status, Status.CANCELED)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Status.REQUIRES_INPUT, Status.PROCESSING, True),
        (Status.REQUIRES_INPUT, Status.VERIFIED, False),
        (Status.PROCESSING, Status.REQUIRES_INPUT, True),
        (Status.IN_REVIEW, Status.AWAITING_CONFIRMATION, True),
        (Status.IN_REVIEW, Status.PROCESSING, False),
        (Status.AWAITING_CONFIRMATION, Status.PROCESSING, True),
        (Status.AWAITING_CONFIRMATION, Status.IN_REVIEW, False),
    ],
)
def test_the_moves_of_api_md(current: Status, target: Status, allowed: bool) -> None:
    assert can_move(current, target) is allowed
    assert set(MOVES) == set(Status)


def test_the_gate_refuses_to_change_a_final_status(app, client, auth) -> None:
    import random

    from kyc_service.domain.errors import Conflict
    from tests.helpers import create
    from tests.synthetic import individual_body

    services = app.extensions["kyc"]
    verification_id = create(client, auth, individual_body(random.Random(3))).get_json()["id"]
    assert (
        client.post(f"/v1/verifications/{verification_id}/cancel", headers=auth).status_code == 200
    )
    with services.unit_of_work() as uow:
        verification = uow.verifications.by_id(verification_id)
        with pytest.raises(Conflict):
            verification._move(Status.VERIFIED, services.vault.clock())
    assert (
        client.get(f"/v1/verifications/{verification_id}", headers=auth).get_json()["status"]
        == "canceled"
    )
