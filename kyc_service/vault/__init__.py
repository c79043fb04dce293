"""The vault: the one module that reads and writes personal data in the clear.

Everything personal is sealed with AES-256-GCM under its subject's own data key; data keys
are wrapped by a key-encryption key (``KeyWrapper`` port) and kept in a key store apart
from the data. See ``Vault`` for the interface, and DESIGN.md § Storage.
"""

from kyc_service.vault.audit import AuditLog, ChainBreak
from kyc_service.vault.keystore import KeyStore
from kyc_service.vault.vault import DataUnavailable, RetentionPolicy, SubjectRef, SweepReport, Vault

__all__ = [
    "AuditLog",
    "ChainBreak",
    "DataUnavailable",
    "KeyStore",
    "RetentionPolicy",
    "SubjectRef",
    "SweepReport",
    "Vault",
]
