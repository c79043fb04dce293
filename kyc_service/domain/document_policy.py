"""The document_quality check: placeholder thresholds, calibrated below."""

from __future__ import annotations

MIN_SHARPNESS = 35.0
MAX_GLARE = 0.0075
MAX_SELFIE_GLARE = 0.15
