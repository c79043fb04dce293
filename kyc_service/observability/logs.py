"""JSON logs with the request id, passed through the personal-data mask."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kyc_service.observability.masking import mask_text

HANDLER_NAME = "kyc-json"


class MaskingFilter(logging.Filter):
    """Rewrite every record's message (and string extras) through ``mask_text``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the fully formatted message; drop the arguments it was made from."""
        record.msg = mask_text(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, mask_text(value))
        return True


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
    """A JSON formatter whose exception text is masked too."""

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
