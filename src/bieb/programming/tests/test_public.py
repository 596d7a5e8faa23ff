"""The public programme pages and an activity's page, through the test client: what they
list, how the GET filters narrow, errors at the field, facts and JSON-LD on the detail page,
and a fixed number of queries per page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from bieb.core import clock
from bieb.network.tests.factories import PostcodeAreaFactory
from bieb.programming import views_public
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 1, 8, 11, 0, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield NOW


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2025, 1, day, hour, tzinfo=clock.AMSTERDAM)


def card_titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'programming-card__title">(?:<a [^>]*>)?([^<]+)<', html)


def test_programme_lists_published_activities_and_hides_drafts(client):
    f.activity(title="Voorlezen voor peuters", audience="toddlers")
    f.activity(title="Geheim concept", status="draft")

    response = client.get(reverse("programming:programme"))

    assert response.status_code == 200
    assert card_titles(response) == ["Voorlezen voor peuters"]
    html = response.content.decode()
    assert "donderdag 9 januari 2025, 19:00" in html
    assert "1 activiteit gevonden" in html
    assert 'href="webcal://testserver/activiteiten.ics"' in html


def test_programme_filters_through_the_get_form(client):
    f.activity(title="Gratis voor kinderen", audience="primary", age_min=6, age_max=12)
    f.activity(title="Betaald voor volwassenen", price_kind="paid", price_cents=500)
    f.activity(title="Vol", capacity=5, seats_taken=5)

    assert card_titles(client.get("/activiteiten?audience=primary")) == ["Gratis voor kinderen"]
    assert card_titles(client.get("/activiteiten?price=paid")) == ["Betaald voor volwassenen"]
    assert card_titles(client.get("/activiteiten?age=8&price=free&spaces=on")) == [
        "Gratis voor kinderen"
    ]
    assert card_titles(client.get("/activiteiten?q=vol")) == ["Betaald voor volwassenen", "Vol"]
    filtered = client.get("/activiteiten?audience=primary").content.decode()
    # on a phone the results come right after the (closed) panel, with what is filtered
    assert '<details class="programming-filters">' in filtered
    assert "(1 filter aan)" in filtered
    assert "Gefilterd op: Voor wie: basisschoolkinderen (4-12)" in filtered
    assert 'href="/activiteiten">Alle filters uitzetten' in filtered
    # a field to correct opens the panel
    wrong = client.get("/activiteiten?date_from=2025-02-01&date_to=2025-01-01").content.decode()
    assert '<details class="programming-filters" open>' in wrong


def test_the_theme_filter_is_left_out_while_no_activity_has_a_theme(client):
    f.activity(title="Zonder thema")
    assert 'name="theme"' not in client.get("/activiteiten").content.decode()

    f.activity(title="Met thema", theme="Voorlezen")
    html = client.get("/activiteiten").content.decode()
    assert 'name="theme"' in html and ">Voorlezen</option>" in html


def test_programme_filters_by_date_and_near_a_postcode(client):
    PostcodeAreaFactory(pc4="3512", place="Utrecht", lat=52.0907, lon=5.1214)
    near = f.location(lat=52.0928, lon=5.1195)
    far = f.location(lat=53.2194, lon=6.5665)  # Groningen
    f.activity(title="Dichtbij volgende week", location=near, starts_at=at(15, 19))
    f.activity(title="Ver weg", location=far, starts_at=at(15, 20))
    f.activity(title="Dichtbij morgen", location=near)

    week = client.get("/activiteiten?date_from=2025-01-13&date_to=2025-01-19")
    assert card_titles(week) == ["Dichtbij volgende week", "Ver weg"]
    nearby = client.get("/activiteiten?near=3512&sort=date")
    assert card_titles(nearby) == ["Dichtbij morgen", "Dichtbij volgende week"]
    assert "in de buurt van 3512 Utrecht (tot 15 km)" in nearby.content.decode()
    assert "km hiervandaan" in nearby.content.decode()
    # nothing near with the other filters: say how far we looked, and offer the whole country
    none_near = client.get("/activiteiten?near=3512&audience=seniors&sort=date").content.decode()
    assert "Er zijn geen activiteiten tot 15 km van 3512 Utrecht" in none_near
    assert 'href="/activiteiten?audience=seniors&amp;sort=date">Zoek in het hele land' in none_near


def test_an_unknown_place_or_bad_date_is_told_at_the_field_and_the_rest_still_lists(client):
    f.activity(title="Lezing")

    unknown = client.get("/activiteiten?near=Atlantis")
    html = unknown.content.decode()
    assert unknown.status_code == 200
    assert 'id="id_near-error"' in html
    assert 'aria-describedby="id_near-error"' in html
    assert card_titles(unknown) == ["Lezing"]

    backwards = client.get("/activiteiten?date_from=2025-02-01&date_to=2025-01-01")
    assert "De einddatum ligt voor de begindatum." in backwards.content.decode()
    assert backwards.status_code == 200

    nonsense = client.get("/activiteiten?audience=marsmannetjes&age=abc&page=xyz")
    assert nonsense.status_code == 200
    assert card_titles(nonsense) == ["Lezing"]


def test_programme_pages_through_results(client):
    for n in range(25):
        f.activity(title=f"Activiteit {n:02d}", starts_at=at(9, 8) + dt.timedelta(hours=n))

    first = client.get("/activiteiten?audience=adults")
    second = client.get("/activiteiten?audience=adults&page=2")

    assert len(card_titles(first)) == 20
    assert card_titles(second) == [f"Activiteit {n:02d}" for n in range(20, 25)]
    assert 'href="/activiteiten?audience=adults&amp;page=2" rel="next"' in first.content.decode()
    assert 'href="/activiteiten?audience=adults" rel="prev"' in second.content.decode()
    assert "Pagina 2 van 2" in second.content.decode()


def test_organisation_and_location_programmes_are_scoped(client):
    here = f.activity(title="Hier")
    same_org = f.activity(title="Zelfde bibliotheek", organisation=here.organisation)
    f.activity(title="Elders")
    f.booking(title="Buurtfeest", room=f.room(location=here.location))

    organisation = client.get(
        reverse("programming:organisation_programme", args=[here.organisation.slug])
    )
    location = client.get(reverse("programming:location_programme", args=[here.location.slug]))

    assert card_titles(organisation) == ["Buurtfeest", "Hier", "Zelfde bibliotheek"]
    assert card_titles(location) == ["Buurtfeest", "Hier"]
    assert same_org.location != here.location
    assert f"/bibliotheken/{here.organisation.slug}/activiteiten.ics" in (
        organisation.content.decode()
    )
    assert client.get("/bibliotheken/bestaat-niet/activiteiten").status_code == 404
    assert client.get("/locaties/bestaat-niet/activiteiten").status_code == 404


def test_programme_page_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    organisation = f.organisation()
    for n in range(30):
        f.activity(
            organisation=organisation,
            starts_at=at(9, 8) + dt.timedelta(hours=n),
            theme=f"Thema {n % 4}",
            rrule="FREQ=WEEKLY;COUNT=2" if n % 3 else "",
        )
        f.booking(starts_at=at(9, 7) + dt.timedelta(hours=n))
    url = reverse("programming:organisation_programme", args=[organisation.slug])

    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert len(card_titles(response)) == 20


# --- the activity page ------------------------------------------------------------------------


def test_detail_page_shows_the_facts_sessions_venue_and_json_ld(client):
    from bieb.catalog.tests.factories import EditionFactory

    edition = EditionFactory(title="Rupsje Nooitgenoeg")
    location = f.location(name="Bibliotheek Neude", wheelchair_accessible=True, hearing_loop=True)
    activity = f.activity(
        title="Voorlezen met BoekStart",
        location=location,
        room=f.room(location=location, name="Kinderhoek"),
        audience="toddlers",
        age_min=0,
        age_max=4,
        challenge="literate",
        programme="boekstart",
        theme="Voorlezen",
        rrule="FREQ=WEEKLY;COUNT=3",
        accessibility="Ruimte voor kinderwagens.",
        price_kind="credits",
        credits=1,
        capacity=12,
        seats_taken=10,
        partners=[f.partner(name="Kinderopvang Het Nest", kind="childcare")],
        works=[edition.work],
    )

    response = client.get(reverse("programming:detail", args=[activity.slug]))
    html = response.content.decode()

    assert response.status_code == 200
    for fact in [
        "Voorlezen met BoekStart",
        "Peuters en dreumesen (0-4), 0 tot en met 4 jaar",
        "1 activiteitentegoed",
        "Nog maar 2 plaatsen vrij",
        "Geletterde samenleving",
        "BoekStart",
        "Kinderopvang Het Nest",
        "Kinderhoek",
        "Rolstoeltoegankelijk",
        "Ruimte voor kinderwagens.",
        "3 bijeenkomsten",
        "donderdag 9 januari 2025",
        "donderdag 23 januari 2025",
        f'href="/titels/{edition.pk}">Rupsje Nooitgenoeg',
        f'href="/activiteiten/{activity.slug}.ics"',
    ]:
        assert fact in html, fact
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(script.group(1))
    assert data["@type"] == "Event"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["url"] == f"http://testserver/activiteiten/{activity.slug}"


def test_detail_page_offers_registration_when_that_page_exists(client):
    activity = f.activity(title="Lezing")
    html = client.get(reverse("programming:detail", args=[activity.slug])).content.decode()

    register = views_public.register_url(activity.slug)
    assert register == f"/activiteiten/{activity.slug}/aanmelden"
    # a link (no "?" left behind by an empty GET form), styled as the main button
    assert re.search(rf'<a class="utrecht-button-link[^"]*" href="{register}">Aanmelden</a>', html)


def test_detail_page_shows_a_signed_in_person_their_own_registration(client):
    activity = f.activity(title="Lezing")
    person = f.UserFactory()
    client.force_login(person)
    assert (
        ">Aanmelden</a>"
        in client.get(reverse("programming:detail", args=[activity.slug])).content.decode()
    )

    registration = f.registration(activity=activity, person=person)
    html = client.get(reverse("programming:detail", args=[activity.slug])).content.decode()

    assert "Je bent aangemeld." in html
    assert reverse("programming:registration", args=[registration.token]) in html
    assert ">Aanmelden</a>" not in html  # no second registration offered


def test_detail_page_of_a_cancelled_activity_has_a_banner_and_no_registration(client):
    activity = f.activity(status="cancelled", cancel_reason="De spreker is ziek.")

    html = client.get(reverse("programming:detail", args=[activity.slug])).content.decode()

    assert "Deze activiteit gaat niet door." in html
    assert "De spreker is ziek." in html
    assert 'class="programming-cta"' not in html  # no registration button or walk-in note
    assert "EventCancelled" in html


def test_detail_page_of_a_full_or_walk_in_activity(client):
    full = f.activity(capacity=3, seats_taken=3)
    walk_in = f.activity(capacity=0)

    full_html = client.get(reverse("programming:detail", args=[full.slug])).content.decode()
    walk_html = client.get(reverse("programming:detail", args=[walk_in.slug])).content.decode()

    assert "Vol, aanmelden kan voor de wachtlijst" in full_html
    assert "Aanmelden is niet nodig" in walk_html


def test_detail_page_of_a_draft_or_unknown_activity_is_404(client):
    draft = f.activity(status="draft")
    assert client.get(reverse("programming:detail", args=[draft.slug])).status_code == 404
    assert client.get("/activiteiten/bestaat-niet").status_code == 404


def test_price_words():
    assert views_public.price_label(f.activity()) == "Gratis"
    paid = f.activity(price_kind="paid", price_cents=1250, pay_at_door=True)
    assert views_public.price_label(paid) == "€ 12,50, betalen aan de deur"
    credits = f.activity(price_kind="credits", credits=2, price_cents=500)
    assert views_public.price_label(credits) == "2 activiteitentegoed, zonder tegoed € 5,00"


def test_detail_page_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    from bieb.catalog.tests.factories import EditionFactory

    activity = f.activity(
        rrule="FREQ=WEEKLY;COUNT=10",
        partners=[f.partner(), f.partner(), f.partner()],
        works=[EditionFactory().work for _ in range(3)],
    )

    with django_assert_max_num_queries(4):
        response = client.get(reverse("programming:detail", args=[activity.slug]))
    assert response.status_code == 200
