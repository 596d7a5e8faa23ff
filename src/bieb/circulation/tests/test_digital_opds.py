"""The OPDS catalogue at ``/opds`` (1.2, Atom) and ``/opds/v2`` (2.0, JSON), as a reading app uses
it: log in with card number and password (or a token), read the loans and the titles, borrow,
follow the acquisition link to the file.

The 1.2 feeds are checked with lxml against the spec's MUSTs (namespaces, required elements,
link relations and types); the 2.0 feeds against a small schema written out in plain Python
(``jsonschema`` is not a dependency of the project)."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from bieb.accounts.tests.factories import PASSWORD, OrganisationFactory
from bieb.api.services import token_create, token_revoke
from bieb.catalog import services as catalog_services
from bieb.catalog.models import DigitalLicence, Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital, digital_demo
from bieb.circulation.interop import opds
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus
from bieb.circulation.tests.factories import adult

pytestmark = pytest.mark.django_db

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "opds": "http://opds-spec.org/2010/catalog",
    "dc": "http://purl.org/dc/terms/",
}
ACQ = "http://opds-spec.org/acquisition"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def as_app(person) -> dict[str, str]:
    return basic(person.card_number)


def title(name="Max Havelaar", fmt=Format.EBOOK, model=LicenceModel.CONCURRENT, **kwargs):
    edition = EditionFactory(title=name, format=fmt, authors=["Multatuli"])
    kwargs.setdefault("concurrent_users", 2)
    catalog_services.licence_create(edition=edition, model=model, **kwargs)
    return edition


# --- what the specs require ------------------------------------------------------------------


def assert_opds1_feed(response, kind: str) -> etree._Element:
    """OPDS 1.2 §2/§5 and RFC 4287: the feed's and every entry's required elements, and an
    acquisition link with a type on every entry of an acquisition feed."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(
        f"application/atom+xml;profile=opds-catalog;kind={kind}"
    )
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("a:id", "a:title", "a:updated"):
        assert len(root.xpath(required, namespaces=NS)) == 1, required
    assert root.xpath("a:author/a:name", namespaces=NS)
    self_link = root.xpath("a:link[@rel='self']", namespaces=NS)
    assert len(self_link) == 1 and self_link[0].get("type").endswith(f"kind={kind}")
    start = root.xpath("a:link[@rel='start']", namespaces=NS)
    assert start and start[0].get("type").endswith("kind=navigation")
    for entry in root.xpath("a:entry", namespaces=NS):
        for required in ("a:id", "a:title", "a:updated"):
            assert len(entry.xpath(required, namespaces=NS)) == 1, required
        links = entry.xpath("a:link", namespaces=NS)
        assert all(link.get("href") and link.get("type") for link in links)
        if kind == "acquisition":
            acquisition = [link for link in links if link.get("rel", "").startswith(ACQ)]
            assert acquisition, "an entry without an acquisition link"
            summary = entry.find("a:summary", NS)
            assert summary is None or summary.get("type") == "text"
            images = entry.xpath("a:link[@rel='http://opds-spec.org/image']", namespaces=NS)
            assert all(i.get("type") in {"image/png", "image/jpeg", "image/gif"} for i in images)
        else:
            assert entry.xpath("a:link[@type]", namespaces=NS)
    return root


ACQ_RELS = {
    ACQ,
    f"{ACQ}/open-access",
    f"{ACQ}/borrow",
    f"{ACQ}/buy",
    f"{ACQ}/sample",
    f"{ACQ}/subscribe",
    "preview",
}


def _rels(link: dict) -> set[str]:
    rel = link.get("rel", [])
    return {rel} if isinstance(rel, str) else set(rel)


def assert_link(link: dict) -> None:
    assert isinstance(link, dict) and isinstance(link["href"], str) and link["href"]
    assert isinstance(link.get("type", ""), str)
    assert isinstance(link.get("rel", ""), str | list)


def assert_opds2_publication(publication: dict) -> None:
    """OPDS 2.0 §4: metadata with a title, an acquisition link, at least one PNG/JPEG/GIF image."""
    assert isinstance(publication["metadata"]["title"], str)
    for link in publication["links"] + publication["images"]:
        assert_link(link)
    assert any(_rels(link) & ACQ_RELS for link in publication["links"])
    assert publication["images"]
    assert any(
        i.get("type") in {"image/png", "image/jpeg", "image/gif"} for i in publication["images"]
    )


def assert_opds2_feed(response) -> dict:
    """OPDS 2.0 §2: metadata.title, a self link, and navigation (titled links) or publications."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/opds+json")
    feed = response.json()
    assert isinstance(feed["metadata"]["title"], str)
    for link in feed["links"]:
        assert_link(link)
    assert any("self" in _rels(link) for link in feed["links"])
    assert "navigation" in feed or "publications" in feed or "groups" in feed
    for link in feed.get("navigation", []):
        assert_link(link)
        assert link["title"]
    for publication in feed.get("publications", []):
        assert_opds2_publication(publication)
    return feed


# --- logging in ------------------------------------------------------------------------------


def test_without_credentials_the_answer_is_401_with_a_basic_challenge(client):
    for name in ("digital:opds", "digital:opds_loans", "digital:opds2_titles"):
        response = client.get(reverse(name))

        assert response.status_code == 401, name
        assert response["WWW-Authenticate"].startswith('Basic realm="de Bibliotheek"')
        assert 'rel="http://opds-spec.org/auth/document"' in response["Link"]
        document = response.json()
        assert document["authentication"][0]["type"] == "http://opds-spec.org/auth/basic"


def test_a_reading_app_logs_in_with_card_number_or_e_mail_and_password(client):
    person = adult()
    spaced = " ".join([person.card_number[:4], person.card_number[4:]])

    for headers in (as_app(person), basic(spaced), basic(person.email.upper())):
        assert client.get(reverse("digital:opds"), headers=headers).status_code == 200

    assert (
        client.get(reverse("digital:opds"), headers=basic(person.card_number, "fout")).status_code
        == 401
    )
    assert client.get(reverse("digital:opds"), headers=basic("00000000000000")).status_code == 401
    garbled = {"Authorization": "Basic !!!"}
    assert client.get(reverse("digital:opds"), headers=garbled).status_code == 401


def test_a_polling_app_is_checked_once_until_its_password_changes(client, monkeypatch):
    from bieb.circulation import opds_views

    person = adult()
    checks = []
    real = opds_views.authenticate

    def counting(*args, **kwargs):
        checks.append(kwargs.get("username"))
        return real(*args, **kwargs)

    monkeypatch.setattr(opds_views, "authenticate", counting)
    for _ in range(3):
        assert client.get(reverse("digital:opds"), headers=as_app(person)).status_code == 200
    assert len(checks) == 1  # one password hash, one log-in record, for three polls

    person.set_password("een-nieuw-wachtwoord-2026")
    person.save()
    assert client.get(reverse("digital:opds"), headers=as_app(person)).status_code == 401
    assert len(checks) == 2


def test_an_api_token_works_until_it_is_revoked(client):
    person = adult()
    token, secret = token_create(user=person)
    headers = {"Authorization": f"Bearer {secret}"}

    assert client.get(reverse("digital:opds2"), headers=headers).status_code == 200
    token_revoke(token=token, actor=person)
    assert client.get(reverse("digital:opds2"), headers=headers).status_code == 401


def test_repeated_wrong_passwords_lock_the_app_out(client, settings):
    person = adult()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.get(reverse("digital:opds"), headers=basic(person.card_number, "fout"))

    response = client.get(reverse("digital:opds"), headers=as_app(person))

    assert response.status_code == 429 and response["Retry-After"]
    assert response.json()["code"] == "locked_out"


def test_a_signed_in_browser_reads_the_feeds_but_cannot_borrow_through_them(client):
    edition = title()
    person = adult()
    client.force_login(person)

    assert client.get(reverse("digital:opds_titles")).status_code == 200
    for name in ("digital:opds_borrow", "digital:opds2_borrow"):
        url = reverse(name, args=[edition.pk])
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 401  # the session cookie is no log-in here

    assert not DigitalLoan.objects.exists()


def test_borrowing_by_get_with_basic_credentials_is_refused(client):
    """What ``<img src=".../opds/lenen/ID">`` on another site makes a browser send once it has
    answered the feed's Basic challenge: a GET with the cached credentials."""
    edition = title(model=LicenceModel.METERED_LOANS, loans_total=5)
    person = adult()

    for name in ("digital:opds_borrow", "digital:opds2_borrow"):
        url = reverse(name, args=[edition.pk])
        response = client.get(url, headers=as_app(person))
        assert response.status_code == 405, name
        assert response["Allow"] == "POST"
        assert response.json()["code"] == "borrow_by_post"
        image = client.get(url, headers={**as_app(person), "Sec-Fetch-Site": "cross-site"})
        assert image.status_code in (403, 405)

    assert not DigitalLoan.objects.exists()
    assert DigitalLicence.objects.get(edition=edition).loans_used == 0


def test_a_form_on_another_site_cannot_borrow_with_cached_credentials(client):
    edition = title()
    person = adult()
    url = reverse("digital:opds_borrow", args=[edition.pk])

    for marks in (
        {"Origin": "https://elders.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.testserver"},
    ):
        response = client.post(url, headers={**as_app(person), **marks})
        assert response.status_code == 403, marks
        assert response.json()["code"] == "cross_site"

    assert not DigitalLoan.objects.exists()


def test_an_app_borrows_by_post_with_basic_and_by_get_or_post_with_a_token(client):
    person = adult()
    _token, secret = token_create(user=person)
    bearer = {"Authorization": f"Bearer {secret}"}
    app = Client(enforce_csrf_checks=True)
    by_basic, by_get, by_post, by_get_2 = (title(f"Titel {n}") for n in range(4))

    assert (
        app.post(
            reverse("digital:opds_borrow", args=[by_basic.pk]), headers=as_app(person)
        ).status_code
        == 201
    )
    assert (
        app.get(reverse("digital:opds_borrow", args=[by_get.pk]), headers=bearer).status_code == 201
    )
    assert (
        app.post(reverse("digital:opds_borrow", args=[by_post.pk]), headers=bearer).status_code
        == 201
    )
    response = app.get(reverse("digital:opds2_borrow", args=[by_get_2.pk]), headers=bearer)
    assert response.status_code == 201
    assert response["Content-Type"] == opds.OPDS2_PUBLICATION

    borrowed = set(
        DigitalLoan.objects.filter(patron=person, returned_at__isnull=True).values_list(
            "edition_id", flat=True
        )
    )
    assert borrowed == {by_basic.pk, by_get.pk, by_post.pk, by_get_2.pk}
    wrong = {"Authorization": "Bearer bieb_niet-goed"}
    assert (
        app.get(reverse("digital:opds_borrow", args=[title().pk]), headers=wrong).status_code == 401
    )


def test_the_authentication_document_is_public(client):
    response = client.get(reverse("digital:opds_auth"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/opds-authentication+json"
    document = response.json()
    assert document["authentication"][0]["labels"] == {
        "login": "Pasnummer",
        "password": "Wachtwoord",
    }


# --- OPDS 1.2 --------------------------------------------------------------------------------


def test_the_root_is_a_navigation_feed_to_loans_and_titles(client):
    root = assert_opds1_feed(
        client.get(reverse("digital:opds"), headers=as_app(adult())), "navigation"
    )

    hrefs = root.xpath("a:entry/a:link/@href", namespaces=NS)
    assert [h.rsplit("/", 1)[1] for h in hrefs] == ["leningen", "titels"]
    types = set(root.xpath("a:entry/a:link/@type", namespaces=NS))
    assert types == {opds.ACQUISITION_FEED}


def test_my_loans_feed_links_each_loan_to_its_file(client):
    digital_demo.ensure_demo_digital()
    person = adult()
    book = digital_demo_edition("max-havelaar-fragment-ebook")
    audio = digital_demo_edition("kortjakje-melodie-audiobook")
    for edition in (book, audio):
        digital.digital_checkout(patron=person, edition=edition)

    root = assert_opds1_feed(
        client.get(reverse("digital:opds_loans"), headers=as_app(person)), "acquisition"
    )

    entries = root.xpath("a:entry", namespaces=NS)
    assert {e.findtext("a:title", namespaces=NS) for e in entries} == {
        book.full_title,
        audio.full_title,
    }
    links = root.xpath(f"a:entry/a:link[@rel='{ACQ}']", namespaces=NS)
    assert {link.get("type") for link in links} == {"application/epub+zip", "audio/wav"}
    assert all(link.find("opds:availability", NS).get("until") for link in links)
    epub = next(link for link in links if link.get("type") == "application/epub+zip")
    download = Client().get(epub.get("href"))  # the app sends no credentials with it
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    languages = set(root.xpath("a:entry/dc:language/text()", namespaces=NS))
    assert languages == {"nl"}


def test_the_titles_feed_has_borrow_links_and_pages(client):
    home, other = OrganisationFactory(), OrganisationFactory()
    person = adult(home_organisation=home)
    for n in range(27):
        title(f"Titel {n:02d}")
    own = title("Van eigen bibliotheek", organisation=home)
    title("Van een andere bibliotheek", organisation=other)
    busy = title("Uitgeleend", model=LicenceModel.ONE_COPY_ONE_USER, concurrent_users=1)
    digital.digital_checkout(patron=adult(), edition=busy)

    first = assert_opds1_feed(
        client.get(reverse("digital:opds_titles"), headers=as_app(person)), "acquisition"
    )
    next_href = first.xpath("a:link[@rel='next']/@href", namespaces=NS)[0]
    second = assert_opds1_feed(client.get(next_href, headers=as_app(person)), "acquisition")

    def titles(root):
        return [e.findtext("a:title", namespaces=NS) for e in root.xpath("a:entry", namespaces=NS)]

    assert len(titles(first)) == 25
    everything = titles(first) + titles(second)
    assert len(everything) == 29 and own.title in everything
    assert "Van een andere bibliotheek" not in everything
    assert second.xpath("a:link[@rel='previous']", namespaces=NS)
    assert not second.xpath("a:link[@rel='next']", namespaces=NS)
    total = first.xpath("//*[local-name()='totalResults']/text()")
    assert total == ["29"]

    borrow = first.xpath(f"a:entry/a:link[@rel='{ACQ}/borrow']", namespaces=NS)
    assert len(borrow) == 25
    for link in borrow:
        assert link.get("type") == opds.ENTRY
        indirect = link.find("opds:indirectAcquisition", NS)
        assert indirect is not None and indirect.get("type") == "application/epub+zip"
    waiting = second.xpath(
        f"a:entry[a:title='Uitgeleend']/a:link[@rel='{ACQ}/borrow']/opds:availability",
        namespaces=NS,
    )
    assert waiting[0].get("status") == "unavailable"


def test_the_titles_feed_needs_the_same_queries_for_few_or_many_titles(client):
    person = adult()
    headers = as_app(person)
    client.get(reverse("digital:opds_titles"), headers=headers)  # log-in bookkeeping first

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("digital:opds_titles"), headers=headers).status_code == 200
        return len(context.captured_queries)

    for n in range(2):
        title(f"Een {n}")
    few = queries()
    for n in range(10):
        title(f"Meer {n}")

    assert queries() == few


def test_a_reading_app_borrows_and_gets_the_acquisition_link(client):
    edition = title(model=LicenceModel.ONE_COPY_ONE_USER, concurrent_users=1)
    person = adult()
    app = Client(enforce_csrf_checks=True)
    url = reverse("digital:opds_borrow", args=[edition.pk])

    response = app.post(url, headers=as_app(person))

    assert response.status_code == 201
    assert response["Content-Type"].startswith(opds.ENTRY)
    entry = etree.fromstring(response.content)
    assert entry.tag == "{http://www.w3.org/2005/Atom}entry"
    assert entry.xpath(f"a:link[@rel='{ACQ}']/@href", namespaces=NS)[0].startswith(
        "http://testserver/digitaal/inhoud/"
    )
    assert DigitalLoan.objects.filter(patron=person, edition=edition).count() == 1

    again = app.post(url, headers=as_app(person))
    assert again.status_code == 200
    assert DigitalLoan.objects.filter(patron=person, edition=edition).count() == 1


def test_borrowing_a_lent_title_from_an_app_joins_the_queue(client):
    edition = title(model=LicenceModel.ONE_COPY_ONE_USER, concurrent_users=1)
    digital.digital_checkout(patron=adult(), edition=edition)
    person = adult()

    response = client.post(
        reverse("digital:opds_borrow", args=[edition.pk]), headers=as_app(person)
    )

    assert response.status_code == 201
    hold = DigitalHold.objects.get(patron=person, edition=edition)
    assert hold.status == HoldStatus.WAITING
    entry = etree.fromstring(response.content)
    availability = entry.xpath(f"a:link[@rel='{ACQ}/borrow']/opds:availability", namespaces=NS)
    holds = entry.xpath(f"a:link[@rel='{ACQ}/borrow']/opds:holds", namespaces=NS)
    assert availability[0].get("status") == "reserved"
    assert (holds[0].get("total"), holds[0].get("position")) == ("1", "1")


def test_a_refused_app_borrow_is_a_problem_document(client):
    edition = title(model=LicenceModel.CONCURRENT, organisation=OrganisationFactory())

    response = client.post(
        reverse("digital:opds_borrow", args=[edition.pk]), headers=as_app(adult())
    )

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "no_licence_available"
    assert (
        client.post(
            reverse("digital:opds_borrow", args=[EditionFactory(format=Format.BOOK).pk]),
            headers=as_app(adult()),
        ).status_code
        == 404
    )


def test_a_generic_feed_reader_parses_the_catalogue(client):
    import feedparser  # an independent Atom parser, as a reading app would use

    title()
    response = client.get(reverse("digital:opds_titles"), headers=as_app(adult()))

    parsed = feedparser.parse(response.content)

    assert not parsed.bozo and parsed.version == "atom10"
    assert any(link["rel"] == f"{ACQ}/borrow" for link in parsed.entries[0].links)


def test_control_characters_from_old_records_do_not_break_the_feeds(client):
    """Old MARC records hold characters XML 1.0 forbids (a vertical tab, a unit separator):
    they are left out of both feeds and of the borrow answer instead of making them fail."""
    edition = EditionFactory(
        title="Oud\x0brecord",
        format=Format.EBOOK,
        authors=["Multatuli\x1f"],
        description="Een samenvatting\x0c met\x01 stuurtekens",
    )
    catalog_services.licence_create(
        edition=edition, model=LicenceModel.CONCURRENT, concurrent_users=2
    )
    headers = as_app(adult())

    atom = assert_opds1_feed(
        client.get(reverse("digital:opds_titles"), headers=headers), "acquisition"
    )
    assert atom.xpath("a:entry/a:title/text()", namespaces=NS) == ["Oudrecord"]
    assert atom.xpath("a:entry/a:summary/text()", namespaces=NS) == [
        "Een samenvatting met stuurtekens"
    ]
    assert atom.xpath("a:entry/a:author/a:name/text()", namespaces=NS) == ["Multatuli"]

    feed = assert_opds2_feed(client.get(reverse("digital:opds2_titles"), headers=headers))
    (publication,) = feed["publications"]
    assert publication["metadata"]["title"] == "Oudrecord"
    assert publication["metadata"]["description"] == "Een samenvatting met stuurtekens"

    entry = client.post(reverse("digital:opds_borrow", args=[edition.pk]), headers=headers)
    assert entry.status_code == 201
    assert etree.fromstring(entry.content).findtext("a:title", namespaces=NS) == "Oudrecord"
    loans = assert_opds1_feed(
        client.get(reverse("digital:opds_loans"), headers=headers), "acquisition"
    )
    assert loans.xpath("a:entry/a:title/text()", namespaces=NS) == ["Oudrecord"]


# --- OPDS 2.0 --------------------------------------------------------------------------------


def test_opds2_navigation_loans_and_titles(client):
    digital_demo.ensure_demo_digital()
    person = adult()
    audio = digital_demo_edition("westminster-klokkenspel-audiobook")
    digital.digital_checkout(patron=person, edition=audio)
    headers = as_app(person)

    root = assert_opds2_feed(client.get(reverse("digital:opds2"), headers=headers))
    assert [link["title"] for link in root["navigation"]] == [
        "Mijn leningen",
        "E-books en luisterboeken om te lenen",
    ]

    loans = assert_opds2_feed(client.get(reverse("digital:opds2_loans"), headers=headers))
    (publication,) = loans["publications"]
    assert publication["metadata"]["@type"] == "http://schema.org/Audiobook"
    acquisition = [link for link in publication["links"] if link.get("rel") == ACQ]
    assert acquisition[0]["type"] == "audio/wav"
    played = Client().get(acquisition[0]["href"], HTTP_RANGE="bytes=0-43")
    assert played.status_code == 206 and b"".join(played.streaming_content)[:4] == b"RIFF"

    titles = assert_opds2_feed(client.get(reverse("digital:opds2_titles"), headers=headers))
    assert titles["metadata"]["numberOfItems"] == 5
    borrow = [
        link
        for p in titles["publications"]
        for link in p["links"]
        if link.get("rel") == f"{ACQ}/borrow"
    ]
    assert len(borrow) == 4  # the fifth is on loan: an acquisition link instead
    assert all(link["type"] == opds.OPDS2_PUBLICATION for link in borrow)
    assert all(link["properties"]["indirectAcquisition"][0]["type"] for link in borrow)


def test_opds2_borrow_answers_the_publication(client):
    edition = title()
    person = adult()

    response = Client(enforce_csrf_checks=True).post(
        reverse("digital:opds2_borrow", args=[edition.pk]), headers=as_app(person)
    )

    assert response.status_code == 201
    assert response["Content-Type"] == opds.OPDS2_PUBLICATION
    publication = response.json()
    assert_opds2_publication(publication)
    assert any(link.get("rel") == ACQ for link in publication["links"])
    assert DigitalLoan.objects.filter(patron=person, edition=edition).exists()


def digital_demo_edition(key: str):
    from bieb.catalog.models import Edition

    return Edition.objects.get(source=digital_demo.SOURCE, source_id=key)
