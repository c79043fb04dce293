"""The scale benchmark's observer of the upstream-bound run (``undecided_count``) counts only
its batch's verifications still processing, sees each decision once it is committed, and
holds no transaction open between its polls."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import create_engine, select, text

from benchmarks import scale
from kyc_service.persistence.database import normalise_url
from kyc_service.persistence.tables import VerificationRow
from tests.helpers import seed_verification

IDLE_IN_TRANSACTION = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
)


def _decide(app: Flask, ids: list[str]) -> None:
    """Mark ``ids`` verified, committed."""
    with app.extensions["kyc"].unit_of_work() as uow:
        for row in uow.session.scalars(select(VerificationRow).where(VerificationRow.id.in_(ids))):
            row.status = "verified"
        uow.commit()


def _open_transactions(database_url: str) -> int | None:
    """How many sessions sit idle in a transaction on the database (None on SQLite)."""
    if not database_url.startswith("postgresql"):
        return None
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(IDLE_IN_TRANSACTION).scalar_one())
    finally:
        engine.dispose()


def test_the_upstream_bound_run_is_watched_in_the_services_database(
    app: Flask, auth: dict[str, str], database_url: str
) -> None:
    batch = [seed_verification(app, auth, status="processing") for _ in range(3)]
    seed_verification(app, auth, status="processing")  # processing, but not the batch's
    with scale.undecided_count(database_url, batch) as undecided:
        assert undecided() == 3
        assert _open_transactions(database_url) in (0, None)
        _decide(app, batch[:2])
        assert undecided() == 1
        _decide(app, batch[2:])
        assert undecided() == 0
