"""Public pages of the catalogue: search, an edition, makers, subjects, new titles, and the
CSV and MARCXML exports. No log-in needed; a signed-in resident's own library comes first.

Every page works without JavaScript (GET forms and links); htmx only enhances: instant results
while typing, "load more" appending the next page, and autocomplete suggestions.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bieb.catalog import jsonld, search, selectors
from bieb.catalog.interop.marc import edition_marcxml
from bieb.catalog.models import Format
from bieb.catalog.search.facets import LANGUAGE_LABELS, audience_label, format_label
from bieb.core.errors import DomainError, NotFound
from bieb.network import selectors as network_selectors

PER_PAGE = 20
EXPORT_LIMIT = 1000
SUGGEST_LIMIT = 8
#: the GET parameters of a search; anything else in a URL is dropped from the links we build
SEARCH_KEYS = (
    "q",
    "format",
    "language",
    "audience",
    "subject",
    "year_from",
    "year_to",
    "available",
    "organisation",
    "location",
    "sort",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _sort_options() -> list[tuple[str, str]]:
    return [
        ("relevance", _("Relevantie")),
        ("newest", _("Nieuwste eerst")),
        ("title", _("Titel (A-Z)")),
    ]


def _home_organisation(request: HttpRequest):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.home_organisation_id:
        return user.home_organisation
    return None


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "").strip()
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise DomainError("invalid_page", _("Het paginanummer moet 1 of hoger zijn."))
    return int(raw)


def explains_bad_input(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Unknown things answer the site's 404 page; other refusals a page that says what to do
    (status 400), never a 500."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            return render(
                request,
                "catalog/problem.html",
                {"message": error.message, "code": error.code},
                status=error.status,
            )

    return wrapper


# --- links ----------------------------------------------------------------------------------


class SearchParams:
    """The search parameters of a request as ordered pairs, and links that change them."""

    def __init__(self, request: HttpRequest) -> None:
        self.pairs: list[tuple[str, str]] = [
            (key, value[:500])
            for key in SEARCH_KEYS
            for value in request.GET.getlist(key)
            if value.strip()
        ][:100]

    def url(self, pairs: list[tuple[str, str]], *, name: str = "catalog:search") -> str:
        query = urlencode(pairs)
        return reverse(name) + (f"?{query}" if query else "")

    def has(self, key: str, value: str) -> bool:
        return (key, value) in self.pairs

    def toggle(self, key: str, value: str) -> str:
        """Add ``key=value`` or, when present, take it out; always back to page 1."""
        if self.has(key, value):
            return self.url([p for p in self.pairs if p != (key, value)])
        return self.url([*self.pairs, (key, value)])

    def replace(self, **values: str | None) -> str:
        kept = [p for p in self.pairs if p[0] not in values]
        added = [(k, v) for k, v in values.items() if v]
        return self.url(kept + added)

    def without(self, *keys: str) -> str:
        return self.url([p for p in self.pairs if p[0] not in keys])

    def page(self, number: int, *, name: str = "catalog:search") -> str:
        return self.url([*self.pairs, ("page", str(number))], name=name)

    def export_url(self) -> str:
        return self.url(self.pairs, name="catalog:export_csv")

    def hidden(self, *, skip: tuple[str, ...] = ("q", "sort")) -> list[tuple[str, str]]:
        """The pairs a search form keeps as hidden fields (the filters)."""
        return [p for p in self.pairs if p[0] not in skip]


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    selected: bool
    url: str
    approximate: bool = False


@dataclass(frozen=True)
class FacetGroup:
    key: str
    title: str
    links: list[FacetLink]


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    remove_url: str


#: the facets in the order the page shows them
FACET_ORDER = (
    "available",
    "organisation",
    "location",
    "format",
    "language",
    "audience",
    "subject",
    "year",
)


def _facet_title(key: str) -> str:
    return {
        "available": _("Beschikbaarheid"),
        "format": _("Vorm"),
        "language": _("Taal"),
        "audience": _("Doelgroep"),
        "subject": _("Onderwerp"),
        "year": _("Jaar"),
        "organisation": _("Bibliotheek"),
        "location": _("Vestiging"),
    }[key]


def _facet_groups(result: search.SearchResult, params: SearchParams) -> list[FacetGroup]:
    groups = []
    for key in FACET_ORDER:
        values = result.facets.get(key) or []
        links = []
        for value in values:
            if value.count == 0 and not value.selected:
                continue
            if key == "year":
                decade = int(value.value)
                url = (
                    params.without("year_from", "year_to")
                    if value.selected
                    else params.replace(year_from=str(decade), year_to=str(decade + 9))
                )
            elif key in ("organisation", "location"):
                url = (
                    params.without(key) if value.selected else params.replace(**{key: value.value})
                )
            else:
                url = params.toggle(key, value.value)
            links.append(
                FacetLink(value.label, value.count, value.selected, url, value.approximate)
            )
        if links:
            groups.append(FacetGroup(key, _facet_title(key), links))
    return groups


def _active_filters(
    query: search.SearchQuery, result: search.SearchResult | None, params: SearchParams
) -> list[ActiveFilter]:
    def label_of(key: str, value: str, default: str) -> str:
        for facet in (result.facets.get(key) or []) if result else []:
            if facet.value == value:
                return facet.label
        return default

    chips = []
    for value in query.formats:
        chips.append(ActiveFilter(format_label(value), params.toggle("format", value)))
    for value in query.languages:
        chips.append(
            ActiveFilter(LANGUAGE_LABELS.get(value, value), params.toggle("language", value))
        )
    for value in query.audiences:
        chips.append(ActiveFilter(audience_label(value), params.toggle("audience", value)))
    for value in query.subjects:
        chips.append(
            ActiveFilter(label_of("subject", value, value), params.toggle("subject", value))
        )
    if query.year_from or query.year_to:
        if query.year_from and query.year_to:
            label = _("%(start)s tot en met %(end)s") % {
                "start": query.year_from,
                "end": query.year_to,
            }
        elif query.year_from:
            label = _("vanaf %(start)s") % {"start": query.year_from}
        else:
            label = _("tot en met %(end)s") % {"end": query.year_to}
        chips.append(ActiveFilter(label, params.without("year_from", "year_to")))
    if query.available:
        chips.append(ActiveFilter(_("Nu beschikbaar"), params.without("available")))
    for key in ("organisation", "location"):
        raw = next((v for k, v in params.pairs if k == key), "")
        if raw:
            chips.append(ActiveFilter(label_of(key, raw, raw), params.without(key)))
    return chips


# --- search ---------------------------------------------------------------------------------


def _wants_more(request: HttpRequest) -> bool:
    """An htmx "load more": append the next page's results to the list."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "results-list"
    )


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """``/zoeken``: the search form, results with availability, facets and pages."""
    home = _home_organisation(request)
    params = SearchParams(request)
    context = {
        "q": request.GET.get("q", "")[:500],
        "params": params,
        "sort_options": _sort_options(),
        "home": home,
        "per_page": PER_PAGE,
    }
    try:
        query = search.parse_query(request.GET)
    except DomainError as error:
        context["error"] = error.message
        return render(request, "catalog/search.html", context, status=error.status)
    if not params.pairs:
        # nothing asked yet: the form and ways to browse, without counting the whole catalogue
        return render(request, "catalog/search.html", context)
    query.per_page = PER_PAGE
    more = _wants_more(request)
    query.with_facets = not more
    result = search.search(query)
    summaries = selectors.edition_summaries(
        result.edition_ids, organisation_id=home.pk if home else None
    )
    context.update(
        query=query,
        result=result,
        summaries=summaries,
        first_index=(result.page - 1) * PER_PAGE + 1,
        last_index=(result.page - 1) * PER_PAGE + len(summaries),
        next_url=params.page(result.page + 1) if result.page < result.pages else "",
        previous_url=(params.page(min(result.page - 1, result.pages)) if result.page > 1 else ""),
        did_you_mean_url=(params.replace(q=result.did_you_mean) if result.did_you_mean else ""),
        export_url=params.export_url(),
        first_url=params.url(params.pairs),
        sort=query.sort,
    )
    if more:
        return render(request, "catalog/_search_more.html", context)
    context.update(
        facet_groups=_facet_groups(result, params),
        active_filters=_active_filters(query, result, params),
        my_library_url=(
            params.replace(organisation=home.code) if home and query.organisation_id is None else ""
        ),
    )
    return render(request, "catalog/search.html", context)


def _csv_cell(value: object) -> str:
    """Text a spreadsheet shows as text: a leading =, +, -, @ (or tab/CR) would start a
    formula, so such a cell gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """``/zoeken/export.csv``: the current result list (all pages, at most 1,000 rows)."""
    try:
        query = search.parse_query(request.GET)
    except DomainError as error:
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
    query = dataclasses.replace(query, page=1, per_page=EXPORT_LIMIT, with_facets=False)
    result = search.search(query)
    rows = selectors.edition_summaries(result.edition_ids)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # spreadsheet programs then read the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "title",
            "subtitle",
            "contributors",
            "year",
            "format",
            "language",
            "isbn",
            "publisher",
            "url",
        ]
    )
    for row in rows:
        edition = row.edition
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    edition.pk,
                    edition.title,
                    edition.subtitle,
                    "; ".join(c.contributor.display_name for c in row.credits)
                    or edition.contributors_text,
                    edition.year or "",
                    edition.format,
                    edition.language,
                    edition.isbn,
                    edition.publisher,
                    request.build_absolute_uri(reverse("catalog:edition", args=[edition.pk])),
                )
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bieb-zoekresultaten.csv"'
    return response


@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """``/zoeken/suggesties?q=``: ``<option>`` elements for the search box's ``<datalist>``."""
    prefix = request.GET.get("q", "")[:200]
    found = search.suggest(prefix, limit=SUGGEST_LIMIT) if prefix.strip() else []
    return render(request, "catalog/_suggestions.html", {"suggestions": found})


# --- an edition -----------------------------------------------------------------------------


@require_GET
@explains_bad_input
def edition_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/titels/<pk>``: an edition with its holdings per location (nearest first for a
    postcode or place in ``?bij=``), the other formats of the work and JSON-LD."""
    home = _home_organisation(request)
    place = request.GET.get("bij", "").strip()[:100]
    point = network_selectors.point_for_query(place) if place else None
    detail = selectors.edition_detail(
        pk,
        organisation_id=home.pk if home else None,
        near=(point.lat, point.lon) if point else None,
    )
    json_ld = jsonld.edition_json_ld(
        detail,
        edition_url=lambda pk: request.build_absolute_uri(reverse("catalog:edition", args=[pk])),
        maker_url=lambda slug: request.build_absolute_uri(reverse("catalog:author", args=[slug])),
    )
    edition = detail.edition
    return render(
        request,
        "catalog/edition.html",
        {
            "detail": detail,
            "edition": edition,
            "availability": detail.availability,
            "home": home,
            "place": place,
            "point": point,
            "place_unknown": bool(place) and point is None,
            "language_label": LANGUAGE_LABELS.get(edition.language, edition.language),
            "other_formats": [
                (other, str(Format(other.format).label)) for other in detail.other_editions
            ],
            # edition_json_ld escapes <, > and & so the JSON cannot leave its script element.
            "json_ld": mark_safe(json_ld),  # noqa: S308
        },
    )


@require_GET
@explains_bad_input
def edition_marc(request: HttpRequest, pk: int) -> HttpResponse:
    """``/titels/<pk>/marcxml``: the edition as a MARCXML record to download."""
    detail = selectors.edition_detail(pk)
    response = HttpResponse(
        edition_marcxml(detail.edition), content_type="application/marcxml+xml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="bieb-{pk}.marcxml.xml"'
    return response


# --- lists ----------------------------------------------------------------------------------


def _pager(request: HttpRequest, page: selectors.Page) -> dict[str, str]:
    def url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"{request.path}?{query.urlencode()}"

    return {
        "previous_url": url(min(page.number - 1, page.pages)) if page.number > 1 else "",
        "next_url": url(page.number + 1) if page.has_next else "",
        "first_url": url(1),
    }


@require_GET
@explains_bad_input
def author_page(request: HttpRequest, slug: str) -> HttpResponse:
    """``/makers/<slug>``: a maker and their titles."""
    home = _home_organisation(request)
    detail = selectors.author_detail(
        slug,
        page=_page_number(request),
        per_page=PER_PAGE,
        organisation_id=home.pk if home else None,
    )
    return render(
        request,
        "catalog/author.html",
        {
            "detail": detail,
            "contributor": detail.contributor,
            "page": detail.page,
            "home": home,
            **_pager(request, detail.page),
        },
    )


@require_GET
@explains_bad_input
def subject_index(request: HttpRequest) -> HttpResponse:
    """``/onderwerpen``: the biggest subjects and an alphabetical index."""
    letter = request.GET.get("letter", "").strip()[:1]
    listing = selectors.subject_list(letter=letter, page=_page_number(request))
    return render(
        request,
        "catalog/subjects.html",
        {"listing": listing, "page": listing.page, **_pager(request, listing.page)},
    )


@require_GET
@explains_bad_input
def subject_page(request: HttpRequest, slug: str) -> HttpResponse:
    """``/onderwerpen/<slug>``: the titles about a subject."""
    home = _home_organisation(request)
    detail = selectors.subject_detail(
        slug,
        page=_page_number(request),
        per_page=PER_PAGE,
        organisation_id=home.pk if home else None,
    )
    return render(
        request,
        "catalog/subject.html",
        {
            "detail": detail,
            "subject": detail.subject,
            "page": detail.page,
            "home": home,
            "search_url": reverse("catalog:search") + "?" + urlencode({"subject": slug}),
            **_pager(request, detail.page),
        },
    )


@require_GET
@explains_bad_input
def new_page(request: HttpRequest) -> HttpResponse:
    """``/nieuw``: new in the collection, everywhere or (``?bibliotheek=mijn``) at the
    resident's own library."""
    home = _home_organisation(request)
    only_mine = home is not None and request.GET.get("bibliotheek") == "mijn"
    page = selectors.new_editions(
        held_by=home.pk if only_mine else None,
        page=_page_number(request),
        per_page=PER_PAGE,
        organisation_id=home.pk if home else None,
    )
    return render(
        request,
        "catalog/new.html",
        {"page": page, "home": home, "only_mine": only_mine, **_pager(request, page)},
    )
