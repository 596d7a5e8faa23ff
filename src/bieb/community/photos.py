"""Photos of posts: what a resident uploads is checked, turned upright, made smaller and
re-encoded, so nothing of the original file reaches other residents.

- at most ``MAX_UPLOAD_BYTES`` (10 MB) read, and at most ``MAX_PIXELS`` in the header
  (decompression bombs: a small file that unpacks into a huge image is refused before it is
  decoded);
- JPEG, PNG and WebP only, recognised by content (not by name or content type) and decoded in
  full, so a text file renamed ``.jpg`` or a truncated image is refused;
- the EXIF orientation is applied, then the image is scaled to at most ``MAX_SIDE`` pixels and
  a thumbnail of at most ``THUMB_SIDE``;
- both are written as new JPEGs from the pixels alone: no EXIF (GPS, camera), no ICC profile,
  no XMP, no comments.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from bieb.core.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: more than this in the header is refused unread (Pillow's own bomb limit is ~89 million)
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600
THUMB_SIDE = 400
JPEG_QUALITY = 85
MAX_PHOTOS = 4
FORMATS = ("JPEG", "PNG", "WEBP")


class ProcessedPhoto(NamedTuple):
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _too_large() -> DomainError:
    return DomainError(
        "photo_too_large",
        _("Deze foto is te groot. Kies een foto tot 10 MB."),
        status=413,
        details={"field": "photos"},
    )


def _invalid() -> DomainError:
    return DomainError(
        "photo_invalid",
        _("Dit bestand is geen foto die we kunnen gebruiken. Kies een JPEG-, PNG- of WebP-foto."),
        details={"field": "photos"},
    )


def too_many_photos() -> DomainError:
    return DomainError(
        "too_many_photos",
        _("Een bericht heeft hoogstens %(n)s foto's.") % {"n": MAX_PHOTOS},
        status=409,
        details={"field": "photos"},
    )


def _read(file: Any) -> bytes:
    """At most ``MAX_UPLOAD_BYTES`` + 1 bytes of ``file`` (bytes, an upload or a file object)."""
    if isinstance(file, bytes | bytearray | memoryview):
        return bytes(file[: MAX_UPLOAD_BYTES + 1])
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    data = file.read(MAX_UPLOAD_BYTES + 1)
    return bytes(data or b"")


def _upright_rgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit greyscale: scale to 8 bits rather than clip everything to white
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    # a new image from the pixels alone: ``info`` of the source (comments, ICC, EXIF) stays behind
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _decode(data: bytes) -> Image.Image:
    """The image in ``data``, decoded in full; refuses what is not one of ``FORMATS``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except Exception:
            raise _invalid() from None
        if image.format not in FORMATS:
            raise _invalid()
        width, height = image.size
        if width < 1 or height < 1:
            raise _invalid()
        if width * height > MAX_PIXELS:
            raise _too_large()
        if image.format == "JPEG":
            # decode at a reduced scale when the photo is far bigger than what is kept
            scale = MAX_SIDE / max(width, height)
            if scale < 1:
                image.draft(
                    "RGB", (max(1, int(width * scale) + 1), max(1, int(height * scale) + 1))
                )
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except Exception:
            raise _invalid() from None
    return image


def process_upload(file: Any) -> ProcessedPhoto:
    """(image, thumbnail, width, height) of an uploaded photo: JPEG bytes without metadata.

    Raises ``DomainError`` ``photo_too_large`` (over 10 MB, or too many pixels) or
    ``photo_invalid`` (not a JPEG, PNG or WebP image, or a damaged one).
    """
    data = _read(file)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not data:
        raise _invalid()
    image = _decode(data)
    try:
        image = _upright_rgb(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        thumb = image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        return ProcessedPhoto(_jpeg(image), _jpeg(thumb), image.width, image.height)
    except DomainError:
        raise
    except Exception:
        raise _invalid() from None
