"""The composition root: the one place that turns configuration into concrete adapters."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kyc_service.config import DEFAULTS, adapter_settings
from kyc_service.domain.access import Mode
from kyc_service.observability.metrics import HttpMetrics
from kyc_service.persistence.database import (
    check_connection,
    create_database,
    database_unreachable,
    make_engine,
    make_session_factory,
    ping,
)
from kyc_service.persistence.migrate import is_current, upgrade
from kyc_service.persistence.unit_of_work import SqlUnitOfWork
from kyc_service.ports import PORT_GROUPS, Adapter, TaskRunner
from kyc_service.ports.storage import UnitOfWork
from kyc_service.services.deposits import expire_deposits
from kyc_service.services.housekeeping import sweep_retention
from kyc_service.services.pipeline import retry_pending, run_checks, run_local_checks
from kyc_service.services.webhooks import deliver_due
from kyc_service.vault import KeyStore, RetentionPolicy, Vault

log = logging.getLogger(__name__)
SANDBOX = "sandbox"
SANDBOXED_PORTS = ("identity", "portrait", "bank", "registry", "account", "sms")
"""Ports whose test-mode calls always go to the sandbox adapter."""
FAILOVER_PORTS = ("identity", "portrait", "bank", "registry")
"""Ports that take a failover chain (a payment or a message is never sent twice)."""


class AdapterConfigurationError(RuntimeError):
    """An adapter name that no installed entry point provides, or one not allowed."""


def installed_adapters(port: str) -> list[str]:
    """Return the names of the installed adapters for ``port``, sorted."""
    group, _ = PORT_GROUPS[port]
    return sorted(ep.name for ep in entry_points(group=group))


def setting_name(port: str) -> str:
    """Return the setting that names a port's adapter (``IDENTITY_ADAPTER``, ``EXECUTOR``)."""
    return "EXECUTOR" if port == "executor" else f"{port.upper()}_ADAPTER"


def load_adapter_class(port: str, name: str) -> type[Adapter]:
    """Load the adapter class registered as ``name`` for ``port``, or fail listing the installed."""
    group, base = PORT_GROUPS[port]
    found = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        installed = ", ".join(installed_adapters(port)) or "none"
        raise AdapterConfigurationError(
            f"{setting_name(port)}={name!r} is not an installed adapter for {group}; "
            f"installed: {installed}"
        )
    adapter_class = found[0].load()
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, base)):
        raise AdapterConfigurationError(f"{group}:{name} does not implement {base.__name__}")
    missing = missing_keywords(adapter_class, base)
    if missing:
        raise AdapterConfigurationError(
            f"{group}:{name} is written for an older {base.__name__}: "
            f"{', '.join(missing)} not accepted"
        )
    return adapter_class


def missing_keywords(adapter_class: type, base: type) -> list[str]:
    """The port's keyword-only arguments (``verify(…, request_id=)``) an adapter's methods
    do not take: such an adapter would fail at its first call, so it is refused at start."""
    missing = []
    for method in sorted(getattr(base, "__abstractmethods__", ())):
        wanted = inspect.signature(getattr(base, method)).parameters.values()
        taken = inspect.signature(getattr(adapter_class, method)).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in taken.values()):
            continue
        missing += [
            f"{method}({p.name}=)"
            for p in wanted
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in taken
        ]
    return missing


def check_positive_seconds(settings: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Fail now, naming the setting, unless each of ``names`` is a number of seconds > 0."""
    for name in names:
        try:
            seconds = float(settings.get(name, DEFAULTS[name]))
        except (TypeError, ValueError):
            seconds = 0.0
        if not seconds > 0:
            raise AdapterConfigurationError(f"KYC_{name} must be a number of seconds above 0")


def check_counts(settings: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Fail now, naming the setting, unless each of ``names`` is a whole number of 1 or more."""
    for name in names:
        try:
            count = int(str(settings.get(name, DEFAULTS[name])))
        except (TypeError, ValueError):
            count = 0
        if count < 1:
            raise AdapterConfigurationError(f"KYC_{name} must be a whole number of 1 or more")


WARMED_PORTS = ("face", "ocr")
"""Ports whose models load at a worker's start, so no request pays for it."""


@dataclass
class Adapters:
    """The adapters of one process, per mode; each built on first use."""

    settings: Mapping[str, Any]
    _built: dict[tuple[str, Mode, str], Adapter] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def name_for(self, port: str, mode: Mode) -> str:
        """Return the adapter name used for ``port`` in ``mode``."""
        if mode is Mode.TEST and port in SANDBOXED_PORTS:
            return SANDBOX
        name = setting_name(port)
        return str(self.settings.get(name) or DEFAULTS[name])

    def get(self, port: str, mode: Mode) -> Any:
        """Return the adapter of ``port`` for ``mode`` (the first of a failover chain)."""
        return self.named(port, mode, self.names_for(port, mode)[0])

    def named(self, port: str, mode: Mode, name: str) -> Any:
        """Return the provider ``name`` of ``port`` for ``mode``, built when first asked (a
        fallback that cannot be built never stands in the way of the first provider)."""
        return self._built_adapter(port, mode, name)

    def names_for(self, port: str, mode: Mode) -> list[str]:
        """The provider names of ``port`` for ``mode``, in failover order."""
        return [name.strip() for name in self.name_for(port, mode).split(",") if name.strip()]

    def _built_adapter(self, port: str, mode: Mode, name: str) -> Any:
        """The adapter ``name`` of ``port`` for ``mode``, built once."""
        key = (port, mode, name)
        with self._lock:
            if key not in self._built:
                adapter_class = load_adapter_class(port, name)
                self._built[key] = adapter_class.from_settings(self.settings_for(port, name))
            return self._built[key]

    def settings_for(self, port: str, name: str = "") -> dict[str, Any]:
        """Return a port adapter's settings: the port's (``KYC_<PORT>_*``: ``timeout``, the
        ``http`` adapter's ``url``), under its provider's (``KYC_<NAME>_*``:
        ``KYC_TENCENT_SECRET_ID`` → ``secret_id`` for ``tencent``), which win — in a
        failover chain a port-wide ``KYC_IDENTITY_ENDPOINT`` never sends one provider's
        requests to another's host. The KEK adapter also gets ``KEK`` and ``ENV``."""
        provider = adapter_settings(self.settings, name) if name and name != SANDBOX else {}
        own = adapter_settings(self.settings, port) | provider
        if port == "kek":
            own.update(key=self.settings.get("KEK"), env=self.settings.get("ENV"))
        if port == "executor":
            own.update(
                broker_url=self.settings.get("BROKER_URL"),
                time_limit=self.settings.get("TASK_TIME_LIMIT"),
                log_level=self.settings.get("LOG_LEVEL"),
            )
        return own

    def check(self) -> None:
        """Fail now, naming the setting, if any configured adapter is unknown or not allowed."""
        production = self.settings.get("ENV") == "production"
        for port in PORT_GROUPS:
            names = self.names_for(port, Mode.LIVE)
            if not names:
                raise AdapterConfigurationError(f"{setting_name(port)} names no adapter")
            if len(names) > 1 and port not in FAILOVER_PORTS:
                raise AdapterConfigurationError(
                    f"{setting_name(port)}: only the identity, portrait, bank and registry "
                    "verifiers take a failover chain"
                )
            if len(set(names)) != len(names):
                raise AdapterConfigurationError(f"{setting_name(port)} names a provider twice")
            for name in names:
                if production and port in SANDBOXED_PORTS and name == SANDBOX:
                    raise AdapterConfigurationError(
                        f"{setting_name(port)}=sandbox is refused for live keys in production"
                    )
                load_adapter_class(port, name)
                if port in SANDBOXED_PORTS:  # built now: a missing extra or setting fails here
                    self.named(port, Mode.LIVE, name)

        check_positive_seconds(self.settings, ("CHECKS_LEASE_SECONDS", "TASK_TIME_LIMIT"))
        check_counts(self.settings, ("UNFINISHED_RUNS_LIMIT",))

    def warm_up(self) -> None:
        """Build the image adapters and load their models now (a worker's start)."""
        warmed: set[int] = set()
        for port in WARMED_PORTS:
            for mode in Mode:
                adapter = self.get(port, mode)
                if hasattr(adapter, "warm_up") and id(adapter) not in warmed:
                    warmed.add(id(adapter))  # one adapter may serve both modes: once
                    adapter.warm_up()

    def close(self) -> None:
        """Close every adapter built so far."""
        for adapter in self._built.values():
            adapter.close()
        self._built.clear()


def system_clock() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything a process needs, built once from the settings."""

    settings: Mapping[str, Any]
    engine: Engine
    session_factory: sessionmaker[Session]
    adapters: Adapters
    metrics: HttpMetrics
    keystore_engine: Engine
    vault: Vault

    @property
    def runner(self) -> TaskRunner:
        """Return the task runner (``KYC_EXECUTOR``), with the service's tasks registered."""
        return self.adapters.get("executor", Mode.LIVE)

    def unit_of_work(self) -> UnitOfWork:
        """Return a new unit of work on the service's database."""
        return SqlUnitOfWork(self.session_factory)

    def clock(self) -> datetime:
        """The process's one clock (the vault's, which tests may move)."""
        return self.vault.clock()

    def ping_database(self) -> None:
        """Raise unless the database answers."""
        ping(self.engine)

    def not_ready(self) -> str | None:
        """Why the service cannot serve now, or None: both databases must answer and be
        migrated to this version's head."""
        for engine, keystore in ((self.engine, False), (self.keystore_engine, True)):
            try:
                if not is_current(engine, keystore=keystore):
                    return "the database is not migrated to this version"
            except Exception:  # noqa: BLE001 - any failure to reach a database means not ready
                return "the database is unavailable"
        return None

    def database_unreachable(self, exc: BaseException) -> bool:
        """Tell whether ``exc`` says the database cannot be reached."""
        return database_unreachable(exc)

    def verify_audit(self) -> Any:
        """Walk the audit chain; return the first broken link, or None."""
        with self.unit_of_work() as uow:
            return self.vault.audit.verify(uow.session)

    def close(self) -> None:
        """Close adapters and database connections."""
        self.adapters.close()
        self.engine.dispose()
        self.keystore_engine.dispose()


def build_vault(
    settings: Mapping[str, Any],
    adapters: Adapters,
    clock: Callable[[], datetime] = system_clock,
) -> tuple[Vault, Engine]:
    """Build the vault on the key store of ``KEYSTORE_URL``; fails without a usable KEK.

    Its pool is as large as the data's (``DB_POOL_SIZE``): every thread opening fields
    reads a data key, and a connection past the pool is opened and closed for each read."""
    keystore_engine = make_engine(str(settings["KEYSTORE_URL"]), int(settings["DB_POOL_SIZE"]))
    wrapper = adapters.get("kek", Mode.LIVE)
    retention = RetentionPolicy(
        data_days=int(settings["RETENTION_DAYS"]),
        document_days=int(settings["DOCUMENT_RETENTION_DAYS"]),
    )
    return Vault(KeyStore(keystore_engine, wrapper, clock), clock, retention), keystore_engine


def bootstrap(settings: Mapping[str, Any]) -> Services:
    """Build the process's services; fail now on an unknown adapter or a missing KEK."""
    adapters = Adapters(settings)
    adapters.check()
    engine = make_engine(str(settings["DATABASE_URL"]), int(settings["DB_POOL_SIZE"]))
    vault, keystore_engine = build_vault(settings, adapters)
    services = Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        adapters=adapters,
        metrics=HttpMetrics(),
        keystore_engine=keystore_engine,
        vault=vault,
    )
    register_tasks(services.runner, lambda: services)
    return services


def register_tasks(runner: TaskRunner, current: Callable[[], Services]) -> None:
    """Register the service's tasks on ``runner``; each runs with ``current()``'s services
    (the process's own, built once per process).

    In process, ``run_checks`` runs the whole pipeline. On a worker pool it is two tasks: the
    local checks on the ``local`` queue, then — unless they decided — the upstream checks
    on the ``upstream`` queue. The periodic jobs run on the ``upstream`` queue, and the
    periodic retry enqueues the runs it claims rather than running them itself.
    """

    def all_checks(verification_id: str, lease: str | None = None) -> None:
        run_checks(current(), verification_id, lease)

    if runner.runs_in_process:
        runner.register("run_checks", all_checks)
    else:

        def local_then_upstream(verification_id: str, lease: str | None = None) -> None:
            upstream_lease = run_local_checks(current(), verification_id, lease)
            if upstream_lease is not None:
                runner.submit(
                    "run_upstream_checks", verification_id=verification_id, lease=upstream_lease
                )

        runner.register("run_checks", local_then_upstream, queue="local")
        runner.register("run_upstream_checks", all_checks, queue="upstream")
    for name, job in PERIODIC_JOBS.items():
        runner.register(name, functools.partial(job, current, runner), queue="upstream")


def _retry_pending(current: Callable[[], Services], runner: TaskRunner) -> None:
    """The periodic retry: claim each due verification and run (enqueue) its checks."""
    retry_pending(
        current(),
        run=lambda verification_id, lease: runner.submit(
            "run_checks", verification_id=verification_id, lease=lease
        ),
        expire=False,
    )


def _expire_deposits(current: Callable[[], Services], _runner: TaskRunner) -> None:
    """Reject the verifications whose micro-deposit waited past its time."""
    services = current()
    expire_deposits(services.unit_of_work, services.vault)


def _sweep_retention(current: Callable[[], Services], _runner: TaskRunner) -> None:
    """Delete documents and personal data past retention."""
    services = current()
    sweep_retention(services.unit_of_work(), services.vault)


def _deliver_webhooks(current: Callable[[], Services], _runner: TaskRunner) -> None:
    """Send the due webhook deliveries once."""
    deliver_webhooks(current())


PERIODIC_JOBS: dict[str, Callable[[Callable[[], Services], TaskRunner], None]] = {
    "retry_pending": _retry_pending,
    "deliver_webhooks": _deliver_webhooks,
    "expire_deposits": _expire_deposits,
    "sweep_retention": _sweep_retention,
}
"""The jobs ``kyc-service beat`` schedules, by task name (each safe beside its cron command)."""

BEAT_SETTINGS = {
    "retry_pending": "BEAT_RETRY_SECONDS",
    "deliver_webhooks": "BEAT_WEBHOOKS_SECONDS",
    "expire_deposits": "BEAT_DEPOSITS_SECONDS",
    "sweep_retention": "BEAT_RETENTION_SECONDS",
}
"""Each periodic job's interval setting (``KYC_BEAT_RETRY_SECONDS`` …)."""


def deliver_webhooks(services: Services, batch: int = 100) -> Any:
    """Send the due webhook deliveries once (safe from several hosts); the report."""
    return deliver_due(
        services.unit_of_work,
        services.vault.keystore.wrapper,
        services.clock,
        services.adapters.get("webhooks", Mode.LIVE),
        batch=batch,
        concurrency=int(services.settings["WEBHOOKS_CONCURRENCY"]),
    )


class ProcessServices:
    """The services of the current process, built on first use in each process (a forked
    pool process never shares its parent's database connections)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._services: Services | None = None

    def get(self) -> Services:
        """This process's services."""
        with self._lock:
            if self._services is None or self._pid != os.getpid():
                self._services = bootstrap(self.settings)
                self._pid = os.getpid()
            return self._services

    def start(self, warm: bool = True) -> None:
        """Build the services and, with ``warm``, load the face and OCR models as a process
        starts (once; shared read-only by its tasks). A failure is logged by class, and the
        models then load on first use."""
        started = time.monotonic()
        try:
            services = self.get()
            if warm:
                services.adapters.warm_up()
        except Exception as exc:  # noqa: BLE001 - the worker still runs; models load on use
            log.warning("worker warm-up failed: %s", type(exc).__name__)
            return
        log.info(
            "worker process ready%s in %.1f s",
            " (face and OCR models loaded)" if warm else "",
            time.monotonic() - started,
        )


def _task_runner(settings: Mapping[str, Any]) -> TaskRunner:
    """The configured task runner, after checking every adapter setting."""
    adapters = Adapters(settings)
    adapters.check()
    return adapters.get("executor", Mode.LIVE)


def run_worker(settings: Mapping[str, Any], queues: list[str], concurrency: int, pool: str) -> None:
    """Serve ``queues`` as a worker (``kyc-service worker``) until stopped."""
    worker_settings = dict(settings)
    if pool == "threads":  # every thread may hold a connection while it records
        worker_settings["DB_POOL_SIZE"] = max(int(settings["DB_POOL_SIZE"]), concurrency)
    runner = _task_runner(worker_settings)
    process = ProcessServices(worker_settings)
    register_tasks(runner, process.get)
    warm = "local" in queues  # the upstream queue runs no image check
    runner.run_worker(queues, concurrency, pool, functools.partial(process.start, warm))


def run_beat(settings: Mapping[str, Any], schedule_file: str) -> None:
    """Schedule the periodic jobs (``kyc-service beat``) until stopped."""
    runner = _task_runner(settings)
    register_tasks(runner, _beat_runs_no_task)
    schedule = {name: float(settings[key]) for name, key in BEAT_SETTINGS.items()}
    runner.run_beat(schedule, schedule_file)


def _beat_runs_no_task() -> Services:
    """The beat only sends tasks; it never runs one."""
    raise RuntimeError("the beat process runs no task")


def migrate(settings: Mapping[str, Any]) -> None:
    """Migrate the configured database and key store to head."""
    for setting, keystore in (("DATABASE_URL", False), ("KEYSTORE_URL", True)):
        engine = make_engine(str(settings[setting]))
        try:
            upgrade(engine, keystore=keystore)
        finally:
            engine.dispose()


def create_databases(settings: Mapping[str, Any]) -> list[str]:
    """Create the PostgreSQL database and key store that do not exist yet (``kyc-service db
    upgrade --create``); the names of those created."""
    created = []
    for setting in ("DATABASE_URL", "KEYSTORE_URL"):
        name = create_database(str(settings[setting]), f"KYC_{setting}")
        if name:
            created.append(name)
    return created


@contextmanager
def database_only(settings: Mapping[str, Any]) -> Iterator[Callable[[], UnitOfWork]]:
    """Yield a unit-of-work factory on the configured database alone (no vault, no KEK)."""
    engine = make_engine(str(settings["DATABASE_URL"]))
    try:
        check_connection(engine, "KYC_DATABASE_URL")
        sessions = make_session_factory(engine)
        yield lambda: SqlUnitOfWork(sessions)
    finally:
        engine.dispose()


def load_tool(name: str, what: str) -> Any:
    """The tool registered as ``name`` in the entry point group ``kyc.tools``."""
    found = [ep for ep in entry_points(group="kyc.tools") if ep.name == name]
    if not found:
        raise AdapterConfigurationError(f"{what} is not installed")
    return found[0].load()


def sandbox_verifiers_app(
    secret: str, latency_ms: float = 0.0, fail_rate: float = 0.0, timeout_rate: float = 0.0
) -> Any:
    """The partner verifier sandbox (``kyc-service sandbox-verifiers``), loaded by its
    entry point (``kyc.tools``) like an adapter."""
    create = load_tool("sandbox-verifiers", "the verifier sandbox")
    return create(secret, latency_ms=latency_ms, fail_rate=fail_rate, timeout_rate=timeout_rate)


def verifier_conformance_kit() -> Any:
    """The verifier conformance kit (``kyc-service verifier-conformance``): the module with
    ``run_cases`` and ``format_table``, loaded by its entry point (``kyc.tools``)."""
    return load_tool("verifier-conformance", "the verifier conformance kit")
