"""The bulk MARC import and ``bieb catalog``: broken records skipped and reported, MARC-8 and
MARCXML, idempotent re-import with the ISBN fallback, copies for an organisation, streaming."""

from __future__ import annotations

import csv
import io
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from pymarc import Field, Indicators, Record, Subfield

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.catalog import importer
from bieb.catalog.importer import import_marc, read_marc
from bieb.catalog.models import (
    Contributor,
    Edition,
    EditionContributor,
    Format,
    Identifier,
    Item,
    Subject,
    Work,
)
from bieb.catalog.tests.factories import EditionFactory, make_isbn13
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

DATA = Path(__file__).parent / "data"
LOC_SAMPLE = Path(importer.__file__).parent / "data" / "loc-sample.mrc"

pytestmark = pytest.mark.django_db


def loc_slice(tmp_path: Path, count: int) -> Path:
    """The first ``count`` records of the LoC sample, as a file."""
    raw = LOC_SAMPLE.read_bytes()
    end = 0
    for _ in range(count):
        end += int(raw[end : end + 5])
    path = tmp_path / f"loc-{count}.mrc"
    path.write_bytes(raw[:end])
    return path


def marc_record(control: str | None, title: str, *, isbns=(), extra=()) -> bytes:
    record = Record(force_utf8=True)
    record.leader = "00000nam a2200000 a 4500"
    if control:
        record.add_field(Field(tag="001", data=control))
    record.add_field(Field(tag="008", data="200101s2020    ne            000 1 dut d"))
    for isbn in isbns:
        record.add_field(
            Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn)])
        )
    record.add_field(
        Field(
            tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", "Reve, Gerard.")]
        )
    )
    record.add_field(
        Field(tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", title)])
    )
    record.add_field(*extra)
    return record.as_marc()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Edition, Work, Contributor, Subject, Identifier, EditionContributor)
    }


# --- broken records --------------------------------------------------------------------------

EXPECTED_SKIPS = [
    (2, 211, "bad-leader", "bad_leader"),
    (3, 430, "bad-indicator", "bad_indicator"),
    (4, 677, "bad-utf8", "undecodable"),
    (5, 892, "no-title", "no_title"),
    (7, 1272, "truncated", "truncated"),
]


@pytest.mark.parametrize("workers", [0, 1])
def test_broken_records_are_skipped_with_position_control_number_and_reason(tmp_path, workers):
    report = tmp_path / "report.csv"

    summary = import_marc(
        DATA / "bad-records.mrc", source="test", report_path=report, workers=workers
    )

    assert (summary.added, summary.updated, summary.skipped) == (2, 0, 5)
    assert [(e.position, e.offset, e.control_number, e.code) for e in summary.errors] == (
        EXPECTED_SKIPS
    )
    reasons = {e.code: e.reason for e in summary.errors}
    assert reasons["bad_leader"] == "bad leader: record length '00x19' is not a number"
    assert "missing indicators" in reasons["bad_indicator"]
    assert "not utf-8" in reasons["undecodable"]
    assert reasons["truncated"] == "truncated: 177 of 217 bytes before the end of the file"
    assert sorted(Edition.objects.values_list("source_id", flat=True)) == ["good-1", "good-2"]

    with open(report, newline="", encoding="utf-8") as rows:
        lines = list(csv.reader(rows))
    assert lines[0] == ["position", "offset", "control_number", "code", "reason"]
    assert [tuple(row[:4]) for row in lines[1:]] == [
        (str(p), str(o), c, code) for p, o, c, code in EXPECTED_SKIPS
    ]
    assert lines[1][4] == reasons["bad_leader"]


def test_summary_keeps_the_first_errors_and_the_report_gets_all(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_KEPT_ERRORS", 3)
    path = tmp_path / "untitled.mrc"
    path.write_bytes(b"".join(marc_record(f"n{n}", "") for n in range(8)))
    report = tmp_path / "report.csv"

    summary = import_marc(path, source="test", report_path=report, workers=0)

    assert summary.skipped == 8
    assert [e.control_number for e in summary.errors] == ["n0", "n1", "n2"]
    assert len(report.read_text().splitlines()) == 1 + 8


def test_a_file_without_records_is_skipped_in_bounded_pieces(tmp_path):
    path = tmp_path / "junk.mrc"
    path.write_bytes(b"x" * 250_000 + marc_record("after-junk", "Titel"))

    summary = import_marc(path, source="test", workers=0)

    assert [(e.position, e.offset, e.code) for e in summary.errors] == [
        (1, 0, "unreadable"),
        (2, 99_999, "unreadable"),
        (3, 199_998, "bad_leader"),
    ]
    assert summary.added == 0


def test_an_unreadable_file_is_a_domain_error(tmp_path):
    with pytest.raises(DomainError) as caught:
        import_marc(tmp_path / "missing.mrc")

    assert caught.value.code == "import_file_unreadable"


def test_a_text_stream_is_refused():
    with pytest.raises(DomainError) as caught:
        import_marc(io.StringIO("00000nam"))

    assert caught.value.code == "import_not_binary"


# --- encodings and formats -------------------------------------------------------------------


def test_marc8_records_are_converted_to_unicode():
    summary = import_marc(DATA / "marc8-cafe.mrc", source="test", workers=0)
    import_marc(DATA / "marc8.dat", source="test", workers=0)

    assert summary.added == 1
    cafe = Edition.objects.get(source_id="marc8-cafe")
    assert (cafe.title, cafe.subtitle, cafe.language) == ("Café de Flore", "récit", "fre")
    assert cafe.contributors_text == "Jürgen Müller"
    assert list(cafe.subjects.values_list("label", "key")) == [("Cafés -- Paris", "cafes paris")]
    loneliness = Edition.objects.get(source_id="2")
    assert loneliness.title == "Escape from loneliness"
    assert loneliness.contributors.get().name == "Tournier, Paul"


def test_marcxml_is_read_as_a_stream_of_records():
    summary = import_marc(DATA / "batch.xml", source="test")

    assert (summary.added, summary.skipped) == (2, 0)
    music = Edition.objects.get(source_id="5637241")
    assert (music.title, music.format) == ("The Great Ray Charles", Format.MUSIC)
    assert Edition.objects.get(source_id="12149120").title == "The White House"


def test_broken_xml_keeps_the_records_before_it_and_reports_the_rest(tmp_path):
    text = (DATA / "batch.xml").read_bytes()
    cut = text.index(b"<marc:record", text.index(b"</marc:record>"))
    path = tmp_path / "broken.xml"
    path.write_bytes(text[:cut] + b"<marc:record><marc:leader>oops</marc:record>")

    summary = import_marc(path, source="test")

    assert (summary.added, summary.skipped) == (1, 1)
    (error,) = summary.errors
    assert (error.position, error.offset, error.code) == (2, None, "xml_error")
    assert "line" in error.reason


# --- re-import -------------------------------------------------------------------------------


def test_reimport_updates_and_never_duplicates(tmp_path):
    path = loc_slice(tmp_path, 120)

    first = import_marc(path, workers=0)
    before = counts()
    stamps = dict(Edition.objects.values_list("id", "updated_at"))
    second = import_marc(path, workers=0)

    assert (first.added, first.updated, first.skipped) == (120, 0, 0)
    assert (second.added, second.updated, second.skipped) == (0, 120, 0)
    assert counts() == before
    # unchanged records leave their editions alone, so harvesters see no false changes
    assert dict(Edition.objects.values_list("id", "updated_at")) == stamps


def test_a_changed_record_updates_its_edition_and_links(tmp_path):
    path = tmp_path / "one.mrc"
    subject = Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "Oorlog")])
    path.write_bytes(marc_record("r1", "De avonden", isbns=["9789021400815"], extra=[subject]))
    import_marc(path, source="test", workers=0)
    edition = Edition.objects.get(source_id="r1")

    other = Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "Vrede")])
    path.write_bytes(marc_record("r1", "De avonden :", isbns=["9789021400808"], extra=[other]))
    summary = import_marc(path, source="test", workers=0)

    edition.refresh_from_db()
    assert (summary.added, summary.updated) == (0, 1)
    assert edition.isbn == "9789021400808"
    assert list(edition.subjects.values_list("label", flat=True)) == ["Vrede"]
    assert list(edition.identifiers.values_list("value", flat=True)) == ["9789021400808"]


def test_duplicate_control_numbers_in_one_file_make_one_edition(tmp_path):
    path = tmp_path / "twice.mrc"
    path.write_bytes(marc_record("r1", "Eerst") + marc_record("r1", "Daarna"))

    summary = import_marc(path, source="test", workers=0)

    assert (summary.added, summary.updated) == (1, 1)
    assert Edition.objects.get(source_id="r1").title == "Daarna"


def test_isbn_fallback_updates_an_edition_from_another_source(tmp_path):
    isbn = make_isbn13(42)
    seeded = EditionFactory(source="demo", source_id="max-havelaar-book", isbn=isbn)
    seeded.identifiers.create(value=isbn, as_printed=isbn)
    path = tmp_path / "havelaar.mrc"
    path.write_bytes(marc_record(None, "Max Havelaar", isbns=[isbn]))

    first = import_marc(path, source="loc", workers=0)
    second = import_marc(path, source="loc", workers=0)

    seeded.refresh_from_db()
    assert (first.added, first.updated, second.added, second.updated) == (0, 1, 0, 1)
    assert Edition.objects.count() == 1
    assert seeded.title == "Max Havelaar"
    assert (seeded.source, seeded.source_id) == ("demo", "max-havelaar-book")


def test_a_record_without_control_number_updates_itself_through_its_isbn(tmp_path):
    path = tmp_path / "bare.mrc"
    path.write_bytes(marc_record(None, "Eerste druk", isbns=["9789021400815"]))
    import_marc(path, source="test", workers=0)
    path.write_bytes(marc_record(None, "Tweede druk", isbns=["9789021400815"]))

    summary = import_marc(path, source="test", workers=0)

    assert (summary.added, summary.updated) == (0, 1)
    assert list(Edition.objects.values_list("title", flat=True)) == ["Tweede druk"]


def test_isbn_fallback_never_merges_two_records_with_their_own_control_numbers(tmp_path):
    path = tmp_path / "sharing.mrc"
    path.write_bytes(
        marc_record("a1", "Deel 1", isbns=["9789021400815"])
        + marc_record("a2", "Deel 2", isbns=["9789021400815"])
    )

    import_marc(path, source="test", workers=0)
    again = import_marc(path, source="test", workers=0)

    assert sorted(Edition.objects.values_list("source_id", flat=True)) == ["a1", "a2"]
    assert (again.added, again.updated) == (0, 2)


def test_invalid_isbn_is_kept_as_printed_and_flagged(tmp_path):
    path = tmp_path / "isbn.mrc"
    path.write_bytes(marc_record("i1", "Titel", isbns=["90-214-0081-X", "0-253-32552-8"]))

    import_marc(path, source="test", workers=0)

    edition = Edition.objects.get(source_id="i1")
    assert edition.isbn == "9780253325525"
    assert sorted(edition.identifiers.values_list("value", "as_printed", "is_valid")) == [
        ("90-214-0081-X", "90-214-0081-X", False),
        ("9780253325525", "0-253-32552-8", True),
    ]


def test_slugs_stay_unique_when_different_keys_make_the_same_slug(tmp_path):
    # Cyrillic folds to distinct keys but slugifies to nothing ("x")
    subjects = [
        Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", label)])
        for label in ("Толстой", "Чехов")
    ]
    path = tmp_path / "slugs.mrc"
    path.write_bytes(marc_record("s1", "Programmeren", extra=subjects))

    import_marc(path, source="test", workers=0)

    slugs = sorted(Subject.objects.values_list("slug", flat=True))
    assert len(slugs) == 2 == len(set(slugs))
    assert slugs[0] == "x"


# --- copies, audit, search -------------------------------------------------------------------


def test_items_go_round_robin_to_the_organisations_branches(tmp_path):
    organisation = OrganisationFactory()
    north, south = LocationFactory.create_batch(2, organisation=organisation, kind="branch")
    LocationFactory(organisation=organisation, kind="locker")
    LocationFactory(organisation=organisation, kind="branch", is_active=False)
    path = loc_slice(tmp_path, 10)

    summary = import_marc(path, organisation=organisation, items_per_edition=2, workers=0)
    again = import_marc(path, organisation=organisation, items_per_edition=2, workers=0)

    items = list(Item.objects.order_by("pk"))
    assert summary.items_created == 20 == len(items)
    assert again.items_created == 0
    assert {item.home_location_id for item in items} == {north.pk, south.pk}
    assert len({item.barcode for item in items}) == 20
    assert all(item.barcode.isdigit() and item.organisation_id == organisation.pk for item in items)
    assert all(item.shelf_mark for item in items)
    assert Edition.objects.filter(available_now=True).count() == 10


def test_items_need_an_organisation_with_a_branch():
    with pytest.raises(DomainError) as caught:
        import_marc(LOC_SAMPLE, items_per_edition=1)
    assert caught.value.code == "organisation_required"

    lockers_only = LocationFactory(kind="locker").organisation
    with pytest.raises(DomainError) as caught:
        import_marc(LOC_SAMPLE, organisation=lockers_only, items_per_edition=1)
    assert caught.value.code == "organisation_has_no_locations"


def test_one_audit_event_per_import(tmp_path):
    organisation = OrganisationFactory()

    import_marc(DATA / "bad-records.mrc", source="test", organisation=organisation, workers=0)

    event = AuditEvent.objects.get(action="catalog.import")
    assert event.subject == "catalog.import:test"
    assert event.organisation_id == organisation.pk
    assert event.data["added"] == 2
    assert event.data["skipped"] == 5
    assert event.data["file"] == "bad-records.mrc"


def test_imported_editions_are_searchable(tmp_path, search_index):
    from bieb.catalog import search

    import_marc(DATA / "marc8-cafe.mrc", source="test", workers=0)

    result = search.search(search.parse_query({"q": "cafe flore"}))
    assert result.edition_ids == [Edition.objects.get(source_id="marc8-cafe").pk]


def test_the_import_indexes_what_a_rebuild_would(tmp_path, search_index, monkeypatch):
    """The importer indexes new editions from the values it has just written; those documents
    must hold the same words and facet fields as the ones read back from the catalogue. A
    second file whose records share makers and subjects with the first (under other spellings
    of the same key) is the case where the two could differ."""
    from bieb.catalog import search
    from bieb.catalog.search import documents as search_documents

    written = []
    original = search.index_documents
    monkeypatch.setattr(
        search,
        "index_documents",
        lambda docs, **options: (written.extend(docs), original(docs, **options)),
    )
    organisation = OrganisationFactory()
    LocationFactory(organisation=organisation, kind="branch")
    monkeypatch.setattr(importer, "SUGGEST_EVERY", 50)  # flushes within and after batches
    import_marc(loc_slice(tmp_path, 300), source="loc", workers=0, batch_size=100)
    import_marc(DATA / "marc8.dat", source="other", workers=0)
    import_marc(DATA / "batch.xml", source="xml", organisation=organisation, items_per_edition=1)

    assert len(written) == Edition.objects.count() > 300
    assert any(d.available for d in written) and not all(d.available for d in written)
    read_back = {
        d.edition_id: d for d in search_documents.build_documents([d.edition_id for d in written])
    }
    for doc in written:
        again = read_back[doc.edition_id]
        for name in ("title", "authors", "series", "subjects", "body", "isbn"):
            assert sorted(getattr(doc.text, name).split()) == sorted(
                getattr(again.text, name).split()
            ), (
                doc.edition_id,
                name,
            )
        assert doc.text.words == again.text.words
        assert doc.facet_key == again.facet_key
        assert doc.created == again.created

    # the autocomplete rows, written once per work and maker at the end, are a rebuild's too
    def suggestion_rows():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT kind, ref_id, key, text, edition_id, slug, weight"
                " FROM catalog_search_suggestion"
            )
            return sorted(cursor.fetchall())

    imported = suggestion_rows()
    search.rebuild_index()
    assert imported == suggestion_rows()
    assert len(imported) > 600


# --- streaming -------------------------------------------------------------------------------


def test_records_are_written_while_the_file_is_still_being_read(monkeypatch):
    monkeypatch.setattr(importer, "BLOCK_SIZE", 32 * 1024)
    stream = io.BytesIO(LOC_SAMPLE.read_bytes())
    read_at_first_batch = []

    import_marc(
        stream,
        batch_size=100,
        workers=0,
        progress=lambda summary: read_at_first_batch.append(stream.tell()),
    )

    size = LOC_SAMPLE.stat().st_size
    assert Edition.objects.count() == 1500
    assert read_at_first_batch[0] < size / 5


def test_reading_keeps_no_record_alive():
    """Reading 1,500 records holds one block and one group of records at a time: far less
    memory than the records themselves (a list of them takes about 20 MB)."""
    tracemalloc.start()
    try:
        with open(LOC_SAMPLE, "rb") as stream:
            count = sum(1 for outcome in read_marc(stream) if outcome.data is not None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 1500
    assert peak < 8 * 1024 * 1024


# --- the command -----------------------------------------------------------------------------


def test_command_imports_and_prints_the_summary(tmp_path):
    out = io.StringIO()
    report = tmp_path / "skipped.csv"

    call_command(
        "catalog",
        "import",
        str(DATA / "bad-records.mrc"),
        "--source",
        "test",
        "--report",
        str(report),
        stdout=out,
    )

    printed = out.getvalue()
    assert "7 records" in printed
    assert "2 added, 0 updated, 5 skipped" in printed
    assert "skipped record 2 at byte 211 (bad-leader): bad leader" in printed
    assert report.exists()


def test_command_makes_copies_for_an_organisation_by_code(tmp_path):
    organisation = OrganisationFactory(code="BAM")
    LocationFactory(organisation=organisation)
    out = io.StringIO()

    path = str(loc_slice(tmp_path, 5))
    call_command("catalog", "import", path, "--organisation", "BAM", "--items", "1", stdout=out)

    assert Item.objects.filter(organisation=organisation).count() == 5
    assert "5 copies" in out.getvalue()


def test_command_refuses_an_unknown_organisation_and_a_missing_file(tmp_path):
    OrganisationFactory(code="BUT")

    with pytest.raises(CommandError, match="unknown organisation 'NOPE'; known codes: BUT"):
        call_command("catalog", "import", str(DATA / "marc8.dat"), "--organisation", "NOPE")
    with pytest.raises(CommandError, match="no such file"):
        call_command("catalog", "import", str(tmp_path / "missing.mrc"))
    assert Edition.objects.count() == 0


def test_command_without_subcommand_prints_help():
    out = io.StringIO()

    call_command("catalog", stdout=out)

    assert "fetch-sample" in out.getvalue()


def test_fetch_sample_extracts_the_one_file_from_the_archive_and_imports_it(tmp_path):
    archive = tmp_path / "pymarc-5.4.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DATA / "marc8-cafe.mrc", arcname="pymarc-5.4.0/BooksAll.2016.part01.utf8")
        tar.add(DATA / "marc8.dat", arcname="../escape.dat")
    out = io.StringIO()

    call_command("catalog", "fetch-sample", "--dest", str(tmp_path), "--import", stdout=out)
    call_command("catalog", "fetch-sample", "--dest", str(tmp_path), stdout=out)

    sample = tmp_path / "BooksAll.2016.part01.utf8"
    assert sample.read_bytes() == (DATA / "marc8-cafe.mrc").read_bytes()
    assert not (tmp_path.parent / "escape.dat").exists()
    assert "already there" in out.getvalue()
    assert Edition.objects.get(source="loc").title == "Café de Flore"


def test_fetch_sample_reports_a_broken_archive(tmp_path):
    (tmp_path / "pymarc-5.4.0.tar.gz").write_bytes(b"not a tar file")

    with pytest.raises(CommandError, match="cannot extract"):
        call_command("catalog", "fetch-sample", "--dest", str(tmp_path))
    assert not (tmp_path / "BooksAll.2016.part01.utf8").exists()
