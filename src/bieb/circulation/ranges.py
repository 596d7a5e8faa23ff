"""Serving a file with HTTP range requests (RFC 9110 §14), so a browser's audio or video
player can seek and a download can resume.

Django 5.2's ``FileResponse`` always sends the whole file (it has no Range support), so this
small response does the part we need: ``Accept-Ranges: bytes``; one range
(``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) answers ``206 Partial Content`` with
``Content-Range``; a range that starts past the end answers ``416`` with
``Content-Range: bytes */<size>``; a malformed header, another unit or several ranges at once
are ignored and the whole file is sent (the RFC allows a server to ignore Range).
``If-Range`` with a stale validator also gets the whole file; ``If-None-Match`` a 304.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

CHUNK = 64 * 1024

#: ASCII digits only (``\d`` also takes e.g. Arabic-Indic ones) and at most 19 of them, so
#: ``int()`` never meets a number it refuses (Python limits conversions to 4300 digits); a
#: longer number makes the header malformed, and it is ignored
_RANGE = re.compile(
    r"^[ \t]*bytes[ \t]*=[ \t]*([0-9]{0,19})[ \t]*-[ \t]*([0-9]{0,19})[ \t]*$",
    re.IGNORECASE | re.ASCII,
)


class Unsatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions, inclusive, of a single-range header, None when the
    header is to be ignored; ``Unsatisfiable`` when no byte of the file is in it."""
    if "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # a suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range: ignored
    if start >= size:
        raise Unsatisfiable
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        left = length
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def _if_range_holds(request: HttpRequest, etag: str, mtime: int) -> bool:
    validator = request.headers.get("If-Range")
    if not validator:
        return True
    if validator.startswith(('"', 'W/"')):
        return validator == etag  # strong comparison; our ETag is strong
    moment = parse_http_date_safe(validator)
    return moment is not None and moment >= mtime


def ranged_file_response(
    request: HttpRequest,
    path: Path,
    *,
    content_type: str,
    filename: str,
    attachment: bool,
) -> HttpResponse | StreamingHttpResponse:
    stat = path.stat()
    size, mtime = stat.st_size, int(stat.st_mtime)
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    disposition = "attachment" if attachment else "inline"
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(mtime),
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return HttpResponse(status=304, headers=headers)
    span = None
    header = request.headers.get("Range")
    if header and _if_range_holds(request, etag, mtime):
        try:
            span = parse_range(header, size)
        except Unsatisfiable:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = span if span else (0, size - 1)
    length = max(0, end - start + 1)
    body = iter(()) if request.method == "HEAD" else _read(path, start, length)
    response = StreamingHttpResponse(
        body, status=206 if span else 200, content_type=content_type, headers=headers
    )
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
