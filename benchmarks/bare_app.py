"""The baseline: a bare Flask app that parses the JSON body and inserts one SQLite row.

Served by gunicorn exactly like the service (``benchmarks.bare_app:create_app()``), it shows
what a create costs with no validation, encryption, auditing or ORM. The database file is
``$BENCH_BARE_DATABASE`` (default ``bare.db`` in the working directory), in WAL mode with a
30 s busy timeout, like the service's SQLite engine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid

from flask import Flask, Response, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS verifications (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


def connect(path: str) -> sqlite3.Connection:
    """Open ``path`` with the service's SQLite tuning: WAL, busy timeout, foreign keys."""
    connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def create_app(database: str | None = None) -> Flask:
    """Build the bare app on ``database`` (or ``$BENCH_BARE_DATABASE``), creating its table."""
    path = database or os.environ.get("BENCH_BARE_DATABASE", "bare.db")
    with connect(path) as connection:
        connection.execute(SCHEMA)
    local = threading.local()
    app = Flask(__name__)

    def db() -> sqlite3.Connection:
        """Return this thread's connection (opened after gunicorn forks the worker)."""
        if getattr(local, "connection", None) is None:
            local.connection = connect(path)
        return local.connection

    @app.get("/healthz")
    def healthz() -> Response:
        """The process is up."""
        return Response('{"status":"ok"}', content_type="application/json")

    @app.post("/v1/verifications")
    def create() -> tuple[Response, int]:
        """Parse the JSON body and insert it as one row; answer 201 with the new id."""
        body = request.get_json()
        row_id = "ver_" + uuid.uuid4().hex
        connection = db()
        with connection:
            connection.execute(
                "INSERT INTO verifications (id, reference, body, created_at) VALUES (?, ?, ?, ?)",
                (row_id, str(body.get("reference", "")), json.dumps(body), time.time()),
            )
        return Response(
            json.dumps({"id": row_id, "object": "verification"}),
            content_type="application/json",
        ), 201

    return app
