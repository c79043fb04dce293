"""The ``kyc-service`` command: serve, migrate, create keys, set up a development machine."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

import click

from kyc_service.config import DEVELOPMENT_KEK_FILE, kyc_home, load_settings

VAR = Path("var")
"""The development files' folder, under ``KYC_HOME``."""
DEV_KEY_FILE = VAR / "dev-api-key"


class MainGroup(click.Group):
    """The command group, whose help ends with where relative paths are taken from."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the group's help, then the ``KYC_HOME`` rule with the directory it is now."""
        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(
                f"Paths are relative to KYC_HOME (now: {kyc_home()}): the default var/ files "
                "(SQLite databases, the development KEK, the test key), .env, and any relative "
                "path in a setting. KYC_HOME is the variable if set, else the source checkout "
                "the service runs from, else the working directory. Paths given as options "
                "(--out, --schedule-file) are relative to the working directory."
            )


@click.group(cls=MainGroup)
def main() -> None:
    """Real-name KYC verification service."""
    from kyc_service.observability.logs import configure_logging

    configure_logging(str(load_settings().get("LOG_LEVEL") or "INFO"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=int,
    default=lambda: int(os.environ.get("PORT", "8000")),
    show_default="8000 or $PORT",
)
@click.option("--workers", type=int, default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API with gunicorn."""
    try:
        _check_adapters(load_settings())
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:kyc_service.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "kyc_service.app:create_app()",
    ]
    os.execv(sys.executable, argv)


def _check_adapters(settings: dict) -> None:
    """Raise unless every adapter setting is usable and a key-encryption key is readable."""
    from kyc_service.bootstrap import Adapters
    from kyc_service.domain.access import Mode

    adapters = Adapters(settings)
    try:
        adapters.check()
        adapters.get("kek", Mode.LIVE)  # refuse to start without a key-encryption key
    finally:
        adapters.close()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option(
    "--create",
    is_flag=True,
    help="First create the PostgreSQL database, and the key store's, if they do not exist.",
)
def db_upgrade(create: bool) -> None:
    """Run the Alembic migrations to head (the database and the key store)."""
    _migrate(create=create)
    click.echo("database is at the latest revision")


@main.group()
def keys() -> None:
    """Tenants and API keys."""


@keys.command("create")
@click.option("--tenant", required=True, help="The client application's name; created if new.")
@click.option("--mode", type=click.Choice(["test", "live"]), required=True)
@click.option("--scopes", required=True, help="Comma-separated scopes, or '*' for all.")
def keys_create(tenant: str, mode: str, scopes: str) -> None:
    """Create an API key; it is printed alone on the last line, and never stored."""
    click.echo(_create_key(tenant, mode, scopes))


@main.command("dev-setup")
def dev_setup() -> None:
    """Prepare $KYC_HOME/var/ for development: key-encryption key, database, a test key."""
    home = Path(load_settings()["HOME"])
    (home / VAR).mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_dev_kek()
    _migrate()
    key_file = home / DEV_KEY_FILE
    if key_file.exists():
        click.echo(f"Test key: kept in {key_file} (shown when it was made)")
        return
    key = _create_key("development", "test", "*")
    _write_secret_file(key_file, key + "\n")
    click.echo(f"Test key (shown once, kept in {key_file}):")
    click.echo(key)


def _migrate(create: bool = False) -> None:
    """Migrate the configured database and key store to head (with ``create``, first create
    the PostgreSQL databases that do not exist); fail with one line, never a traceback."""
    from kyc_service.bootstrap import migrate

    settings = load_settings()
    try:
        if create:
            from kyc_service.bootstrap import create_databases

            for name in create_databases(settings):
                click.echo(f"created database {name}")
        migrate(settings)
    except RuntimeError as exc:  # DatabaseUnavailable: missing, unreachable, refused
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a SQLite file's folder that cannot be made
        raise click.ClickException(f"cannot open {exc.filename}: {exc.strerror}") from None


def _services():  # noqa: ANN202 - the composition root's Services
    """Build the service's components from the settings, or fail with a clear message."""
    from kyc_service.bootstrap import AdapterConfigurationError, bootstrap

    try:
        return bootstrap(load_settings())
    except (AdapterConfigurationError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("sandbox-verifiers")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8900, show_default=True)
@click.option("--secret", envvar="KYC_SANDBOX_SECRET", required=True, help="shared signing secret")
@click.option("--latency-ms", type=float, default=0.0, show_default=True)
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="calls answered at once (each holds a thread for its latency)",
)
def sandbox_verifiers(
    host: str,
    port: int,
    secret: str,
    latency_ms: float,
    fail_rate: float,
    timeout_rate: float,
    threads: int,
) -> None:
    """Serve the partner verifier sandbox: the verifier protocol with API.md's magic values."""
    from kyc_service.bootstrap import sandbox_verifiers_app
    from kyc_service.serving import serve_app

    app = sandbox_verifiers_app(secret, latency_ms, fail_rate, timeout_rate)
    serve_app(app, host, port, threads, str(load_settings().get("LOG_LEVEL") or "INFO"))


VERIFIER_ROLES = ("identity", "portrait", "bank", "account", "registry", "sms")
"""The verifier protocol's roles (docs/verifier-protocol.md)."""


def _verifier_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Accept only an ``http(s)://host[:port][/path]`` base URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # http://[::1 and the like
        usable = False
    if not usable:
        raise click.BadParameter("expected a base URL such as https://verifier.example:8443")
    return value


@main.command("verifier-conformance")
@click.option("--role", type=click.Choice([*VERIFIER_ROLES, "all"]), required=True)
@click.argument("url", callback=_verifier_url)
@click.option("--secret", envvar="KYC_VERIFIER_SECRET", required=True, help="shared signing secret")
@click.option(
    "--sandbox-headers",
    is_flag=True,
    help="force busy and daily_limit with X-Sandbox-Result (the partner sandbox only)",
)
@click.option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True)
def verifier_conformance(
    role: str, url: str, secret: str, sandbox_headers: bool, timeout: float
) -> None:
    """Run the verifier protocol's test cases against URL/v1/ROLE; exit 1 if any fails."""
    from kyc_service.bootstrap import verifier_conformance_kit

    kit = verifier_conformance_kit()
    results = kit.run_cases(url, secret, role, sandbox_headers=sandbox_headers, timeout=timeout)
    click.echo(kit.format_table(results))
    sys.exit(0 if kit.all_passed(results) else 1)


@main.group()
def kek() -> None:
    """Key-encryption keys."""


@kek.command("new")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def kek_new(out: Path) -> None:
    """Write a new key-encryption key file (mode 0600) for a production deployment
    (``KYC_KEK_FILE``); an existing file is never overwritten."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_secret_file(out, _new_kek_document())
    except FileExistsError:
        raise click.ClickException(f"{out} exists: a key file is never overwritten") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"new key-encryption key written to {out} (mode 0600); back it up apart")


@kek.command("rotate")
@click.option("--retire-old", is_flag=True, help="Remove the old KEKs once nothing uses them.")
def kek_rotate(retire_old: bool) -> None:
    """Add a new primary KEK and re-wrap every value it wraps (no field is decrypted)."""
    from kyc_service.services.key_rotation import rotate_kek

    services = _services()
    try:
        report = rotate_kek(services.vault, services.unit_of_work(), retire_old=retire_old)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the key file's folder is not writable
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from None
    finally:
        services.close()
    retired = ", ".join(report.retired) or "none"
    click.echo(
        f"new primary KEK {report.new_kek_id}; re-wrapped {report.rewrapped} data keys, "
        f"{report.webhook_secrets} webhook secrets, {report.idempotent_responses} stored "
        f"responses; retired: {retired}"
    )


@main.group()
def retention() -> None:
    """Retention of personal data."""


@retention.command("sweep")
def retention_sweep() -> None:
    """Delete document images and personal data past retention (safe to repeat, and from cron)."""
    from kyc_service.services.housekeeping import sweep_retention

    services = _services()
    try:
        report = sweep_retention(services.unit_of_work(), services.vault)
    finally:
        services.close()
    click.echo(
        f"deleted {report.documents_deleted} documents; "
        f"erased {len(report.subjects_erased)} subjects"
    )


@main.group()
def webhooks() -> None:
    """Webhook deliveries."""


@webhooks.command("deliver")
@click.option("--batch", type=click.IntRange(1, 10000), default=100, show_default=True)
def webhooks_deliver(batch: int) -> None:
    """Send the due webhook deliveries once (safe to run from cron and from several hosts)."""
    from kyc_service.bootstrap import deliver_webhooks

    services = _services()
    try:
        report = deliver_webhooks(services, batch=batch)
    finally:
        services.close()
    click.echo(f"delivered {report.succeeded}; retrying {report.retrying}; failed {report.failed}")


@main.command()
@click.option(
    "--queues",
    default="local,upstream",
    show_default=True,
    help="Comma-separated: local (images, OCR, faces: CPU), upstream (verifiers, webhooks, "
    "housekeeping: I/O).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    default=None,
    help="Processes (prefork) or threads; default: the CPU count for local, 32 for upstream.",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default=None,
    help="Default: prefork when serving local, threads for upstream alone.",
)
def worker(queues: str, concurrency: int | None, pool: str | None) -> None:
    """Run a Celery worker for the checks (KYC_EXECUTOR=celery, KYC_BROKER_URL)."""
    from kyc_service.bootstrap import run_worker

    names = _queues(queues)
    pool = pool or ("prefork" if "local" in names else "threads")
    concurrency = concurrency or ((os.cpu_count() or 1) if pool == "prefork" else 32)

    def start(settings: dict) -> None:
        _check_adapters(settings)  # a worker's tasks open sealed data: a KEK is needed
        run_worker(settings, names, concurrency, pool)

    _on_a_worker_pool(start)


@main.command()
@click.option(
    "--schedule-file",
    default=None,
    help="Where beat keeps its last run times (default: KYC_BEAT_SCHEDULE_FILE or a "
    "temporary file).",
)
def beat(schedule_file: str | None) -> None:
    """Schedule the periodic jobs on Celery beat: retries, webhook deliveries, deposit expiry,
    retention (one beat per deployment; each job is safe beside its cron command)."""
    from kyc_service.bootstrap import run_beat

    def start(settings: dict) -> None:
        path = schedule_file or settings.get("BEAT_SCHEDULE_FILE")
        if path:
            run_beat(settings, path)
            return
        with tempfile.TemporaryDirectory(prefix="kyc-beat-") as folder:
            run_beat(settings, str(Path(folder) / "schedule"))

    _on_a_worker_pool(start)


def _queues(value: str) -> list[str]:
    """Parse ``--queues``; a usage error names an unknown queue."""
    from kyc_service.ports import QUEUES

    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if not names or unknown:
        raise click.BadParameter(f"queues are {', '.join(QUEUES)}", param_hint="--queues")
    return names


def _on_a_worker_pool(start) -> None:  # noqa: ANN001 - a callable taking the settings
    """Run ``start(settings)`` with logging set up, or fail clearly without a worker pool."""
    from kyc_service.observability.logs import configure_logging
    from kyc_service.ports import NoWorkerPool

    settings = load_settings()
    configure_logging(str(settings["LOG_LEVEL"]))
    try:
        start(settings)
    except NoWorkerPool:
        raise click.ClickException(
            f"KYC_EXECUTOR={settings['EXECUTOR']} runs checks in the web process; "
            "set KYC_EXECUTOR=celery and KYC_BROKER_URL for a worker pool"
        ) from None
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("retry-pending")
@click.option("--limit", type=int, default=100, show_default=True)
def retry_pending_command(limit: int) -> None:
    """Run the checks of verifications whose upstream was down, once their retry is due.

    Safe from cron and from several processes at once.
    """
    from kyc_service.services.pipeline import retry_pending

    services = _services()
    try:
        ran = retry_pending(services, limit=limit)
    finally:
        services.close()
    click.echo(f"retried {ran} verifications")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; name the first broken link (exit 1) or confirm it holds."""
    services = _services()
    try:
        broken = services.verify_audit()
    finally:
        services.close()
    if broken is not None:
        click.echo(
            f"audit chain broken at event {broken.seq} ({broken.event_id}): {broken.problem}"
        )
        sys.exit(1)
    click.echo("audit chain intact")


def _create_key(tenant: str, mode: str, scopes: str) -> str:
    """Create a key with the service layer on the configured database."""
    from kyc_service.bootstrap import database_only
    from kyc_service.domain.access import Mode, parse_scopes
    from kyc_service.services.api_keys import create_key

    try:
        parsed = parse_scopes(scopes)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scopes") from None
    with database_only(load_settings()) as unit_of_work:
        return create_key(unit_of_work(), tenant, Mode(mode), parsed)


def _write_dev_kek() -> None:
    """Make a development key-encryption key file (mode 0600) unless one is configured."""
    settings = load_settings()
    development_file = Path(settings["HOME"]) / DEVELOPMENT_KEK_FILE
    if settings.get("KEK") or settings.get("KEK_FILE") != str(development_file):
        return  # a key configured elsewhere: never make one beside it
    if development_file.exists():
        return
    _write_secret_file(development_file, _new_kek_document())
    click.echo(f"Development key-encryption key: {development_file} (mode 0600)")


def _new_kek_document() -> str:
    """A key file's JSON: one new random 256-bit KEK, primary."""
    document = {
        "primary": "kek-1",
        "keys": {"kek-1": base64.b64encode(secrets.token_bytes(32)).decode()},
    }
    return json.dumps(document, indent=2) + "\n"


def _write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


@main.command("samples")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory to write into (created; must be empty unless --force).",
)
@click.option("--force", is_flag=True, help="Write over the samples in a non-empty directory.")
def samples(out: Path, force: bool) -> None:
    """Write synthetic sample documents, request bodies and walkthrough.sh for the sandbox."""
    from kyc_service.bootstrap import AdapterConfigurationError, load_tool

    what = "the sample documents tool (kyc_samples)"
    try:
        write_samples = load_tool("samples", what)
    except (AdapterConfigurationError, ImportError):
        raise click.ClickException(f"{what} is not installed") from None
    try:
        written = write_samples(out, force=force)
    except RuntimeError as exc:  # the CJK font missing, a non-empty directory
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {len(written)} files to {out}: README.txt lists the scenarios")
    click.echo(f"run them against the service (make run): bash {out / 'walkthrough.sh'}")
