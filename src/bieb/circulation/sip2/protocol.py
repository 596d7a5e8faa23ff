"""SIP2 2.00 wire format: parse a request frame, format a response frame, the checksum.

A frame is a two-digit command id, fixed-width fields without separators, variable fields
``XXvalue|`` in any order, an optional error-detection trailer ``AY<digit>AZ<4 hex>``, and a
carriage return. The checksum is the two's complement of the 16-bit sum of every byte from the
command id through the letters ``AZ`` (3M SIP2 2.00, "error detection").

This module does no I/O and knows nothing of Django: ``server`` hands it one frame and writes
what it returns. Requests are parsed leniently where real self-service machines are sloppy
(blank 18-space dates, a missing last ``|``, a LF after the CR, unknown field ids); anything
else that does not fit raises ``MalformedMessage``, and a wrong checksum ``ChecksumError``,
both answered with 96 (request SC resend).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bieb.core import clock

CR = b"\r"
DELIMITER = "|"
#: a longer frame is refused unread (no self-service machine sends one this long)
MAX_FRAME_BYTES = 8192
#: the spec's limit for one variable field's value
MAX_FIELD_BYTES = 255

# Fixed-width fields of every request the server reads, in wire order. Messages the server
# answers with "not supported" are listed too, so their AO/AA can be echoed.
DATE = 18
REQUEST_LAYOUTS: dict[str, tuple[tuple[str, int], ...]] = {
    "93": (("uid_algorithm", 1), ("pwd_algorithm", 1)),
    "99": (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    "23": (("language", 3), ("transaction_date", DATE)),
    "63": (("language", 3), ("transaction_date", DATE), ("summary", 10)),
    "11": (
        ("sc_renewal_policy", 1),
        ("no_block", 1),
        ("transaction_date", DATE),
        ("nb_due_date", DATE),
    ),
    "09": (("no_block", 1), ("transaction_date", DATE), ("return_date", DATE)),
    "29": (
        ("third_party_allowed", 1),
        ("no_block", 1),
        ("transaction_date", DATE),
        ("nb_due_date", DATE),
    ),
    "17": (("transaction_date", DATE),),
    "35": (("transaction_date", DATE),),
    "97": (),
    # known to SIP2 2.00, answered with a refusal in their own response form
    "01": (("card_retained", 1), ("transaction_date", DATE)),
    "15": (("hold_mode", 1), ("transaction_date", DATE)),
    "19": (("transaction_date", DATE),),
    "25": (("transaction_date", DATE),),
    "37": (
        ("transaction_date", DATE),
        ("fee_type", 2),
        ("payment_type", 2),
        ("currency_type", 3),
    ),
    "65": (("transaction_date", DATE),),
}

_TRAILER = re.compile(rb"(?:AY(?P<seq>.))?AZ(?P<sum>[^|]*)\Z", re.DOTALL)
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}\Z")
_FIELD_ID = re.compile(r"[A-Z0-9]{2}")


class MalformedMessage(ValueError):
    """The frame is not a SIP2 request this server can read."""


class ChecksumError(ValueError):
    """The frame's AZ checksum does not match its bytes."""


@dataclass
class Request:
    """A parsed request. ``fields`` maps a field id to its values in wire order (most occur
    once; ``first`` reads those). ``sequence`` is the AY digit, ``error_detection`` whether the
    frame carried AZ (the response then carries AY/AZ too)."""

    command: str
    fixed: dict[str, str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    sequence: int | None = None
    error_detection: bool = False

    def first(self, field_id: str) -> str | None:
        values = self.fields.get(field_id)
        return values[0] if values else None

    def text(self, field_id: str) -> str:
        """The field's value stripped, or "" when it is absent."""
        return (self.first(field_id) or "").strip()


def checksum(prefix_through_az: bytes) -> str:
    """The four uppercase hex digits that follow ``AZ``."""
    return f"{(-sum(prefix_through_az)) & 0xFFFF:04X}"


def checksum_ok(frame_without_cr: bytes) -> bool:
    """True when the frame ends in ``AZ<hhhh>`` and the bytes add up (Koha's verify_cksum)."""
    digits = frame_without_cr[-4:]
    if len(frame_without_cr) < 6 or frame_without_cr[-6:-4] != b"AZ" or not _HEX4.match(digits):
        return False
    return (sum(frame_without_cr[:-4]) + int(digits, 16)) & 0xFFFF == 0


def _split_trailer(body: bytes) -> tuple[bytes, int | None, bool]:
    """Return (payload, sequence, error_detection); raise on a broken or wrong trailer.

    A trailer is recognised when the frame ends in ``AZ`` plus something without ``|``, and
    the ``AZ`` starts a field (after a ``|``, after ``AY<d>``, or, for 96/97, right after the
    command id). A last variable field that merely lacks its ``|`` and happens to end in
    ``AZ...`` would be read as a trailer; such a frame is malformed anyway.
    """
    match = _TRAILER.search(body)
    if match is None:
        return body, None, False
    start = match.start()
    has_seq = match.group("seq") is not None
    if not has_seq and start > 2 and body[start - 1 : start] != b"|":
        # "AZ" inside a value of a last field without "|": no trailer
        return body, None, False
    digits = match.group("sum")
    if not _HEX4.match(digits):
        raise MalformedMessage("checksum is not four hex digits")
    if not checksum_ok(body):
        raise ChecksumError("checksum mismatch")
    sequence = None
    if has_seq:
        seq = match.group("seq")
        if not seq.isdigit():
            raise MalformedMessage("sequence number is not a digit")
        sequence = int(seq)
    return body[:start], sequence, True


def parse(frame: bytes, *, encoding: str = "utf-8") -> Request:
    """Parse one frame (with or without its CR, a stray LF around it is ignored)."""
    body = frame.strip(b"\r\n")
    if not body:
        raise MalformedMessage("empty frame")
    if len(body) > MAX_FRAME_BYTES:
        raise MalformedMessage("frame too long")
    if b"\x00" in body or b"\r" in body:
        raise MalformedMessage("control character in frame")
    payload, sequence, error_detection = _split_trailer(body)
    command = payload[:2].decode("ascii", errors="replace")
    layout = REQUEST_LAYOUTS.get(command)
    if layout is None:
        raise MalformedMessage(f"unknown command {command!r}")
    text = payload[2:].decode(encoding, errors="replace")
    fixed: dict[str, str] = {}
    cursor = 0
    for name, width in layout:
        piece = text[cursor : cursor + width]
        if len(piece) != width:
            raise MalformedMessage(f"fixed field {name} truncated")
        fixed[name] = piece
        cursor += width
    fields: dict[str, list[str]] = {}
    while cursor < len(text):
        field_id = text[cursor : cursor + 2]
        if not _FIELD_ID.fullmatch(field_id):
            raise MalformedMessage(f"bad field id {field_id!r}")
        end = text.find(DELIMITER, cursor + 2)
        if end == -1:  # a last field without its "|": common, harmless
            end = len(text)
        fields.setdefault(field_id, []).append(text[cursor + 2 : end])
        cursor = end + 1
    return Request(
        command=command,
        fixed=fixed,
        fields=fields,
        sequence=sequence,
        error_detection=error_detection,
    )


# --- responses -------------------------------------------------------------------------------


def _clean(value: str, encoding: str) -> bytes:
    """A field value that cannot break the frame: no delimiter or control characters, at most
    255 bytes, characters the encoding lacks replaced by "?"."""
    value = "".join(" " if ch in "|\r\n\x00" else ch for ch in str(value))
    data = value.encode(encoding, errors="replace")
    if len(data) > MAX_FIELD_BYTES:
        data = data[:MAX_FIELD_BYTES].decode(encoding, errors="ignore").encode(encoding)
    return data


Field = tuple[str, str | None]


def format_response(
    command: str,
    fixed: Iterable[str] = (),
    fields: Iterable[Field] = (),
    *,
    sequence: int | None = None,
    error_detection: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    """One response frame with its CR. Fields whose value is None are left out; with error
    detection the frame ends in ``AY<sequence>AZ<checksum>`` (96 and 97 carry no AY)."""
    out = bytearray(command.encode("ascii"))
    for value in fixed:
        out += value.encode("ascii")
    for field_id, value in fields:
        if value is None:
            continue
        out += field_id.encode("ascii") + _clean(value, encoding) + b"|"
    if error_detection:
        if command not in ("96", "97"):
            out += b"AY" + str(sequence if sequence is not None else 0).encode("ascii")
        out += b"AZ"
        out += checksum(bytes(out)).encode("ascii")
    return bytes(out) + CR


def resend_request(*, error_detection: bool, encoding: str = "utf-8") -> bytes:
    """96: the ACS asks the machine to send its last message again."""
    return format_response("96", error_detection=error_detection, encoding=encoding)


# --- field values ----------------------------------------------------------------------------


def sip_datetime(moment: dt.datetime | None = None) -> str:
    """``YYYYMMDD    HHMMSS`` in Dutch local time (four spaces: local time zone)."""
    local = (moment or clock.now()).astimezone(clock.AMSTERDAM)
    return local.strftime("%Y%m%d    %H%M%S")


def sip_due_date(day: dt.date | None) -> str:
    """A due date as an 18-character SIP2 date at the end of that day; "" for none."""
    return f"{day:%Y%m%d}    235959" if day else ""


def yn(flag: bool) -> str:
    return "Y" if flag else "N"


def count4(n: int) -> str:
    return f"{min(max(n, 0), 9999):04d}"


def money(cents: int) -> str:
    """Cents as SIP2 fee amount: ``12.50``."""
    return f"{cents // 100}.{cents % 100:02d}"
