"""JSON logs with the request id, passed through the personal-data mask."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kyc_service.domain.timestamps import utc_text
from kyc_service.observability.masking import mask_text

HANDLER_NAME = "kyc-json"
"""The name of the one handler that writes the service's log lines."""

QUIET_LOGGERS = (
    "alembic",
    "celery",
    "face_recognition",
    "onnxruntime",
    "PIL",
    "RapidOCR",
    "urllib3",
    "werkzeug",
)
"""Libraries that log chatter at INFO (werkzeug's would hold the query string): WARNING and
up only, through the service's handler rather than their own."""

SELF_CONTAINED_LOGGERS = ("RapidOCR",)
"""Loggers that turn ``propagate`` off when their library is imported (RapidOCR, with its own
coloured handler unless the logger already has one): they get the service's handler."""


class MaskingFilter(logging.Filter):
    """Rewrite every record's message (and string extras) through ``mask_text``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the fully formatted message and every extra; drop the arguments."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} (log arguments did not fit the message)"
        record.msg = mask_text(message)
        record.args = None
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, _mask_value(value))
        return True


def _mask_value(value: Any) -> Any:
    """Mask a log extra: strings and long integers as text, containers as JSON text."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 1_000_000 else mask_text(str(value))
    if isinstance(value, str):
        return mask_text(value)
    return mask_text(json.dumps(value, ensure_ascii=False, default=str))


_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Add the current request's id (``request_id``) to every record made during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach ``request_id`` when a request is being served."""
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id()
        return True


def _current_request_id() -> str | None:
    """Return the id of the request being served, if any."""
    from flask import g, has_request_context

    return g.get("request_id") if has_request_context() else None


class MaskingJsonFormatter(JsonFormatter):
    """A JSON formatter with the service's UTC times, whose exception text is masked too."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """The record's time as every time the service writes (``YYYY-MM-DDTHH:MM:SSZ``)."""
        return utc_text(datetime.fromtimestamp(record.created, UTC))

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """Mask the traceback text (it may quote values)."""
        return mask_text(super().formatException(ei))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)s"
LOG_FIELDS = {"levelname": "level", "asctime": "time", "name": "logger", "process": "pid"}


def json_handler(stream: Any = None) -> logging.Handler:
    """Return the service's handler: masked JSON lines with the request id, on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskingFilter())
    handler.setFormatter(MaskingJsonFormatter(LOG_FORMAT, rename_fields=LOG_FIELDS))
    return handler


def configure_logging(level: str = "INFO") -> None:
    """Send every record of the process to stderr as masked JSON lines.

    The root logger gets the JSON handler (once per process; gunicorn's ``logconfig_dict``
    may have installed it already), warnings become log records, and the chatty libraries of
    :data:`QUIET_LOGGERS` are held to WARNING through the same handler.
    """
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = json_handler()
        root.addHandler(handler)
    logging.captureWarnings(True)
    quiet_third_parties(handler)


def quiet_third_parties(handler: logging.Handler) -> None:
    """Drop the libraries' own handlers; WARNING and up of theirs goes through ``handler``."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        for own in list(logger.handlers):
            if own is not handler:
                logger.removeHandler(own)
        logger.propagate = name not in SELF_CONTAINED_LOGGERS
        if not logger.propagate and handler not in logger.handlers:
            logger.addHandler(handler)


class GunicornAccessFilter(logging.Filter):
    """Rewrite gunicorn's access record into safe JSON fields (no path, query, address).

    The service's own access line (``kyc_service.access``) names the URL rule, never the
    path's values; gunicorn's raw request line could hold a reference or a query string, so
    only the method, status, size, duration and request id are kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the message and its arguments with the safe fields."""
        atoms = record.args if isinstance(record.args, dict) else {}
        record.msg = f"{atoms.get('m', '-')} {atoms.get('s', '-')}"
        record.args = None
        record.method = atoms.get("m")
        record.status = _int_or_none(atoms.get("s"))
        record.bytes = _int_or_none(atoms.get("B"))
        duration = _int_or_none(atoms.get("D"))
        record.duration_ms = None if duration is None else round(duration / 1000, 2)
        record.request_id = atoms.get("{x-request-id}o")
        return True


def _int_or_none(value: Any) -> int | None:
    """An access atom as an integer (``-`` or absent: None)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


LOGS = __name__


def gunicorn_log_config(level: str) -> dict[str, Any]:
    """Gunicorn's ``logconfig_dict``: its loggers and the root through the JSON handler.

    ``gunicorn.access`` stays at WARNING: the service's own ``kyc_service.access`` line
    (URL rule, status, duration, request id) is the access log, and gunicorn's would repeat
    it. Lowered to INFO, it is written with safe fields only (``GunicornAccessFilter``).
    The chatty libraries are held to WARNING from the worker's first import on.
    """
    quiet: dict[str, Any] = {name: {"level": "WARNING"} for name in QUIET_LOGGERS}
    for name in SELF_CONTAINED_LOGGERS:
        quiet[name].update(handlers=[HANDLER_NAME], propagate=False)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"gunicorn_access": {"()": f"{LOGS}.GunicornAccessFilter"}},
        "formatters": {},
        "handlers": {HANDLER_NAME: {"()": f"{LOGS}.json_handler"}},
        "root": {"level": level, "handlers": [HANDLER_NAME]},
        "loggers": {
            **quiet,
            "gunicorn.error": {"level": level, "handlers": [HANDLER_NAME], "propagate": False},
            "gunicorn.access": {
                "level": "WARNING",
                "handlers": [HANDLER_NAME],
                "filters": ["gunicorn_access"],
                "propagate": False,
            },
        },
    }
