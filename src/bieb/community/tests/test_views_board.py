"""The community board's pages through the Django test client: the board (national, per
municipality, near a place, paged), a post and its photos, writing a post with photos and the
personal-details step, changing and closing it, one's own page with saved searches, and the
staff's review of activity ideas -- with every refusal a resident or a stranger can meet."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from bieb.accounts.tests.factories import LocationFactory
from bieb.community import messages, posts, views_board
from bieb.community.models import Photo, Post, SavedSearch
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.programming.models import Activity, ActivityStatus

pytestmark = pytest.mark.django_db

SCRIPT_TITLE = '<script>alert("x")</script>Boor'


def text_of(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    """The page's <main> (the site's own header has script tags of its own)."""
    html = text_of(response)
    return html[html.index("<main") : html.index("</main>")]


def png(color=(10, 120, 200)) -> bytes:
    return f.image_bytes((640, 480), format="PNG", color=color)


def png_upload(name: str = "boor.png"):
    return f.upload(png(), name=name, content_type="image/png")


def fake_upload():
    return f.upload(b"Dit is geen foto, maar tekst.", name="boor.jpg")


def new_post_data(**changes) -> dict:
    data = {
        "type": "offer",
        "kind": "thing",
        "category": "tools",
        "title": "Klopboormachine te leen",
        "body": "Een stevige boormachine met een set boortjes.",
        "terms": "lend",
        "availability": "In het weekend",
    }
    data.update(changes)
    return data


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def with_photo(post: Post, alt: str = "Een rode boormachine") -> Photo:
    return posts.post_photo_add(post=post, person=post.author, file=f.upload(), alt=alt)


# --- the board ---------------------------------------------------------------------------------


def test_the_board_shows_open_posts_as_cards_to_anyone(client):
    me = f.resident(first_name="Anna", last_name="de Vries")
    drill = f.post(author=me, title="Klopboormachine", terms="give")
    with_photo(drill, alt="Een rode boormachine op tafel")
    f.post(title="Afgesloten ladder", status=Post.Status.CLOSED)
    f.post(title="Verborgen spam", status=Post.Status.HIDDEN)

    response = client.get(reverse("community:board"))

    assert response.status_code == 200
    page = main_of(response)
    assert "Klopboormachine" in page
    assert "Afgesloten ladder" not in page and "Verborgen spam" not in page
    assert "1 bericht gevonden" in page
    assert "Aanbod" in page and "spullen · gereedschap en klussen" in page
    assert "Geven · 3511 Utrecht" in page
    assert "Anna V." in page and "de Vries" not in page
    photo = Photo.objects.get(post=drill)
    assert f'src="{reverse("community:photo_thumb", args=[photo.pk])}"' in page
    assert 'alt="Een rode boormachine op tafel"' in page
    assert "Zo werkt halen en brengen" in page
    assert "afhaalkluis" in page and "Je e-mailadres en telefoonnummer ziet niemand" in page


def test_the_board_near_a_postcode_shows_distances_and_leaves_far_posts_out(client):
    f.post(pc4="3511", title="Boor in het centrum")
    f.post(author=f.resident(pc4="3581"), title="Ladder aan de Uithof")
    f.post(author=f.resident(pc4="3431"), title="Naaimachine in Nieuwegein")
    f.post(author=f.resident(pc4="1011"), title="Fiets in Amsterdam")

    response = client.get(reverse("community:board"), {"near": "3511", "radius": "5"})

    page = main_of(response)
    assert "Boor in het centrum" in page and "Ladder aan de Uithof" in page
    assert "Naaimachine in Nieuwegein" not in page and "Fiets in Amsterdam" not in page
    assert "in hetzelfde postcodegebied" in page
    assert re.search(r"\d,\d km hiervandaan", page)
    assert "2 berichten gevonden binnen 5 km van 3511 Utrecht" in page
    assert "In de buurt van 3511 (5 km)" in page
    assert page.index("Boor in het centrum") < page.index("Ladder aan de Uithof")


def test_the_board_filters_by_type_kind_category_and_words(client):
    f.post(title="Boormachine", body="Met boortjes")
    f.post(type="request", title="Gezocht: ladder", body="Voor een dag.")
    f.post(kind="skill", category="digital", terms="help", title="Hulp met je telefoon")

    def titles(**params) -> str:
        return main_of(client.get(reverse("community:board"), params))

    assert "Gezocht: ladder" in titles(type="request")
    assert "Boormachine" not in titles(type="request")
    assert "Hulp met je telefoon" in titles(kind="skill", category="digital")
    assert "Boormachine" not in titles(kind="skill")
    page = titles(q="boortjes")
    assert "Boormachine" in page and "Gezocht: ladder" not in page
    # a value the form does not know is shown at its field and filters nothing
    page = titles(kind="auto")
    assert "Boormachine" in page and "aria-invalid" in page


def test_an_unknown_place_is_said_at_the_field_and_the_board_shows_everything(client):
    f.post(title="Boormachine")

    response = client.get(reverse("community:board"), {"near": "Nergenshuizen"})

    page = main_of(response)
    assert response.status_code == 200
    assert "Deze postcode of plaats kennen we niet" in page
    assert "Boormachine" in page


def test_the_board_pages_by_twenty(client):
    for n in range(23):
        f.post(title=f"Bericht {n:02d}", created_at=clock.now() - dt.timedelta(minutes=n))

    first = main_of(client.get(reverse("community:board")))
    second = main_of(client.get(reverse("community:board"), {"page": "2"}))

    assert "23 berichten gevonden" in first and "Pagina 1 van 2" in first
    assert "Bericht 00" in first and "Bericht 19" in first and "Bericht 20" not in first
    assert 'href="/community?page=2" rel="next"' in first
    assert "Bericht 20" in second and "Bericht 22" in second and "Bericht 00" not in second
    assert 'rel="prev"' in second
    far = main_of(client.get(reverse("community:board"), {"page": "9"}))
    assert "Op deze pagina staat niets meer." in far


def test_the_board_reads_the_same_number_of_queries_for_few_and_many_posts(client):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("community:board"), {"near": "3511"}).status_code == 200
        return len(queries)

    for _n in range(2):
        with_photo(f.post())
    few = count()
    for _n in range(8):
        with_photo(f.post(author=f.resident(pc4="3581")))
    assert count() == few


def test_the_municipality_board_shows_only_its_posts_and_unknown_codes_are_404(client):
    f.post(title="Boor in Utrecht")
    f.post(author=f.resident(pc4="1011"), title="Fiets in Amsterdam")

    response = client.get(reverse("community:municipality_board", args=["GM0344"]))

    page = main_of(response)
    assert "Halen en brengen in Utrecht" in page
    assert "Boor in Utrecht" in page and "Fiets in Amsterdam" not in page
    assert client.get("/community/gemeente/GM9999").status_code == 404
    assert client.get("/community/gemeente/iets").status_code == 404
    lower = client.get("/community/gemeente/gm0344?kind=thing")
    assert lower.status_code == 301 and lower["Location"] == "/community/gemeente/GM0344?kind=thing"


def test_choosing_a_municipality_in_the_filters_opens_its_own_board(client):
    f.post()
    f.municipality("GM0363")

    chosen = client.get(reverse("community:board"), {"municipality": "GM0344", "kind": "thing"})
    national = client.get(
        reverse("community:municipality_board", args=["GM0344"]),
        {"municipality": "", "q": "boor"},
    )
    no_posts_yet = client.get(reverse("community:board"), {"municipality": "GM0363"})
    unknown = client.get(reverse("community:board"), {"municipality": "GM9999"})

    assert chosen.status_code == 302
    assert chosen["Location"] == "/community/gemeente/GM0344?kind=thing"
    assert national["Location"] == "/community?q=boor"
    assert no_posts_yet["Location"] == "/community/gemeente/GM0363"
    assert unknown.status_code == 200 and "aria-invalid" in main_of(unknown)


def test_a_script_in_a_title_is_shown_as_text_everywhere():
    me = f.resident()
    post = f.post(author=me, title=SCRIPT_TITLE)  # straight into the database, past the service
    client = signed_in(me)

    for url in (
        reverse("community:board"),
        reverse("community:post", args=[post.pk]),
        reverse("community:mine"),
        reverse("community:post_edit", args=[post.pk]),
    ):
        page = main_of(client.get(url))
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Boor" in page, url


def test_links_in_a_post_stay_plain_text_with_a_warning(client):
    post = f.post(
        body="Kijk op https://evil.example.com/login\nof www.gratis-geld.nl voor meer.",
        availability="Bel via evil.example.com",
    )

    page = main_of(client.get(reverse("community:post", args=[post.pk])))

    assert "Pas op met links van onbekenden" in page
    assert "https://evil.example.com/login" in page and "www.gratis-geld.nl" in page
    assert "<a" not in page.split('class="community-body"')[1].split("</div>")[0]
    assert 'href="https://evil' not in page and 'href="http://www.gratis' not in page
    assert "https://evil.example.com/login<br>of www.gratis-geld.nl" in page


def test_a_post_without_links_has_no_warning(client):
    post = f.post(body="Gewoon een boor.")
    page = main_of(client.get(reverse("community:post", args=[post.pk])))
    assert "Pas op met links" not in page


# --- one post ----------------------------------------------------------------------------------


def test_a_post_shows_who_shared_how_often_without_stars_and_its_facts(client):
    author = f.resident(first_name="Piet", last_name="van der Berg")
    post = f.post(author=author, availability="Doordeweeks na 18 uur")
    for _n in range(3):
        f.exchange(f.post(author=author), status="done")
    f.exchange(f.post(author=author), status="agreed")
    photo = with_photo(post, alt="Boor met koffer")

    page = main_of(client.get(reverse("community:post", args=[post.pk])))

    assert "Piet B., heeft 3 keer iets gedeeld" in re.sub(r"<[^>]+>", "", page)
    profile = views_board.page_link("community:profile", author.pk)
    if profile:  # the profile page of the exchange part is there
        assert f'href="{profile}"' in page
    assert "ster" not in page.lower().replace("stevige", "")
    assert "Doordeweeks na 18 uur" in page and "3511 Utrecht" in page and "Lenen" in page
    assert f'src="{reverse("community:photo", args=[photo.pk])}"' in page
    assert 'alt="Boor met koffer"' in page and 'width="800" height="600"' in page
    # a visitor is asked to log in to respond; no report link for visitors
    assert "Log in om te reageren" in page
    assert "Meld dit bericht" not in page


def test_a_new_resident_is_new_in_the_community(client):
    page = main_of(client.get(reverse("community:post", args=[f.post().pk])))
    assert "nieuw in de community" in page


def test_a_signed_in_neighbour_gets_a_respond_form_and_a_report_link():
    post = f.post()
    neighbour = f.resident(pc4="3581")

    page = main_of(signed_in(neighbour).get(reverse("community:post", args=[post.pk])))

    assert re.search(r"ongeveer \d,\d km van jouw postcodegebied", page)
    respond = views_board.page_link("community:respond", post.pk)
    report = views_board.page_link("community:report", post.pk)
    if respond:  # the messages part is there: the form posts to it, with a CSRF token
        form = page.split(f'action="{respond}"')[1].split("</form>")[0]
        assert 'name="csrfmiddlewaretoken"' in form and 'name="body"' in form
    assert "Reageer op Anna" in page
    if report:
        assert f'href="{report}"' in page
    assert "Wijzigen en foto" not in page


def test_the_post_leads_author_and_responder_to_their_conversations():
    author = f.resident(first_name="Anna", last_name="de Vries")
    offer = f.post(author=author, title="Ladder te leen")
    neighbour = f.resident(pc4="3581", first_name="Sanne", last_name="Jansen")
    before = main_of(signed_in(author).get(reverse("community:post", args=[offer.pk])))
    assert "Nog niemand heeft gereageerd." in before

    messages.respond(post=offer, person=neighbour, body="Mag ik hem zaterdag lenen?")
    conversation = offer.conversations.get()
    url = reverse("community:conversation", args=[conversation.pk])

    mine = main_of(signed_in(author).get(reverse("community:post", args=[offer.pk])))
    assert "Reacties" in mine and f'href="{url}"' in mine
    assert "Gesprek met Sanne J." in mine and "(1 nieuw)" in mine
    theirs = main_of(signed_in(neighbour).get(reverse("community:post", args=[offer.pk])))
    assert "Je gesprek met Anna V." in theirs and f'href="{url}"' in theirs
    assert 'name="body"' not in theirs  # no second "first" response: the talk goes on there
    stranger = main_of(signed_in(f.resident()).get(reverse("community:post", args=[offer.pk])))
    assert url not in stranger and "Reageer op Anna V." in stranger


def test_an_idea_is_labelled_an_idea_not_an_offer(client):
    f.post(kind="idea", terms="help", title="Taalcafé op zaterdag", category="language")

    page = main_of(client.get(reverse("community:board")))

    card = page.split("Taalcafé op zaterdag")[0].rsplit('<li class="community-card">', 1)[1]
    assert "community-type--idea" in card and "Idee voor een activiteit" in card
    assert "Aanbod" not in card
    assert "Helpen ·" not in page


def test_a_youth_without_consent_is_told_why_there_is_no_respond_form():
    post = f.post()
    page = main_of(signed_in(f.youth()).get(reverse("community:post", args=[post.pk])))
    assert "kan met toestemming van je ouder of voogd" in page
    assert 'name="body"' not in page


def test_the_author_sees_changes_closing_and_matching_posts_nearby():
    author = f.resident()
    offer = f.post(author=author, title="Ladder te leen", category="tools")
    f.post(author=f.resident(pc4="3581"), type="request", title="Gezocht: ladder")
    f.post(author=f.resident(pc4="1011"), type="request", title="Gezocht: ladder in Amsterdam")

    response = signed_in(author).get(reverse("community:post", args=[offer.pk]))
    page = main_of(response)

    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert reverse("community:post_edit", args=[offer.pk]) in page
    assert reverse("community:post_close", args=[offer.pk]) in page
    assert "Past misschien bij jouw bericht" in page
    assert "Gezocht: ladder" in page and "Gezocht: ladder in Amsterdam" not in page
    assert "Log in om te reageren" not in page and "Meld dit bericht" not in page


def test_another_persons_hidden_post_and_its_photos_are_404_but_its_author_sees_why():
    author = f.resident()
    hidden = f.post(author=author, status=Post.Status.HIDDEN, hidden_reason="Reclame mag niet.")
    photo = Photo.objects.create(
        post=hidden, image=f.image_bytes(), thumbnail=f.image_bytes((40, 30)), width=800, height=600
    )
    other = signed_in(f.resident())
    anonymous = Client()

    for client in (other, anonymous):
        assert client.get(reverse("community:post", args=[hidden.pk])).status_code == 404
        assert client.get(reverse("community:photo", args=[photo.pk])).status_code == 404
        assert client.get(reverse("community:photo_thumb", args=[photo.pk])).status_code == 404
    assert other.get(reverse("community:post_edit", args=[hidden.pk])).status_code == 404

    mine = signed_in(author)
    page = main_of(mine.get(reverse("community:post", args=[hidden.pk])))
    assert "Verborgen door een moderator" in page and "Reclame mag niet." in page
    assert "Ben je het er niet mee eens?" in page
    edit = main_of(mine.get(reverse("community:post_edit", args=[hidden.pk])))
    assert "verborgen door een moderator" in edit and 'name="title"' not in edit
    assert reverse("community:photo_remove", args=[hidden.pk, photo.pk]) not in edit
    own_photo = mine.get(reverse("community:photo", args=[photo.pk]))
    assert own_photo.status_code == 200
    assert "private" in own_photo["Cache-Control"] and "public" not in own_photo["Cache-Control"]


def test_an_unknown_post_is_404(client):
    assert client.get(reverse("community:post", args=[999999])).status_code == 404
    assert client.get(reverse("community:photo", args=[999999])).status_code == 404


def test_photos_are_jpeg_with_cache_headers_and_answer_304_when_unchanged(client):
    photo = with_photo(f.post())

    full = client.get(reverse("community:photo", args=[photo.pk]))
    thumb = client.get(reverse("community:photo_thumb", args=[photo.pk]))

    for response in (full, thumb):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
        assert response["ETag"]
    assert Image.open(io.BytesIO(full.content)).size == (800, 600)
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 400
    assert full["ETag"] != thumb["ETag"]
    again = client.get(reverse("community:photo", args=[photo.pk]), HTTP_IF_NONE_MATCH=full["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.post(reverse("community:photo", args=[photo.pk])).status_code == 405


# --- a new post --------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_log_in_before_writing(client):
    response = client.get(reverse("community:post_new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/community/nieuw" in response["Location"]


def test_a_resident_places_an_offer_with_a_png_photo_and_its_description(
    django_capture_on_commit_callbacks,
):
    me = f.resident()
    client = signed_in(me)
    assert "postcodegebied 3511 Utrecht" in main_of(client.get(reverse("community:post_new")))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("community:post_new"),
            {**new_post_data(), "photo_1": png_upload(), "alt_1": "Boormachine in de koffer"},
        )

    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("community:post", args=[post.pk])
    assert (post.author, post.title, post.terms, post.pc4) == (
        me,
        "Klopboormachine te leen",
        "lend",
        "3511",
    )
    photo = Photo.objects.get(post=post)
    assert photo.alt == "Boormachine in de koffer"
    assert Image.open(io.BytesIO(bytes(photo.image))).format == "JPEG"
    page = main_of(client.get(response["Location"]))
    assert "Je bericht staat op het prikbord." in page
    assert 'alt="Boormachine in de koffer"' in page


def test_a_fake_photo_is_refused_at_its_field_and_nothing_is_written():
    client = signed_in(f.resident())

    response = client.post(
        reverse("community:post_new"),
        {**new_post_data(), "photo_1": png_upload(), "photo_2": fake_upload()},
    )

    page = main_of(response)
    assert response.status_code == 400
    assert "Dit bestand is geen foto die we kunnen gebruiken" in page
    assert 'id="photo_2-error"' in page
    assert "Kies je foto's opnieuw" in page
    assert 'value="Klopboormachine te leen"' in page
    assert not Post.objects.exists() and not Photo.objects.exists()


def test_a_script_in_the_title_is_removed_before_the_post_is_placed():
    client = signed_in(f.resident())

    client.post(reverse("community:post_new"), new_post_data(title=SCRIPT_TITLE))

    assert Post.objects.get().title == "Boor"


def test_personal_details_ask_for_confirmation_and_keep_the_typed_text():
    client = signed_in(f.resident())
    body = "Bel me op 06 12345678 of kom langs op Dorpsstraat 12."

    first = client.post(
        reverse("community:post_new"),
        {**new_post_data(body=body), "photo_1": png_upload()},
    )

    page = main_of(first)
    assert first.status_code == 409
    assert "Let op: persoonlijke gegevens" in page
    assert "iets wat op een adres lijkt" in page and "iets wat op een telefoonnummer lijkt" in page
    assert "Ik weet het, plaats het toch" in page and 'name="acknowledge_personal"' in page
    assert body in page  # the text is kept in the textarea
    assert "Kies je foto's opnieuw" in page
    assert not Post.objects.exists()

    second = client.post(
        reverse("community:post_new"), new_post_data(body=body, acknowledge_personal="on")
    )

    assert second.status_code == 302
    post = Post.objects.get()
    assert post.flagged_personal and post.body == body


def test_a_form_with_missing_fields_says_what_to_fix():
    response = signed_in(f.resident()).post(
        reverse("community:post_new"), new_post_data(title="", kind="", terms="")
    )
    page = main_of(response)
    assert response.status_code == 400
    assert 'id="title-error"' in page and 'id="kind-error"' in page
    assert "Controleer de velden hieronder." in page


def test_a_thing_needs_terms():
    response = signed_in(f.resident()).post(reverse("community:post_new"), new_post_data(terms=""))
    assert response.status_code == 400
    assert "Kies of je het uitleent, weggeeft of ruilt." in main_of(response)


def test_a_request_for_a_thing_is_asked_for_its_terms_from_the_askers_side():
    response = signed_in(f.resident()).post(
        reverse("community:post_new"), new_post_data(type="request", terms="")
    )
    assert response.status_code == 400
    assert "Kies of je het wilt lenen, krijgen of ruilen." in main_of(response)
    assert not Post.objects.exists()


def test_a_photo_description_without_its_photo_is_not_placed_without_the_photo():
    """A browser never sends a chosen photo twice: after a refusal only its description is
    left. The post is then not placed (without the photo, unnoticed) but asks for it."""
    client = signed_in(f.resident())

    response = client.post(
        reverse("community:post_new"), {**new_post_data(), "alt_2": "De boor van opzij"}
    )

    page = main_of(response)
    assert response.status_code == 400
    assert 'id="photo_2-error"' in page and "Kies foto 2 (opnieuw)" in page
    assert 'value="De boor van opzij"' in page
    assert not Post.objects.exists()


def test_a_confirmation_of_personal_details_stays_when_the_form_comes_back_for_a_photo():
    client = signed_in(f.resident())
    body = "Kom langs op Dorpsstraat 12."

    response = client.post(
        reverse("community:post_new"),
        {**new_post_data(body=body), "acknowledge_personal": "on", "alt_1": "De boor"},
    )

    page = main_of(response)
    assert response.status_code == 400 and "Kies foto 1 (opnieuw)" in page
    assert "Let op: persoonlijke gegevens" not in page
    assert '<input type="hidden" name="acknowledge_personal" value="on">' in page
    placed = client.post(
        reverse("community:post_new"),
        {
            **new_post_data(body=body),
            "acknowledge_personal": "on",
            "alt_1": "De boor",
            "photo_1": png_upload(),
        },
    )
    assert placed.status_code == 302
    assert Photo.objects.get(post=Post.objects.get()).alt == "De boor"


def test_text_areas_wrap_their_lines():
    page = main_of(signed_in(f.resident()).get(reverse("community:post_new")))
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert "utrecht-textarea" in textarea and "utrecht-textbox" not in textarea


def test_posting_the_same_again_today_is_refused():
    client = signed_in(f.resident())
    client.post(reverse("community:post_new"), new_post_data())
    again = client.post(reverse("community:post_new"), new_post_data())
    assert again.status_code == 409
    assert "Je hebt dit bericht vandaag al geplaatst." in main_of(again)
    assert Post.objects.count() == 1


def test_a_youth_without_consent_may_propose_ideas_only():
    client = signed_in(f.youth())

    page = main_of(client.get(reverse("community:post_new")))
    thing = client.post(reverse("community:post_new"), new_post_data())
    idea = client.post(
        reverse("community:post_new"),
        new_post_data(
            kind="idea",
            category="games",
            title="Spelletjesmiddag",
            body="Bordspellen met de buurt.",
        ),
    )

    assert "Je bent jonger dan 16" in page
    assert 'value="idea"' in page and 'value="thing"' not in page
    assert thing.status_code == 400
    assert idea.status_code == 302
    assert Post.objects.get().kind == "idea"
    assert "De bibliotheek kijkt ernaar" in text_of(client.get(idea["Location"]))


@pytest.mark.parametrize(
    ("who", "status", "says"),
    [
        (lambda: f.resident(postcode=""), 400, "Vul eerst je postcode in"),
        (lambda: f.resident(email_verified_at=None), 409, "Bevestig eerst je e-mailadres"),
        (lambda: f.suspend(f.resident(), reason="Spam").person, 403, "Reden: Spam"),
    ],
    ids=["no-postcode", "unconfirmed", "suspended"],
)
def test_who_may_not_post_is_told_why_without_a_form(who, status, says):
    client = signed_in(who())

    response = client.get(reverse("community:post_new"))
    posted = client.post(reverse("community:post_new"), new_post_data())

    for answer in (response, posted):
        assert answer.status_code == status
        assert says in main_of(answer)
        assert 'name="title"' not in main_of(answer)
    assert not Post.objects.exists()


def test_changes_need_a_csrf_token():
    me = f.resident()
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    assert client.post(reverse("community:post_new"), new_post_data()).status_code == 403
    assert not Post.objects.exists()


# --- changing, closing, photos ------------------------------------------------------------------


def test_the_author_changes_the_text_and_strangers_cannot():
    author = f.resident()
    post = f.post(author=author, title="Oude titel")
    stranger = signed_in(f.resident())

    assert stranger.get(reverse("community:post_edit", args=[post.pk])).status_code == 404
    assert (
        stranger.post(
            reverse("community:post_edit", args=[post.pk]),
            {"title": "Gekaapt", "body": "x", "category": "tools", "terms": "lend"},
        ).status_code
        == 404
    )
    client = signed_in(author)
    page = main_of(client.get(reverse("community:post_edit", args=[post.pk])))
    assert 'value="Oude titel"' in page

    response = client.post(
        reverse("community:post_edit", args=[post.pk]),
        {"title": "Nieuwe titel", "body": "Nieuwe tekst.", "category": "garden", "terms": "give"},
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.title, post.category, post.terms) == ("Nieuwe titel", "garden", "give")


def test_a_change_with_an_email_address_asks_for_confirmation():
    author = f.resident()
    post = f.post(author=author)
    client = signed_in(author)
    data = {"title": "Boor", "body": "Mail naar piet@example.nl", "category": "tools"}

    first = client.post(reverse("community:post_edit", args=[post.pk]), {**data, "terms": "lend"})
    assert first.status_code == 409
    assert "iets wat op een e-mailadres lijkt" in main_of(first)
    second = client.post(
        reverse("community:post_edit", args=[post.pk]),
        {**data, "terms": "lend", "acknowledge_personal": "on"},
    )
    assert second.status_code == 302
    post.refresh_from_db()
    assert post.body == "Mail naar piet@example.nl" and post.flagged_personal


def test_a_closed_post_cannot_be_changed():
    author = f.resident()
    post = f.post(author=author, status=Post.Status.CLOSED)
    client = signed_in(author)

    page = main_of(client.get(reverse("community:post_edit", args=[post.pk])))
    response = client.post(
        reverse("community:post_edit", args=[post.pk]),
        {"title": "Toch", "body": "x", "category": "tools", "terms": "lend"},
    )

    assert 'name="title"' not in page and "kan niet meer worden gewijzigd" in page
    assert response.status_code == 409
    post.refresh_from_db()
    assert post.title != "Toch"


def test_the_author_closes_a_post_after_confirming(client):
    author = f.resident()
    post = f.post(author=author, title="Ladder")
    stranger = signed_in(f.resident())

    assert client.post(reverse("community:post_close", args=[post.pk])).status_code == 302
    assert stranger.post(reverse("community:post_close", args=[post.pk])).status_code == 404
    assert stranger.get(reverse("community:post_close", args=[post.pk])).status_code == 404
    mine = signed_in(author)
    confirm = main_of(mine.get(reverse("community:post_close", args=[post.pk])))
    assert "Bericht afsluiten?" in confirm and "Ja, sluit af" in confirm
    post.refresh_from_db()
    assert post.status == Post.Status.OPEN

    response = mine.post(reverse("community:post_close", args=[post.pk]))

    assert response["Location"] == reverse("community:post", args=[post.pk])
    post.refresh_from_db()
    assert post.status == Post.Status.CLOSED
    board = main_of(mine.get(reverse("community:board")))
    assert "&#x27;Ladder&#x27; is afgesloten" in board  # the message; the card is gone
    assert 'class="community-card"' not in board and "0 berichten gevonden" in board
    page = main_of(mine.get(reverse("community:post", args=[post.pk])))
    assert "Dit bericht is afgesloten" in page


def test_the_author_adds_and_removes_photos_up_to_four():
    author = f.resident()
    post = f.post(author=author)
    client = signed_in(author)

    added = client.post(
        reverse("community:photo_add", args=[post.pk]),
        {"photo": png_upload(), "alt": "De boor van opzij"},
    )
    fake = client.post(reverse("community:photo_add", args=[post.pk]), {"photo": fake_upload()})
    none = client.post(reverse("community:photo_add", args=[post.pk]), {"alt": "zonder foto"})

    assert added.status_code == 302
    photo = Photo.objects.get(post=post)
    assert photo.alt == "De boor van opzij"
    assert fake.status_code == 400 and "geen foto die we kunnen gebruiken" in main_of(fake)
    # the form is far down the page: the top says so too
    assert "De foto is niet toegevoegd." in text_of(fake)
    assert none.status_code == 400 and "Kies een foto." in main_of(none)
    for _n in range(3):
        with_photo(post)
    page = main_of(client.get(reverse("community:post_edit", args=[post.pk])))
    assert 'name="photo"' not in page and "hoogstens 4 foto" in page
    full = client.post(reverse("community:photo_add", args=[post.pk]), {"photo": png_upload()})
    assert full.status_code == 409 and Photo.objects.filter(post=post).count() == 4

    stranger = signed_in(f.resident())
    remove_url = reverse("community:photo_remove", args=[post.pk, photo.pk])
    assert stranger.post(remove_url).status_code == 404
    assert client.post(reverse("community:photo_remove", args=[post.pk, 999999])).status_code == 404
    assert client.post(remove_url).status_code == 302
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert client.get(remove_url).status_code == 405


# --- mine --------------------------------------------------------------------------------------


def test_mine_lists_my_posts_with_the_moderators_reason_and_my_saved_searches(client):
    me = f.resident()
    f.post(author=me, title="Mijn boor")
    f.post(author=me, title="Mijn ladder", status=Post.Status.CLOSED)
    f.post(author=me, title="Mijn spam", status=Post.Status.HIDDEN, hidden_reason="Te veel links.")
    f.post(title="Van een ander")
    f.saved_search(person=me, kind="thing", words="boor", radius_km=5)

    assert client.get(reverse("community:mine")).status_code == 302
    page = main_of(signed_in(me).get(reverse("community:mine")))

    assert "Mijn boor" in page and "Mijn ladder" in page and "Mijn spam" in page
    assert "Van een ander" not in page
    assert "Verborgen door een moderator. Reden: Te veel links." in page
    assert "Afgesloten" in page
    assert "spullen · met de woorden boor · binnen 5 km van 3511" in page


def test_notify_me_saves_and_deletes_a_search():
    me = f.resident()
    client = signed_in(me)

    board = main_of(client.get(reverse("community:board"), {"kind": "thing", "q": "boor"}))
    assert 'action="/mijn/community/zoekopdrachten"' in board
    assert 'name="kind" value="thing"' in board and 'name="words" value="boor"' in board

    response = client.post(
        reverse("community:search_save"),
        {"type": "", "kind": "thing", "category": "", "words": "boor", "radius_km": "10"},
    )

    assert response["Location"] == reverse("community:mine")
    search = SavedSearch.objects.get(person=me)
    assert (search.kind, search.words, search.radius_km, search.pc4) == (
        "thing",
        "boor",
        10,
        "3511",
    )
    bad = client.post(reverse("community:search_save"), {"radius_km": "7"})
    assert bad.status_code == 400 and SavedSearch.objects.count() == 1

    other = signed_in(f.resident())
    assert other.post(reverse("community:search_delete", args=[search.pk])).status_code == 404
    assert client.post(reverse("community:search_delete", args=[search.pk])).status_code == 302
    assert not SavedSearch.objects.exists()


def test_a_search_without_a_postcode_is_refused_on_my_page():
    client = signed_in(f.resident(postcode=""))
    response = client.post(reverse("community:search_save"), {"radius_km": "5"})
    assert response.status_code == 400
    assert "Vul eerst je postcode in" in main_of(response)


def test_a_visitor_is_sent_to_log_in_for_notify_me(client):
    response = client.post(reverse("community:search_save"), {"radius_km": "5"})
    assert response.status_code == 302 and "next=/mijn/community" in response["Location"]
    board = main_of(client.get(reverse("community:board")))
    assert "om een e-mail te krijgen" in board


# --- ideas for activities (staff) ---------------------------------------------------------------


@pytest.fixture
def an_idea():
    return f.post(
        kind="idea",
        category="games",
        terms="help",
        title="Spelletjesmiddag in de bieb",
        body="Elke maand bordspellen spelen met de buurt.",
        idea_status="pending",
    )


def approve_data(location, **changes) -> dict:
    day = clock.today() + dt.timedelta(days=14)
    data = {
        "decision": "approve",
        "approve-kind": "event",
        "approve-title": "Spelletjesmiddag",
        "approve-summary": "Bordspellen voor jong en oud.",
        "approve-audience": "everyone",
        "approve-challenge": "lifelong",
        "approve-location": str(location.pk),
        "approve-date": day.isoformat(),
        "approve-start_time": "14:00",
        "approve-end_time": "17:00",
        "approve-capacity": "20",
        "approve-note": "We plannen het samen.",
    }
    data.update(changes)
    return data


def test_only_programmers_and_managers_see_ideas_and_only_of_their_library(client, an_idea):
    home = f.library()
    programmer = signed_in(f.staff("programmer", home))
    manager = signed_in(f.staff("manager", home))
    elsewhere = signed_in(f.staff("programmer", f.library("GM0363")))
    review = reverse("community:idea_review", args=[an_idea.pk])

    assert client.get(reverse("community:ideas")).status_code == 302
    assert signed_in(f.resident()).get(reverse("community:ideas")).status_code == 403
    assert signed_in(f.staff("desk", home)).get(reverse("community:ideas")).status_code == 403
    for staff in (programmer, manager):
        page = main_of(staff.get(reverse("community:ideas")))
        assert "Spelletjesmiddag in de bieb" in page
    assert "Spelletjesmiddag in de bieb" not in main_of(elsewhere.get(reverse("community:ideas")))
    assert elsewhere.get(review).status_code == 404
    assert elsewhere.post(review, {"decision": "reject", "reject-note": "Nee"}).status_code == 404
    page = main_of(programmer.get(review))
    assert 'value="Spelletjesmiddag in de bieb"' in page
    assert "<h1" in page and "Idee van een bewoner" in page
    an_idea.refresh_from_db()
    assert an_idea.idea_status == "pending"
    # a post that is no idea has no review page
    assert programmer.get(reverse("community:idea_review", args=[f.post().pk])).status_code == 404


def test_an_approved_idea_becomes_a_draft_activity_in_the_programmers_screen(
    an_idea, django_capture_on_commit_callbacks
):
    home = f.library()
    location = LocationFactory(organisation=home)
    programmer = signed_in(f.staff("programmer", home))
    review = reverse("community:idea_review", args=[an_idea.pk])

    bad = programmer.post(review, approve_data(location, **{"approve-location": ""}))
    assert bad.status_code == 400 and not Activity.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = programmer.post(review, approve_data(location))

    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programming:staff_activity", args=[activity.pk])
    assert activity.status == ActivityStatus.DRAFT
    assert (activity.organisation, activity.co_organiser) == (home, an_idea.author)
    an_idea.refresh_from_db()
    assert an_idea.idea_status == "approved" and an_idea.activity == activity

    again = programmer.post(review, {"decision": "reject", "reject-note": "Toch niet."})
    assert again.status_code == 409 and Activity.objects.count() == 1
    assert "Dit idee is goedgekeurd." in main_of(programmer.get(review))


def test_rejecting_an_idea_needs_a_note_for_the_resident(an_idea):
    programmer = signed_in(f.staff("programmer", f.library()))
    review = reverse("community:idea_review", args=[an_idea.pk])

    empty = programmer.post(review, {"decision": "reject", "reject-note": ""})
    assert empty.status_code == 400
    assert "Leg in een paar woorden uit" in main_of(empty)

    response = programmer.post(
        review, {"decision": "reject", "reject-note": "We hebben al een spelletjesclub."}
    )

    assert response["Location"] == reverse("community:ideas")
    an_idea.refresh_from_db()
    assert an_idea.idea_status == "rejected"
    assert an_idea.idea_note == "We hebben al een spelletjesclub."
    author_page = main_of(
        signed_in(an_idea.author).get(reverse("community:post", args=[an_idea.pk]))
    )
    assert "De bibliotheek gaat niet verder met dit idee." in author_page
    assert "We hebben al een spelletjesclub." in author_page


def test_an_idea_titled_idee_is_not_doubled_and_its_activity_title_leaves_it_out():
    idea = f.post(kind="idea", terms="help", title="Idee: een repair café", idea_status="pending")
    home = f.library()
    LocationFactory(organisation=home)
    programmer = signed_in(f.staff("programmer", home))

    page = main_of(programmer.get(reverse("community:idea_review", args=[idea.pk])))

    assert "Idee: Idee:" not in page
    assert re.search(r"<h1[^>]*>Idee: een repair café</h1>", page)
    assert 'name="approve-title" value="Een repair café"' in page
