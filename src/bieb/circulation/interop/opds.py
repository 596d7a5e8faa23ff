"""OPDS catalogues for reading apps: OPDS 1.2 (Atom XML) and OPDS 2.0 (JSON), the protocol
without HTTP. The views (``circulation/digital_views.py``) collect the data as
``Publication`` rows with absolute links and send what these functions build.

- OPDS 1.2: https://specs.opds.io/opds-1.2 — a feed has one ``atom:id``, ``atom:title``,
  ``atom:updated``, an author, ``self`` and ``start`` links; every entry has ``atom:id``,
  ``atom:title``, ``atom:updated`` and at least one acquisition link with a ``type``.
- OPDS 2.0: https://drafts.opds.io/opds-2.0 — a feed has ``metadata.title``, a ``self`` link
  and ``navigation`` or ``publications``; a publication has ``metadata.title``, an acquisition
  link and at least one image (PNG, JPEG or GIF).

Availability uses the ``opds:availability`` / ``opds:holds`` / ``opds:copies`` elements that
library reading apps (Palace, Thorium) read inside a borrow link; OPDS 1.2 clients that do not
know them ignore them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

#: characters XML 1.0 does not allow (C0 controls but tab, CR, LF; lone surrogates; U+FFFE/F),
#: as ``catalog/interop/oai.py`` strips them: old MARC records hold e.g. vertical tabs
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` without the characters XML cannot hold (lxml refuses them, and a reading app's
    JSON parser may too)."""
    return _NOT_XML.sub("", text) if text else text


NS_ATOM = "http://www.w3.org/2005/Atom"
NS_OPDS = "http://opds-spec.org/2010/catalog"
NS_DC = "http://purl.org/dc/terms/"
NS_THR = "http://purl.org/syndication/thread/1.0"
NSMAP = {None: NS_ATOM, "opds": NS_OPDS, "dc": NS_DC}

ACQUISITION_FEED = "application/atom+xml;profile=opds-catalog;kind=acquisition"
NAVIGATION_FEED = "application/atom+xml;profile=opds-catalog;kind=navigation"
ENTRY = "application/atom+xml;type=entry;profile=opds-catalog"
OPDS2_FEED = "application/opds+json"
OPDS2_PUBLICATION = "application/opds-publication+json"
OPDS2_AUTHENTICATION = "application/opds-authentication+json"

REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_BORROW = "http://opds-spec.org/acquisition/borrow"
REL_IMAGE = "http://opds-spec.org/image"
REL_THUMBNAIL = "http://opds-spec.org/image/thumbnail"
REL_SHELF = "http://opds-spec.org/shelf"
REL_AUTH_DOCUMENT = "http://opds-spec.org/auth/document"
AUTH_BASIC = "http://opds-spec.org/auth/basic"


@dataclass(frozen=True)
class Link:
    href: str
    type: str
    rel: str = ""
    title: str = ""
    #: the format a borrow link leads to in the end (``opds:indirectAcquisition``)
    indirect: str = ""
    #: "available" | "unavailable" | "reserved" | "ready"; empty: not said
    availability: str = ""
    until: dt.datetime | None = None
    holds: int | None = None
    position: int | None = None
    copies_total: int | None = None
    copies_available: int | None = None
    #: OPDS 2 only: a number of items (navigation), "templated" for search links
    count: int | None = None


@dataclass
class Publication:
    id: str  # an IRI: the title's page on the site
    title: str
    updated: dt.datetime
    authors: Sequence[str] = ()
    language: str | None = None  # BCP 47
    summary: str = ""
    identifier: str = ""  # "urn:isbn:..."
    issued: str = ""  # the year
    publisher: str = ""
    schema_type: str = "Book"
    links: list[Link] = field(default_factory=list)
    images: list[Link] = field(default_factory=list)


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def atom_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- OPDS 1.2 --------------------------------------------------------------------------------


def _a(tag: str) -> str:
    return f"{{{NS_ATOM}}}{tag}"


def _sub(parent, tag: str, text: str | None = None, **attributes: str):
    element = etree.SubElement(parent, tag, {k: clean(v) for k, v in attributes.items() if v})
    if text is not None:
        element.text = clean(text)
    return element


def _atom_link(parent, link: Link) -> None:
    element = _sub(parent, _a("link"), rel=link.rel, href=link.href, type=link.type)
    if link.title:
        element.set("title", clean(link.title))
    if link.count is not None:
        element.set(f"{{{NS_THR}}}count", str(link.count))
    if link.availability:
        availability = _sub(element, f"{{{NS_OPDS}}}availability", status=link.availability)
        if link.until is not None:
            availability.set("until", atom_time(link.until))
    if link.holds is not None:
        holds = _sub(element, f"{{{NS_OPDS}}}holds", total=str(link.holds))
        if link.position is not None:
            holds.set("position", str(link.position))
    if link.copies_total is not None:
        _sub(
            element,
            f"{{{NS_OPDS}}}copies",
            total=str(link.copies_total),
            available=str(link.copies_available or 0),
        )
    if link.indirect:
        _sub(element, f"{{{NS_OPDS}}}indirectAcquisition", type=link.indirect)


def _fill_entry(entry, publication: Publication):
    _sub(entry, _a("id"), publication.id)
    _sub(entry, _a("title"), publication.title)
    _sub(entry, _a("updated"), atom_time(publication.updated))
    for name in publication.authors:
        author = _sub(entry, _a("author"))
        _sub(author, _a("name"), name)
    if publication.identifier:
        _sub(entry, f"{{{NS_DC}}}identifier", publication.identifier)
    if publication.language:
        _sub(entry, f"{{{NS_DC}}}language", publication.language)
    if publication.issued:
        _sub(entry, f"{{{NS_DC}}}issued", publication.issued)
    if publication.publisher:
        _sub(entry, f"{{{NS_DC}}}publisher", publication.publisher)
    if publication.summary:
        _sub(entry, _a("summary"), publication.summary, type="text")
    for image in publication.images:
        _atom_link(entry, image)
    for link in publication.links:
        _atom_link(entry, link)
    return entry


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def atom_feed(
    *,
    id: str,
    title: str,
    updated: dt.datetime,
    links: Sequence[Link],
    publications: Sequence[Publication] = (),
    navigation: Sequence[tuple[str, str, Link]] = (),
    author: str = "de Bibliotheek",
    author_uri: str = "",
    page: Page | None = None,
) -> bytes:
    """An OPDS 1.2 feed. ``links`` are the feed's own (self, start, up, next, ...);
    ``publications`` make it an acquisition feed, ``navigation`` (id, summary, link) entries a
    navigation feed."""
    nsmap = dict(NSMAP)
    if any(link.count is not None for _i, _s, link in navigation):
        nsmap["thr"] = NS_THR
    if page is not None:
        nsmap["opensearch"] = "http://a9.com/-/spec/opensearch/1.1/"
    root = etree.Element(_a("feed"), nsmap=nsmap)
    _sub(root, _a("id"), id)
    _sub(root, _a("title"), title)
    _sub(root, _a("updated"), atom_time(updated))
    feed_author = _sub(root, _a("author"))
    _sub(feed_author, _a("name"), author)
    if author_uri:
        _sub(feed_author, _a("uri"), author_uri)
    if page is not None:
        search = "{http://a9.com/-/spec/opensearch/1.1/}"
        _sub(root, f"{search}totalResults", str(page.total))
        _sub(root, f"{search}itemsPerPage", str(page.size))
        _sub(root, f"{search}startIndex", str((page.number - 1) * page.size + 1))
    for link in links:
        _atom_link(root, link)
    for entry_id, summary, link in navigation:
        entry = _sub(root, _a("entry"))
        _sub(entry, _a("id"), entry_id)
        _sub(entry, _a("title"), link.title)
        _sub(entry, _a("updated"), atom_time(updated))
        if summary:
            _sub(entry, _a("content"), summary, type="text")
        _atom_link(entry, link)
    for publication in publications:
        _fill_entry(_sub(root, _a("entry")), publication)
    return _serialise(root)


def atom_entry_document(publication: Publication) -> bytes:
    """One OPDS 1.2 catalog entry as its own document (the answer to a borrow request)."""
    return _serialise(_fill_entry(etree.Element(_a("entry"), nsmap=NSMAP), publication))


# --- OPDS 2.0 --------------------------------------------------------------------------------


def _json_link(link: Link) -> dict[str, Any]:
    body: dict[str, Any] = {"href": link.href, "type": link.type}
    if link.rel:
        body["rel"] = link.rel
    if link.title:
        body["title"] = clean(link.title)
    properties: dict[str, Any] = {}
    if link.count is not None:
        properties["numberOfItems"] = link.count
    if link.indirect:
        properties["indirectAcquisition"] = [{"type": link.indirect}]
    if link.availability:
        state = {"ready": "ready", "reserved": "reserved"}.get(link.availability, link.availability)
        properties["availability"] = {"state": state}
        if link.until is not None:
            properties["availability"]["until"] = atom_time(link.until)
    if link.holds is not None:
        properties["holds"] = {"total": link.holds}
        if link.position is not None:
            properties["holds"]["position"] = link.position
    if link.copies_total is not None:
        properties["copies"] = {
            "total": link.copies_total,
            "available": link.copies_available or 0,
        }
    if properties:
        body["properties"] = properties
    return body


def publication_json(publication: Publication) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "@type": f"http://schema.org/{publication.schema_type}",
        "title": clean(publication.title),
        "modified": atom_time(publication.updated),
    }
    if publication.identifier:
        metadata["identifier"] = clean(publication.identifier)
    if publication.authors:
        metadata["author"] = [{"name": clean(name)} for name in publication.authors]
    if publication.language:
        metadata["language"] = publication.language
    if publication.summary:
        metadata["description"] = clean(publication.summary)
    if publication.issued:
        metadata["published"] = clean(publication.issued)
    if publication.publisher:
        metadata["publisher"] = clean(publication.publisher)
    return {
        "metadata": metadata,
        "links": [_json_link(link) for link in publication.links],
        # one entry per picture: OPDS 2 has no separate thumbnail relation
        "images": [
            {"href": href, "type": kind}
            for href, kind in dict.fromkeys((i.href, i.type) for i in publication.images)
        ],
    }


def opds2_feed(
    *,
    title: str,
    links: Sequence[Link],
    publications: Sequence[Publication] | None = None,
    navigation: Sequence[Link] | None = None,
    page: Page | None = None,
) -> dict[str, Any]:
    """An OPDS 2.0 feed: ``publications`` or ``navigation`` (links with a title)."""
    metadata: dict[str, Any] = {"title": clean(title)}
    if page is not None:
        metadata.update(numberOfItems=page.total, itemsPerPage=page.size, currentPage=page.number)
    feed: dict[str, Any] = {"metadata": metadata, "links": [_json_link(link) for link in links]}
    if navigation is not None:
        feed["navigation"] = [_json_link(link) for link in navigation]
    if publications is not None:
        feed["publications"] = [publication_json(p) for p in publications]
    return feed


def authentication_document(
    *, id: str, title: str, description: str, login_label: str, password_label: str, links
) -> dict[str, Any]:
    """The OPDS Authentication 1.0 document: HTTP Basic with card number and password."""
    return {
        "id": id,
        "title": title,
        "description": description,
        "authentication": [
            {
                "type": AUTH_BASIC,
                "labels": {"login": login_label, "password": password_label},
            }
        ],
        "links": [_json_link(link) for link in links],
    }
