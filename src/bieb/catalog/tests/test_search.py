"""Catalogue search: relevance, language handling, facets, suggestions, bad input and index
upkeep. Runs unchanged on SQLite (FTS5) and PostgreSQL (tsvector): the suite is the contract
that both backends keep."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from stdnum import isbn as isbn_lib

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.catalog import models, search
from bieb.catalog.search import SearchQuery, parse_query
from bieb.catalog.search.analysis import words_of
from bieb.catalog.search.engine import backend
from bieb.catalog.search.facets import facet_key, unpack
from bieb.catalog.tests.factories import (
    DigitalLicenceFactory,
    EditionFactory,
    ItemFactory,
    make_isbn13,
)
from bieb.catalog.text import words
from bieb.core.errors import DomainError


def run(text: str = "", **kwargs) -> search.SearchResult:
    return search.search(SearchQuery(text=text, **kwargs))


def counts(result: search.SearchResult, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets[facet]}


def selected(result: search.SearchResult, facet: str) -> set[str]:
    return {value.value for value in result.facets[facet] if value.selected}


# --- matching and relevance ------------------------------------------------------------------


def test_diacritics_do_not_matter_either_way(search_index):
    cafe = EditionFactory(title="Café de Flore")
    plain = EditionFactory(title="Het cafe op de hoek")
    search_index(cafe, plain)

    assert set(run("Cafe").edition_ids) == {cafe.pk, plain.pk}
    assert set(run("CAFÉ").edition_ids) == {cafe.pk, plain.pk}


def test_dutch_and_english_stemming(search_index):
    book = EditionFactory(title="Het boek van de zee")
    garden = EditionFactory(title="The garden at night")
    gardening = EditionFactory(title="Gardening for everyone")
    other = EditionFactory(title="De avonden")
    search_index(book, garden, gardening, other)

    assert run("boeken").edition_ids == [book.pk]
    assert set(run("gardening").edition_ids) == {garden.pk, gardening.pk}
    assert set(run("gardens").edition_ids) == {garden.pk, gardening.pk}


def test_every_word_must_match(search_index):
    both = EditionFactory(title="Oorlog en vrede")
    one = EditionFactory(title="Oorlog in Europa")
    search_index(both, one)

    assert run("vrede oorlog").edition_ids == [both.pk]


def test_title_and_author_rank_above_subject_and_description(search_index):
    in_description = EditionFactory(title="Een zomer", description="Over de oorlog in het dorp.")
    in_subject = EditionFactory(title="Het dorp", subject_labels=["Oorlog"])
    in_title = EditionFactory(title="Oorlog")
    by_author = EditionFactory(title="Verzameld werk", authors=["Oorlog, Piet"])
    search_index(in_description, in_subject, in_title, by_author)

    ranked = run("oorlog").edition_ids

    assert set(ranked[:2]) == {in_title.pk, by_author.pk}
    assert ranked[2:] == [in_subject.pk, in_description.pk]


def test_series_and_publisher_are_searchable(search_index):
    edition = EditionFactory(title="Deel een", series="Kinderboekenweek", publisher="Querido")
    search_index(edition)

    assert run("kinderboekenweek").edition_ids == [edition.pk]
    assert run("querido").edition_ids == [edition.pk]


@pytest.mark.parametrize(
    "typed",
    ["9789012345675", "978-90-12-34567-5", "978 90 12 34567 5", "9012345677", "90-12-34567-7"],
)
def test_exact_isbn_finds_the_edition_first(search_index, typed):
    target = EditionFactory(title="Het doel", isbn="9789012345675")
    noise = EditionFactory(title="Over 9789012345675 en meer")
    search_index(target, noise)

    result = run(typed)

    assert result.isbn_match is True
    assert result.edition_ids[0] == target.pk


def test_isbn_of_an_identifier_other_than_the_first(search_index):
    edition = EditionFactory(title="Twee nummers", isbn=make_isbn13(7))
    second = make_isbn13(8)
    models.Identifier.objects.create(edition=edition, value=second, as_printed=second)
    search_index(edition)

    result = run(isbn_lib.format(second))

    assert result.isbn_match is True
    assert result.edition_ids == [edition.pk]


def test_an_isbn_that_failed_validation_is_found_as_printed(search_index):
    printed = "90-1234-567-0"
    assert not isbn_lib.is_valid(printed)
    edition = EditionFactory(title="Drukfout", isbn="")
    models.Identifier.objects.create(
        edition=edition, value=printed, as_printed=printed, is_valid=False
    )
    search_index(edition)

    result = run(printed)

    assert (result.edition_ids, result.isbn_match) == ([edition.pk], False)


def test_unknown_isbn_is_no_isbn_match(search_index):
    search_index(EditionFactory(title="Iets"))

    result = run("978-0-306-40615-7")

    assert result.isbn_match is False
    assert result.count == 0


def test_quoted_phrase_matches_only_the_phrase(search_index):
    phrase = EditionFactory(title="De avonden")
    scattered = EditionFactory(title="Avonden in de stad")
    search_index(phrase, scattered)

    assert set(run("de avonden").edition_ids) == {phrase.pk, scattered.pk}
    assert run('"de avonden"').edition_ids == [phrase.pk]
    assert run('"De Avonden" reve').count == 0


def test_did_you_mean_when_little_is_found(search_index):
    potters = [
        EditionFactory(title=f"Harry Potter {n}", authors=["Rowling, J.K."]) for n in range(6)
    ]
    search_index(*potters)

    result = run("harry poter")

    assert result.count == 0
    assert result.did_you_mean == "harry potter"
    assert run(result.did_you_mean).count == 6


def test_did_you_mean_picks_the_correction_that_finds_most_not_the_most_common_word(
    search_index,
):
    # "power" is one edit from "poter" too and far more common, but never with "harry"
    powers = [EditionFactory(title=f"The power of habit {n}") for n in range(12)]
    potters = [EditionFactory(title=f"Harry Potter {n}") for n in range(6)]
    search_index(*powers, *potters)

    assert run("harry poter").did_you_mean == "harry potter"


def test_no_did_you_mean_when_enough_is_found_or_nothing_better_exists(search_index):
    search_index(*[EditionFactory(title=f"Harry Potter {n}") for n in range(6)])

    assert run("harry potter").did_you_mean is None
    assert run("xqzwv").did_you_mean is None


# --- autocomplete ----------------------------------------------------------------------------


def test_suggest_titles_and_authors_by_prefix_without_accents(search_index):
    cafe = EditionFactory(title="Café Costa")
    reve = EditionFactory(title="De avonden", authors=["Reve, Gerard"])
    search_index(cafe, reve)

    assert [(s.kind, s.text, s.edition_id) for s in search.suggest("cafe c")] == [
        ("title", "Café Costa", cafe.pk)
    ]
    assert [(s.kind, s.text, s.slug) for s in search.suggest("Gerard R")] == [
        ("author", "Gerard Reve", "reve-gerard")
    ]
    assert [s.kind for s in search.suggest("reve")] == ["author"]
    assert [s.edition_id for s in search.suggest("avond")] == [reve.pk]


def test_suggest_puts_the_most_held_first_and_stops_at_eight(search_index):
    popular = EditionFactory(title="Kikker is verliefd")
    for _ in range(3):
        ItemFactory(edition=popular)
    others = [EditionFactory(title=f"Kikker en {n}") for n in range(10)]
    search_index(popular, *others)

    found = search.suggest("kikker")

    assert len(found) == 8
    assert found[0].edition_id == popular.pk
    assert search.suggest("k") == []
    assert search.suggest("") == []


# --- facets ----------------------------------------------------------------------------------


@pytest.fixture
def shelf(search_index):
    """Eight stories whose every facet count is known, and a cookbook that never matches."""
    rows = [
        ("book", "dut", "adult", 1995, True, ["Oorlog"]),
        ("book", "dut", "child", 2001, False, ["Oorlog", "Liefde"]),
        ("book", "eng", "adult", 2005, True, ["Liefde"]),
        ("ebook", "dut", "adult", 2012, True, ["Oorlog"]),
        ("ebook", "eng", "teen", 2015, False, []),
        ("audiobook", "dut", "child", 2019, True, ["Liefde"]),
        ("audiobook", "eng", "adult", 2021, False, ["Oorlog"]),
        ("film", "ger", "", 1988, True, ["Oorlog"]),
    ]
    editions = [
        EditionFactory(
            title=f"Verhaal {n}",
            format=fmt,
            language=lang,
            audience=aud,
            year=year,
            available_now=available,
            subject_labels=subjects,
        )
        for n, (fmt, lang, aud, year, available, subjects) in enumerate(rows, start=1)
    ]
    cookbook = EditionFactory(title="Kookboek", subject_labels=["Oorlog"])
    search_index(*editions, cookbook)
    return editions


def test_facet_counts_without_filters(shelf):
    result = run("verhaal")

    assert result.count == 8
    assert counts(result, "format") == {"book": 3, "ebook": 2, "audiobook": 2, "film": 1}
    assert counts(result, "language") == {"dut": 4, "eng": 3, "ger": 1}
    assert counts(result, "audience") == {"adult": 4, "child": 2, "teen": 1}
    assert counts(result, "available") == {"1": 5}
    assert counts(result, "year") == {"2020": 1, "2010": 3, "2000": 2, "1990": 1, "1980": 1}
    assert list(counts(result, "year")) == ["2020", "2010", "2000", "1990", "1980"]
    assert counts(result, "subject") == {"oorlog": 5, "liefde": 3}
    assert "organisation" not in result.facets and "location" not in result.facets
    labels = {v.value: v.label for v in result.facets["language"]}
    assert labels["dut"] == "Nederlands"


def test_a_facet_ignores_its_own_filter_and_applies_the_others(shelf):
    result = run("verhaal", formats=["ebook", "audiobook"])

    assert result.count == 4
    assert counts(result, "format") == {"book": 3, "ebook": 2, "audiobook": 2, "film": 1}
    assert selected(result, "format") == {"ebook", "audiobook"}
    assert counts(result, "language") == {"dut": 2, "eng": 2}
    assert counts(result, "audience") == {"adult": 2, "child": 1, "teen": 1}
    assert counts(result, "available") == {"1": 2}
    assert counts(result, "year") == {"2020": 1, "2010": 3}
    assert counts(result, "subject") == {"oorlog": 2, "liefde": 1}


def test_filters_combine(shelf):
    result = run("verhaal", formats=["ebook", "audiobook"], languages=["dut"])

    assert result.count == 2
    assert set(result.edition_ids) == {shelf[3].pk, shelf[5].pk}
    assert counts(result, "format") == {"book": 2, "ebook": 1, "audiobook": 1}
    assert counts(result, "language") == {"dut": 2, "eng": 2}
    assert counts(result, "available") == {"1": 2}
    assert counts(result, "subject") == {"oorlog": 1, "liefde": 1}


def test_available_now_filter(shelf):
    result = run("verhaal", available=True)

    assert result.count == 5
    assert counts(result, "available") == {"1": 5}
    assert selected(result, "available") == {"1"}
    assert counts(result, "format") == {"book": 2, "ebook": 1, "audiobook": 1, "film": 1}


def test_year_range_keeps_every_decade_in_its_own_facet(shelf):
    result = run("verhaal", year_from=2000, year_to=2009)

    assert result.count == 2
    assert counts(result, "year") == {"2020": 1, "2010": 3, "2000": 2, "1990": 1, "1980": 1}
    assert selected(result, "year") == {"2000"}
    assert counts(result, "format") == {"book": 2}


def test_subject_filter_and_its_facet(shelf):
    result = run("verhaal", subjects=["oorlog"])

    assert result.count == 5
    assert counts(result, "subject") == {"oorlog": 5, "liefde": 3}
    assert selected(result, "subject") == {"oorlog"}
    assert counts(result, "format") == {"book": 2, "ebook": 1, "audiobook": 1, "film": 1}

    both = run("verhaal", subjects=["liefde"], available=True)
    assert both.count == 2
    assert set(both.edition_ids) == {shelf[2].pk, shelf[5].pk}


def test_browse_without_text_counts_everything(shelf):
    result = run("")

    assert result.count == 9
    assert counts(result, "subject") == {"oorlog": 6, "liefde": 3}


def test_unknown_facet_values_match_nothing_without_error(shelf):
    result = run("verhaal", formats=["vinyl"], languages=["xx'; --"], subjects=["bestaat-niet"])

    assert result.count == 0
    assert result.edition_ids == []
    assert selected(result, "format") == {"vinyl"}
    assert selected(result, "subject") == {"bestaat-niet"}


def test_subject_facet_shows_the_top_fifteen_and_selected_ones(search_index):
    editions = []
    for n in range(17):
        labels = [f"Onderwerp {m:02d}" for m in range(n + 1)]
        editions.append(EditionFactory(title=f"Boek {n}", subject_labels=labels))
    search_index(*editions)

    result = run("boek", subjects=["onderwerp-16"])
    values = counts(result, "subject")

    assert len(values) == 16  # top 15 plus the selected one
    assert values["onderwerp-00"] == 17
    assert values["onderwerp-16"] == 1


def test_subject_facet_of_a_very_broad_search_is_an_estimate_from_a_sample(
    search_index, monkeypatch
):
    from bieb.catalog.search import engine

    monkeypatch.setattr(engine, "SAMPLE_MODULUS", 4)  # before indexing: the index keeps it
    editions = [
        EditionFactory(
            title=f"Atlas {n}", subject_labels=["Kaarten", *(["Zeeën"] if n % 3 == 0 else [])]
        )
        for n in range(40)
    ]
    search_index(*editions)
    exact = run("atlas")
    assert counts(exact, "subject") == {"kaarten": 40, "zeeen": 14}
    assert not any(v.approximate for v in exact.facets["subject"])

    monkeypatch.setattr(engine, "SUBJECT_EXACT_MAX", 20)
    monkeypatch.setattr(engine, "SUBJECT_SAMPLE", 10)
    broad = run("atlas")
    estimated = counts(broad, "subject")

    assert broad.count == 40 and not broad.approximate  # under EXACT_MAX: the rest is exact
    assert counts(broad, "format") == counts(exact, "format")
    assert all(v.approximate for v in broad.facets["subject"])
    # every 4th edition id is counted and multiplied by 4, never above the total; ids run
    # on, so the sample holds every 12th edition's "Zeeën" three or four times
    assert estimated["kaarten"] == 40
    assert estimated["zeeen"] in (12, 16)

    # with the subject selected, the sample is drawn from the matches without that filter
    narrowed = run("atlas", subjects=["zeeen"])
    assert narrowed.count == 14
    assert selected(narrowed, "subject") == {"zeeen"}
    assert all(v.approximate for v in narrowed.facets["subject"])
    assert counts(narrowed, "subject")["kaarten"] == 40


def test_a_very_broad_search_estimates_its_count_and_facets_but_not_its_page(
    search_index, monkeypatch
):
    from bieb.catalog.search import engine

    monkeypatch.setattr(engine, "SAMPLE_MODULUS", 4)  # before indexing: the index keeps it
    formats = ["book", "ebook", "audiobook"]
    editions = [
        EditionFactory(
            title=f"Globe {n}",
            format=formats[n % 3],
            language="dut" if n % 2 else "eng",
            year=1990 + n % 20,
            available_now=n % 5 == 0,
            subject_labels=["Kaarten"],
        )
        for n in range(48)
    ]
    search_index(*editions)
    exact = run("globe")
    assert exact.count == 48 and not exact.approximate
    assert counts(exact, "format") == {"book": 16, "ebook": 16, "audiobook": 16}
    assert not any(v.approximate for facet in exact.facets.values() for v in facet)

    # over EXACT_MAX text matches: every 4th edition id (12 of the 48) counts for 4
    monkeypatch.setattr(engine, "EXACT_MAX", 20)
    broad = run("globe")
    assert broad.approximate
    assert broad.count == 48
    assert broad.pages == exact.pages
    assert broad.edition_ids == exact.edition_ids  # the page is never estimated
    for name in ("format", "language", "available", "year", "subject"):
        assert broad.facets[name], name
        assert all(v.approximate for v in broad.facets[name]), name
    assert counts(broad, "format") == {"book": 16, "ebook": 16, "audiobook": 16}
    assert counts(broad, "language") in ({"dut": 48}, {"eng": 48})  # ids step by 4: one parity
    assert sum(counts(broad, "year").values()) == 48
    assert counts(broad, "subject") == {"kaarten": 48}
    plain = run("globe", with_facets=False)
    assert (plain.count, plain.approximate) == (48, True)

    # filters apply to the sample as to every match; the page stays exact
    narrowed = run("globe", formats=["ebook"], year_from=1990, year_to=1999)
    expected = {e.pk for n, e in enumerate(editions) if n % 3 == 1 and n % 20 < 10}
    assert narrowed.approximate
    assert narrowed.count % 4 == 0 and abs(narrowed.count - len(expected)) <= 8
    assert set(narrowed.edition_ids) == expected
    assert selected(narrowed, "format") == {"ebook"}
    assert all(v.approximate for v in narrowed.facets["format"])

    # the text matches decide, not the filtered count: a narrow search stays exact
    assert not run("globe 7").approximate

    # availability reaches the sample too
    models.Edition.objects.filter(pk__in=[e.pk for e in editions]).update(available_now=True)
    search.refresh_availability([e.pk for e in editions])
    assert counts(run("globe"), "available") == {"1": 48}


@pytest.fixture
def holdings(search_index):
    library = OrganisationFactory(code="BUT", name="Bibliotheek Utrecht")
    elsewhere = OrganisationFactory(code="ELD")
    neude = LocationFactory(organisation=library, name="Neude", slug="neude")
    oost = LocationFactory(organisation=library, name="Oost", slug="oost")
    remote = LocationFactory(organisation=elsewhere, slug="ver-weg")
    at_neude = EditionFactory(title="Reis naar Neude")
    at_oost = EditionFactory(title="Reis naar Oost")
    at_both = EditionFactory(title="Reis overal")
    national = EditionFactory(title="Reis digitaal", format="ebook")
    foreign = EditionFactory(title="Reis elders", format="ebook")
    far = EditionFactory(title="Reis ver weg")
    ItemFactory(edition=at_neude, organisation=library, home_location=neude)
    ItemFactory(edition=at_oost, organisation=library, home_location=oost)
    ItemFactory(edition=at_both, organisation=library, home_location=neude)
    ItemFactory(edition=at_both, organisation=library, home_location=oost, status="withdrawn")
    ItemFactory(edition=far, organisation=elsewhere, home_location=remote)
    DigitalLicenceFactory(edition=national, organisation=None)
    DigitalLicenceFactory(edition=foreign, organisation=elsewhere)
    search_index(at_neude, at_oost, at_both, national, foreign, far)
    return {
        "library": library,
        "neude": neude,
        "oost": oost,
        "editions": (at_neude, at_oost, at_both, national, foreign, far),
    }


def test_organisation_filter_and_location_facet(holdings):
    at_neude, at_oost, at_both, national, _foreign, _far = holdings["editions"]

    result = run("reis", organisation_id=holdings["library"].pk)

    assert set(result.edition_ids) == {at_neude.pk, at_oost.pk, at_both.pk, national.pk}
    assert [(v.value, v.count, v.selected) for v in result.facets["organisation"]] == [
        ("BUT", 4, True)
    ]
    assert counts(result, "location") == {"neude": 3, "oost": 2}


def test_location_filter(holdings):
    at_neude, _oost, at_both, national, _foreign, _far = holdings["editions"]

    result = run("reis", location_id=holdings["neude"].pk)

    assert set(result.edition_ids) == {at_neude.pk, at_both.pk, national.pk}
    assert counts(result, "location") == {"neude": 3, "oost": 2}
    assert selected(result, "location") == {"neude"}


@pytest.mark.parametrize(
    "params",
    [
        {"organisation": "NOPE"},
        {"location": "nergens"},
        {"organisation": "ELD", "location": "neude"},
    ],
)
def test_unknown_or_mismatched_organisation_and_location_match_nothing(holdings, params):
    result = search.search(parse_query({"q": "reis", **params}))

    assert result.count == 0
    assert result.facets.get("organisation", []) == []
    assert result.facets.get("location", []) == []


# --- sorting and paging ----------------------------------------------------------------------


def test_sort_newest_and_title(search_index):
    old = EditionFactory(title="Anker in zee", created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    new = EditionFactory(title="Zee van tijd", created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    mid = EditionFactory(title="Midden op zee", created_at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
    search_index(old, new, mid)

    assert run("zee", sort="newest").edition_ids == [new.pk, mid.pk, old.pk]
    assert run("zee", sort="title").edition_ids == [old.pk, mid.pk, new.pk]
    assert run("", sort="relevance").edition_ids == [new.pk, mid.pk, old.pk]


def test_pages_and_page_past_the_end(search_index):
    search_index(*[EditionFactory(title=f"Reeks {n}") for n in range(5)])

    first = run("reeks", per_page=2)
    third = run("reeks", per_page=2, page=3)
    beyond = run("reeks", per_page=2, page=10**12)

    assert (first.count, first.pages, len(first.edition_ids)) == (5, 3, 2)
    assert len(third.edition_ids) == 1
    assert (beyond.count, beyond.edition_ids) == (5, [])
    assert len({*first.edition_ids, *run("reeks", per_page=2, page=2).edition_ids}) == 4


def test_pages_run_from_title_matches_into_the_rest(search_index):
    in_titles = [EditionFactory(title=f"Molen {n}") for n in range(3)]
    in_subjects = [EditionFactory(title=f"Boek {n}", subject_labels=["Molens"]) for n in range(3)]
    search_index(*in_titles, *in_subjects)

    pages = [run("molen", per_page=2, page=n).edition_ids for n in (1, 2, 3, 4)]

    assert set(pages[0]) < {e.pk for e in in_titles}
    assert pages[1][0] in {e.pk for e in in_titles}
    assert pages[1][1] in {e.pk for e in in_subjects}
    assert sorted(pk for page in pages for pk in page) == sorted(
        e.pk for e in in_titles + in_subjects
    )
    assert pages[3] == []


def test_without_facets_still_counts(shelf):
    result = run("verhaal", formats=["book"], with_facets=False)

    assert (result.count, result.facets) == (3, {})


# --- bad input -------------------------------------------------------------------------------


def test_empty_query_browses_newest(search_index):
    editions = [EditionFactory(title=f"Nieuw {n}") for n in range(3)]
    search_index(*editions)

    result = search.search(parse_query({}))

    assert result.count == 3
    assert result.edition_ids == sorted((e.pk for e in editions), reverse=True)


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""',
        "*",
        "boek*",
        "NEAR(boek zee)",
        "-boek",
        "title:boek",
        "(boek",
        "boek)",
        "^boek",
        "boek AND",
        "OR",
        "NOT boek",
        "'; drop table catalog_edition; --",
        '"unbalanced quote',
        'boek "',
        "\x00",
        "{title}: x",
        "!!!",
        "a" * 10_000,
    ],
)
def test_search_syntax_and_sql_are_plain_text(search_index, text):
    edition = EditionFactory(title="Het boek van de zee")
    search_index(edition)

    result = run(text)

    assert result.count in (0, 1)
    assert models.Edition.objects.filter(pk=edition.pk).exists()


def test_nul_characters_in_filters_are_dropped(search_index):
    edition = EditionFactory(title="Nul", format="book")
    search_index(edition)

    parsed = parse_query({"q": "nul", "format": "bo\x00ok", "organisation": "B\x00"})

    assert parsed.formats == ["book"]
    assert search.search(parsed).count == 0  # the organisation does not exist
    assert run("nul", formats=["bo\x00ok"], subjects=["\x00"]).count == 0


def test_syntax_words_still_find_plain_words(search_index):
    edition = EditionFactory(title="Near and not far")
    search_index(edition)

    assert run("NEAR NOT").edition_ids == [edition.pk]
    assert run("near*").edition_ids == [edition.pk]
    assert run('"near and"').edition_ids == [edition.pk]


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=600), page=st.text(max_size=6), fmt=st.text(max_size=12))
def test_any_text_gives_a_result_or_a_domain_error(search_index, text, page, fmt):
    try:
        query = parse_query({"q": text, "page": page, "format": fmt, "language": text[:5]})
    except DomainError:
        return
    search.search(query)
    search.search(SearchQuery(text=text))
    search.suggest(text)


def test_parse_query_reads_every_parameter(db):
    library = OrganisationFactory(code="BUT")
    neude = LocationFactory(organisation=library, slug="neude")
    params = QueryDict(
        "q=de+avonden&format=book&format=ebook&language=DUT&audience=child&subject=oorlog"
        "&year_from=1990&year_to=1999&available=1&organisation=but&location=neude"
        "&page=2&per_page=50&sort=title"
    )

    query = parse_query(params)

    assert query == SearchQuery(
        text="de avonden",
        formats=["book", "ebook"],
        languages=["dut"],
        audiences=["child"],
        subjects=["oorlog"],
        year_from=1990,
        year_to=1999,
        available=True,
        organisation_id=library.pk,
        location_id=neude.pk,
        page=2,
        per_page=50,
        sort="title",
    )
    assert parse_query({"sort": "random"}).sort == "relevance"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "x" * 10_000}, "query_too_long"),
        ({"q": "x" * 501}, "query_too_long"),
        ({"page": "0"}, "invalid_page"),
        ({"page": "-1"}, "invalid_page"),
        ({"page": "abc"}, "invalid_page"),
        ({"page": "1.5"}, "invalid_page"),
        ({"page": "٣"}, "invalid_page"),
        ({"page": "99999999999"}, "invalid_page"),
        ({"per_page": "0"}, "invalid_per_page"),
        ({"per_page": "101"}, "invalid_per_page"),
        ({"per_page": "tien"}, "invalid_per_page"),
        ({"year_from": "19x"}, "invalid_year"),
        ({"year_to": "0"}, "invalid_year"),
        ({"year_from": "2000", "year_to": "1990"}, "invalid_year"),
    ],
)
def test_parse_query_refuses_with_stable_codes(db, params, code):
    with pytest.raises(DomainError) as refused:
        parse_query(params)

    assert refused.value.code == code
    assert refused.value.status == 400


def test_parse_query_accepts_exactly_500_characters(db):
    assert len(parse_query({"q": "x" * 500}).text) == 500


# --- index upkeep ----------------------------------------------------------------------------


def test_reindexing_replaces_the_old_text(search_index):
    edition = EditionFactory(title="Oude titel")
    search_index(edition)
    models.Edition.objects.filter(pk=edition.pk).update(title="Nieuwe naam")

    search.index_editions([edition.pk])

    assert run("oude").count == 0
    assert run("nieuwe").edition_ids == [edition.pk]


def test_remove_and_index_of_a_deleted_edition(search_index):
    kept = EditionFactory(title="Blijft staan")
    removed = EditionFactory(title="Blijft weg")
    deleted = EditionFactory(title="Blijft nergens")
    search_index(kept, removed, deleted)

    search.remove_editions([removed.pk])
    deleted_pk = deleted.pk
    deleted.delete()
    search.index_editions([deleted_pk])

    assert run("blijft").edition_ids == [kept.pk]
    assert search.suggest("blijft w") == []


def test_refresh_availability_moves_the_edition_between_facet_values(search_index):
    edition = EditionFactory(title="Wisselend", available_now=False)
    search_index(edition)
    assert run("wisselend", available=True).count == 0

    models.Edition.objects.filter(pk=edition.pk).update(available_now=True)
    search.refresh_availability([edition.pk])

    assert run("wisselend", available=True).edition_ids == [edition.pk]


def test_rebuild_index_indexes_every_edition(search_index):
    editions = [EditionFactory(title=f"Herbouw {n}") for n in range(7)]

    assert search.rebuild_index(batch_size=3) == 7
    assert run("herbouw").count == 7
    assert {s.edition_id for s in search.suggest("herbouw")} == {e.pk for e in editions}


def test_index_cost_is_a_fixed_number_of_queries_per_batch(
    search_index, django_assert_max_num_queries
):
    editions = [
        EditionFactory(title=f"Partij {n}", authors=["Reve, Gerard"], subject_labels=["Oorlog"])
        for n in range(40)
    ]
    with django_assert_max_num_queries(30):
        search.index_editions([e.pk for e in editions])


# --- shared helpers --------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_fast_ascii_fold_agrees_with_text_fold(value):
    assert words_of(value) == words(value)


@given(
    fmt=st.sampled_from(models.Format.values),
    audience=st.sampled_from(["", *models.Audience.values]),
    language=st.sampled_from(["", "dut", "eng", "zxx"]),
    year=st.one_of(st.none(), st.integers(1000, 2099)),
    available=st.booleans(),
)
def test_facet_key_round_trips(fmt, audience, language, year, available):
    parts = unpack(
        facet_key(format=fmt, audience=audience, language=language, year=year, available=available)
    )

    assert (parts.format, parts.audience, parts.language, parts.available) == (
        fmt,
        audience,
        language,
        available,
    )
    assert parts.decade == (year // 10 * 10 if year else None)


# --- benchmark -------------------------------------------------------------------------------


def _marc_file(path, count: int) -> None:
    from pymarc import Field, Record, Subfield

    with open(path, "wb") as out:
        for n in range(count):
            record = Record()
            record.add_field(Field(tag="001", data=f"bench{n:05d}"))
            record.add_field(
                Field(tag="008", data=f"200101s{2000 + n % 20}    ne            000 0 eng d")
            )
            record.add_field(
                Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", make_isbn13(n))])
            )
            record.add_field(
                Field(
                    tag="100",
                    indicators=["1", " "],
                    subfields=[Subfield("a", f"Writer{n % 7}, Ann")],
                )
            )
            record.add_field(
                Field(
                    tag="245",
                    indicators=["1", "0"],
                    subfields=[Subfield("a", f"The history of garden {n} world war")],
                )
            )
            record.add_field(
                Field(tag="650", indicators=[" ", "0"], subfields=[Subfield("a", "History")])
            )
            out.write(record.as_marc())


def test_bench_search_says_how_to_get_the_records(db, tmp_path, settings):
    from django.core.management.base import CommandError

    from bieb.catalog.benchmarks import bench_search

    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="bieb catalog fetch-sample"):
        bench_search({"size": 10, "marc": str(tmp_path / "missing.mrc")})


def test_bench_search_refuses_a_database_with_a_catalogue(search_index):
    from django.core.management.base import CommandError

    from bieb.catalog.benchmarks import bench_search

    EditionFactory(title="Echte collectie")
    with pytest.raises(CommandError, match="scratch database"):
        bench_search({"size": 10})


@pytest.fixture
def empty_index_after():
    yield
    backend().clear()  # the flush after a transactional test leaves these tables alone


@pytest.mark.django_db(transaction=True)
def test_bench_search_runs_at_a_tiny_size(tmp_path, settings, empty_index_after):
    pytest.importorskip("bieb.catalog.importer")
    settings.VAR_DIR = tmp_path
    marc = tmp_path / "sample.mrc"
    _marc_file(marc, 60)
    from bieb.catalog.benchmarks import bench_search

    report = bench_search(
        {"sizes": "40,90", "marc": str(marc), "repeat": 1, "naive": 1, "queries_per_kind": 2}
    )

    assert set(report["sizes"]) == {"40", "90"}
    assert report["sizes"]["90"]["editions"] == 90
    assert report["sizes"]["90"]["search"]["all"]["n"] > 0
    assert report["import"]["added"] == 40
    json.dumps(report)
