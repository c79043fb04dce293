"""Structured logs that mask personal data, and Prometheus metrics."""
