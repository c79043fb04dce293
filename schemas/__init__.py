"""Marshmallow schemas of the public API: they validate input and drive the OpenAPI document."""
