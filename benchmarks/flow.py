"""Issue 5: the whole individual flow through the HTTP API, as a partner's signup runs it.

Against ``kyc-service serve`` on a fresh database: create a verification with face match,
upload a photo of a synthetic ID card's front and back and a selfie, submit (the checks run
in-process: document quality, OCR, face match, then the sandbox upstreams). One flow at a
time; each flow's wall time is measured from the create to the decision.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from statistics import quantiles
from typing import Any

from benchmarks.payloads import individual_body
from benchmarks.servers import prepare_service, serve_argv, service_env, serving
from benchmarks.settings import BenchSettings

FLOWS = int(os.environ.get("BENCH_FLOWS", "30"))


def _multipart(kind: str, image: bytes) -> tuple[bytes, str]:
    """Encode the ``kind`` and ``file`` fields of a document upload."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode(),
        image,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _call(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> dict:
    """POST and return the JSON answer; raise on an unexpected status."""
    connection = HTTPConnection(host, port, timeout=120)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read() or b"{}")
    finally:
        connection.close()
    if response.status not in (200, 201, 202):
        raise RuntimeError(f"{path}: {response.status} {answer.get('error', {}).get('code')}")
    return answer


def _images(body: dict, seed: int) -> dict[str, bytes]:
    """Photos of the card printed with the body's name and number, and a selfie."""
    from tests import cards

    person = body["individual"]
    holder = cards.person(seed, face="obama_1", name=person["name"], id_number=person["id_number"])
    front = cards.photo_of(cards.card_front(holder, cards.faces_folder()), angle=4, seed=seed)
    back = cards.photo_of(cards.card_back(holder), angle=-3, seed=seed + 1)
    selfie = (cards.faces_folder() / "obama_2.jpg").read_bytes()
    return {
        "id_card_front": cards.to_jpeg(front),
        "id_card_back": cards.to_jpeg(back),
        "selfie": selfie,
    }


def run_flow(
    host: str, port: int, key: str, body: dict, images: dict[str, bytes]
) -> tuple[float, str]:
    """Create, upload every image, submit; return the wall seconds and the status reached."""
    auth = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    created = _call(
        host,
        port,
        "/v1/verifications",
        json.dumps(body).encode(),
        {**auth, "Content-Type": "application/json"},
    )
    for kind, image in images.items():
        payload, content_type = _multipart(kind, image)
        _call(
            host,
            port,
            f"/v1/verifications/{created['id']}/documents",
            payload,
            {**auth, "Content-Type": content_type},
        )
    decided = _call(host, port, f"/v1/verifications/{created['id']}/submit", b"", auth)
    return time.perf_counter() - started, decided["status"]


def _one_flow(host: str, port: int, key: str, number: int) -> tuple[float, str]:
    """Run one individual flow with face match; return its wall seconds and the decision."""
    body = individual_body(random.Random(number), f"flow-{number}")
    body["options"] = {"face_match": True}
    body["consent"]["purposes"].append("facial_recognition")
    return run_flow(host, port, key, body, _images(body, number))


def bench_flow(settings: BenchSettings) -> dict[str, Any]:
    """Measure ``FLOWS`` whole individual flows (after one warm-up) through the HTTP API."""
    with tempfile.TemporaryDirectory(prefix="kyc-bench-flow-") as directory:
        home = Path(directory)
        env = service_env(home)
        key = prepare_service(home, env)
        argv = serve_argv(settings.workers)
        with serving(argv, env, home, "flow") as server:
            _one_flow(server.host, server.port, key, 10_000)
            runs = [_one_flow(server.host, server.port, key, n) for n in range(FLOWS)]
    seconds = sorted(wall for wall, _ in runs)
    decisions = {status: sum(1 for _, s in runs if s == status) for _, status in runs}
    cuts = quantiles(seconds, n=10)
    figures = {
        "flow_p50_s": round(cuts[4], 3),
        "flow_p90_s": round(cuts[8], 3),
        "flows": FLOWS,
        "flow_decisions": decisions,
        "failures": sum(1 for _, s in runs if s != "verified"),
    }
    print(
        f"  flow     {FLOWS} flows: p50 {figures['flow_p50_s']} s  p90 {figures['flow_p90_s']} s"
        f"  decisions {decisions}",
        file=sys.stdout,
        flush=True,
    )
    return figures
