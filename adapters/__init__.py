"""Pluggable implementations of the service's ports, registered as entry points."""
