"""Photos of posts: checked, turned upright, made smaller and stripped of all metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from bieb.community import photos
from bieb.community.tests.factories import image_bytes, upload
from bieb.core.errors import DomainError

GPS_IFD = 0x8825  # 34853


def refusal(data) -> DomainError:
    with pytest.raises(DomainError) as caught:
        photos.process_upload(data)
    return caught.value


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` (a decompression bomb's header)."""
    data = bytearray(image_bytes((8, 8), format="PNG"))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    start = data.index(b"IHDR")
    data[start + 4 : start + 17] = ihdr
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_a_photo_becomes_a_jpeg_and_a_thumbnail():
    result = photos.process_upload(upload(image_bytes((800, 600), format="PNG")))

    image, thumb = opened(result.image), opened(result.thumbnail)
    assert (image.format, image.size, image.mode) == ("JPEG", (800, 600), "RGB")
    assert (thumb.format, thumb.size) == ("JPEG", (400, 300))
    assert (result.width, result.height) == (800, 600)


def test_gps_and_camera_exif_of_the_upload_are_gone():
    original = image_bytes((1200, 900), gps=True)
    assert GPS_IFD in opened(original).getexif()
    assert b"Testcamera" in original

    result = photos.process_upload(upload(original))

    for data in (result.image, result.thumbnail):
        image = opened(data)
        assert len(image.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        assert b"Exif" not in data and b"Testcamera" not in data


def test_comments_and_colour_profiles_are_not_copied():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 10)).save(
        out, format="JPEG", comment=b"woont op Kerkstraat 12", icc_profile=profile
    )
    assert b"Kerkstraat" in out.getvalue()

    result = photos.process_upload(out.getvalue())

    assert b"Kerkstraat" not in result.image
    assert "icc_profile" not in opened(result.image).info


def test_a_big_photo_is_made_at_most_1600_pixels_and_the_thumbnail_400():
    wide = photos.process_upload(upload(image_bytes((4000, 3000))))
    tall = photos.process_upload(upload(image_bytes((1000, 5000), format="WEBP")))

    assert (wide.width, wide.height) == (1600, 1200)
    assert opened(wide.image).size == (1600, 1200)
    assert opened(wide.thumbnail).size == (400, 300)
    assert (tall.width, tall.height) == (320, 1600)
    assert opened(tall.thumbnail).size == (80, 400)


def test_the_exif_orientation_is_applied():
    # stored sideways (marker top-left) with "rotate 90 degrees clockwise to show" (6)
    result = photos.process_upload(image_bytes((800, 600), orientation=6))

    image = opened(result.image)
    assert image.size == (600, 800)
    red, _green, blue = image.getpixel((595, 5))  # the marker is now top right
    assert blue > 150 and red < 100
    assert len(image.getexif()) == 0


def test_a_transparent_png_gets_a_white_background():
    out = io.BytesIO()
    Image.new("RGBA", (100, 100), (0, 0, 0, 0)).save(out, format="PNG")

    result = photos.process_upload(out.getvalue())

    assert opened(result.image).getpixel((50, 50)) >= (250, 250, 250)


def test_a_20_mb_file_is_refused_before_it_is_read_whole():
    big = SimpleUploadedFile("groot.jpg", b"\xff\xd8" + b"0" * (20 * 1024 * 1024), "image/jpeg")

    refused = refusal(big)
    assert (refused.code, refused.status) == ("photo_too_large", 413)
    assert refusal(b"0" * (photos.MAX_UPLOAD_BYTES + 1)).code == "photo_too_large"


def test_a_fake_or_damaged_image_is_refused():
    text_as_jpeg = SimpleUploadedFile("foto.jpg", b"Dit is geen foto\n" * 50, "image/jpeg")
    real = image_bytes((800, 600))
    truncated = real[: len(real) // 2]
    html = b"<html><script>alert(1)</script></html>"

    for data in (text_as_jpeg, truncated, html, b"", b"\xff\xd8\xff\xe0garbage"):
        refused = refusal(data)
        assert (refused.code, refused.status) == ("photo_invalid", 400)


def test_only_jpeg_png_and_webp_are_accepted():
    for kind in ("GIF", "BMP", "TIFF"):
        assert refusal(image_bytes((50, 50), format=kind)).code == "photo_invalid"
    for kind in ("JPEG", "PNG", "WEBP"):
        assert photos.process_upload(image_bytes((50, 50), format=kind)).width == 50


@pytest.mark.parametrize(
    "size",
    [
        (8_000, 8_000),  # 64 million: over our limit
        (10_000, 10_000),  # over Pillow's warning limit
        (30_000, 30_000),  # over Pillow's error limit
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(size):
    refused = refusal(png_claiming(*size))

    assert refused.code == "photo_too_large"


def test_a_post_has_at_most_four_photos():
    assert photos.MAX_PHOTOS == 4
    assert photos.too_many_photos().code == "too_many_photos"
