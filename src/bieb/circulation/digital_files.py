"""The files behind digital loans: where an edition's e-book or audio file lives, and the two
small writers the demo uses to make its own (an EPUB 3 package and a PCM WAV file), with
nothing but the standard library.

Files live under ``BIEB_VAR/media/digital/`` (``settings.VAR_DIR``), named after the edition's
upsert key: ``<source>--<source_id>.<ext>`` (``edition-<pk>.<ext>`` for an edition without a
source id). A provider's files are dropped there under the same names; which extension is
looked for depends on the format (``EXTENSIONS``).
"""

from __future__ import annotations

import io
import math
import re
import struct
import wave
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings

from bieb.catalog.models import Format

#: what each digital format is delivered as, in order of preference: (extension, media type)
EXTENSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    Format.EBOOK: (("epub", "application/epub+zip"), ("pdf", "application/pdf")),
    Format.AUDIOBOOK: (
        ("mp3", "audio/mpeg"),
        ("m4b", "audio/mp4"),
        ("ogg", "audio/ogg"),
        ("wav", "audio/wav"),
    ),
    Format.STREAMING: (("mp4", "video/mp4"), ("webm", "video/webm")),
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def media_dir() -> Path:
    return Path(settings.VAR_DIR) / "media" / "digital"


def content_stem(edition) -> str:
    """The file name without extension for ``edition`` (safe characters only)."""
    if edition.source_id:
        return _UNSAFE.sub("_", f"{edition.source}--{edition.source_id}")
    return f"edition-{edition.pk}"


@dataclass(frozen=True)
class ContentFile:
    path: Path
    media_type: str
    extension: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def is_audio(self) -> bool:
        return self.media_type.startswith("audio/")

    @property
    def is_video(self) -> bool:
        return self.media_type.startswith("video/")


def content_for(edition) -> ContentFile | None:
    """The file a loan of ``edition`` gives access to, or None when it is not (yet) here."""
    folder = media_dir()
    stem = content_stem(edition)
    for extension, media_type in EXTENSIONS.get(edition.format, ()):
        path = folder / f"{stem}.{extension}"
        if path.is_file():
            return ContentFile(path=path, media_type=media_type, extension=extension)
    return None


def expected_media_type(edition_format: str) -> str:
    """The media type a format is usually delivered as (for catalogue feeds, before a loan)."""
    options = EXTENSIONS.get(edition_format)
    return options[0][1] if options else "application/octet-stream"


def media_type_for(edition) -> str:
    """The media type of the edition's file if it is here, else the format's usual one."""
    found = content_for(edition)
    return found.media_type if found else expected_media_type(edition.format)


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless the file already holds exactly that (True: written).
    A temporary file and a rename keep a reader from seeing half a file."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return True


# --- EPUB 3 ------------------------------------------------------------------------------------

#: Zip entries get a fixed time, so the same book gives the same bytes (idempotent demo seed).
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Chapter:
    title: str
    paragraphs: Sequence[str]


def _entry(archive: zipfile.ZipFile, name: str, text: str, *, stored: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, text.encode("utf-8"))


_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

_CSS = """body { font-family: serif; line-height: 1.5; margin: 0 5%; }
h1 { font-size: 1.4em; margin: 1.5em 0 1em; }
p { margin: 0 0 0.8em; text-indent: 0; }
p.note { font-size: 0.85em; font-style: italic; }
"""


def _xhtml(title: str, language: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"'
        f" xml:lang={quoteattr(language)} lang={quoteattr(language)}>\n"
        f'<head><meta charset="utf-8"/><title>{escape(title)}</title>'
        '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def build_epub(
    *,
    identifier: str,
    title: str,
    language: str,
    creators: Iterable[str],
    chapters: Sequence[Chapter],
    description: str = "",
    publisher: str = "",
    rights: str = "",
    modified: str = "2024-01-01T00:00:00Z",
) -> bytes:
    """A valid EPUB 3 publication (with an EPUB 2 NCX for older reading apps): ``mimetype``
    first and stored, the container, the OPF package, the navigation document, a stylesheet
    and one XHTML file per chapter. ``language`` is a BCP 47 tag ("nl", "en")."""
    if not chapters:
        raise ValueError("an EPUB needs at least one chapter")
    creators = list(creators)
    files = [(f"chapter-{n}.xhtml", chapter) for n, chapter in enumerate(chapters, start=1)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _entry(archive, "mimetype", "application/epub+zip", stored=True)
        _entry(archive, "META-INF/container.xml", _CONTAINER)
        metadata = [
            f'<dc:identifier id="book-id">{escape(identifier)}</dc:identifier>',
            f"<dc:title>{escape(title)}</dc:title>",
            f"<dc:language>{escape(language)}</dc:language>",
            *(f"<dc:creator>{escape(name)}</dc:creator>" for name in creators),
            f'<meta property="dcterms:modified">{modified}</meta>',
        ]
        if description:
            metadata.append(f"<dc:description>{escape(description)}</dc:description>")
        if publisher:
            metadata.append(f"<dc:publisher>{escape(publisher)}</dc:publisher>")
        if rights:
            metadata.append(f"<dc:rights>{escape(rights)}</dc:rights>")
        manifest = [
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
            '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
            '<item id="css" href="style.css" media-type="text/css"/>',
            *(
                f'<item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>'
                for n, (name, _chapter) in enumerate(files, start=1)
            ),
        ]
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(1, len(files) + 1))
        opf = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            f'unique-identifier="book-id" xml:lang={quoteattr(language)}>\n'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
            + "\n".join(metadata)
            + "\n</metadata>\n<manifest>\n"
            + "\n".join(manifest)
            + f'\n</manifest>\n<spine toc="ncx">{spine}</spine>\n</package>\n'
        )
        _entry(archive, "OEBPS/content.opf", opf)
        toc = "".join(
            f'<li><a href="{name}">{escape(chapter.title)}</a></li>' for name, chapter in files
        )
        nav_body = f'<nav epub:type="toc" id="toc"><h1>{escape(title)}</h1><ol>{toc}</ol></nav>'
        _entry(archive, "OEBPS/nav.xhtml", _xhtml(title, language, nav_body))
        points = "".join(
            f'<navPoint id="p{n}" playOrder="{n}"><navLabel><text>{escape(chapter.title)}'
            f'</text></navLabel><content src="{name}"/></navPoint>'
            for n, (name, chapter) in enumerate(files, start=1)
        )
        ncx = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
            f'<head><meta name="dtb:uid" content={quoteattr(identifier)}/></head>'
            f"<docTitle><text>{escape(title)}</text></docTitle><navMap>{points}</navMap></ncx>\n"
        )
        _entry(archive, "OEBPS/toc.ncx", ncx)
        _entry(archive, "OEBPS/style.css", _CSS)
        for name, chapter in files:
            body = f'<section epub:type="chapter"><h1>{escape(chapter.title)}</h1>\n' + "\n".join(
                f"<p>{escape(paragraph)}</p>" for paragraph in chapter.paragraphs
            )
            _entry(archive, f"OEBPS/{name}", _xhtml(chapter.title, language, body + "</section>"))
    return buffer.getvalue()


# --- audio ---------------------------------------------------------------------------------------

SAMPLE_RATE = 8000

_NOTE_INDEX = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}


def note_frequency(name: str) -> float:
    """ "A4" -> 440.0; sharps with "#" ("G#4")."""
    letter, rest = name[0], name[1:]
    sharp = rest.startswith("#")
    octave = int(rest[1:] if sharp else rest)
    semitones = _NOTE_INDEX[letter] + (1 if sharp else 0) + 12 * (octave - 4)
    return 440.0 * 2 ** (semitones / 12)


def _tone(frequency: float, seconds: float, *, bell: bool) -> list[float]:
    count = int(SAMPLE_RATE * seconds)
    if bell:  # inharmonic partials dying away: a carillon bell
        partials = ((1.0, 1.0, 3.0), (2.0, 0.6, 4.0), (2.4, 0.4, 5.0), (3.0, 0.25, 6.0))
    else:  # a soft organ-like tone with a short attack and release
        partials = ((1.0, 1.0, 0.0), (2.0, 0.35, 0.0), (3.0, 0.15, 0.0))
    samples = []
    for n in range(count):
        t = n / SAMPLE_RATE
        value = 0.0
        for ratio, weight, decay in partials:
            if frequency * ratio >= SAMPLE_RATE / 2:
                continue
            value += weight * math.exp(-decay * t) * math.sin(2 * math.pi * frequency * ratio * t)
        if not bell:
            value *= min(1.0, t / 0.02, (seconds - t) / 0.05)
        samples.append(value)
    return samples


def build_wav(notes: Sequence[tuple[str | None, float]], *, bell: bool = False) -> bytes:
    """A mono 16-bit PCM WAV of ``notes`` ((name or None for a rest, seconds)), which every
    browser's audio element plays and seeks in."""
    samples: list[float] = []
    for name, seconds in notes:
        if name is None:
            samples.extend([0.0] * int(SAMPLE_RATE * seconds))
        else:
            samples.extend(_tone(note_frequency(name), seconds, bell=bell))
    peak = max((abs(s) for s in samples), default=1.0) or 1.0
    frames = b"".join(struct.pack("<h", int(s / peak * 0.6 * 32767)) for s in samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames)
    return buffer.getvalue()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as source:
        return source.getnframes() / source.getframerate()


# --- covers --------------------------------------------------------------------------------------

#: cover colours per format (background, band): dark enough for white text in apps that overlay
COVER_COLOURS = {
    Format.EBOOK: ((0x1F, 0x4E, 0x8C), (0xF1, 0x87, 0x00)),
    Format.AUDIOBOOK: ((0x1E, 0x6B, 0x34), (0xF4, 0xF4, 0xF4)),
    Format.STREAMING: ((0x59, 0x2E, 0x83), (0xF1, 0x87, 0x00)),
}


def build_cover_png(edition_format: str, *, width: int = 200, height: int = 300) -> bytes:
    """A plain placeholder cover (a coloured page with a band, by format) as a PNG, for reading
    apps and OPDS 2, which needs an image for every publication. Titles without a cover of
    their own get this one."""
    background, band = COVER_COLOURS.get(edition_format, ((0x33, 0x33, 0x33), (0xF1, 0x87, 0x00)))
    plain = b"\x00" + bytes(background) * width
    striped = b"\x00" + bytes(band) * width
    top, bottom = int(height * 0.62), int(height * 0.70)
    raw = b"".join(striped if top <= y < bottom else plain for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
