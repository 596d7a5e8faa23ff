"""The bulk MARC import: ISO 2709 (MARC-8 or UTF-8) and MARCXML files into the catalogue.

Guarantees:
- Streaming. The file is read in blocks and records are written in batches; what is kept per
  record is a counter, so memory stays flat on a 250,000-record file. Skipped records go to
  the report file as they happen; the summary keeps only the first ``MAX_KEPT_ERRORS``.
- A broken record never stops the import: a bad leader, a bad indicator, bytes that do not
  decode, a truncated record, a record without a title are skipped and reported with their
  position (1-based record number and byte offset), control number and reason. ISO 2709
  reading finds the next record after a broken one by its end-of-record byte, where pymarc's
  own reader would stop at the first bad record length.
- Re-importing updates, never duplicates: an edition is matched on (source, control number),
  falling back to a valid ISBN. Records without a control number get a content id
  (``EditionData.import_id``) so the same record matches itself next time. An unchanged
  record leaves its edition untouched.
- Fast: a forked worker process decodes and maps ISO 2709 records while this one writes; one
  transaction and a fixed number of statements per batch (reads by key, ``executemany``
  inserts, updates of changed editions only), then the search index of the batch.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import logging
import multiprocessing
import os
import re
import time
import warnings
import xml.sax
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.sax.handler import feature_external_ges, feature_external_pes, feature_namespaces

import pymarc
from django.db import connection, transaction
from django.utils.translation import gettext as _
from pymarc.exceptions import (
    BadSubfieldCodeWarning,
    BaseAddressInvalid,
    BaseAddressNotFound,
    NoFieldsFound,
    RecordDirectoryInvalid,
    RecordLeaderInvalid,
    TruncatedRecord,
)
from pymarc.marcxml import MARC_XML_NS, XmlHandler

from bieb.catalog import search, services, text
from bieb.catalog.interop.marc import (
    EditionData,
    RecordRejected,
    control_number,
    record_to_edition_data,
)
from bieb.catalog.models import (
    DIGITAL_FORMATS,
    Contributor,
    Edition,
    EditionContributor,
    Identifier,
    Item,
    ItemStatus,
    Subject,
    Work,
)
from bieb.catalog.search import documents as search_documents
from bieb.catalog.search.documents import AnalysedText
from bieb.catalog.search.engine import backend as search_backend
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.network.models import Location, LocationKind, Organisation

__all__ = [
    "MAX_KEPT_ERRORS",
    "ImportSummary",
    "SkippedRecord",
    "default_workers",
    "import_marc",
    "read_marc",
]

#: skipped records kept in ``ImportSummary.errors``; the report file gets all of them
MAX_KEPT_ERRORS = 1000
BLOCK_SIZE = 1 << 20
#: records a worker process decodes and maps in one go
GROUP_SIZE = 250
#: records handed to the worker processes ahead of the writer (more than one write batch)
IN_FLIGHT = 5000
#: the importer writes autocomplete rows once this many works and makers have gathered
SUGGEST_EVERY = 20_000
#: garbage collector thresholds while importing (Python's default: 700, 10, 10)
GC_THRESHOLDS = (50_000, 50, 100)
#: makers and subjects whose ids an import run remembers (about 100 bytes each)
KNOWN_KEYS = 500_000
END_OF_RECORD = 0x1D
#: the leader gives a record five digits for its length
MAX_RECORD_LENGTH = 99_999
FIELD_TERMINATOR = 0x1E
MAX_ITEMS_PER_EDITION = 99


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record the import left out (the contract's "ImportError", renamed so it does not
    shadow Python's built-in). ``offset`` is the byte offset in an ISO 2709 file (None in
    MARCXML, where ``reason`` names the line); ``code`` is stable for scripts."""

    position: int
    offset: int | None
    control_number: str
    code: str
    reason: str


@dataclass
class ImportSummary:
    source: str
    added: int = 0
    updated: int = 0
    skipped: int = 0
    items_created: int = 0
    #: the first ``MAX_KEPT_ERRORS`` skipped records
    errors: list[SkippedRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.added + self.updated + self.skipped

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "items_created": self.items_created,
            "seconds": round(self.seconds, 2),
            "records_per_second": round(self.records_per_second),
        }


# --- reading ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Chunk:
    """One ISO 2709 record's bytes, or (``code`` set) why the bytes are no record."""

    position: int
    offset: int
    raw: bytes
    code: str = ""
    reason: str = ""


@dataclass(slots=True)
class _Outcome:
    """One record, read and mapped: its edition data, or why it is skipped."""

    position: int
    offset: int | None
    control_number: str = ""
    data: EditionData | None = None
    code: str = ""
    reason: str = ""
    #: the edition's index text, analysed where the record was mapped
    text: AnalysedText | None = None


_VALID_INDICATOR = re.compile(r"[0-9a-z ]")


class _PymarcWarnings(logging.Handler):
    """Collects what pymarc logs while decoding (it repairs missing or extra indicators
    silently and only logs them), so the reader can skip such a record."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _pymarc_quiet() -> Iterator[_PymarcWarnings]:
    logger = logging.getLogger("pymarc")
    handler = _PymarcWarnings()
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            # pymarc repairs non-ASCII subfield codes itself and warns; the data is kept.
            warnings.simplefilter("ignore", BadSubfieldCodeWarning)
            yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


#: the characters ``_VALID_INDICATOR`` accepts: a set lookup per indicator is cheaper than
#: two regex matches per field
_INDICATOR_CHARACTERS = frozenset(c for c in map(chr, range(128)) if _VALID_INDICATOR.fullmatch(c))


def _bad_indicator(record: pymarc.Record, logged: list[str]) -> str:
    for message in logged:
        if "indicator" in message:
            return f"bad indicator: {message[:80]}"
    valid = _INDICATOR_CHARACTERS
    for field_ in record.fields:
        indicators = field_.indicators
        if indicators is not None and not (
            indicators.first in valid and indicators.second in valid
        ):
            return (
                f"bad indicator: field {field_.tag} has {indicators.first!r} {indicators.second!r}"
            )
    return ""


def _raw_control_number(chunk: bytes) -> str:
    """The 001 of a record pymarc could not decode: through the directory when the base
    address reads, else the first field after the directory when it looks like one."""
    try:
        base = int(chunk[12:17])
        position = 24
        while position + 12 <= len(chunk) and chunk[position] != FIELD_TERMINATOR:
            entry = chunk[position : position + 12]
            if entry[:3] == b"001":
                length, start = int(entry[3:7]), int(entry[7:12])
                data = chunk[base + start : base + start + length - 1]
                return data.decode("ascii", "replace").strip()[:64]
            position += 12
    except ValueError:
        pass
    match = re.search(rb"\x1e([ -~]{1,40})\x1e", chunk)
    return match.group(1).decode("ascii").strip() if match else ""


def _map(record: pymarc.Record, outcome: _Outcome) -> _Outcome:
    try:
        outcome.data = record_to_edition_data(record)
    except RecordRejected as exc:
        outcome.code, outcome.reason = exc.code, exc.reason
    except Exception as exc:  # a record pymarc read but that makes no sense
        outcome.code, outcome.reason = "unmappable", f"{type(exc).__name__}: {exc}"
    # the mapping found the control number already (``source_id``)
    outcome.control_number = (
        outcome.data.source_id if outcome.data is not None else control_number(record)
    )
    if outcome.data is not None:
        # the stems and words of the search index, here rather than in the writing process
        outcome.text = analysed_text(outcome.data)
    return outcome


def _decode(chunk: _Chunk, logged: list[str]) -> _Outcome:
    outcome = _Outcome(chunk.position, chunk.offset)
    if chunk.code:
        outcome.code, outcome.reason = chunk.code, chunk.reason
        outcome.control_number = _raw_control_number(chunk.raw)
        return outcome
    logged.clear()
    try:
        record = pymarc.Record(chunk.raw, to_unicode=True, hide_utf8_warnings=True)
    except UnicodeDecodeError as exc:
        code = "undecodable"
        reason = (
            f"undecodable bytes: not {exc.encoding} ({exc.reason} at byte {exc.start} of a field)"
        )
    except (RecordLeaderInvalid, BaseAddressInvalid, BaseAddressNotFound) as exc:
        code, reason = "bad_leader", f"bad leader: {exc}"
    except ValueError as exc:
        code, reason = "bad_leader", f"bad leader or directory: {exc}"
    except RecordDirectoryInvalid as exc:
        code, reason = "bad_directory", str(exc)
    except NoFieldsFound as exc:
        code, reason = "no_fields", str(exc)
    except TruncatedRecord as exc:
        code, reason = "truncated", str(exc)
    except Exception as exc:  # any other decoding failure skips the record
        code, reason = "unreadable", f"{type(exc).__name__}: {exc}"
    else:
        problem = _bad_indicator(record, logged)
        if not problem:
            return _map(record, outcome)
        outcome.control_number = control_number(record)
        outcome.code, outcome.reason = "bad_indicator", problem
        return outcome
    outcome.control_number = _raw_control_number(chunk.raw)
    outcome.code, outcome.reason = code, reason
    return outcome


def _decode_all(chunks: list[_Chunk]) -> list[_Outcome]:
    """Decode and map a group of records: what a worker process runs."""
    with _pymarc_quiet() as log:
        return [_decode(chunk, log.messages) for chunk in chunks]


class _Blocks:
    """A byte buffer over a binary stream that grows block by block; ``base`` is the file
    offset of ``data[0]``."""

    def __init__(self, stream: BinaryIO, first: bytes) -> None:
        self.stream = stream
        self.data = first
        self.base = 0
        self.eof = False

    def more(self, start: int) -> int:
        """Drop what is before ``start`` and read another block; returns the new start."""
        block = b"" if self.eof else self.stream.read(BLOCK_SIZE)
        if not block:
            self.eof = True
            return start
        self.data = self.data[start:] + block
        self.base += start
        return 0

    def need(self, start: int, count: int) -> int:
        """Read until ``count`` bytes from ``start`` are there (or the file ends)."""
        while len(self.data) - start < count and not self.eof:
            start = self.more(start)
        return start

    def find_end(self, start: int) -> tuple[int, int]:
        """(start, index of the next end-of-record byte at or after start, or -1 when there
        is none before the end of the file or within the longest possible record)."""
        searched = start
        while True:
            end = self.data.find(b"\x1d", searched, start + MAX_RECORD_LENGTH)
            if end != -1 or self.eof or len(self.data) - start >= MAX_RECORD_LENGTH:
                return start, end
            already = len(self.data) - start
            start = self.more(start)
            searched = start + already


_GAP = b" \t\r\n\x00"


def _iso2709(stream: BinaryIO, first: bytes) -> Iterator[_Chunk]:
    """The records of an ISO 2709 file as byte chunks. A record whose length in the leader
    is wrong or unreadable is reported and reading goes on after its end-of-record byte."""
    blocks = _Blocks(stream, first)
    start = 0
    position = 0
    while True:
        # files often carry a newline between records, or padding at the end
        while True:
            data = blocks.data
            while start < len(data) and data[start] in _GAP:
                start += 1
            if start < len(data) or blocks.eof:
                break
            start = blocks.more(start)
        if start >= len(blocks.data):
            return
        start = blocks.need(start, 5)
        position += 1
        head = blocks.data[start : start + 5]
        length = int(head) if head.isdigit() else 0
        if length >= 25:
            start = blocks.need(start, length)
            chunk = blocks.data[start : start + length]
            if len(chunk) == length and chunk[-1] == END_OF_RECORD:
                yield _Chunk(position, blocks.base + start, chunk)
                start += length
                continue
        start, end = blocks.find_end(start)
        offset = blocks.base + start
        if end == -1 and not blocks.eof:
            # no record at all here: skip the longest record's worth and look again
            raw = blocks.data[start : start + MAX_RECORD_LENGTH]
            reason = f"unreadable: no end of record within {MAX_RECORD_LENGTH:,} bytes"
            yield _Chunk(position, offset, raw, "unreadable", reason)
            start += MAX_RECORD_LENGTH
            continue
        if end == -1:
            raw = blocks.data[start:]
            yield _Chunk(position, offset, raw, "truncated", _truncated(raw, length))
            return
        raw = blocks.data[start : end + 1]
        start = end + 1
        if length >= 25:
            reason = f"bad leader: record length {length} but the record has {len(raw)} bytes"
        elif head.isdigit():
            reason = f"bad leader: record length {head.decode()} is too small"
        else:
            reason = f"bad leader: record length {head.decode('latin-1')!r} is not a number"
        yield _Chunk(position, offset, raw, "bad_leader", reason)


def _truncated(raw: bytes, length: int) -> str:
    if length:
        return f"truncated: {len(raw)} of {length} bytes before the end of the file"
    return f"truncated: {len(raw)} bytes without an end of record before the end of the file"


def _groups(chunks: Iterator[_Chunk], size: int) -> Iterator[list[_Chunk]]:
    group: list[_Chunk] = []
    for chunk in chunks:
        group.append(chunk)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def _worker_start() -> None:
    gc.freeze()  # what the fork inherited is never garbage
    gc.set_threshold(*GC_THRESHOLDS)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """An import allocates millions of short-lived objects beside large long-lived caches
    (stems, maker and subject ids); at the default thresholds the collector keeps walking
    those caches and took a third of the writer's time. Acyclic data dies by reference
    counting anyway; the thresholds are restored after."""
    saved = gc.get_threshold()
    gc.freeze()  # what exists before the import (modules, settings) is left alone
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()


def _iso2709_outcomes(stream: BinaryIO, first: bytes, workers: int) -> Iterator[_Outcome]:
    """Decode and map in ``workers`` forked processes while this one writes. Up to
    ``IN_FLIGHT`` records are handed out ahead: enough to keep the workers busy while the
    writer spends a second on a batch of 2,000, few enough to keep memory bounded."""
    groups = _groups(_iso2709(stream, first), GROUP_SIZE)
    if workers <= 0:
        for group in groups:
            yield from _decode_all(group)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_start
    ) as pool:
        in_flight: deque = deque()
        for group in groups:
            in_flight.append(pool.submit(_decode_all, group))
            if len(in_flight) * GROUP_SIZE >= IN_FLIGHT:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()


class _XmlRecords(XmlHandler):
    """pymarc's MARCXML handler, collecting records with the line they end on."""

    def __init__(self, strict: bool) -> None:
        super().__init__(strict=strict)
        self.ready: list[tuple[pymarc.Record, int]] = []
        self.locator: Any = None

    def setDocumentLocator(self, locator) -> None:  # SAX API name
        self.locator = locator

    def process_record(self, record: pymarc.Record) -> None:
        self.ready.append((record, self.line()))

    def line(self) -> int:
        return self.locator.getLineNumber() if self.locator is not None else 0


def _marcxml_outcomes(stream: BinaryIO, first: bytes) -> Iterator[_Outcome]:
    """MARCXML through pymarc's SAX handler, fed block by block to an incremental expat
    parser, so a large collection never sits in memory. When the file declares the MARC
    namespace, elements outside it are ignored (an OAI-PMH envelope has ``record`` too).
    Broken XML ends the file: what came before it is imported, the rest is reported."""
    handler = _XmlRecords(strict=MARC_XML_NS.encode() in first)
    # No external entities or DTDs are fetched (set explicitly, though it is the default);
    # expat >= 2.4 bounds entity expansion ("billion laughs").
    parser = xml.sax.make_parser()  # noqa: S317
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    position = 0
    block = first
    while True:
        failure = None
        try:
            if block:
                parser.feed(block)
            else:
                parser.close()
        except Exception as exc:  # SAXParseException or a handler KeyError
            failure = exc
        ready, handler.ready = handler.ready, []
        for record, line in ready:
            position += 1
            problem = _bad_indicator(record, [])
            if problem:
                yield _Outcome(
                    position,
                    None,
                    control_number(record),
                    None,
                    "bad_indicator",
                    f"{problem} (line {line})",
                )
            else:
                yield _map(record, _Outcome(position, None))
        if failure is not None:
            reason = f"XML not readable at line {handler.line()}: {failure}"
            yield _Outcome(position + 1, None, "", None, "xml_error", reason)
            return
        if not block:
            return
        block = stream.read(BLOCK_SIZE)


def read_marc(stream: BinaryIO, *, workers: int = 0) -> Iterator[_Outcome]:
    """Every record of an ISO 2709 or MARCXML stream (sniffed from its first bytes), decoded
    and mapped to edition data, or with the reason it cannot be."""
    first = stream.read(BLOCK_SIZE)
    if isinstance(first, str):
        raise DomainError("import_not_binary", _("Open het MARC-bestand binair ('rb')."))
    if first.lstrip(b"\xef\xbb\xbf" + _GAP).startswith(b"<"):
        with _pymarc_quiet():
            yield from _marcxml_outcomes(stream, first)
    else:
        yield from _iso2709_outcomes(stream, first, workers)


def default_workers() -> int:
    """One mapping process beside the writing one where there are two cores to use and
    processes can be forked (Linux); none elsewhere."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return 1


# --- writing ---------------------------------------------------------------------------------

_EDITION_COMPARED = (
    "work_id",
    "title",
    "subtitle",
    "contributors_text",
    "isbn",
    "publisher",
    "place_of_publication",
    "year",
    "language",
    "format",
    "pages",
    "duration_minutes",
    "extent",
    "series",
    "series_number",
    "audience",
    "age_min",
    "age_max",
    "description",
    "source",
    "source_id",
)


class _Table:
    """Plain ``INSERT``/``UPDATE`` with ``executemany`` for one model.

    Django's ``bulk_create`` builds a model instance and prepares every field of every row;
    on an import that writes a dozen rows per record that was most of the time. Rows here
    are dicts of already database-ready values (str, int, bool, None); datetimes are
    adapted per column. Missing columns take the field's default. Names come from the
    model's meta, never from input."""

    def __init__(self, model) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.table = connection.ops.quote_name(model._meta.db_table)

    def _columns(self, names: list[str]) -> str:
        return ", ".join(
            connection.ops.quote_name(self.model._meta.get_field(n).column) for n in names
        )

    def _adapters(self, fields) -> list[tuple[int, Callable[[Any], Any]]]:
        adapt = {
            "DateTimeField": connection.ops.adapt_datetimefield_value,
            "DateField": connection.ops.adapt_datefield_value,
        }
        return [
            (index, adapt[f.get_internal_type()])
            for index, f in enumerate(fields)
            if f.get_internal_type() in adapt
        ]

    def insert(self, rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
        if not rows:
            return
        defaults = {f.attname: f.get_default() for f in self.fields}
        names = [f.attname for f in self.fields]
        adapters = self._adapters(self.fields)
        values = []
        adapted: dict[Any, Any] = {}  # a batch stamps every row with the same few times
        for row in rows:
            value = [row[n] if n in row else defaults[n] for n in names]
            for index, adapt in adapters:
                raw = value[index]
                if raw not in adapted:
                    adapted[raw] = adapt(raw)
                value[index] = adapted[raw]
            values.append(value)
        marks = ", ".join(["%s"] * len(names))
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        sql = f"INSERT INTO {self.table} ({self._columns(names)}) VALUES ({marks}){conflict}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)

    def ids_by(self, name: str, values, *, nonblank: bool = False, **equal: Any) -> dict[Any, int]:
        """``{value: id}`` of the rows whose ``name`` is one of ``values`` (and whose other
        columns equal ``equal``), in statements of at most 900 parameters. ``nonblank``
        repeats the condition of a partial index on ``name`` (``NOT (name = '')``, as
        Edition's source key has): SQLite only uses such an index when the query says so
        word for word, and scans the table otherwise."""
        column = connection.ops.quote_name(self.model._meta.get_field(name).column)
        conditions = "".join(
            f" AND {connection.ops.quote_name(self.model._meta.get_field(n).column)} = %s"
            for n in equal
        )
        if nonblank:
            conditions += f" AND NOT ({column} = '')"
        values = list(values)
        found: dict[Any, int] = {}
        with connection.cursor() as cursor:
            for start in range(0, len(values), 900):
                part = values[start : start + 900]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    f"SELECT {column}, id FROM {self.table} WHERE {column} IN ({marks}){conditions}",  # noqa: S608
                    [*part, *equal.values()],
                )
                found.update(cursor.fetchall())
        return found

    def update(self, rows: list[dict[str, Any]], names: list[str]) -> None:
        """``UPDATE ... WHERE id = row["id"]`` for each row, setting ``names``."""
        if not rows:
            return
        fields = [self.model._meta.get_field(n) for n in names]
        adapters = self._adapters(fields)
        values = []
        for row in rows:
            value = [row[n] for n in names]
            for index, adapt in adapters:
                value[index] = adapt(value[index])
            values.append([*value, row["id"]])
        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
        sql = f"UPDATE {self.table} SET {assignments} WHERE id = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)


@dataclass(slots=True)
class _Pending:
    """A record on its way to an edition: ``source``/``source_id`` are what the edition
    will carry (an ISBN match with another source's edition keeps that provenance)."""

    data: EditionData
    source: str
    source_id: str
    edition_id: int | None = None
    work_id: int | None = None
    #: the index text, when a mapping process analysed it already
    text: AnalysedText | None = None


class _Writer:
    """Writes batches of mapped records; one instance per import run. Each batch costs a
    fixed number of statements, whatever its size."""

    def __init__(
        self,
        *,
        source: str,
        summary: ImportSummary,
        organisation: Organisation | None,
        items_per_edition: int,
        locations: list[Location],
    ) -> None:
        self.source = source
        self.summary = summary
        self.organisation = organisation
        self.items_per_edition = items_per_edition
        self.locations = locations
        self.copies_placed = 0
        self.tables = {
            model: _Table(model)
            for model in (Work, Contributor, Subject, Edition, EditionContributor, Identifier, Item)
        }
        self.subject_links = _Table(Edition.subjects.through)
        #: ids of makers and subjects by key seen in this run: names and headings recur
        #: through a file, and most of a batch's keys need no lookup then
        self.known: dict[type, dict[str, int]] = {Contributor: {}, Subject: {}}
        self.suggest_works: set[int] = set()
        self.suggest_makers: set[int] = set()

    def write(self, batch: list[_Outcome]) -> None:
        """Upsert one batch in one transaction."""
        pending = self._deduplicate(batch)
        with transaction.atomic():
            now = clock.now()
            self._match(pending)
            self._works(pending, now)
            contributors = self._keyed(
                Contributor,
                {c.key: c for p in pending for c in p.data.credits},
                lambda c: {"name": c.name, "key": c.key, "dates": c.dates},
            )
            subjects = self._keyed(
                Subject,
                {s.key: s for p in pending for s in p.data.subjects},
                lambda s: {"label": s.label, "key": s.key, "kind": s.kind},
            )
            new = [p for p in pending if p.edition_id is None]
            old = [p for p in pending if p.edition_id is not None]
            self._create(new, now)
            changed = self._update(old, contributors, subjects, now)
            rewritten = new + changed
            self._links(rewritten, contributors, subjects)
            with_items = self._items(new, now)
            if with_items:
                services.edition_refresh_availability(with_items)
            self._index(new, with_items, contributors, now)
            if changed:
                search.index_editions([p.edition_id for p in changed])
        self.summary.added += len(new)
        self.summary.updated += len(old)

    def _index(self, new: list[_Pending], with_items: list[int], contributors, now) -> None:
        """Index the new editions from the values just written: reading them back costs more
        than the rest of the batch. Names and subject labels are the record's own; a maker or
        subject that already existed under the same key folds to the same index words."""
        available = set(
            Edition.objects.filter(pk__in=with_items, available_now=True).values_list(
                "pk", flat=True
            )
        )
        documents = [
            search_documents.document(
                p.edition_id,
                p.text or analysed_text(p.data),
                format=p.data.format,
                language=p.data.language,
                audience=p.data.audience,
                year=p.data.year,
                available=p.edition_id in available,
                created_at=now,
            )
            for p in new
        ]
        search.index_documents(documents, suggestions=False)
        self.suggest_works.update(p.work_id for p in new)
        self.suggest_makers.update(contributors[c.key] for p in new for c in p.data.credits)
        if len(self.suggest_works) + len(self.suggest_makers) >= SUGGEST_EVERY:
            self.write_suggestions()

    def write_suggestions(self) -> None:
        """Autocomplete rows of the works and makers of the editions added since the last
        call: a maker credited in many batches is written once per round, not per batch."""
        search.write_suggestions(sorted(self.suggest_works), sorted(self.suggest_makers))
        self.suggest_works.clear()
        self.suggest_makers.clear()

    def _deduplicate(self, batch: list[_Outcome]) -> list[_Pending]:
        """One pending edition per import id; a later record with the same id within the
        batch updates the earlier one, as it would across batches."""
        by_id: dict[str, _Pending] = {}
        for outcome in batch:
            data = outcome.data
            assert data is not None
            if data.import_id in by_id:
                self.summary.updated += 1
                by_id[data.import_id].data = data
                by_id[data.import_id].text = outcome.text
            else:
                by_id[data.import_id] = _Pending(
                    data, self.source, data.import_id, text=outcome.text
                )
        return list(by_id.values())

    def _match(self, pending: list[_Pending]) -> None:
        by_id = {p.source_id: p for p in pending}
        editions = self.tables[Edition].ids_by(
            "source_id", by_id, nonblank=True, source=self.source
        )
        for source_id, edition_id in editions.items():
            by_id[source_id].edition_id = edition_id
        # Fall back to a valid ISBN: an edition of another source (it keeps its provenance),
        # one of this source without a control number (records without 001 carry a content
        # id "h:..."), or any when the record itself has no control number.
        by_isbn: dict[str, _Pending] = {}
        for p in pending:
            if p.edition_id is None and p.data.isbn:
                by_isbn.setdefault(p.data.isbn, p)
        if not by_isbn:
            return
        taken = {p.edition_id for p in pending if p.edition_id is not None}
        rows = (
            Identifier.objects.filter(
                kind=Identifier.Kind.ISBN, is_valid=True, value__in=list(by_isbn)
            )
            .values_list("value", "edition_id", "edition__source", "edition__source_id")
            .order_by("edition_id")
        )
        for value, edition_id, source, source_id in rows:
            p = by_isbn.get(value)
            if p is None or p.edition_id is not None or edition_id in taken:
                continue
            ours_unclaimed = source == self.source and (not source_id or source_id.startswith("h:"))
            if source == self.source and not ours_unclaimed and not p.source_id.startswith("h:"):
                continue  # another record of this source, with its own control number
            p.edition_id = edition_id
            taken.add(edition_id)
            if not ours_unclaimed:
                p.source, p.source_id = source, source_id

    def _works(self, pending: list[_Pending], now) -> None:
        wanted = {p.data.work_key: p.data for p in pending}
        table = self.tables[Work]
        ids = table.ids_by("key", wanted)
        missing = [key for key in wanted if key not in ids]
        if missing:
            table.insert(
                [
                    {
                        "key": key,
                        "title": wanted[key].title,
                        "author_name": wanted[key].author_name[:255],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for key in missing
                ],
                ignore_conflicts=True,
            )
            ids.update(table.ids_by("key", missing))
        for p in pending:
            p.work_id = ids[p.data.work_key]

    def _keyed(self, model, wanted: dict, row_of) -> dict[str, int]:
        """Ids of ``model`` rows by key, creating the missing ones with the slug the mapping
        chose; a slug another key already has gets a short hash of the key."""
        if not wanted:
            return {}
        table = self.tables[model]
        known = self.known[model]
        if len(known) > KNOWN_KEYS:
            known.clear()
        ids = {key: known[key] for key in wanted if key in known}
        ids.update(table.ids_by("key", [key for key in wanted if key not in ids]))
        known.update(ids)
        missing = {k: v for k, v in wanted.items() if k not in ids}
        if not missing:
            return ids
        taken = set(table.ids_by("slug", {v.slug for v in missing.values()}))
        rows = []
        for key, value in missing.items():
            slug = value.slug if value.slug not in taken else _hashed_slug(value.slug, key)
            taken.add(slug)
            rows.append({**row_of(value), "slug": slug})
        table.insert(rows, ignore_conflicts=True)
        ids.update(table.ids_by("key", missing))
        for key in missing.keys() - ids.keys():
            # a concurrent import took the slug between our check and the insert
            defaults = {**row_of(missing[key]), "slug": _hashed_slug(missing[key].slug, key)}
            defaults.pop("key")
            ids[key] = model.objects.get_or_create(key=key, defaults=defaults)[0].pk
        known.update(ids)
        return ids

    def _create(self, new: list[_Pending], now) -> None:
        if not new:
            return
        self.tables[Edition].insert(
            [
                {
                    **p.data.edition_fields(),
                    "work_id": p.work_id,
                    "source": p.source,
                    "source_id": p.source_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in new
            ]
        )
        by_id = {p.source_id: p for p in new}
        editions = self.tables[Edition].ids_by(
            "source_id", by_id, nonblank=True, source=self.source
        )
        for source_id, edition_id in editions.items():
            by_id[source_id].edition_id = edition_id

    def _update(self, old: list[_Pending], contributors, subjects, now) -> list[_Pending]:
        """Write the editions whose fields or links changed and return them; an unchanged
        record leaves its edition (and ``updated_at``, which harvesters follow) alone."""
        if not old:
            return []
        ids = [p.edition_id for p in old]
        current = {
            row["id"]: row
            for row in Edition.objects.filter(pk__in=ids).values("id", *_EDITION_COMPARED)
        }
        links = _current_links(ids)
        changed: list[_Pending] = []
        rows: list[dict[str, Any]] = []
        for p in old:
            wanted = {
                **p.data.edition_fields(),
                "work_id": p.work_id,
                "source": p.source,
                "source_id": p.source_id,
            }
            row = current[p.edition_id]
            if all(row[name] == wanted[name] for name in _EDITION_COMPARED) and links.get(
                p.edition_id
            ) == _wanted_links(p, contributors, subjects):
                continue
            changed.append(p)
            rows.append({**wanted, "id": p.edition_id, "updated_at": now})
        if rows:
            self.tables[Edition].update(rows, [*_EDITION_COMPARED, "updated_at"])
            changed_ids = [p.edition_id for p in changed]
            EditionContributor.objects.filter(edition_id__in=changed_ids).delete()
            Edition.subjects.through.objects.filter(edition_id__in=changed_ids).delete()
            Identifier.objects.filter(edition_id__in=changed_ids).delete()
        return changed

    def _links(self, pending: list[_Pending], contributors, subjects) -> None:
        credits, subject_links, identifiers = [], [], []
        for p in pending:
            for position, credit in enumerate(p.data.credits):
                credits.append(
                    {
                        "edition_id": p.edition_id,
                        "contributor_id": contributors[credit.key],
                        "role": str(credit.role),
                        "position": position,
                    }
                )
            for subject_id in dict.fromkeys(subjects[s.key] for s in p.data.subjects):
                subject_links.append({"edition_id": p.edition_id, "subject_id": subject_id})
            for i in p.data.identifiers:
                identifiers.append(
                    {
                        "edition_id": p.edition_id,
                        "kind": str(i.kind),
                        "value": i.value,
                        "as_printed": i.as_printed,
                        "qualifier": i.qualifier,
                        "is_valid": i.is_valid,
                    }
                )
        self.tables[EditionContributor].insert(credits)
        self.subject_links.insert(subject_links)
        self.tables[Identifier].insert(identifiers)

    def _items(self, new: list[_Pending], now) -> list[int]:
        """``items_per_edition`` copies of each new physical edition, round-robin over the
        organisation's locations. A barcode is organisation, edition and copy number, so no
        two runs make the same one."""
        if not self.items_per_edition or self.organisation is None:
            return []
        org_id = self.organisation.pk
        rows = []
        edition_ids = []
        for p in new:
            if p.data.format in DIGITAL_FORMATS:
                continue
            edition_ids.append(p.edition_id)
            shelf_mark = _shelf_mark(p.data)
            for copy in range(1, self.items_per_edition + 1):
                location = self.locations[self.copies_placed % len(self.locations)]
                self.copies_placed += 1
                rows.append(
                    {
                        "edition_id": p.edition_id,
                        "organisation_id": org_id,
                        "home_location_id": location.pk,
                        "location_id": location.pk,
                        "barcode": f"{org_id:05d}{p.edition_id:010d}{copy:02d}",
                        "shelf_mark": shelf_mark,
                        "status": str(ItemStatus.AVAILABLE),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        self.tables[Item].insert(rows)
        self.summary.items_created += len(rows)
        return edition_ids


def analysed_text(data: EditionData) -> AnalysedText:
    """The index text of the edition a record makes, as ``build_documents`` would read it
    back: makers and subjects once per key, the record's ISBNs after ``Edition.isbn``."""
    return search_documents.analyse(
        title=f"{data.title} {data.subtitle}",
        makers=[c.name for c in data.credits] or [data.contributors_text],
        series=data.series,
        subjects=_labels_by_key(data),
        body=f"{data.description} {data.publisher}",
        isbns=[
            (data.isbn, "", True),
            *(
                (i.value, i.as_printed, i.is_valid)
                for i in data.identifiers
                if i.kind == Identifier.Kind.ISBN
            ),
        ],
    )


def _labels_by_key(data: EditionData) -> list[str]:
    """The edition's subject labels, one per subject (the writer links one subject per key)."""
    labels: dict[str, str] = {}
    for subject in data.subjects:
        labels.setdefault(subject.key, subject.label)
    return list(labels.values())


def _hashed_slug(slug: str, key: str) -> str:
    return f"{slug[:100]}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _current_links(ids: list[int]) -> dict[int, tuple]:
    credits: dict[int, list] = {}
    for row in (
        EditionContributor.objects.filter(edition_id__in=ids)
        .order_by("edition_id", "position", "id")
        .values_list("edition_id", "contributor_id", "role", "position")
    ):
        credits.setdefault(row[0], []).append(row[1:])
    subjects: dict[int, set] = {}
    for edition_id, subject_id in Edition.subjects.through.objects.filter(
        edition_id__in=ids
    ).values_list("edition_id", "subject_id"):
        subjects.setdefault(edition_id, set()).add(subject_id)
    identifiers: dict[int, set] = {}
    for row in Identifier.objects.filter(edition_id__in=ids).values_list(
        "edition_id", "kind", "value", "as_printed", "qualifier", "is_valid"
    ):
        identifiers.setdefault(row[0], set()).add(row[1:])
    return {i: (credits.get(i, []), subjects.get(i, set()), identifiers.get(i, set())) for i in ids}


def _wanted_links(p: _Pending, contributors, subjects) -> tuple:
    return (
        [(contributors[c.key], c.role, position) for position, c in enumerate(p.data.credits)],
        {subjects[s.key] for s in p.data.subjects},
        {(i.kind, i.value, i.as_printed, i.qualifier, i.is_valid) for i in p.data.identifiers},
    )


def _shelf_mark(data: EditionData) -> str:
    """The LC call number as it is; else the Dewey class and the first four letters of the
    author's family name (or of the title), as Dutch libraries shelve: "839.31 REVE"."""
    if data.call_number_complete:
        return data.call_number[:60]
    letters = text.fold((data.author_name or data.title).split(",")[0]).replace(" ", "")[:4]
    return " ".join(part for part in (data.call_number, letters.upper()) if part)[:60]


def _item_locations(organisation: Organisation) -> list[Location]:
    """Where imported copies go: the organisation's active branches, else its other active
    locations that hold a collection (not lockers)."""
    active = Location.objects.filter(organisation=organisation, is_active=True).order_by("pk")
    branches = list(active.filter(kind=LocationKind.BRANCH))
    return branches or list(active.exclude(kind=LocationKind.LOCKER))


# --- the import --------------------------------------------------------------------------------


class _Report:
    """The CSV report of skipped records, written as they happen."""

    HEADER = ("position", "offset", "control_number", "code", "reason")

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.file: IO[str] | None = None
        if path is not None:
            self.file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self.writer = csv.writer(self.file)
            self.writer.writerow(self.HEADER)

    def add(self, skipped: SkippedRecord) -> None:
        if self.file is not None:
            self.writer.writerow(
                [
                    skipped.position,
                    "" if skipped.offset is None else skipped.offset,
                    skipped.control_number,
                    skipped.code,
                    skipped.reason,
                ]
            )

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@contextlib.contextmanager
def _query_log_paused() -> Iterator[None]:
    """With DEBUG on (as ``make demo`` runs) Django logs every statement: it keeps the SQL of
    the last 9,000 (a bulk import's statements are long, so that log alone grew the import to
    ~300 MB) and renders each with its parameters first (5 % of an import's time). This
    connection's cursors skip the debug wrapper for the import; both are restored after."""
    saved = connection.queries_log
    connection.queries_log = deque(maxlen=0)
    connection.make_debug_cursor = connection.make_cursor  # instance attribute, undone below
    try:
        yield
    finally:
        del connection.make_debug_cursor
        connection.queries_log = saved


@contextlib.contextmanager
def _opened(path_or_file: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(path_or_file, str | os.PathLike):
        try:
            stream = open(path_or_file, "rb")  # noqa: SIM115
        except OSError as exc:
            raise DomainError(
                "import_file_unreadable",
                _("Het bestand %(path)s kan niet worden gelezen: %(error)s")
                % {"path": os.fspath(path_or_file), "error": exc.strerror or exc},
            ) from exc
        with stream:
            yield stream
    else:
        yield path_or_file


def import_marc(
    path_or_file: str | os.PathLike | BinaryIO,
    *,
    source: str = "loc",
    organisation: Organisation | None = None,
    items_per_edition: int = 0,
    report_path: str | os.PathLike | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
    batch_size: int = 2000,
    workers: int | None = None,
) -> ImportSummary:
    """Import every record of a MARC file (a path or a binary file object) as editions of
    ``source``; with ``organisation`` and ``items_per_edition``, also that many copies of each
    new physical edition at the organisation's branches. ``progress`` is called with the
    running summary after each batch; ``workers`` processes decode and map ISO 2709 records
    beside the one that writes (default: ``default_workers()``). Writes one
    ``catalog.import`` audit row.

    Raises ``DomainError`` only when the import cannot start (file unreadable, bad
    arguments); records that cannot be read are skipped and reported."""
    source = (source or "").strip()
    if not source or len(source) > 40:
        raise DomainError("invalid_source", _("Geef een bron van 1 tot 40 tekens op."))
    if not 0 <= items_per_edition <= MAX_ITEMS_PER_EDITION:
        raise DomainError(
            "invalid_items",
            _("Het aantal exemplaren per titel ligt tussen 0 en %(max)s.")
            % {"max": MAX_ITEMS_PER_EDITION},
        )
    locations: list[Location] = []
    if items_per_edition:
        if organisation is None:
            raise DomainError(
                "organisation_required",
                _("Kies een organisatie om exemplaren aan te maken."),
            )
        locations = _item_locations(organisation)
        if not locations:
            raise DomainError(
                "organisation_has_no_locations",
                _("%(name)s heeft geen actieve vestiging voor de exemplaren.")
                % {"name": organisation.name},
            )
    summary = ImportSummary(source=source)
    writer = _Writer(
        source=source,
        summary=summary,
        organisation=organisation,
        items_per_edition=items_per_edition,
        locations=locations,
    )
    started = time.perf_counter()
    # the search connection settings (SQLite: a 64 MB page cache instead of 2 MB) keep the
    # indexes this import grows in memory rather than re-read for every batch
    search_backend().prepare(mapped=False)
    report = _Report(report_path)
    workers = default_workers() if workers is None else workers
    try:
        with (
            _fewer_collections(),
            _query_log_paused(),
            _opened(path_or_file) as stream,
            contextlib.closing(read_marc(stream, workers=workers)) as outcomes,
        ):
            batch: list[_Outcome] = []
            for outcome in outcomes:
                if outcome.data is None:
                    _skip(summary, report, outcome)
                    continue
                batch.append(outcome)
                if len(batch) >= batch_size:
                    writer.write(batch)
                    batch = []
                    summary.seconds = time.perf_counter() - started
                    if progress is not None:
                        progress(summary)
            if batch:
                writer.write(batch)
            with transaction.atomic():
                writer.write_suggestions()
    finally:
        report.close()
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress(summary)
    with transaction.atomic():
        audit_record(
            action="catalog.import",
            actor=None,
            subject=f"catalog.import:{source}",
            organisation_id=organisation.pk if organisation else None,
            data={**summary.counts(), "file": _name_of(path_or_file)},
        )
    return summary


def _skip(summary: ImportSummary, report: _Report, outcome: _Outcome) -> None:
    skipped = SkippedRecord(
        outcome.position, outcome.offset, outcome.control_number, outcome.code, outcome.reason
    )
    summary.skipped += 1
    if len(summary.errors) < MAX_KEPT_ERRORS:
        summary.errors.append(skipped)
    report.add(skipped)


def _name_of(path_or_file: Any) -> str:
    if isinstance(path_or_file, str | os.PathLike):
        return Path(path_or_file).name
    return Path(str(getattr(path_or_file, "name", ""))).name
