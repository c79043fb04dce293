"""Verifiers over HTTP: the protocol of ``docs/verifier-protocol.md``, its client adapters
(entry points named ``http``), and the partner verifier sandbox that speaks it."""
