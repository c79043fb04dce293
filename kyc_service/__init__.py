"""Self-hostable real-name KYC verification service."""

__version__ = "0.1.0"
