"""MARC 21 to edition data and back: the mapping rules on crafted records, and the MARCXML
export read back by pymarc."""

from __future__ import annotations

import io

import pymarc
import pytest
from pymarc import Field, Indicators, Record, Subfield

from bieb.catalog import text
from bieb.catalog.interop import marc
from bieb.catalog.interop.marc import RecordRejected, clean, record_to_edition_data
from bieb.catalog.models import Audience, ContributorRole, Format, SubjectKind
from bieb.catalog.tests.factories import EditionFactory, make_isbn13

FIXED = "200101s2020    ne            000 1 dut d"


def fixed(**positions: str) -> str:
    """008 with characters replaced at positions: ``fixed(p22="j", p35="eng")``."""
    chars = list(FIXED)
    for key, value in positions.items():
        start = int(key[1:])
        chars[start : start + len(value)] = value
    return "".join(chars)


def data_field(tag: str, *pairs: str, ind: str = "  ") -> Field:
    """``data_field("245", "a", "Titel :", "b", "ondertitel")``."""
    codes = pairs[0::2]
    values = pairs[1::2]
    return Field(
        tag=tag,
        indicators=Indicators(ind[0], ind[1]),
        subfields=[Subfield(c, v) for c, v in zip(codes, values, strict=True)],
    )


def record(*fields: Field, leader: str = "00000nam a2200000 a 4500", f008: str = FIXED) -> Record:
    rec = Record()
    rec.leader = pymarc.Leader(leader)
    rec.add_field(Field(tag="001", data="test-1"), Field(tag="008", data=f008))
    if not any(f.tag == "245" for f in fields):
        rec.add_field(data_field("245", "a", "Titel"))
    rec.add_field(*fields)
    return rec


def mapped(*fields: Field, **kwargs):
    return record_to_edition_data(record(*fields, **kwargs))


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "clean_text"),
    [
        ("Aristocrats of color :", "Aristocrats of color"),
        ("Escape from loneliness /", "Escape from loneliness"),
        ("Gatewood, Willard B.", "Gatewood, Willard B."),
        ("Bruce, Blanche Kelso, 1841-1898.", "Bruce, Blanche Kelso, 1841-1898"),
        ("Indiana University Press,", "Indiana University Press"),
        ("[Washington, D.C.]", "Washington, D.C."),
        ("Caf\u0065\u0301 ;", "Café"),
        ("Vol. 2 =", "Vol. 2"),
        ("Line\x1bbreak\x00 here.", "Line break here"),
    ],
)
def test_clean_strips_isbd_punctuation_and_composes_accents(printed, clean_text):
    assert clean(printed) == clean_text


@pytest.mark.parametrize(
    "value", ["Reve, Gerard", "Hello_World  x", "ÉCOLE de Café", "a _ b", "Ørsted; ĳs", "!!"]
)
def test_fold_shortcut_agrees_with_text_fold(value):
    assert marc.fold(value) == text.fold(value)


# --- fields ----------------------------------------------------------------------------------


def test_title_subtitle_parts_and_control_number():
    data = mapped(
        data_field("245", "a", "De avonden :", "b", "een winterverhaal /", "c", "Gerard Reve."),
    )

    assert (data.title, data.subtitle, data.source_id) == (
        "De avonden",
        "een winterverhaal",
        "test-1",
    )


def test_title_with_part_number_and_name():
    data = mapped(data_field("245", "a", "Harry Potter.", "n", "Part 2,", "p", "The return."))

    assert data.title == "Harry Potter. Part 2. The return"


def test_record_without_title_is_rejected():
    rec = Record()
    rec.add_field(Field(tag="001", data="x"), data_field("100", "a", "Reve, Gerard."))

    with pytest.raises(RecordRejected) as caught:
        record_to_edition_data(rec)

    assert caught.value.code == "no_title"


def test_control_number_falls_back_to_lccn_and_then_a_content_id():
    rec = Record()
    rec.add_field(data_field("010", "a", "   89046000 "), data_field("245", "a", "Titel"))
    assert record_to_edition_data(rec).import_id == "89046000"

    bare = Record()
    bare.add_field(data_field("245", "a", "Titel"))
    first, again = record_to_edition_data(bare), record_to_edition_data(bare)
    assert first.source_id == ""
    assert first.import_id.startswith("h:")
    assert first.import_id == again.import_id


def test_contributors_with_relator_terms_codes_and_defaults():
    data = mapped(
        data_field("100", "a", "Sendak, Maurice,", "d", "1928-2012,", "e", "author, illustrator."),
        data_field("700", "a", "Kuipers, Wiebe,", "e", "vertaler."),
        data_field("700", "a", "Vos, Peter,", "4", "ill"),
        data_field("700", "a", "Fry, Stephen,", "4", "nrt"),
        data_field("700", "a", "Verhoeven, Paul,", "e", "film director."),
        data_field("700", "a", "Houten, Carice van,", "4", "prf"),
        data_field("700", "a", "Jansen, Anna,", "e", "editor."),
        data_field("700", "a", "Somebody, Else."),
        data_field("710", "a", "Rijksmuseum.", "b", "Afdeling Prenten."),
    )

    credits = [(c.name, c.role) for c in data.credits]
    assert credits == [
        ("Sendak, Maurice", ContributorRole.AUTHOR),
        ("Sendak, Maurice", ContributorRole.ILLUSTRATOR),
        ("Kuipers, Wiebe", ContributorRole.TRANSLATOR),
        ("Vos, Peter", ContributorRole.ILLUSTRATOR),
        ("Fry, Stephen", ContributorRole.NARRATOR),
        ("Verhoeven, Paul", ContributorRole.DIRECTOR),
        ("Houten, Carice van", ContributorRole.PERFORMER),
        ("Jansen, Anna", ContributorRole.EDITOR),
        ("Somebody, Else", ContributorRole.OTHER),
        ("Rijksmuseum. Afdeling Prenten", ContributorRole.OTHER),
    ]
    assert data.credits[0].dates == "1928-2012"
    assert data.credits[0].key == "sendak maurice"
    assert data.credits[0].slug == "maurice-sendak"
    assert data.author_name == "Sendak, Maurice"
    assert data.contributors_text.startswith("Maurice Sendak; Wiebe Kuipers; Peter Vos")
    assert data.work_key == text.work_key("Titel", "Sendak, Maurice")


def test_isbns_are_normalised_to_13_digits_and_invalid_ones_kept_as_printed():
    data = mapped(
        data_field("020", "a", "0-253-32552-8 (alk. paper)"),
        data_field("020", "a", "9789021400818", "q", "paperback"),
        data_field("020", "z", "9789021400815"),
        data_field("020", "a", "978-90-214-0081-5"),
        data_field("022", "a", "0317-8471"),
    )

    rows = [(i.kind, i.value, i.as_printed, i.qualifier, i.is_valid) for i in data.identifiers]
    assert rows == [
        ("isbn", "9780253325525", "0-253-32552-8", "alk. paper", True),
        ("isbn", "9789021400818", "9789021400818", "paperback", False),
        ("isbn", "9789021400815", "9789021400815", "", False),
        ("issn", "0317-8471", "0317-8471", "", True),
    ]
    assert data.isbn == "9780253325525"


def test_a_valid_isbn_wins_over_the_same_number_cancelled():
    data = mapped(data_field("020", "a", "9789021400815"), data_field("020", "z", "9789021400815"))

    assert [(i.value, i.is_valid) for i in data.identifiers] == [("9789021400815", True)]


def test_publisher_place_and_year_from_264_or_260():
    data = mapped(
        data_field("260", "a", "Bloomington :", "b", "Indiana University Press,", "c", "c1990."),
        data_field("264", "a", "Amsterdam :", "b", "Querido,", "c", "[2021]", ind=" 1"),
        f008=fixed(p7="2021"),
    )
    assert (data.place_of_publication, data.publisher, data.year) == ("Amsterdam", "Querido", 2021)

    older = mapped(
        data_field("260", "a", "Bloomington :", "b", "Indiana University Press,", "c", "c1990."),
        f008=fixed(p6="n", p7="uuuu"),
    )
    assert (older.publisher, older.year) == ("Indiana University Press", 1990)


@pytest.mark.parametrize(
    ("f008", "fields", "language"),
    [
        (fixed(p35="dut"), [], "dut"),
        (fixed(p35="   "), [data_field("041", "a", "fre", "a", "eng")], "fre"),
        (fixed(p35="und"), [data_field("041", "a", "ger")], "ger"),
        (fixed(p35="|||"), [], ""),
    ],
)
def test_language_from_008_with_041_fallback(f008, fields, language):
    assert mapped(*fields, f008=f008).language == language


@pytest.mark.parametrize(
    ("leader", "f008", "fields", "expected"),
    [
        ("00000nam a2200000 a 4500", FIXED, [], Format.BOOK),
        ("00000nam a2200000 a 4500", fixed(p23="d"), [], Format.LARGE_PRINT),
        (
            "00000nam a2200000 a 4500",
            FIXED,
            [data_field("250", "a", "Grote letter editie.")],
            Format.LARGE_PRINT,
        ),
        (
            "00000nam a2200000 a 4500",
            FIXED,
            [data_field("300", "a", "379 p. (large print) ;", "c", "25 cm.")],
            Format.LARGE_PRINT,
        ),
        (
            "00000nam a2200000 a 4500",
            FIXED,
            [data_field("338", "a", "online resource", "b", "cr")],
            Format.EBOOK,
        ),
        ("00000nam a2200000 a 4500", fixed(p23="o"), [], Format.EBOOK),
        (
            # a printed book LoC scanned: 007 "cr" and a link to the scan stay a book
            "00000nam a2200000 a 4500",
            FIXED,
            [
                data_field("300", "a", "xii, 333 p.", "c", "20 cm."),
                data_field("856", "u", "http://hdl.loc.gov/x", ind="41"),
            ],
            Format.BOOK,
        ),
        (
            "00000nim a2200000 a 4500",
            FIXED,
            [data_field("300", "a", "8 audio discs")],
            Format.AUDIO_CD,
        ),
        (
            "00000nim a2200000 a 4500",
            FIXED,
            [data_field("338", "a", "online resource")],
            Format.AUDIOBOOK,
        ),
        ("00000ngm a2200000 a 4500", FIXED, [data_field("300", "a", "1 videodisc")], Format.FILM),
        ("00000njm a2200000 a 4500", FIXED, [], Format.MUSIC),
        (
            "00000nrm a2200000 a 4500",
            FIXED,
            [data_field("655", "a", "Board games.", ind=" 7")],
            Format.GAME,
        ),
        ("00000nrm a2200000 a 4500", FIXED, [data_field("300", "a", "1 drill")], Format.THING),
        ("00000nas a2200000 a 4500", FIXED, [], Format.MAGAZINE),
    ],
)
def test_format_from_leader_fixed_fields_and_carrier(leader, f008, fields, expected):
    assert mapped(*fields, leader=leader, f008=f008).format == expected


@pytest.mark.parametrize(
    ("statement", "pages", "minutes"),
    [
        ("xii, 345 p.", 345, None),
        ("vi, 81, [1] p.", 81, None),
        ("xii, 450 p., [16] p. of plates", 450, None),
        ("[32] p.", 32, None),
        ("2 v. (xx, 800 p.)", 800, None),
        ("1 online resource (345 pages)", 345, None),
        ("1 audio disc (75 min.)", None, 75),
        ("1 videodisc (1 hr., 52 min.)", None, 112),
        ("3 v.", None, None),
    ],
)
def test_pages_and_duration_from_300(statement, pages, minutes):
    data = mapped(data_field("300", "a", statement, "c", "24 cm."))

    assert (data.pages, data.duration_minutes) == (pages, minutes)
    assert data.extent.startswith(statement.rstrip("."))


def test_duration_from_306_playing_time():
    assert mapped(data_field("306", "a", "013000")).duration_minutes == 90


def test_series_and_number():
    data = mapped(data_field("490", "a", "Harry Potter ;", "v", "deel 2", ind="1 "))

    assert (data.series, data.series_number) == ("Harry Potter", "deel 2")


def test_subjects_with_kinds_and_subdivisions():
    data = mapped(
        data_field("600", "a", "Frank, Anne,", "d", "1929-1945", "v", "Diaries.", ind="10"),
        data_field("650", "a", "World War, 1939-1945", "x", "Jews", "z", "Netherlands.", ind=" 0"),
        data_field("651", "a", "Amsterdam (Netherlands)", "x", "History.", ind=" 0"),
        data_field("655", "a", "Diaries.", "2", "lcgft", ind=" 7"),
        data_field("610", "a", "Rijksmuseum.", ind="20"),
        data_field(
            "650", "a", "World War, 1939-1945 --", "x", "Jews", "z", "Netherlands", ind=" 7"
        ),
    )

    subjects = [(s.label, s.kind) for s in data.subjects]
    assert subjects == [
        ("Frank, Anne, 1929-1945 -- Diaries", SubjectKind.PERSON),
        ("Rijksmuseum", SubjectKind.TOPIC),
        ("World War, 1939-1945 -- Jews -- Netherlands", SubjectKind.TOPIC),
        ("Amsterdam (Netherlands) -- History", SubjectKind.PLACE),
        ("Diaries", SubjectKind.GENRE),
    ]
    assert data.subjects[2].key == "world war 1939 1945 jews netherlands"


@pytest.mark.parametrize(
    ("code", "audience", "ages"),
    [
        ("a", Audience.TODDLER, (0, 5)),
        ("b", Audience.CHILD, (6, 8)),
        ("c", Audience.CHILD, (9, 13)),
        ("d", Audience.TEEN, (14, 17)),
        ("j", Audience.CHILD, (None, None)),
        ("e", Audience.ADULT, (None, None)),
        ("g", Audience.ADULT, (None, None)),
        (" ", "", (None, None)),
    ],
)
def test_audience_from_008(code, audience, ages):
    data = mapped(f008=fixed(p22=code))

    assert (data.audience, (data.age_min, data.age_max)) == (audience, ages)


@pytest.mark.parametrize(
    ("note", "audience", "ages"),
    [
        ("Ages 4-8.", Audience.CHILD, (4, 8)),
        ("Age 14 and up.", Audience.TEEN, (14, None)),
        ("Grades 3-5.", Audience.CHILD, (8, 11)),
        ("Interest age level 2-4", Audience.TODDLER, (2, 4)),
    ],
)
def test_audience_note_521_gives_ages(note, audience, ages):
    data = mapped(data_field("521", "a", note), f008=fixed(p22="j"))

    assert (data.audience, (data.age_min, data.age_max)) == (audience, ages)


def test_maps_and_serials_have_no_audience_in_008():
    assert mapped(leader="00000nas a2200000 a 4500", f008=fixed(p22="j")).audience == ""


def test_description_and_call_number():
    data = mapped(
        data_field("520", "a", "Een jongen zoekt zijn vader."),
        data_field("082", "a", "839.3/1364", "2", "23", ind="04"),
    )

    assert data.description == "Een jongen zoekt zijn vader."
    assert (data.call_number, data.call_number_complete) == ("839.31364", False)
    lc = mapped(data_field("050", "a", "PT5881.28.E9", "a", "PT5881.29", "b", "A9 1947", ind="00"))
    assert (lc.call_number, lc.call_number_complete) == ("PT5881.28.E9 A9 1947", True)


# --- export ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_marcxml_export_reads_back_with_pymarc_to_the_same_edition():
    edition = EditionFactory(
        title="Café de Flore",
        subtitle="verhalen uit Parijs",
        authors=["Müller, Jürgen", "Kuipers, Wiebe"],
        subject_labels=["Cafés -- Parijs", "Oorlog"],
        year=1999,
        language="fre",
        publisher="Querido",
        isbn=make_isbn13(7),
        pages=212,
        series="Grote verhalen",
        series_number="3",
        description="Over het leven in cafés.",
    )
    edition.credits.filter(position=1).update(role=ContributorRole.TRANSLATOR)
    edition.identifiers.create(value=edition.isbn, as_printed=edition.isbn)
    edition.identifiers.create(value="90-123", as_printed="90-123", is_valid=False)

    document = marc.edition_marcxml(edition)
    (record,) = pymarc.parse_xml_to_array(io.BytesIO(document))
    data = record_to_edition_data(record)

    assert document.startswith(b"<?xml")
    assert b'xmlns="http://www.loc.gov/MARC21/slim"' in document
    assert record["001"].data == f"bieb-{edition.pk}"
    assert (data.title, data.subtitle) == ("Café de Flore", "verhalen uit Parijs")
    assert [(c.name, c.role) for c in data.credits] == [
        ("Müller, Jürgen", ContributorRole.AUTHOR),
        ("Kuipers, Wiebe", ContributorRole.TRANSLATOR),
    ]
    assert [(i.value, i.is_valid) for i in data.identifiers] == [
        (edition.isbn, True),
        ("90-123", False),
    ]
    assert sorted(s.label for s in data.subjects) == ["Cafés -- Parijs", "Oorlog"]
    assert (data.year, data.language, data.publisher, data.pages) == (1999, "fre", "Querido", 212)
    assert (data.series, data.series_number) == ("Grote verhalen", "3")
    assert data.description == "Over het leven in cafés."
    assert data.format == Format.BOOK
    assert record["856"]["u"] == f"/titels/{edition.pk}"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", Format.values)
def test_every_format_survives_the_export(fmt):
    edition = EditionFactory(format=fmt, audience=Audience.CHILD, age_min=6, age_max=9)

    (record,) = pymarc.parse_xml_to_array(io.BytesIO(marc.edition_marcxml(edition)))
    data = record_to_edition_data(record)

    assert data.format == fmt
    assert (data.audience, data.age_min, data.age_max) == (Audience.CHILD, 6, 9)


@pytest.mark.django_db
def test_the_marcxml_download_is_well_formed_even_with_control_characters():
    from lxml import etree

    from bieb.catalog.interop.marc import edition_marcxml
    from bieb.catalog.tests.factories import EditionFactory

    edition = EditionFactory(title="Oud\x0b record\x1f", description="Regel\x07 een")

    root = etree.fromstring(edition_marcxml(edition))

    titles = root.xpath(
        "//m:datafield[@tag='245']/m:subfield[@code='a']/text()",
        namespaces={"m": "http://www.loc.gov/MARC21/slim"},
    )
    assert titles and "Oud record" in titles[0]
