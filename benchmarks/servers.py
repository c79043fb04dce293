"""Start servers as subprocesses in their own process group, wait for them, and stop them."""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 90.0


class ServerError(RuntimeError):
    """A server that would not start, or a setup command that failed."""


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and where its stderr goes."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr_tail(self, lines: int = 40) -> str:
        """Return the last ``lines`` lines the server wrote to stderr."""
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def serve_argv(workers: int) -> list[str]:
    """Return ``kyc-service serve`` on 127.0.0.1 (``{port}`` filled in by :func:`serving`)."""
    return [
        str(BIN / "kyc-service"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        str(workers),
    ]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_kek() -> str:
    """Return a fresh key-encryption key document, as ``KYC_KEK`` expects it."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return json.dumps({"primary": "kek-1", "keys": {"kek-1": key}})


def service_env(workdir: Path) -> dict[str, str]:
    """Return the environment of a service with its own database and key store in ``workdir``."""
    env = dict(os.environ)
    env.update(
        {
            "KYC_HOME": str(workdir),
            "KYC_DATABASE_URL": f"sqlite:///{workdir / 'kyc.db'}",
            "KYC_KEYSTORE_URL": f"sqlite:///{workdir / 'keys.db'}",
            "KYC_KEK": random_kek(),
            "KYC_RATE_LIMIT": "100000 per second",
            "KYC_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        }
    )
    env.pop("KYC_KEK_FILE", None)
    (workdir / "metrics").mkdir(exist_ok=True)
    return env


def run_command(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> str:
    """Run a setup command; return its stdout, or raise :class:`ServerError` with its stderr."""
    done = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise ServerError(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.strip()[-2000:]}"
        )
    return done.stdout


def prepare_service(workdir: Path, env: Mapping[str, str]) -> str:
    """Migrate the temporary database and key store; return a fresh test API key."""
    cli = str(BIN / "kyc-service")
    run_command([cli, "db", "upgrade"], env, workdir)
    output = run_command(
        [cli, "keys", "create", "--tenant", "bench", "--mode", "test", "--scopes", "*"],
        env,
        workdir,
    )
    lines = output.strip().splitlines()
    if not lines:
        raise ServerError("kyc-service keys create printed no key")
    return lines[-1].strip()


def _healthy(host: str, port: int, path: str) -> bool:
    """Return whether ``GET path`` answers 200."""
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Terminate ``process``'s whole process group (TERM, then KILL after ``grace`` seconds).

    The server was started in its own session, so its process group id is its pid; gunicorn's
    workers share it, and a final KILL makes sure none outlives its master.
    """
    pgid = process.pid
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=5)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@contextmanager
def own_sessions(
    commands: Mapping[str, Sequence[str]], env: Mapping[str, str], cwd: Path, logs: Path
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Run each named command in a session of its own (a SIGSTOP to its group reaches all of
    it), its output in ``logs/<name>.log``; on exit let a stopped one go on, then stop it."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, argv in commands.items():
            with (logs / f"{name}.log").open("wb") as log:
                started[name] = subprocess.Popen(
                    list(argv),
                    env=dict(env),
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
        yield started
    finally:
        for process in started.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)
            stop(process)


@contextmanager
def serving(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    name: str,
    health_path: str = "/healthz",
    host: str = "127.0.0.1",
    port: int | None = None,
) -> Iterator[Server]:
    """Run ``argv`` (which must listen on ``host:port``) until ``health_path`` answers 200.

    ``{port}`` in ``argv`` is replaced by the port. The server runs in a new session (its own
    process group) and is always stopped on exit, with all its workers.
    """
    port = port or free_port()
    argv = [arg.replace("{port}", str(port)) for arg in argv]
    stderr_path = cwd / f"{name}.stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    server = Server(host, port, process, stderr_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not _healthy(host, port, health_path):
            if process.poll() is not None:
                raise ServerError(
                    f"{name} exited {process.returncode} before it was ready:\n"
                    + server.stderr_tail()
                )
            if time.monotonic() > deadline:
                raise ServerError(f"{name} not ready after {READY_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.2)
        yield server
    finally:
        stop(process)
