"""OAI-PMH 2.0 data provider for the catalogue: the protocol without HTTP.

``respond(params, base_url=..., site_url=...)`` takes the request's arguments (every value of
every key, so repeats can be refused) and returns the UTF-8 XML document to send with HTTP 200,
protocol errors included. The view in ``catalog/oai_views.py`` only collects the arguments.

Choices a harvester relies on (see docs/interop.md):

- Items are editions: ``oai:<repositoryIdentifier>:edition/<id>``; the datestamp is
  ``Edition.updated_at`` in UTC at seconds granularity (day granularity is accepted too).
- Formats: ``oai_dc`` (built here) and ``marc21`` (MARCXML from ``interop.marc``).
- Sets: ``format`` with ``format:<format>`` below it, and ``organisation`` with
  ``organisation:<code>`` (editions the organisation holds: a copy that is not withdrawn, or an
  active licence of its own).
- Lists are ordered by (``updated_at``, ``id``) and paged by a keyset, not an offset: the
  resumption token carries the last (updated_at, id) sent, signed so it cannot be forged. A
  record edited during a harvest moves to the end of the list and is sent again; none is
  skipped.
- ``deletedRecord`` is "no": editions are not deleted in normal operation (items and licences
  protect them, collections withdraw copies instead), and no tombstones are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import translation
from lxml import etree

from bieb.catalog.interop import marc
from bieb.catalog.models import (
    DigitalLicence,
    Edition,
    EditionContributor,
    Format,
    Identifier,
    Item,
    ItemStatus,
)
from bieb.core import clock
from bieb.network.models import Organisation

NS_OAI = "http://www.openarchives.org/OAI/2.0/"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
NS_OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_MARC = "http://www.loc.gov/MARC21/slim"
SCHEMA_OAI = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
SCHEMA_OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
SCHEMA_OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
SCHEMA_MARC = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI_SCHEMA_LOCATION = f"{{{NS_XSI}}}schemaLocation"

#: Records (or headers) per response; ``settings.BIEB_OAI_PAGE_SIZE`` overrides it.
PAGE_SIZE = 100
#: How long a resumption token stays valid. A harvester that pauses longer starts again (or
#: continues with ``from`` = the datestamp of the last record it received).
TOKEN_LIFETIME = dt.timedelta(hours=24)
TOKEN_SALT = "bieb.catalog.oai.resumption"
#: The edition page, as fixed in the catalogue's URL contract (``/titels/<pk>``).
EDITION_PATH = "/titels/{pk}"
#: The repository identifier in every OAI identifier: a domain name that stays the same when
#: the site moves, so harvesters keep recognising records. ``settings.BIEB_OAI_REPOSITORY_ID``
#: overrides it for a separate installation.
REPOSITORY_ID = "bieb.nl"
REPOSITORY_NAME = "Bieb: de landelijke catalogus van de openbare bibliotheken"
ADMIN_EMAIL = "catalogus@bieb.nl"

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
ROOT_SETS = {"format": "Vorm", "organisation": "Bibliotheekorganisatie"}

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_PREFIX_SYNTAX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SET_PART = r"[A-Za-z0-9\-_.!~*'()]+"
_SET_TAG = re.compile(_SET_PART)
_SET_SYNTAX = re.compile(rf"{_SET_PART}(:{_SET_PART})*")
_EDITION_ID = re.compile(r"edition/([1-9][0-9]{0,17})")
# Characters XML 1.0 cannot carry, even escaped (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: DCMI Type Vocabulary term per format, for ``dc:type``.
DCMI_TYPE = {
    Format.BOOK: "Text",
    Format.LARGE_PRINT: "Text",
    Format.EBOOK: "Text",
    Format.MAGAZINE: "Text",
    Format.AUDIOBOOK: "Sound",
    Format.AUDIO_CD: "Sound",
    Format.MUSIC: "Sound",
    Format.FILM: "MovingImage",
    Format.STREAMING: "MovingImage",
    Format.GAME: "InteractiveResource",
    Format.THING: "PhysicalObject",
}
#: Contributor roles that make a ``dc:creator``; the others are ``dc:contributor``.
CREATOR_ROLES = {"author", "director"}


class OaiError(Exception):
    """A protocol error: ``code`` is one of the OAI-PMH error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerbArguments:
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    #: the verb may be continued with ``resumptionToken`` as its only argument
    resumable: bool = False


_LIST = VerbArguments(
    required=frozenset({"metadataPrefix"}),
    optional=frozenset({"from", "until", "set"}),
    resumable=True,
)
VERBS: dict[str, VerbArguments] = {
    "Identify": VerbArguments(),
    "ListMetadataFormats": VerbArguments(optional=frozenset({"identifier"})),
    "ListSets": VerbArguments(resumable=True),
    "GetRecord": VerbArguments(required=frozenset({"identifier", "metadataPrefix"})),
    "ListIdentifiers": _LIST,
    "ListRecords": _LIST,
}


@dataclass(frozen=True)
class OaiRequest:
    verb: str
    #: the arguments other than ``verb``, each present once and of legal syntax
    args: dict[str, str]


@dataclass(frozen=True)
class Window:
    """The datestamp range of a selective harvest: ``start <= updated_at < end``."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


def parse_request(params: Mapping[str, Sequence[str]]) -> OaiRequest:
    """Check the verb and the arguments' presence, repetition and syntax (badVerb and
    badArgument); what they refer to is checked by the verb's handler."""
    verbs = params.get("verb", [])
    if not verbs:
        raise OaiError("badVerb", "The verb argument is missing.")
    if len(verbs) > 1:
        raise OaiError("badVerb", "The verb argument is repeated.")
    verb = verbs[0]
    if verb not in VERBS:
        raise OaiError("badVerb", "The value of the verb argument is not an OAI-PMH verb.")
    spec = VERBS[verb]
    allowed = spec.required | spec.optional | ({"resumptionToken"} if spec.resumable else set())
    args: dict[str, str] = {}
    for key, values in params.items():
        if key == "verb":
            continue
        if key not in allowed:
            raise OaiError("badArgument", f"{verb} does not take the argument {_quoted(key)}.")
        if len(values) != 1:
            raise OaiError("badArgument", f"The argument {key} is repeated.")
        value = values[0]
        if not value or _NOT_XML.search(value):
            raise OaiError("badArgument", f"The argument {key} has an illegal value.")
        args[key] = value
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError(
                "badArgument", "resumptionToken is an exclusive argument: send it with verb only."
            )
        return OaiRequest(verb, args)
    missing = sorted(spec.required - args.keys())
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument {', '.join(missing)}.")
    if "metadataPrefix" in args and not _PREFIX_SYNTAX.fullmatch(args["metadataPrefix"]):
        raise OaiError("badArgument", "The metadataPrefix has an illegal syntax.")
    if "set" in args and not _SET_SYNTAX.fullmatch(args["set"]):
        raise OaiError("badArgument", "The set argument is not a setSpec.")
    window_from_args(args.get("from"), args.get("until"))  # badArgument when they are wrong
    return OaiRequest(verb, args)


def _quoted(key: str) -> str:
    """An argument name for a message: printable, short."""
    return repr(_NOT_XML.sub("?", key[:40]))


def _parse_datestamp(value: str, name: str) -> tuple[dt.datetime, dt.timedelta]:
    """The moment ``value`` starts and the length of its granularity (a day or a second)."""
    try:
        if _DAY.fullmatch(value):
            return (
                dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC),
                dt.timedelta(days=1),
            )
        if _SECOND.fullmatch(value):
            return (
                dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC),
                dt.timedelta(seconds=1),
            )
    except ValueError:
        pass
    raise OaiError(
        "badArgument",
        f"The {name} argument is not a UTC date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ).",
    )


def window_from_args(from_: str | None, until: str | None) -> Window:
    """Both bounds are inclusive at the granularity given: ``until=2025-01-31`` includes the
    whole day, ``until=...T10:00:00Z`` the whole second (datestamps drop the fraction)."""
    start = end = None
    if from_ is not None:
        start, from_step = _parse_datestamp(from_, "from")
    if until is not None:
        until_start, until_step = _parse_datestamp(until, "until")
        try:
            end = until_start + until_step
        except OverflowError:  # until 9999-12-31: no upper bound
            end = None
        if start is not None:
            if from_step != until_step:
                raise OaiError("badArgument", "from and until must have the same granularity.")
            if start > until_start:
                raise OaiError("badArgument", "from is later than until.")
    return Window(start, end)


# --- identifiers, datestamps, sets ----------------------------------------------------------


def repository_id() -> str:
    return getattr(settings, "BIEB_OAI_REPOSITORY_ID", "") or REPOSITORY_ID


def oai_identifier(edition_id: int) -> str:
    return f"oai:{repository_id()}:edition/{edition_id}"


def edition_id_from(identifier: str) -> int | None:
    prefix = f"oai:{repository_id()}:"
    if not identifier.startswith(prefix):
        return None
    match = _EDITION_ID.fullmatch(identifier[len(prefix) :])
    return int(match.group(1)) if match else None


def datestamp(moment: dt.datetime) -> str:
    """UTC at seconds granularity; written out by hand so years before 1000 keep 4 digits."""
    m = moment.astimezone(dt.UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def _is_set_tag(value: str) -> bool:
    return bool(_SET_TAG.fullmatch(value))


def _held_by(organisation_q: Q) -> Q:
    """Editions an organisation holds: a copy that is not withdrawn, or an active licence."""
    items = Item.objects.filter(organisation_q, edition=OuterRef("pk")).exclude(
        status=ItemStatus.WITHDRAWN
    )
    licences = DigitalLicence.objects.filter(organisation_q, edition=OuterRef("pk"), is_active=True)
    return Q(Exists(items)) | Q(Exists(licences))


def set_filter(spec: str) -> Q | None:
    """The editions in set ``spec``, or None when there is no such set."""
    root, _, rest = spec.partition(":")
    if root == "format":
        if not rest:
            return Q()
        return Q(format=rest) if rest in Format.values else None
    if root == "organisation":
        if not rest:
            return _held_by(Q(organisation__isnull=False))
        return _held_by(Q(organisation__code=rest)) if _is_set_tag(rest) else None
    return None


def set_list() -> list[tuple[str, str]]:
    """(setSpec, setName) of every set, names in Dutch. Organisations whose code cannot be a
    setSpec part are left out (no current code is like that)."""
    sets = [("format", ROOT_SETS["format"])]
    sets += [(f"format:{value}", str(label)) for value, label in Format.choices]
    sets.append(("organisation", ROOT_SETS["organisation"]))
    sets += [
        (f"organisation:{code}", _clean(name))
        for code, name in Organisation.objects.order_by("code").values_list("code", "name")
        if _is_set_tag(code)
    ]
    return sets


def organisation_codes(edition_ids: Iterable[int]) -> dict[int, list[str]]:
    """Per edition, the codes of the organisations holding it (one query for a page)."""
    ids = list(edition_ids)
    items = (
        Item.objects.filter(edition_id__in=ids)
        .exclude(status=ItemStatus.WITHDRAWN)
        .values_list("edition_id", "organisation__code")
    )
    licences = DigitalLicence.objects.filter(
        edition_id__in=ids, organisation__isnull=False, is_active=True
    ).values_list("edition_id", "organisation__code")
    codes: dict[int, set[str]] = defaultdict(set)
    for edition_id, code in items.union(licences):
        if _is_set_tag(code):
            codes[edition_id].add(code)
    return {edition_id: sorted(found) for edition_id, found in codes.items()}


def set_specs(edition: Edition, codes: dict[int, list[str]]) -> list[str]:
    """The fewest setSpecs that state the membership: parents are implied."""
    return [f"format:{edition.format}"] + [
        f"organisation:{code}" for code in codes.get(edition.pk, [])
    ]


# --- metadata formats -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordContext:
    site_url: str


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    render: Callable[[Edition, RecordContext], etree._Element]


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text).strip()


def _dc_identifiers(edition: Edition, context: RecordContext) -> list[str]:
    values: list[str] = []
    isbns = [edition.isbn] if edition.isbn else []
    identifiers = edition.identifiers.all()
    isbns += [i.value for i in identifiers if i.kind == Identifier.Kind.ISBN and i.is_valid]
    values += [f"urn:isbn:{isbn}" for isbn in isbns]
    values += [f"urn:issn:{i.value}" for i in identifiers if i.kind == Identifier.Kind.ISSN]
    values.append(context.site_url + EDITION_PATH.format(pk=edition.pk))
    return list(dict.fromkeys(values))


def render_oai_dc(edition: Edition, context: RecordContext) -> etree._Element:
    """Unqualified Dublin Core as OAI-PMH requires it of every repository."""
    root = etree.Element(
        f"{{{NS_OAI_DC}}}dc", nsmap={"oai_dc": NS_OAI_DC, "dc": NS_DC, "xsi": NS_XSI}
    )
    root.set(XSI_SCHEMA_LOCATION, f"{NS_OAI_DC} {SCHEMA_OAI_DC}")

    def add(name: str, value: object) -> None:
        text = _clean(str(value)) if value is not None else ""
        if text:
            etree.SubElement(root, f"{{{NS_DC}}}{name}").text = text

    add("title", edition.full_title)
    for credit in edition.credits.all():
        add("creator" if credit.role in CREATOR_ROLES else "contributor", credit.contributor.name)
    for subject in edition.subjects.all():
        add("subject", subject.label)
    add("description", edition.description)
    add("publisher", edition.publisher)
    add("date", edition.year)
    add("type", DCMI_TYPE.get(edition.format, "Text"))
    add("format", edition.get_format_display())
    add("format", edition.extent)
    for value in _dc_identifiers(edition, context):
        add("identifier", value)
    add("language", edition.language)
    return root


def render_marc21(edition: Edition, context: RecordContext) -> etree._Element:
    """The edition as one MARCXML ``record`` (as the MARCXML export page serves it)."""
    # ElementTree writes control characters from old records as they are, which no XML parser
    # accepts; drop them as oai_dc does, so one odd record cannot break a page of the harvest.
    document = _NOT_XML.sub("", marc.edition_marcxml(edition).decode("utf-8"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    root = etree.fromstring(document.encode("utf-8"), parser)
    root.set(XSI_SCHEMA_LOCATION, f"{NS_MARC} {SCHEMA_MARC}")
    return root


#: What both renderers (``interop.marc`` included) read besides the edition's own columns,
#: fetched once per page instead of once per record.
RECORD_PREFETCH = (
    Prefetch(
        "credits",
        queryset=EditionContributor.objects.select_related("contributor").order_by(
            "position", "id"
        ),
    ),
    "subjects",
    Prefetch("identifiers", queryset=Identifier.objects.order_by("id")),
)
FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", SCHEMA_OAI_DC, NS_OAI_DC, render_oai_dc),
    "marc21": MetadataFormat("marc21", SCHEMA_MARC, NS_MARC, render_marc21),
}


def metadata_format(prefix: str) -> MetadataFormat:
    try:
        return FORMATS[prefix]
    except KeyError:
        raise OaiError(
            "cannotDisseminateFormat",
            f"The metadata format {prefix!r} is not offered; ListMetadataFormats names them.",
        ) from None


# --- resumption tokens ----------------------------------------------------------------------


@dataclass(frozen=True)
class ListState:
    """Where a list stands: its arguments, the last (updated_at, id) sent, how many were sent
    before (the cursor) and the size of the complete list when it started."""

    verb: str
    prefix: str
    set_spec: str | None
    from_: str | None
    until: str | None
    after: tuple[dt.datetime, int] | None = None
    cursor: int = 0
    size: int | None = None


def token_dump(state: ListState) -> str:
    assert state.after is not None
    payload = {
        "v": state.verb,
        "p": state.prefix,
        "s": state.set_spec,
        "f": state.from_,
        "u": state.until,
        "k": [state.after[0].isoformat(), state.after[1]],
        "c": state.cursor,
        "n": state.size,
        "i": int(clock.now().timestamp()),
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def token_load(token: str, verb: str) -> ListState:
    """The list state a token carries; badResumptionToken when it was not made here for this
    verb, was altered, or has expired."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        issued = dt.datetime.fromtimestamp(data["i"], tz=dt.UTC)
        moment, last_id = data["k"]
        state = ListState(
            verb=data["v"],
            prefix=data["p"],
            set_spec=data["s"],
            from_=data["f"],
            until=data["u"],
            after=(dt.datetime.fromisoformat(moment), int(last_id)),
            cursor=int(data["c"]),
            size=int(data["n"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise OaiError("badResumptionToken", "The resumptionToken is not valid here.") from None
    if state.verb != verb:
        raise OaiError("badResumptionToken", f"The resumptionToken is not one of {verb}.")
    if clock.now() - issued > TOKEN_LIFETIME:
        raise OaiError(
            "badResumptionToken",
            "The resumptionToken has expired; start again, with from set to the last "
            "datestamp you received.",
        )
    return state


# --- the verbs ------------------------------------------------------------------------------


def _oai(parent: etree._Element, name: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{NS_OAI}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _header(parent: etree._Element, edition: Edition, codes: dict[int, list[str]]) -> None:
    header = _oai(parent, "header")
    _oai(header, "identifier", oai_identifier(edition.pk))
    _oai(header, "datestamp", datestamp(edition.updated_at))
    for spec in set_specs(edition, codes):
        _oai(header, "setSpec", spec)


def _record(
    parent: etree._Element,
    edition: Edition,
    codes: dict[int, list[str]],
    fmt: MetadataFormat,
    context: RecordContext,
) -> None:
    record = _oai(parent, "record")
    _header(record, edition, codes)
    _oai(record, "metadata").append(fmt.render(edition, context))


@dataclass
class Provider:
    base_url: str
    site_url: str
    page_size: int

    def identify(self, request: OaiRequest, body: etree._Element) -> None:
        earliest = Edition.objects.aggregate(first=Min("updated_at"))["first"] or clock.now()
        identify = _oai(body, "Identify")
        _oai(identify, "repositoryName", REPOSITORY_NAME)
        _oai(identify, "baseURL", self.base_url)
        _oai(identify, "protocolVersion", "2.0")
        _oai(identify, "adminEmail", admin_email())
        _oai(identify, "earliestDatestamp", datestamp(earliest))
        _oai(identify, "deletedRecord", "no")
        _oai(identify, "granularity", GRANULARITY)
        description = _oai(identify, "description")
        ns = NS_OAI_IDENTIFIER
        scheme = etree.SubElement(
            description, f"{{{ns}}}oai-identifier", nsmap={None: ns, "xsi": NS_XSI}
        )
        scheme.set(XSI_SCHEMA_LOCATION, f"{ns} {SCHEMA_OAI_IDENTIFIER}")
        for name, text in (
            ("scheme", "oai"),
            ("repositoryIdentifier", repository_id()),
            ("delimiter", ":"),
            ("sampleIdentifier", oai_identifier(1)),
        ):
            etree.SubElement(scheme, f"{{{ns}}}{name}").text = text

    def list_metadata_formats(self, request: OaiRequest, body: etree._Element) -> None:
        if "identifier" in request.args:
            self._edition(request.args["identifier"], Edition.objects.all())
        formats = _oai(body, "ListMetadataFormats")
        for fmt in FORMATS.values():
            element = _oai(formats, "metadataFormat")
            _oai(element, "metadataPrefix", fmt.prefix)
            _oai(element, "schema", fmt.schema)
            _oai(element, "metadataNamespace", fmt.namespace)

    def list_sets(self, request: OaiRequest, body: etree._Element) -> None:
        if "resumptionToken" in request.args:
            raise OaiError("badResumptionToken", "ListSets is answered in one response.")
        sets = _oai(body, "ListSets")
        for spec, name in set_list():
            element = _oai(sets, "set")
            _oai(element, "setSpec", spec)
            _oai(element, "setName", name)

    def get_record(self, request: OaiRequest, body: etree._Element) -> None:
        fmt = metadata_format(request.args["metadataPrefix"])
        edition = self._edition(
            request.args["identifier"], Edition.objects.prefetch_related(*RECORD_PREFETCH)
        )
        codes = organisation_codes([edition.pk])
        _record(_oai(body, "GetRecord"), edition, codes, fmt, RecordContext(self.site_url))

    def list_identifiers(self, request: OaiRequest, body: etree._Element) -> None:
        self._list(request, body, records=False)

    def list_records(self, request: OaiRequest, body: etree._Element) -> None:
        self._list(request, body, records=True)

    def _edition(self, identifier: str, queryset: QuerySet[Edition]) -> Edition:
        edition_id = edition_id_from(identifier)
        edition = queryset.filter(pk=edition_id).first() if edition_id else None
        if edition is None:
            raise OaiError("idDoesNotExist", f"There is no record {identifier} here.")
        return edition

    def _list(self, request: OaiRequest, body: etree._Element, *, records: bool) -> None:
        if "resumptionToken" in request.args:
            state = token_load(request.args["resumptionToken"], request.verb)
        else:
            state = ListState(
                verb=request.verb,
                prefix=request.args["metadataPrefix"],
                set_spec=request.args.get("set"),
                from_=request.args.get("from"),
                until=request.args.get("until"),
            )
        fmt = metadata_format(state.prefix)
        window = window_from_args(state.from_, state.until)
        in_set = set_filter(state.set_spec) if state.set_spec else Q()
        if in_set is None:
            raise OaiError("noRecordsMatch", f"There is no set {state.set_spec} here.")
        matching = Edition.objects.filter(in_set)
        if window.start is not None:
            matching = matching.filter(updated_at__gte=window.start)
        if window.end is not None:
            matching = matching.filter(updated_at__lt=window.end)
        size = state.size if state.size is not None else matching.count()
        page_query = matching
        if state.after is not None:
            moment, last_id = state.after
            # The redundant lower bound lets the database seek in the (updated_at, id) index
            # instead of walking it from the start for every page.
            page_query = page_query.filter(updated_at__gte=moment).filter(
                Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=last_id)
            )
        if records:
            page_query = page_query.prefetch_related(*RECORD_PREFETCH)
        page = list(page_query.order_by("updated_at", "pk")[: self.page_size + 1])
        more, page = len(page) > self.page_size, page[: self.page_size]
        if not page:
            # Also after a token, when the records still to come were edited out of the set or
            # the until bound meanwhile: a list element without records is not valid OAI-PMH.
            raise OaiError("noRecordsMatch", "No records match these arguments.")
        codes = organisation_codes(e.pk for e in page)
        container = _oai(body, request.verb)
        context = RecordContext(self.site_url)
        for edition in page:
            if records:
                _record(container, edition, codes, fmt, context)
            else:
                _header(container, edition, codes)
        size = max(size, state.cursor + len(page))
        if more:
            last = page[-1]
            following = ListState(
                verb=state.verb,
                prefix=state.prefix,
                set_spec=state.set_spec,
                from_=state.from_,
                until=state.until,
                after=(last.updated_at, last.pk),
                cursor=state.cursor + len(page),
                size=size,
            )
            expires = datestamp(clock.now() + TOKEN_LIFETIME)
            _oai(
                container,
                "resumptionToken",
                token_dump(following),
                expirationDate=expires,
                completeListSize=str(size),
                cursor=str(state.cursor),
            )
        elif state.after is not None:
            _oai(
                container,
                "resumptionToken",
                completeListSize=str(size),
                cursor=str(state.cursor),
            )


def admin_email() -> str:
    """Where harvesters report problems (``settings.BIEB_OAI_ADMIN_EMAIL``); not the site's
    no-reply sender, which nobody reads."""
    return getattr(settings, "BIEB_OAI_ADMIN_EMAIL", "") or ADMIN_EMAIL


_HANDLERS: dict[str, Callable[[Provider, OaiRequest, etree._Element], None]] = {
    "Identify": Provider.identify,
    "ListMetadataFormats": Provider.list_metadata_formats,
    "ListSets": Provider.list_sets,
    "GetRecord": Provider.get_record,
    "ListIdentifiers": Provider.list_identifiers,
    "ListRecords": Provider.list_records,
}


def respond(
    params: Mapping[str, Sequence[str]] | None,
    *,
    base_url: str,
    site_url: str,
    page_size: int | None = None,
) -> bytes:
    """The OAI-PMH response document for ``params`` (None: the arguments could not be read).

    Set names come out in Dutch whatever language the request asked for: harvested data should
    not depend on a visitor's language cookie.
    """
    provider = Provider(
        base_url=base_url,
        site_url=site_url.rstrip("/"),
        page_size=page_size or getattr(settings, "BIEB_OAI_PAGE_SIZE", PAGE_SIZE),
    )
    root = etree.Element(f"{{{NS_OAI}}}OAI-PMH", nsmap={None: NS_OAI, "xsi": NS_XSI})
    root.set(XSI_SCHEMA_LOCATION, f"{NS_OAI} {SCHEMA_OAI}")
    _oai(root, "responseDate", datestamp(clock.now()))
    with translation.override("nl"):
        try:
            if params is None:
                raise OaiError("badArgument", "The arguments could not be read.")
            request = parse_request(params)
        except OaiError as error:
            # badVerb and badArgument: the request element carries the base URL only.
            _oai(root, "request", base_url)
            _oai(root, "error", error.message, code=error.code)
            return _serialise(root)
        _oai(root, "request", base_url, verb=request.verb, **request.args)
        response = etree.Element(f"{{{NS_OAI}}}body")
        try:
            _HANDLERS[request.verb](provider, request, response)
        except OaiError as error:
            _oai(root, "error", error.message, code=error.code)
        else:
            root.extend(response)
    return _serialise(root)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
