"""Benchmarks of the KYC service, run with ``make bench`` (``python -m benchmarks``).

Each benchmark is a function registered in :data:`benchmarks.__main__.BENCHES` that returns a
dict of figures; the runner merges them into one JSON object printed as the last line.
"""
