"""What the pages and the API read: availability per status and location, the digital state of
every licence model, formats of a work, makers, subjects and new titles, in a fixed number of
queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.catalog import selectors
from bieb.catalog.models import ContributorRole, EditionContributor, Format, ItemStatus
from bieb.catalog.models import LicenceModel as M
from bieb.catalog.tests.factories import (
    DigitalLicenceFactory,
    EditionFactory,
    ItemFactory,
    WorkFactory,
)
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound

pytestmark = pytest.mark.django_db

# A Wednesday in December, in Amsterdam.
NOW = dt.datetime(2025, 12, 3, 11, 0, tzinfo=clock.AMSTERDAM)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW), translation.override("nl"):
        yield


def copy(edition, location, status=ItemStatus.AVAILABLE, *, due=None, shelf_mark="R REVE"):
    return ItemFactory(
        edition=edition,
        organisation=location.organisation,
        home_location=location,
        location=location,
        status=status,
        due_date=due,
        shelf_mark=shelf_mark,
    )


@pytest.fixture
def libraries():
    """Two organisations: Utrecht (Neude in the centre, Overvecht in the north) and Amsterdam."""
    utrecht, amsterdam = (
        OrganisationFactory(name="Bibliotheek Utrecht"),
        OrganisationFactory(name="OBA"),
    )
    return {
        "utrecht": utrecht,
        "amsterdam": amsterdam,
        "neude": LocationFactory(organisation=utrecht, name="Neude", lat=52.0928, lon=5.1195),
        "overvecht": LocationFactory(
            organisation=utrecht, name="Overvecht", lat=52.1170, lon=5.1130
        ),
        "oosterdok": LocationFactory(
            organisation=amsterdam, name="Oosterdok", lat=52.3760, lon=4.9085
        ),
    }


# --- physical copies ------------------------------------------------------------------------


def test_counts_per_status_with_the_earliest_due_date_and_withdrawn_copies_left_out(libraries):
    edition = EditionFactory()
    neude, overvecht = libraries["neude"], libraries["overvecht"]
    copy(edition, neude)
    copy(edition, neude, shelf_mark="R REVE 2")
    copy(edition, neude, ItemStatus.ON_LOAN, due=dt.date(2025, 12, 20))
    copy(edition, overvecht, ItemStatus.ON_LOAN, due=dt.date(2025, 12, 12))
    copy(edition, overvecht, ItemStatus.IN_TRANSIT)
    copy(edition, overvecht, ItemStatus.ON_HOLD_SHELF)
    copy(edition, overvecht, ItemStatus.REPAIR)
    copy(edition, overvecht, ItemStatus.WITHDRAWN)

    found = selectors.availability_for([edition.pk])[edition.pk]

    assert (found.available, found.on_loan, found.in_transit, found.on_hold_shelf) == (2, 2, 1, 1)
    assert found.unavailable == 1
    assert found.total == 7
    assert found.earliest_due == dt.date(2025, 12, 12)
    assert found.digital is None
    rows = {row.name: row for row in found.locations}
    assert set(rows) == {"Neude", "Overvecht"}
    assert rows["Neude"].available == 2
    assert rows["Neude"].earliest_due == dt.date(2025, 12, 20)
    assert rows["Neude"].shelf_marks == ["R REVE", "R REVE 2"]
    assert rows["Neude"].organisation_name == "Bibliotheek Utrecht"
    assert rows["Overvecht"].status_label == (
        "1 uitgeleend, 1 onderweg, 1 klaargezet voor reservering, 1 niet beschikbaar"
    )
    assert found.label == "Nu beschikbaar in 1 vestiging"


def test_summary_says_where_and_until_when(libraries):
    on_shelf, lent, nothing = EditionFactory(), EditionFactory(), EditionFactory()
    for location in ("neude", "overvecht", "oosterdok"):
        copy(on_shelf, libraries[location])
    copy(lent, libraries["neude"], ItemStatus.ON_LOAN, due=dt.date(2025, 12, 12))
    copy(lent, libraries["oosterdok"], ItemStatus.ON_LOAN, due=dt.date(2026, 1, 5))

    found = selectors.availability_for([on_shelf.pk, lent.pk, nothing.pk])

    assert found[on_shelf.pk].label == "Nu beschikbaar in 3 vestigingen"
    assert found[on_shelf.pk].locations_available == 3
    assert found[lent.pk].label == "Uitgeleend tot 12 december"
    assert not found[lent.pk].now
    assert found[nothing.pk].label == "Geen exemplaren in de collectie"
    assert found[nothing.pk].locations == []


def test_nearest_locations_first_when_a_point_is_known(libraries):
    edition = EditionFactory()
    for location in ("oosterdok", "overvecht", "neude"):
        copy(edition, libraries[location])
    in_amsterdam = (52.3731, 4.8926)  # Dam square

    found = selectors.availability_for([edition.pk], near=in_amsterdam)[edition.pk]

    # Overvecht lies north of the centre of Utrecht: nearer to Amsterdam than Neude
    assert [row.name for row in found.locations] == ["Oosterdok", "Overvecht", "Neude"]
    distances = [row.distance_km for row in found.locations]
    assert distances[0] == pytest.approx(1.2, abs=0.3)
    assert distances[1] < distances[2] == pytest.approx(35, abs=3)


def test_without_a_point_the_residents_own_library_comes_first(libraries):
    edition = EditionFactory()
    copy(edition, libraries["neude"], ItemStatus.ON_LOAN, due=dt.date(2025, 12, 10))
    copy(edition, libraries["overvecht"])
    copy(edition, libraries["oosterdok"])

    for_amsterdam = selectors.availability_for(
        [edition.pk], organisation_id=libraries["amsterdam"].pk
    )[edition.pk]
    for_utrecht = selectors.availability_for([edition.pk], organisation_id=libraries["utrecht"].pk)[
        edition.pk
    ]

    assert [row.name for row in for_amsterdam.locations] == ["Oosterdok", "Overvecht", "Neude"]
    assert for_amsterdam.home_available == 1
    # own library first; on the shelf before lent out
    assert [row.name for row in for_utrecht.locations] == ["Overvecht", "Neude", "Oosterdok"]
    assert [row.is_home for row in for_utrecht.locations] == [True, True, False]
    assert for_utrecht.home_available == 1


# --- digital licences -----------------------------------------------------------------------


def ebook(**licence):
    edition = EditionFactory(format=Format.EBOOK)
    if licence:
        DigitalLicenceFactory(edition=edition, **licence)
    return edition


def state_of(edition, organisation_id=None):
    return selectors.availability_for([edition.pk], organisation_id=organisation_id)[
        edition.pk
    ].digital


@pytest.mark.parametrize(
    ("licence", "state"),
    [
        ({"model": M.ALWAYS, "concurrent_users": 1, "active_loans": 0}, "now"),
        ({"model": M.ONE_COPY_ONE_USER, "active_loans": 0}, "now"),
        ({"model": M.ONE_COPY_ONE_USER, "active_loans": 1, "holds_waiting": 2}, "wait"),
        ({"model": M.CONCURRENT, "concurrent_users": 3, "active_loans": 2}, "now"),
        ({"model": M.CONCURRENT, "concurrent_users": 3, "active_loans": 3}, "wait"),
        ({"model": M.METERED_LOANS, "loans_total": 26, "loans_used": 25}, "now"),
        ({"model": M.METERED_LOANS, "loans_total": 26, "loans_used": 26}, "none"),
        (
            {"model": M.METERED_LOANS, "loans_total": 26, "loans_used": 25, "active_loans": 1},
            "wait",
        ),
        ({"model": M.METERED_TIME, "valid_until": dt.date(2026, 6, 30)}, "now"),
        ({"model": M.METERED_TIME, "valid_until": dt.date(2025, 12, 2)}, "none"),
        (
            {"model": M.METERED_TIME, "valid_until": dt.date(2025, 12, 3), "active_loans": 1},
            "wait",
        ),
        ({"model": M.CONCURRENT, "concurrent_users": 2, "is_active": False}, "none"),
        ({"model": M.ONE_COPY_ONE_USER, "valid_from": dt.date(2026, 1, 1)}, "wait"),
    ],
    ids=[
        "always",
        "one-copy-free",
        "one-copy-lent",
        "concurrent-room",
        "concurrent-full",
        "metered-loans-last-one",
        "metered-loans-used-up",
        "metered-loans-busy",
        "metered-time-valid",
        "metered-time-expired",
        "metered-time-last-day-busy",
        "inactive",
        "not-yet-valid",
    ],
)
def test_digital_state_for_every_licence_model(licence, state):
    edition = ebook(**licence)

    assert state_of(edition).state == state


def test_read_listen_or_watch_now():
    assert state_of(ebook(model=M.ALWAYS)).label == "Direct lezen"
    audiobook = EditionFactory(format=Format.AUDIOBOOK)
    DigitalLicenceFactory(edition=audiobook, model=M.ALWAYS)
    film = EditionFactory(format=Format.STREAMING)
    DigitalLicenceFactory(edition=film, model=M.ALWAYS)

    assert state_of(audiobook).label == "Direct luisteren"
    assert state_of(film).label == "Direct kijken"
    assert state_of(ebook()).label == "Nu niet digitaal te leen"


def test_the_wait_counts_everyone_waiting_and_estimates_days_from_the_loan_period():
    edition = ebook(
        model=M.CONCURRENT, concurrent_users=2, active_loans=2, holds_waiting=2, loan_days=14
    )
    DigitalLicenceFactory(edition=edition, model=M.ONE_COPY_ONE_USER, active_loans=1, loan_days=21)

    digital = state_of(edition)

    assert digital.state == "wait"
    assert digital.holds_waiting == 2
    # three copies, the third in line: one turn of the shortest loan period
    assert digital.wait_days == 14
    assert digital.label == "Wachtlijst: 2 wachtenden"
    assert digital.wait_label == "Verwachte wachttijd: ongeveer 14 dagen"
    assert [lic.open_now for lic in digital.licences] == [False, False]


def test_only_national_licences_and_those_of_the_residents_library_count(libraries):
    edition = ebook()
    DigitalLicenceFactory(edition=edition, organisation=libraries["amsterdam"], model=M.ALWAYS)
    DigitalLicenceFactory(edition=edition, model=M.ONE_COPY_ONE_USER, active_loans=1)

    for_utrecht = state_of(edition, libraries["utrecht"].pk)
    for_amsterdam = state_of(edition, libraries["amsterdam"].pk)
    for_a_visitor = state_of(edition)

    assert for_utrecht.state == "wait"
    assert [lic.organisation_name for lic in for_utrecht.licences] == [None]
    assert for_amsterdam.state == "now"
    assert [lic.organisation_name for lic in for_amsterdam.licences] == [None, "OBA"]
    # a visitor can join any library
    assert for_a_visitor.state == "now"


# --- a page of results in a fixed number of queries -----------------------------------------


def test_availability_and_summaries_of_a_page_cost_a_fixed_number_of_queries(
    libraries, django_assert_max_num_queries
):
    editions = []
    for n in range(20):
        edition = EditionFactory(authors=["Reve, Gerard", f"Illustrator {n}"])
        EditionFactory(work=edition.work, format=Format.EBOOK, title=edition.title)
        for location in ("neude", "overvecht", "oosterdok"):
            copy(edition, libraries[location])
            copy(edition, libraries[location], ItemStatus.ON_LOAN, due=dt.date(2025, 12, 20))
        digital = EditionFactory(format=Format.AUDIOBOOK)
        DigitalLicenceFactory(edition=digital, model=M.CONCURRENT, concurrent_users=2)
        DigitalLicenceFactory(edition=digital, organisation=libraries["utrecht"])
        editions += [edition, digital]
    ids = [e.pk for e in editions]

    with django_assert_max_num_queries(4):
        found = selectors.availability_for(ids, organisation_id=libraries["utrecht"].pk)
    with django_assert_max_num_queries(7):
        summaries = selectors.edition_summaries(ids, organisation_id=libraries["utrecht"].pk)
        for summary in summaries:  # what a result list reads
            assert summary.availability.label
            if summary.edition.format == Format.BOOK:
                assert summary.credits[0].contributor.display_name == "Gerard Reve"
            assert summary.format_links is not None

    assert len(found) == 40
    assert [s.edition.pk for s in summaries] == ids
    assert summaries[0].format_links == [(editions[0].pk + 1, "e-book")]


# --- formats, editions, makers, subjects, new -----------------------------------------------


def test_other_formats_group_the_editions_of_each_work_book_first():
    work = WorkFactory(title="Max Havelaar")
    audio = EditionFactory(work=work, format=Format.AUDIOBOOK)
    book = EditionFactory(work=work, format=Format.BOOK)
    ebook_edition = EditionFactory(work=work, format=Format.EBOOK)
    alone = EditionFactory()

    found = selectors.other_formats([work.pk, alone.work_id])

    assert found[work.pk] == [
        (book.pk, "book"),
        (ebook_edition.pk, "ebook"),
        (audio.pk, "audiobook"),
    ]
    assert found[alone.work_id] == [(alone.pk, "book")]
    summary = selectors.edition_summaries([audio.pk])[0]
    assert summary.format_links == [(book.pk, "boek"), (ebook_edition.pk, "e-book")]


def test_edition_detail_has_everything_the_page_shows(libraries):
    edition = EditionFactory(
        title="De avonden", authors=["Reve, Gerard"], subject_labels=["Oorlog", "Amsterdam"]
    )
    edition.identifiers.create(value=edition.isbn)
    edition.identifiers.create(value="12345", as_printed="12345", is_valid=False)
    film = EditionFactory(work=edition.work, format=Format.FILM, title="De avonden")
    copy(edition, libraries["neude"])

    detail = selectors.edition_detail(edition.pk)

    assert detail.edition.work == edition.work
    assert [c.contributor.name for c in detail.credits] == ["Reve, Gerard"]
    assert [s.label for s in detail.subjects] == ["Amsterdam", "Oorlog"]
    assert [i.is_valid for i in detail.identifiers] == [True, False]
    assert detail.other_editions == [film]
    assert detail.availability.available == 1
    with pytest.raises(NotFound) as missing:
        selectors.edition_detail(edition.pk + 1000)
    assert missing.value.code == "unknown_edition"


def test_author_detail_lists_their_editions_newest_first_in_pages():
    older = EditionFactory(title="De avonden", year=1947, authors=["Reve, Gerard"])
    newer = EditionFactory(title="Op weg naar het einde", year=1963, authors=["Reve, Gerard"])
    translated = EditionFactory(title="The evenings", year=2016)
    EditionContributor.objects.create(
        edition=translated,
        contributor=older.contributors.get(),
        role=ContributorRole.TRANSLATOR,
    )
    slug = older.contributors.get().slug

    first = selectors.author_detail(slug, per_page=2)
    second = selectors.author_detail(slug, page=2, per_page=2)
    past_the_end = selectors.author_detail(slug, page=9, per_page=2)

    assert first.contributor.display_name == "Gerard Reve"
    assert first.roles == ["auteur", "vertaler"]
    assert [s.edition for s in first.page.items] == [translated, newer]
    assert (first.page.count, first.page.pages, first.page.has_next) == (3, 2, True)
    assert [s.edition for s in second.page.items] == [older]
    assert past_the_end.page.items == [] and past_the_end.page.count == 3
    with pytest.raises(NotFound):
        selectors.author_detail("niemand")
    with pytest.raises(DomainError) as bad:
        selectors.author_detail(slug, page=0)
    assert bad.value.code == "invalid_page"


def test_subject_list_has_the_biggest_and_an_alphabetical_index():
    for _n in range(3):
        EditionFactory(subject_labels=["Oorlog", "Amsterdam"])
    EditionFactory(subject_labels=["Zee"])
    EditionFactory(subject_labels=["'s-Hertogenbosch"])

    listing = selectors.subject_list(top=2)
    by_letter = selectors.subject_list(letter="Z")
    others = selectors.subject_list(letter="#")

    assert [(s.label, s.editions) for s in listing.top] == [("Amsterdam", 3), ("Oorlog", 3)]
    assert [(s.label, s.editions) for s in listing.page.items] == [
        ("Amsterdam", 3),
        ("Oorlog", 3),
        ("'s-Hertogenbosch", 1),
        ("Zee", 1),
    ]
    assert [s.label for s in by_letter.page.items] == ["Zee"]
    assert by_letter.letter == "z"
    assert others.page.items == []  # "'s-Hertogenbosch" folds to "s hertogenbosch"
    with pytest.raises(DomainError) as bad:
        selectors.subject_list(letter="é")
    assert bad.value.code == "invalid_letter"


def test_subject_detail_pages_its_editions():
    editions = [EditionFactory(subject_labels=["Oorlog"], year=2000 + n) for n in range(3)]
    EditionFactory(subject_labels=["Vrede"])
    slug = editions[0].subjects.get().slug

    detail = selectors.subject_detail(slug, per_page=2)

    assert detail.subject.label == "Oorlog"
    assert [s.edition for s in detail.page.items] == [editions[2], editions[1]]
    assert detail.page.count == 3
    with pytest.raises(NotFound) as missing:
        selectors.subject_detail("bestaat-niet")
    assert missing.value.code == "unknown_subject"


def test_new_editions_newest_first_capped_and_per_organisation(libraries):
    editions = []
    for day in range(5):
        with clock.frozen(NOW - dt.timedelta(days=5 - day)):
            editions.append(EditionFactory())
    copy(editions[1], libraries["neude"])
    own_ebook = ebook()
    DigitalLicenceFactory(edition=own_ebook, organisation=libraries["utrecht"])

    everything = selectors.new_editions(per_page=3, limit=4)
    held = selectors.new_editions(held_by=libraries["utrecht"].pk)

    assert [s.edition for s in everything.items] == [own_ebook, editions[4], editions[3]]
    assert everything.count == 4 and everything.pages == 2
    assert [s.edition for s in held.items] == [own_ebook, editions[1]]
