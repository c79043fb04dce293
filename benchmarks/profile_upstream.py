"""Profile the checks' upstream stage in-process: ``python -m benchmarks.profile_upstream [N]``.

Builds the service with ``create_app()`` on fresh databases (PostgreSQL on 127.0.0.1:5432 when
it answers, else SQLite; ``BENCH_SCALE_DATABASE`` as in :mod:`benchmarks.scale`), every
verifier role on ``http`` to the partner sandbox at 0 ms. Creates 2N + 10 verifications
(bank card, no face match), submits them on ``KYC_EXECUTOR=celery`` (the messages go to
``redis://127.0.0.1:6379/13`` and are purged after), runs their local stage here, then the
upstream stage (:func:`~kyc_service.services.pipeline.run_checks`) of N one after another,
timed, and of N more under :mod:`cProfile` counting CPU time. Prints the wall and CPU time of
one upstream stage in this process and the top functions. Not part of ``make bench``: a tool
to find where the upstream workers' CPU goes.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.flow import _multipart
from benchmarks.scale import database_kind, databases, live_key, render_people, scale_env
from benchmarks.upstream import sandbox_server

BROKER_URL = "redis://127.0.0.1:6379/13"
WARMUP = 10
PROJECT = r"/(kyc_service|adapters)/"


def _submitted(client: Any, key: str, count: int) -> list[str]:
    """Create, fill and submit ``count`` verifications; their ids."""
    people = render_people(2)
    auth = {"Authorization": f"Bearer {key}"}
    ids = []
    for index in range(count):
        body, photos = people[index % len(people)]
        body = {**body, "reference": f"profile-{index}"}
        created = client.post(
            "/v1/verifications",
            data=json.dumps(body),
            headers={**auth, "Content-Type": "application/json"},
        ).get_json()
        for kind, image in photos.items():
            payload, content_type = _multipart(kind, image)
            path = f"/v1/verifications/{created['id']}/documents"
            client.post(path, data=payload, headers={**auth, "Content-Type": content_type})
        answer = client.post(f"/v1/verifications/{created['id']}/submit", headers=auth)
        if answer.status_code != 202:
            raise RuntimeError(f"submit answered {answer.status_code}")
        ids.append(created["id"])
    return ids


def _local_stages(services: Any, ids: list[str]) -> dict[str, str]:
    """Run each verification's local stage; the upstream stage's lease token of each."""
    from kyc_service.services import pipeline

    tokens = {}
    for verification_id in ids:
        with services.unit_of_work() as uow:
            verification = uow.verifications.by_id(verification_id)
        token = pipeline.run_local_checks(
            services, verification_id, pipeline.lease_token(verification)
        )
        if token is None:
            raise RuntimeError("the local stage decided a verification the bench wants verified")
        tokens[verification_id] = token
    return tokens


def profile(count: int, top: int = 40) -> None:
    """Time and profile ``count`` upstream stages each; print the report."""
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="kyc-profile-upstream-") as directory:
        workdir = Path(directory)
        with (
            databases(workdir, database_kind()) as (data_url, keys_url),
            sandbox_server(secret, workdir, "--latency-ms", "0") as verifier_url,
        ):
            env = scale_env(workdir, data_url, keys_url, verifier_url, secret)
            env |= {"KYC_BROKER_URL": BROKER_URL, "KYC_EXECUTOR": "celery"}
            key = live_key(workdir, env)
            os.environ.update({k: v for k, v in env.items() if k.startswith(("KYC_", "PROM"))})
            from kyc_service.app import create_app
            from kyc_service.services import pipeline

            app = create_app()
            services = app.extensions["kyc"]
            try:
                ids = _submitted(app.test_client(), key, WARMUP + 2 * count)
                tokens = _local_stages(services, ids)
            finally:
                services.runner.purge()

            def upstream(batch: list[str]) -> None:
                for verification_id in batch:
                    pipeline.run_checks(services, verification_id, tokens[verification_id])

            upstream(ids[:WARMUP])
            wall, cpu = time.perf_counter(), time.process_time()
            upstream(ids[WARMUP : WARMUP + count])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(upstream, ids[WARMUP + count :])
    print(
        f"{count} upstream stages: {wall / count * 1000:.2f} ms wall, "
        f"{cpu / count * 1000:.2f} ms CPU each in this process (sandbox at 0 ms)"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(PROJECT, top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())


if __name__ == "__main__":
    profile(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
