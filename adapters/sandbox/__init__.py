"""The sandbox verifiers: in-process stand-ins that answer API.md's magic values."""
