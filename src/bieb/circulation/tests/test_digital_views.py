"""Digital lending on the site: the title page's buttons, "Mijn digitaal", the signed file links
(EPUB download, audio with HTTP range requests) and the demo titles with their real files."""

from __future__ import annotations

import datetime as dt
import io
import wave
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from bieb.catalog import services as catalog_services
from bieb.catalog.models import DigitalLicence, Edition, Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital, digital_demo, digital_files, digital_links, ranges
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus
from bieb.circulation.tests.factories import adult
from bieb.core import clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test its own BIEB_VAR: files are written under ``media/digital``."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "media" / "digital"


def title(fmt=Format.EBOOK, model=LicenceModel.ONE_COPY_ONE_USER, **kwargs) -> Edition:
    edition = EditionFactory(title="Max Havelaar", format=fmt)
    catalog_services.licence_create(edition=edition, model=model, **kwargs)
    return edition


def with_file(edition: Edition, data: bytes, extension: str) -> bytes:
    path = digital_files.media_dir() / f"{digital_files.content_stem(edition)}.{extension}"
    digital_files.write_atomically(path, data)
    return data


def tones(seconds: float = 3.0) -> bytes:
    return digital_files.build_wav([("A4", seconds / 2), ("E5", seconds / 2)])


def page(client, edition) -> str:
    return client.get(reverse("catalog:edition", args=[edition.pk])).content.decode()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- the title page --------------------------------------------------------------------------


def test_the_title_page_offers_what_the_reader_can_do(client):
    edition = title()
    reader, other = adult(), adult()

    assert "Log in om te lenen" in page(client, edition)
    client.force_login(reader)
    assert f'action="{reverse("digital:borrow", args=[edition.pk])}"' in page(client, edition)

    digital.digital_checkout(patron=reader, edition=edition)
    assert "Lees nu" in page(client, edition)

    client.force_login(other)
    html = page(client, edition)
    assert "Zet op mijn wachtlijst" in html and "Wachtrij: 0 personen" in html
    assert reverse("digital:borrow", args=[edition.pk]) not in html


def test_a_printed_book_has_no_digital_buttons(client):
    book = EditionFactory(format=Format.BOOK)
    client.force_login(adult())

    html = page(client, book)

    assert "digitaal-lenen" not in html


def test_borrowing_from_the_title_page_leads_to_my_digital_page(client):
    edition = title(fmt=Format.AUDIOBOOK, model=LicenceModel.CONCURRENT, concurrent_users=2)
    person = adult()
    client.force_login(person)

    response = client.post(reverse("digital:borrow", args=[edition.pk]))

    loan = DigitalLoan.objects.get(patron=person, edition=edition)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('digital:mine')}#lening-{loan.pk}"
    assert client.get(reverse("digital:borrow", args=[edition.pk])).status_code == 405


def test_a_refusal_goes_back_to_the_title_page_with_the_reason(client):
    edition = title()
    digital.digital_checkout(patron=adult(), edition=edition)
    client.force_login(adult())

    response = client.post(reverse("digital:borrow", args=[edition.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("catalog:edition", args=[edition.pk])
    assert "Alle licenties zijn uitgeleend" in response.content.decode()


def test_joining_and_leaving_the_waiting_list(client):
    edition = title()
    digital.digital_checkout(patron=adult(), edition=edition)
    person = adult()
    client.force_login(person)

    client.post(reverse("digital:hold_place", args=[edition.pk]))
    hold = DigitalHold.objects.get(patron=person, edition=edition)
    html = client.get(reverse("digital:mine")).content.decode()
    assert "Plaats 1 op de wachtlijst" in html

    client.post(reverse("digital:hold_cancel", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.status == HoldStatus.CANCELLED


def test_anonymous_visitors_are_sent_to_log_in(client):
    edition = title()

    response = client.post(reverse("digital:borrow", args=[edition.pk]))

    assert response.status_code == 302 and response["Location"].startswith("/inloggen")
    assert not DigitalLoan.objects.exists()


# --- mijn digitaal ---------------------------------------------------------------------------


def test_my_digital_page_has_a_player_a_download_and_a_return_button(client):
    book = title()
    audio = title(fmt=Format.AUDIOBOOK, model=LicenceModel.CONCURRENT, concurrent_users=2)
    with_file(book, digital_demo._file_bytes(digital_demo.TITLES[0], book)[1], "epub")
    with_file(audio, tones(), "wav")
    person = adult()
    loans = [digital.digital_checkout(patron=person, edition=e) for e in (book, audio)]
    client.force_login(person)

    response = client.get(reverse("digital:mine"))

    html = response.content.decode()
    root = etree.HTML(response.content)
    players = root.xpath("//audio[@controls]")
    assert len(players) == 1 and players[0].get("src").startswith("/digitaal/inhoud/")
    downloads = root.xpath("//a[@download and contains(@href, '/digitaal/inhoud/')]")
    assert {a.get("download").rsplit(".", 1)[1] for a in downloads} == {"epub", "wav"}
    for loan in loans:
        assert reverse("digital:return", args=[loan.pk]) in html
    assert "/opds" in html and response["Cache-Control"].startswith("max-age=0")


def test_giving_back_ends_the_loan_and_someone_elses_loan_is_not_found(client):
    edition = title()
    person, stranger = adult(), adult()
    loan = digital.digital_checkout(patron=person, edition=edition)

    client.force_login(stranger)
    assert client.post(reverse("digital:return", args=[loan.pk])).status_code == 404

    client.force_login(person)
    client.post(reverse("digital:return", args=[loan.pk]))
    loan.refresh_from_db()
    assert loan.returned_at is not None


def test_my_digital_page_needs_the_same_queries_for_one_loan_or_many(client):
    person = adult()
    client.force_login(person)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("digital:mine")).status_code == 200
        return len(context.captured_queries)

    digital.digital_checkout(patron=person, edition=title(model=LicenceModel.ALWAYS))
    busy = title()
    digital.digital_checkout(patron=adult(), edition=busy)
    digital.digital_hold_place(patron=person, edition=busy)
    few = queries()
    for _ in range(3):
        digital.digital_checkout(patron=person, edition=title(model=LicenceModel.ALWAYS))
        other = title()
        digital.digital_checkout(patron=adult(), edition=other)
        digital.digital_hold_place(patron=person, edition=other)

    assert queries() == few


# --- the files behind the signed links -------------------------------------------------------


def test_an_epub_is_a_download_for_a_reading_app(client):
    edition = title()
    data = with_file(edition, digital_demo._file_bytes(digital_demo.TITLES[0], edition)[1], "epub")
    loan = digital.digital_checkout(patron=adult(), edition=edition)

    response = client.get(reverse("digital:content", args=[digital_links.content_token(loan)]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/epub+zip"
    assert response["Content-Disposition"].startswith('attachment; filename="max-havelaar-')
    assert response["Content-Length"] == str(len(data)) and body(response) == data


def test_audio_streams_with_range_requests_so_a_player_can_seek(client):
    edition = title(fmt=Format.AUDIOBOOK, model=LicenceModel.ALWAYS)
    data = with_file(edition, tones(4.0), "wav")
    size = len(data)
    url = reverse(
        "digital:content",
        args=[
            digital_links.content_token(digital.digital_checkout(patron=adult(), edition=edition))
        ],
    )

    whole = client.get(url)
    assert (whole.status_code, whole["Accept-Ranges"], whole["Content-Type"]) == (
        200,
        "bytes",
        "audio/wav",
    )
    assert whole["Content-Disposition"].startswith("inline;") and body(whole) == data

    start = client.get(url, HTTP_RANGE="bytes=0-")  # what a browser's <audio> sends first
    assert start.status_code == 206 and start["Content-Range"] == f"bytes 0-{size - 1}/{size}"

    middle = size // 2
    seek = client.get(url, HTTP_RANGE=f"bytes={middle}-{middle + 999}")
    assert seek.status_code == 206
    assert seek["Content-Range"] == f"bytes {middle}-{middle + 999}/{size}"
    assert seek["Content-Length"] == "1000" and body(seek) == data[middle : middle + 1000]

    tail = client.get(url, HTTP_RANGE="bytes=-100")
    assert (
        body(tail) == data[-100:]
        and tail["Content-Range"] == f"bytes {size - 100}-{size - 1}/{size}"
    )

    past = client.get(url, HTTP_RANGE="bytes=10-99999999")
    assert past.status_code == 206 and body(past) == data[10:]

    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"

    for ignored in ("bytes=abc", "items=0-10", "bytes=5-1", "bytes=0-1,5-6"):
        response = client.get(url, HTTP_RANGE=ignored)
        assert response.status_code == 200 and body(response) == data, ignored

    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"not-this-file"')
    assert stale.status_code == 200
    fresh = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=whole["ETag"])
    assert fresh.status_code == 206 and body(fresh) == data[:10]

    head = client.head(url, HTTP_RANGE="bytes=0-9")
    assert head.status_code == 206 and head["Content-Length"] == "10" and body(head) == b""


def test_odd_range_numbers_get_the_whole_file_or_416_never_an_error(client):
    edition = title(fmt=Format.AUDIOBOOK, model=LicenceModel.ALWAYS)
    data = with_file(edition, tones(1.0), "wav")
    size = len(data)
    url = reverse(
        "digital:content",
        args=[
            digital_links.content_token(digital.digital_checkout(patron=adult(), edition=edition))
        ],
    )
    huge = "9" * 5000  # past Python's 4300-digit limit on int()

    for whole in (
        f"bytes=0-{huge}",
        f"bytes={huge}-",
        f"bytes=-{huge}",
        "bytes=\u0661\u0660-\u0662\u0660",  # Arabic-Indic digits: 10-20
        "bytes=\uff10-\uff19",  # full-width digits
        "bytes=00000000000000000001-2",  # 20 digits
    ):
        response = client.get(url, HTTP_RANGE=whole)
        assert response.status_code == 200 and body(response) == data, whole[:30]

    assert ranges.parse_range("bytes=\u0661\u0660-", size) is None  # not read as 10
    assert ranges.parse_range(f"bytes=-{huge}", size) is None
    largest = "9" * 19
    beyond = client.get(url, HTTP_RANGE=f"bytes={largest}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    capped = client.get(url, HTTP_RANGE=f"bytes=0-{largest}")
    assert capped.status_code == 206 and capped["Content-Range"] == f"bytes 0-{size - 1}/{size}"


def test_a_link_stops_working_when_the_loan_ends_or_the_hour_is_over(client):
    edition = title()
    with_file(edition, b"PK-not-really", "epub")
    loan = digital.digital_checkout(patron=adult(), edition=edition)
    token = digital_links.content_token(loan)
    url = reverse("digital:content", args=[token])

    assert client.get(reverse("digital:content", args=[token + "x"])).status_code == 404
    with clock.frozen(clock.now() + dt.timedelta(seconds=digital_links.LINK_SECONDS + 5)):
        expired = client.get(url)
    assert expired.status_code == 410 and "verlopen" in expired.content.decode()

    digital.digital_return(loan)
    assert client.get(url).status_code == 410


def test_a_loan_without_its_file_says_so(client):
    edition = title()
    loan = digital.digital_checkout(patron=adult(), edition=edition)

    response = client.get(reverse("digital:content", args=[digital_links.content_token(loan)]))

    assert response.status_code == 404
    assert 'data-code="content_missing"' in response.content.decode()


# --- the demo titles and their files ---------------------------------------------------------


def test_the_demo_titles_come_with_a_licence_of_every_model_and_real_files(media):
    report = digital_demo.ensure_demo_digital()

    editions = Edition.objects.filter(source=digital_demo.SOURCE)
    assert report["created"] == 5 and report["files_written"] == 5
    models = set(
        DigitalLicence.objects.filter(edition__in=editions).values_list("model", flat=True)
    )
    assert models == set(LicenceModel.values)
    assert all(e.available_now for e in editions)
    for edition in editions:
        found = digital_files.content_for(edition)
        assert found is not None, edition.title
        if edition.format == Format.EBOOK:
            assert_valid_epub(found.path.read_bytes())
        else:
            with wave.open(str(found.path)) as sound:
                seconds = sound.getnframes() / sound.getframerate()
                assert sound.getnchannels() == 1 and sound.getsampwidth() == 2
            assert 5 < seconds < 60

    again = digital_demo.ensure_demo_digital()
    assert (again["created"], again["files_written"]) == (0, 0)
    assert DigitalLicence.objects.filter(edition__in=editions).count() == 5


def test_a_demo_ebook_can_be_borrowed_and_downloaded(client):
    digital_demo.ensure_demo_digital()
    edition = Edition.objects.get(
        source=digital_demo.SOURCE, format=Format.EBOOK, title__startswith="Max"
    )
    loan = digital.digital_checkout(patron=adult(), edition=edition)

    response = client.get(reverse("digital:content", args=[digital_links.content_token(loan)]))

    data = body(response)
    assert_valid_epub(data)
    assert "Lauriergracht" in epub_text(data)


OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"


def assert_valid_epub(data: bytes) -> None:
    """The structural rules of EPUB 3 (OCF 3.3 and Packages 3.3) a reading app relies on."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert first.extra == b"" and archive.read("mimetype") == b"application/epub+zip"
    assert data[30:38] == b"mimetype"  # right after the first local header: readable by magic
    container = etree.fromstring(archive.read("META-INF/container.xml"))
    rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
    assert rootfile.get("media-type") == "application/oebps-package+xml"
    opf_path = rootfile.get("full-path")
    package = etree.fromstring(archive.read(opf_path))
    assert package.get("version") == "3.0"
    unique = package.get("unique-identifier")
    metadata = package.find(f"{{{OPF}}}metadata")
    assert metadata.find(f"{{{DC}}}identifier").get("id") == unique
    assert metadata.findtext(f"{{{DC}}}title") and metadata.findtext(f"{{{DC}}}language")
    modified = metadata.xpath("o:meta[@property='dcterms:modified']", namespaces={"o": OPF})
    assert len(modified) == 1 and modified[0].text.endswith("Z")
    base = opf_path.rsplit("/", 1)[0] + "/"
    items = {i.get("id"): i for i in package.find(f"{{{OPF}}}manifest")}
    navs = [i for i in items.values() if "nav" in (i.get("properties") or "").split()]
    assert len(navs) == 1
    for item in items.values():
        content = archive.read(base + item.get("href"))
        if item.get("media-type") == "application/xhtml+xml":
            etree.fromstring(content)  # well-formed XHTML
    nav = etree.fromstring(archive.read(base + navs[0].get("href")))
    assert nav.xpath("//*[local-name()='nav'][@*[local-name()='type']='toc']")
    spine = package.find(f"{{{OPF}}}spine")
    assert len(spine) >= 1 and all(ref.get("idref") in items for ref in spine)


def epub_text(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return " ".join(
        "".join(etree.fromstring(archive.read(name)).itertext())
        for name in archive.namelist()
        if name.endswith(".xhtml")
    )
