"""Key-encryption keys kept in a file (``KYC_KEK_FILE``) or an environment variable (``KYC_KEK``).

The file is JSON: ``{"primary": "kek-2", "keys": {"kek-1": "<base64>", "kek-2": "<base64>"}}``,
each key 32 random bytes (``kyc-service kek new`` writes it), or one bare base64 key on one
line (``openssl rand -base64 32``), whose id is derived from the key (``kek-`` and a short
hash, so it stays the same each time the file is read; ``kek rotate`` turns the file into
the JSON form). ``KYC_KEK`` holds the same JSON, or one bare base64 key (id ``env-1``).
Data keys are wrapped with AES-256-GCM under the primary KEK.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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
KEY_BYTES = 32
FILE_FORMATS = (
    "expected a JSON key document as 'kyc-service kek new --out FILE' writes "
    '({"primary": "kek-1", "keys": {"kek-1": "<base64 of 32 bytes>"}}) '
    "or one base64-encoded 32-byte key on one line (openssl rand -base64 32)"
)
"""The two formats a key file may have, as the error for any other file names them."""


class KeyConfigurationError(RuntimeError):
    """No usable key-encryption key is configured."""


def parse_key_document(document: Any) -> tuple[str, dict[str, bytes]]:
    """Return (primary id, keys) from the JSON document or a bare base64 key."""
    try:
        if isinstance(document, str):
            text = document.strip()
            bare = {"primary": "env-1", "keys": {"env-1": text}}
            document = json.loads(text) if text.startswith("{") else bare
        keys = {kek_id: base64.b64decode(value) for kek_id, value in document["keys"].items()}
        primary = document["primary"]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise KeyConfigurationError("the key-encryption key document is malformed") from exc
    if primary not in keys or any(len(key) != KEY_BYTES for key in keys.values()):
        raise KeyConfigurationError("the primary KEK is missing, or a KEK is not 32 bytes")
    return primary, keys


def read_key_file(path: Path) -> tuple[str, dict[str, bytes]]:
    """Return (primary id, keys) from a key file: a JSON key document, or one bare base64
    key; anything else fails with one line naming the file and the two formats."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise unusable_file(path, "not text") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise KeyConfigurationError(
            f"cannot read the key-encryption key file {path}: {reason}"
        ) from None
    if text.startswith("{"):
        try:
            return parse_key_document(json.loads(text))
        except ValueError:
            raise unusable_file(path, "not valid JSON") from None
        except KeyConfigurationError as exc:
            raise unusable_file(path, str(exc)) from None
    key = bare_key(text)
    if key is None:
        raise unusable_file(path, "neither JSON nor one base64 key of 32 bytes")
    kek_id = bare_kek_id(key)
    return kek_id, {kek_id: key}


def unusable_file(path: Path, problem: str) -> KeyConfigurationError:
    """The one-line error for a key file in neither format (it never quotes the file)."""
    return KeyConfigurationError(
        f"the key-encryption key file {path} is not usable ({problem}): {FILE_FORMATS}"
    )


def bare_key(text: str) -> bytes | None:
    """Return the 32-byte key that ``text`` (one line of standard base64) holds, or None."""
    if not text or any(character.isspace() for character in text):
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def bare_kek_id(key: bytes) -> str:
    """The id of a bare key from a file: ``kek-`` and a short hash of the key, written with
    the letters a–p (no digits, like the service's other stored ids), stable across reads."""
    digest = hashlib.sha256(b"kyc-kek-id:" + key).hexdigest()[:12]
    return "kek-" + digest.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))


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
            self._primary, self._keys = read_key_file(self.path)
            self._loaded_mtime = mtime

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Read ``KEK`` or ``KEK_FILE``; in development fall back to ``./var/kek.json`` (the
        settings name ``$KYC_HOME/var/kek.json`` themselves)."""
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
        return cls(*read_key_file(path), path=path)

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
