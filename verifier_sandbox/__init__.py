"""The partner verifier sandbox: a small server speaking the verifier protocol
(``docs/verifier-protocol.md``) with API.md's magic values, run by ``kyc-service
sandbox-verifiers``. A tool beside the service, not part of it: the service loads it by
entry point (``kyc.tools``), like an adapter."""
