"""Upload hardening: type sniffing, limits, bombs, truncation, metadata stripping, quality.

Every image is generated here with Pillow; no binary fixtures.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageFilter, features

from adapters.opencv_images import sharpness, specular_share
from kyc_service.domain.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from kyc_service.imaging import PreparedImage, UploadLimits, prepare_upload, sniff_media_type

LIMITS = UploadLimits(max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
EOI = b"\xff\xd9"


def photo(width: int = 800, height: int = 600, seed: int = 7) -> Image.Image:
    """A photo-like RGB image: a colour gradient with noise and some hard edges."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    base = np.stack([180 * x + 0 * y, 120 * y + 0 * x, 90 * (x + y) / 2], axis=2)
    noise = rng.normal(0, 25, (height, width, 3))
    pixels = np.clip(base + 40 + noise, 0, 255).astype(np.uint8)
    pixels[height // 4 : height // 2, width // 4 : width // 2] = (20, 20, 20)
    return Image.fromarray(pixels)


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """Encode ``image`` in ``fmt`` with Pillow's save parameters."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width``×``height`` RGB pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + 3 * min(width, 64)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def opened(result: PreparedImage) -> Image.Image:
    """Decode the prepared JPEG fully (so a broken output fails the test)."""
    image = Image.open(io.BytesIO(result.data), formats=["JPEG"])
    image.load()
    return image


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any full decode blow up, so a test proves only the header was read."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (encode(photo(40, 30)), "image/jpeg"),
        (encode(photo(40, 30), "PNG"), "image/png"),
        (encode(photo(40, 30), "WEBP"), "image/webp"),
        (encode(photo(40, 30), "GIF"), None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_sniff_reads_magic_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_media_type(data) == expected


# --- accepted uploads -------------------------------------------------------------------


def test_photo_like_jpeg_comes_back_as_a_valid_jpeg_of_the_same_size() -> None:
    result = prepare_upload(encode(photo(), quality=95), LIMITS)

    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (800, 600)
    out = opened(result)
    assert out.format == "JPEG"
    assert out.mode == "RGB"
    assert out.size == (800, 600)
    assert result.data.startswith(b"\xff\xd8\xff")
    assert result.data.endswith(EOI)
    assert result.pixels.shape == (600, 800, 3)


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
@pytest.mark.parametrize(
    ("fmt", "params"),
    [("PNG", {}), ("WEBP", {"quality": 90}), ("WEBP", {"lossless": True})],
)
def test_png_and_webp_are_accepted_and_re_encoded_as_jpeg(fmt: str, params: dict) -> None:
    data = encode(photo(640, 480), fmt, **params)
    assert sniff_media_type(data) != "image/jpeg"

    result = prepare_upload(data, LIMITS)

    assert result.media_type == "image/jpeg"
    assert opened(result).format == "JPEG"
    assert (result.width, result.height) == (640, 480)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK"])
def test_other_pixel_modes_become_rgb(mode: str) -> None:
    source = photo(400, 300)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"

    result = prepare_upload(encode(source.convert(mode), fmt), LIMITS)

    out = opened(result)
    assert out.mode == "RGB"
    assert out.size == (400, 300)
    grey_in = np.asarray(source.convert("L"), dtype=float).mean()
    grey_out = np.asarray(out.convert("L"), dtype=float).mean()
    assert grey_out == pytest.approx(grey_in, abs=12)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    grey = np.asarray(photo(400, 300).convert("L"))
    deep = Image.fromarray(grey.astype(np.uint16) * 257)
    data = encode(deep, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")

    out = np.asarray(opened(prepare_upload(data, LIMITS)).convert("L"), dtype=float)

    assert out.mean() == pytest.approx(grey.mean(), abs=3)


def test_transparent_areas_are_flattened_onto_white() -> None:
    image = photo(400, 300).convert("RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 400, 150))

    result = prepare_upload(encode(image, "PNG"), LIMITS)

    top = np.asarray(opened(result))[:140]
    assert top.min() >= 240


# --- metadata and hidden payloads are stripped ------------------------------------------


def exif_with_gps_and_orientation(orientation: int) -> Image.Exif:
    """EXIF with an orientation, a camera make and a GPS IFD that names itself "GPS"."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 50.0),
        ExifTags.GPS.GPSProcessingMethod: b"ASCII\0\0\0GPS",
    }
    return exif


def test_exif_orientation_is_applied_and_exif_and_gps_are_dropped() -> None:
    source = photo(800, 600)
    source.paste((255, 0, 0), (0, 0, 80, 80))  # a red mark in the stored top-left corner
    data = encode(source, exif=exif_with_gps_and_orientation(6), quality=95)
    stored = Image.open(io.BytesIO(data))
    assert stored.getexif()[ExifTags.Base.Orientation] == 6
    assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" in data and b"GPS" in data and b"TestCam" in data

    result = prepare_upload(data, LIMITS)

    assert (result.width, result.height) == (600, 800)
    out = opened(result)
    assert out.size == (600, 800)
    assert not out.getexif()
    assert b"Exif" not in result.data
    assert b"GPS" not in result.data
    assert b"TestCam" not in result.data
    # orientation 6 turns the picture a quarter clockwise: the mark is now top-right
    red, green, blue = out.getpixel((600 - 40, 40))
    assert red > 200 and green < 60 and blue < 60


def test_icc_profile_is_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(photo(), icc_profile=profile)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")
    assert b"ICC_PROFILE" in data

    result = prepare_upload(data, LIMITS)

    assert "icc_profile" not in opened(result).info
    assert b"ICC_PROFILE" not in result.data


def test_xmp_and_comments_are_dropped() -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>XMPSECRET</secret></x:xmpmeta>'
    data = encode(photo(), xmp=xmp, comment=b"COMMENTSECRET")
    assert b"XMPSECRET" in data and b"COMMENTSECRET" in data

    result = prepare_upload(data, LIMITS)

    assert b"XMPSECRET" not in result.data
    assert b"http://ns.adobe.com/xap/1.0/" not in result.data
    assert b"COMMENTSECRET" not in result.data
    assert "comment" not in opened(result).info


def test_png_text_chunks_are_dropped() -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "PNGSECRET")
    data = encode(photo(), "PNG", pnginfo=text)
    assert b"PNGSECRET" in data

    assert b"PNGSECRET" not in prepare_upload(data, LIMITS).data


def test_zip_appended_after_the_jpeg_does_not_survive() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.txt", "hidden " * 100)
    data = encode(photo()) + archive.getvalue()
    assert b"PK\x03\x04" in data
    assert not data.endswith(EOI)

    result = prepare_upload(data, LIMITS)

    assert result.data.endswith(EOI)
    assert b"PK\x03\x04" not in result.data
    assert b"payload.txt" not in result.data
    assert opened(result).size == (800, 600)


# --- refused uploads --------------------------------------------------------------------


def test_empty_upload_is_unreadable() -> None:
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(b"", LIMITS)
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        422,
        "image_unreadable",
        "file",
    )


def test_truncated_jpeg_is_unreadable() -> None:
    data = encode(photo())
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(data[: len(data) // 2], LIMITS)
    assert caught.value.code == "image_unreadable"
    assert caught.value.status == 422
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_jpeg_is_unreadable_even_after_a_library_allowed_truncation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # face_recognition sets this flag when it is imported
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(photo())
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(data[: len(data) // 2], LIMITS)
    assert caught.value.code == "image_unreadable"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_truncated_png_and_webp_are_unreadable(fmt: str) -> None:
    data = encode(photo(), fmt)
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(data[: len(data) // 2], LIMITS)
    assert caught.value.code == "image_unreadable"


def test_corrupt_png_data_is_unreadable() -> None:
    data = bytearray(encode(photo(), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 100 : start + 400] = bytes(300)
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(bytes(data), LIMITS)
    assert caught.value.code == "image_unreadable"


def test_magic_bytes_alone_are_unreadable() -> None:
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, LIMITS)
    assert caught.value.code == "image_unreadable"


def pdf_bytes() -> bytes:
    return encode(photo(100, 100), "PDF")


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        pdf_bytes(),
        encode(photo(400, 300), "GIF"),
        encode(photo(400, 300), "BMP"),
        encode(photo(400, 300), "TIFF"),
        b"PK\x03\x04" + b"\0" * 100,
        b"\0\0\0\x0cjP  \r\n\x87\n",
    ],
    ids=["svg", "svg-xml", "html", "pdf", "gif", "bmp", "tiff", "zip", "jpeg2000"],
)
def test_other_types_are_unsupported_whatever_their_name(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        prepare_upload(data, LIMITS)
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        415,
        "unsupported_file_type",
        "file",
    )
    assert "<" not in caught.value.message  # the message never echoes the data


def test_over_max_bytes_is_file_too_large() -> None:
    data = encode(photo())
    with pytest.raises(PayloadTooLarge) as caught:
        prepare_upload(data, UploadLimits(max_bytes=len(data) - 1, max_pixels=40_000_000))
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        413,
        "file_too_large",
        "file",
    )
    assert prepare_upload(data, UploadLimits(max_bytes=len(data), max_pixels=40_000_000))


def test_size_is_checked_before_type() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        prepare_upload(b"<svg/>" * 100, UploadLimits(max_bytes=100, max_pixels=40_000_000))
    assert caught.value.code == "file_too_large"


@pytest.mark.usefixtures("no_decoding")
def test_png_bomb_is_refused_from_its_header_without_decoding() -> None:
    bomb = png_declaring(30000, 30000)
    assert len(bomb) < 1000
    assert struct.unpack(">II", bomb[16:24]) == (30000, 30000)

    with pytest.raises(PayloadTooLarge) as caught:
        prepare_upload(bomb, LIMITS)

    assert (caught.value.status, caught.value.code, caught.value.field) == (
        413,
        "image_too_large",
        "file",
    )


@pytest.mark.usefixtures("no_decoding")
def test_pixel_limit_below_pillows_own_is_enforced_from_the_header() -> None:
    declared = png_declaring(8000, 6000)  # 48 MP: under Pillow's bomb threshold
    assert Image.MAX_IMAGE_PIXELS > 8000 * 6000

    with pytest.raises(PayloadTooLarge) as caught:
        prepare_upload(declared, LIMITS)
    assert caught.value.code == "image_too_large"


@pytest.mark.usefixtures("no_decoding")
@pytest.mark.parametrize("side", [10_000, 30_000])
@pytest.mark.parametrize("bomb_warning", ["ignore", "error"])
def test_pillows_bomb_threshold_holds_under_a_generous_limit(side: int, bomb_warning: str) -> None:
    # 100 MP makes Pillow warn (an exception under "error"), 900 MP raises
    # DecompressionBombError: each is 413 even when the service's own limit is higher
    generous = UploadLimits(max_bytes=10 * 1024 * 1024, max_pixels=10**10)

    with warnings.catch_warnings():
        warnings.simplefilter(bomb_warning, Image.DecompressionBombWarning)
        with pytest.raises(PayloadTooLarge) as caught:
            prepare_upload(png_declaring(side, side), generous)
    assert caught.value.code == "image_too_large"


def test_pixel_limit_is_inclusive() -> None:
    data = encode(photo(400, 300))
    assert prepare_upload(data, UploadLimits(max_bytes=10**7, max_pixels=400 * 300))
    with pytest.raises(PayloadTooLarge):
        prepare_upload(data, UploadLimits(max_bytes=10**7, max_pixels=400 * 300 - 1))


def test_pillow_protection_is_left_as_it_was() -> None:
    before = Image.MAX_IMAGE_PIXELS
    prepare_upload(encode(photo()), LIMITS)
    assert before == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_small_image_is_too_small() -> None:
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(encode(photo(200, 150)), LIMITS)
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        422,
        "image_too_small",
        "file",
    )


def test_minimum_applies_after_orientation() -> None:
    landscape = encode(photo(400, 300))
    assert prepare_upload(landscape, LIMITS).width == 400

    turned = encode(photo(400, 300), exif=exif_with_gps_and_orientation(6))
    with pytest.raises(InvalidRequest) as caught:
        prepare_upload(turned, LIMITS)  # upright it is 300 wide, under 320
    assert caught.value.code == "image_too_small"


# --- quality measures -------------------------------------------------------------------


def test_blurred_image_is_much_less_sharp() -> None:
    sharp = np.asarray(photo())
    blurred = np.asarray(photo().filter(ImageFilter.GaussianBlur(4)))
    assert sharpness(blurred) < sharpness(sharp) - 0.2


def test_a_plain_region_is_not_blurry_for_its_lack_of_texture() -> None:
    detail = np.asarray(photo())
    flat = detail.copy()
    flat[:, : flat.shape[1] // 2] = 200  # half of it a plain wall
    assert sharpness(flat) == pytest.approx(sharpness(detail), abs=0.1)


def test_sharpness_does_not_grow_with_contrast() -> None:
    grey = np.asarray(photo().convert("L")).astype(np.float64)
    faint = (128 + (grey - 128) * 0.4).astype(np.uint8)
    assert sharpness(faint) == pytest.approx(sharpness(grey.astype(np.uint8)), abs=0.08)


def test_a_tiny_region_is_not_measured() -> None:
    assert sharpness(np.zeros((8, 40, 3), np.uint8)) is None


def test_a_blown_out_patch_is_glare_and_scattered_white_is_not() -> None:
    image = np.full((200, 200, 3), 120, np.uint8)
    scattered = image.copy()
    scattered[::7, ::7] = 255  # print, catch-lights: many specks
    patched = image.copy()
    patched[50:90, 60:110] = 255  # one reflection, 5 % of the region
    assert specular_share(image) == 0.0
    assert specular_share(scattered) < 0.001
    assert specular_share(patched) == pytest.approx(0.05, abs=0.005)


def test_glare_leaves_masked_parts_out() -> None:
    image = np.full((100, 100, 3), 120, np.uint8)
    image[:, :50] = 255  # a white portrait background
    mask = np.ones((100, 100), np.uint8)
    mask[:, :50] = 0
    assert specular_share(image, mask) == 0.0


def test_bright_but_not_blown_out_is_not_glare() -> None:
    assert specular_share(np.full((60, 80, 3), (255, 255, 240), np.uint8)) == 0.0
