"""Key-encryption keys kept in a file (``KYC_KEK_FILE``) or an environment variable (``KYC_KEK``).

The file is JSON: ``{"primary": "kek-2", "keys": {"kek-1": "<base64>", "kek-2": "<base64>"}}``,
each key 32 random bytes. ``KYC_KEK`` holds the same JSON, or one bare base64 key (id
``env-1``). Data keys are wrapped with AES-256-GCM under the primary KEK.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kyc_service.ports import KeyWrapper

DEVELOPMENT_KEK_FILE = Path("var/kek.json")
NONCE_BYTES = 12


class KeyConfigurationError(RuntimeError):
    """No usable key-encryption key is configured."""


def parse_key_document(document: Any) -> tuple[str, dict[str, bytes]]:
    """Return (primary id, keys) from the JSON document or a bare base64 key."""
    if isinstance(document, str):
        text = document.strip()
        bare = {"primary": "env-1", "keys": {"env-1": text}}
        document = json.loads(text) if text.startswith("{") else bare
    try:
        keys = {kek_id: base64.b64decode(value) for kek_id, value in document["keys"].items()}
        primary = document["primary"]
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyConfigurationError("the key-encryption key document is malformed") from exc
    if primary not in keys or any(len(key) != 32 for key in keys.values()):
        raise KeyConfigurationError("the primary KEK is missing, or a KEK is not 32 bytes")
    return primary, keys


def new_key_document() -> dict[str, Any]:
    """Return a key document with one new random KEK."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return {"primary": "kek-1", "keys": {"kek-1": key}}


class LocalKeyWrapper(KeyWrapper):
    """Holds the KEKs in memory, read from a file or the environment."""

    def __init__(self, primary: str, keys: Mapping[str, bytes], path: Path | None = None) -> None:
        self._primary = primary
        self._keys = dict(keys)
        self.path = path
        self._loaded_mtime = path.stat().st_mtime_ns if path else None

    def _refresh(self) -> None:
        """Re-read the key file if another process (``kek rotate``) changed it."""
        if self.path is None:
            return
        mtime = self.path.stat().st_mtime_ns
        if mtime != self._loaded_mtime:
            self._primary, self._keys = parse_key_document(json.loads(self.path.read_text()))
            self._loaded_mtime = mtime

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Read ``KEK`` or ``KEK_FILE``; in development fall back to ``./var/kek.json``."""
        if settings.get("key"):
            return cls(*parse_key_document(settings["key"]))
        path = settings.get("file")
        if not path and settings.get("env") != "production":
            path = DEVELOPMENT_KEK_FILE
        if not path:
            raise KeyConfigurationError("production needs KYC_KEK_FILE or KYC_KEK")
        path = Path(path)
        if not path.is_file():
            raise KeyConfigurationError(
                f"no key-encryption key file at {path}: run 'kyc-service dev-setup' "
                "or set KYC_KEK_FILE / KYC_KEK"
            )
        return cls(*parse_key_document(json.loads(path.read_text())), path=path)

    def primary_id(self) -> str:
        """Return the id of the KEK that wraps new data keys."""
        self._refresh()
        return self._primary

    def key_ids(self) -> list[str]:
        """Return the ids of every KEK held."""
        return sorted(self._keys)

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """Encrypt ``data_key`` under the primary KEK with ``context`` as associated data."""
        self._refresh()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self._keys[self._primary]).encrypt(nonce, data_key, context)
        return self._primary, nonce + sealed

    def unwrap(self, kek_id: str, wrapped: bytes, context: bytes) -> bytes:
        """Decrypt a wrapped data key; fails if the KEK is unknown or anything was altered."""
        if kek_id not in self._keys:
            self._refresh()
        if kek_id not in self._keys:
            raise KeyConfigurationError(f"KEK {kek_id!r} is not available")
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        return AESGCM(self._keys[kek_id]).decrypt(nonce, sealed, context)

    def rotate(self) -> str:
        """Add a new KEK, make it primary and save the file; return the new id."""
        numbers = [int(k[4:]) for k in self._keys if k.startswith("kek-") and k[4:].isdigit()]
        new_id = f"kek-{max(numbers, default=0) + 1}"
        self._keys[new_id] = secrets.token_bytes(32)
        self._primary = new_id
        self._save()
        return new_id

    def retire(self, kek_id: str) -> None:
        """Forget a KEK other than the primary, and save the file."""
        if kek_id == self._primary:
            raise KeyConfigurationError("the primary KEK cannot be retired")
        self._keys.pop(kek_id, None)
        self._save()

    def _save(self) -> None:
        """Write the keys back to the file (mode 0600), atomically."""
        if self.path is None:
            raise KeyConfigurationError("KEKs from KYC_KEK cannot be rotated: use KYC_KEK_FILE")
        document = {
            "primary": self._primary,
            "keys": {k: base64.b64encode(v).decode() for k, v in sorted(self._keys.items())},
        }
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps(document, indent=2) + "\n")
        os.replace(temporary, self.path)
        self._loaded_mtime = self.path.stat().st_mtime_ns
