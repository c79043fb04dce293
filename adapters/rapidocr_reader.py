"""Offline OCR with RapidOCR (PP-OCR models on onnxruntime, shipped inside the wheel)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from adapters.imaging import reduced_copy, upright_rgb
from kyc_service.domain.results import TextLine
from kyc_service.ports import DocumentReader

OCR_LONG_SIDE = 960
"""Photos are read at most this large: a card stays legible and OCR runs ~1.5× faster."""

ENGINE_PARAMS = {
    "Det.limit_type": "max",
    "Det.limit_side_len": OCR_LONG_SIDE,
    "Global.log_level": "warning",
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}
"""Text detection at the image's own size, shrunk past :data:`OCR_LONG_SIDE` only. The
engine's default enlarges every image until its *short* side is 736 px: a one-line zone of
a card (500 × 90 px) became 4100 × 736 and cost 2.5 CPU s to read instead of 0.1. One
inference thread: two spinning threads doubled the CPU per card (0.29 s against 0.14 s)
for no gain in wall time, and the web server already runs one worker per core."""

_load_lock = threading.Lock()
_engine: Any = None
_run_lock = threading.Lock()
"""One recognition at a time per process (the engine keeps state between its stages)."""


def ocr_engine() -> Any:
    """Load the OCR models once per process."""
    global _engine
    with _load_lock:
        if _engine is None:
            from rapidocr import RapidOCR

            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            _engine = RapidOCR(params=ENGINE_PARAMS)
    return _engine


class RapidOcrDocumentReader(DocumentReader):
    """Reads the lines of text of a document photo, top to bottom."""

    def read_lines(self, image: bytes | np.ndarray) -> list[TextLine]:
        """Run detection and recognition; return each line with its confidence.

        A pixel array is a rectified document or a zone of one: upright, so the text-angle
        classifier is skipped. Image bytes are a photo, read with it.
        """
        upright = isinstance(image, np.ndarray)
        pixels = np.asarray(reduced_copy(upright_rgb(image), OCR_LONG_SIDE))
        engine = ocr_engine()
        with _run_lock:
            output = engine(pixels, use_cls=not upright)
        if output.txts is None or output.boxes is None:
            return []
        found = sorted(
            zip(output.boxes, output.txts, output.scores, strict=True),
            key=lambda item: (float(item[0][0][1]), float(item[0][0][0])),
        )
        return [TextLine(text=text, confidence=float(score)) for _, text, score in found]

    def warm_up(self) -> None:
        """Load the models and run each of them once (detection, text angle, recognition).

        A photo is read with the text-angle classifier: its first inference, like the others',
        costs more than the next ones, so it runs here rather than in a request.
        """
        page = Image.new("RGB", (480, 96), "white")
        ImageDraw.Draw(page).text((16, 30), "KYC 1101051949", fill="black", font_size=32)
        with _run_lock:
            ocr_engine()(np.asarray(page), use_cls=True)
