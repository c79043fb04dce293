"""Adapters that run inside the service's own process."""
