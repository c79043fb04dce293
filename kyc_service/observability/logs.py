"""JSON logs with the request id, passed through the personal-data mask."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kyc_service.observability.masking import mask_text

HANDLER_NAME = "kyc-json"


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
    """A JSON formatter with ISO 8601 UTC times, whose exception text is masked too."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """Mask the traceback text (it may quote values)."""
        return mask_text(super().formatException(ei))


def configure_logging(level: str = "INFO") -> None:
    """Send the root logger's records to stderr as masked JSON lines (once per process)."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(handler.get_name() == HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskingFilter())
    handler.setFormatter(
        MaskingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
        )
    )
    root.addHandler(handler)
