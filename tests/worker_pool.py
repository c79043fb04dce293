"""Test support for the Celery worker pool: brokers, ``kyc-service worker`` and ``beat`` as
real processes (each in a process group of its own, so a test stops, pauses or kills only
what it started), and waiting for verifications to be decided."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import missing

KYC = str(Path(sys.executable).with_name("kyc-service"))
REDIS_BROKER = os.environ.get("KYC_TEST_BROKER_REDIS_URL", "redis://127.0.0.1:6379/13")
RABBITMQ_BROKER = os.environ.get("KYC_TEST_BROKER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {"redis": REDIS_BROKER, "rabbitmq": RABBITMQ_BROKER}
"""The brokers CI runs (``.ci/run`` starts both)."""
UNDECIDED = ("processing",)


def broker_reachable(url: str) -> None:
    """Skip (fail under CI) unless something listens at the broker's host and port."""
    parts = urlsplit(url)
    port = parts.port or (6379 if parts.scheme == "redis" else 5672)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2).close()
    except OSError:
        missing(f"no broker listens at {parts.scheme}://{parts.hostname}:{port}")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Process:
    """One ``kyc-service`` process this test started, with its argv for a restart."""

    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def alive(self) -> bool:
        """Tell whether its main process still runs."""
        return self.popen is not None and self.popen.poll() is None

    def children(self) -> list[int]:
        """The pids of its pool processes (a prefork worker's children)."""
        if not self.alive():
            return []
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


@dataclass
class WorkerPool:
    """The worker and beat processes of one test, on one broker and database."""

    env: dict[str, str]
    workdir: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> Process:
        """Start ``kyc-service ARGS`` as ``name`` (``worker --queues local`` …)."""
        process = self.processes.get(name) or Process(
            name, [KYC, *args], self.workdir / f"{name}.log"
        )
        handle = process.log.open("ab")
        process.popen = subprocess.Popen(
            process.argv,
            cwd=self.workdir,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        self.processes[name] = process
        return process

    def signal(self, name: str, signum: int) -> None:
        """Send ``signum`` to the process group of ``name`` (all its pool processes)."""
        process = self.processes[name]
        if process.alive():
            os.killpg(process.popen.pid, signum)

    def pause(self, name: str) -> None:
        """Stop ``name`` and its pool where they stand (SIGSTOP)."""
        self.signal(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """Let a paused ``name`` go on (SIGCONT)."""
        self.signal(name, signal.SIGCONT)

    def kill_one(self, rng: random.Random) -> str:
        """SIGKILL one random process of this pool (a pool process or a worker's main
        process); restart a main process that is gone. Return what was killed."""
        targets = [
            (name, pid)
            for name, process in self.processes.items()
            if name != "beat"
            for pid in [*process.children(), process.popen.pid]
        ]
        name, pid = rng.choice(targets)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        main_process = self.processes[name]
        if pid == main_process.popen.pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # its orphans too, as a supervisor would
            main_process.popen.wait(10)
            self.start(name)
            return f"{name} (main process)"
        return f"{name} (pool process)"

    def stop(self) -> None:
        """Stop every process (SIGCONT then SIGTERM, SIGKILL after 15 s)."""
        for name, process in self.processes.items():
            if not process.alive():
                continue
            self.signal(name, signal.SIGCONT)
            self.signal(name, signal.SIGTERM)
        for name, process in self.processes.items():
            if process.popen is None:
                continue
            try:
                process.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.signal(name, signal.SIGKILL)
                process.popen.wait(5)

    def logs(self) -> str:
        """The tail of every process's log (for a failing test's message)."""
        return "\n".join(
            f"--- {name} ---\n{process.log.read_text(errors='replace')[-3000:]}"
            for name, process in self.processes.items()
            if process.log.exists()
        )


def pool_env(settings: Mapping[str, object]) -> dict[str, str]:
    """The environment of worker processes: this one's, plus ``KYC_<NAME>`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_TEST")}
    env.update({f"KYC_{name}": str(value) for name, value in settings.items()})
    env["KYC_EXECUTOR"] = "celery"
    return env


def wait_until(
    done: Callable[[], bool], seconds: float, what: str, pool: WorkerPool | None = None
) -> None:
    """Poll ``done`` until it holds; fail naming ``what`` (and the pool's logs) past
    ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.2)
    logs = pool.logs() if pool is not None else ""
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}\n{logs}")
