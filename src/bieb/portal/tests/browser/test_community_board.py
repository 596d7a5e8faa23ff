"""The community board in a real browser on a phone (375x812), with axe-core (WCAG 2.1 A and AA)
on the board, the new-post page and the post page: a resident browses the board near 3511, logs
in, places an offer with a photo and its description, and sees it; with and without JavaScript,
a post refused for an address keeps its photo and confirmation, and the post leads author and
responder to their conversation. No horizontal scrolling."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bieb.accounts.tests.factories import PASSWORD
from bieb.community.models import Photo, Post
from bieb.community.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_375 = {"width": 375, "height": 812}


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def phone(new_context, **options):
    return new_context(viewport=PHONE_375, is_mobile=True, has_touch=True, **options).new_page()


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def log_in(page, user) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/mijn")


def test_a_resident_browses_near_3511_and_places_an_offer_with_a_photo(
    new_context, assert_accessible
):
    neighbour = f.resident(pc4="3581", first_name="Sanne", last_name="Jansen")
    ladder = f.post(author=neighbour, title="Ladder te leen", body="Een ladder van drie meter.")
    f.post(author=f.resident(pc4="1011"), title="Bakfiets in Amsterdam")
    me = f.resident(email="anna@example.nl", first_name="Anna", last_name="de Boer")
    page = phone(new_context)
    main = page.locator("main")

    # the board, filtered near 3511
    page.goto(reverse("community:board"))
    expect()(page.locator("h1")).to_have_text("Halen en brengen")
    expect()(main).to_contain_text("Zo werkt halen en brengen")
    assert_accessible(page, "community board")
    assert not has_horizontal_scroll(page)

    page.get_by_text("Zoeken en filteren").click()
    page.get_by_label("In de buurt van (postcode of plaats)").fill("3511")
    page.get_by_label("Afstand").select_option("5")
    page.get_by_role("button", name="Toon berichten").click()
    expect()(page.get_by_role("status").last).to_contain_text(
        "1 bericht gevonden binnen 5 km van 3511"
    )
    expect()(page.get_by_role("link", name="Ladder te leen")).to_be_visible()
    expect()(main).not_to_contain_text("Bakfiets in Amsterdam")
    expect()(main).to_contain_text("Sanne J.")
    expect()(main).to_contain_text("hiervandaan")
    assert_accessible(page, "community board near 3511")
    assert not has_horizontal_scroll(page)

    # writing needs an account: log in from the board
    page.get_by_role("link", name="Zet iets op het prikbord").click()
    page.get_by_label("E-mailadres").fill(me.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"**{reverse('community:post_new')}")
    expect()(page.locator("h1")).to_have_text("Zet iets op het prikbord")
    expect()(main).to_contain_text("postcodegebied 3511 Utrecht")
    assert_accessible(page, "new post page")
    assert not has_horizontal_scroll(page)

    page.get_by_label("Ik bied iets aan").check()
    page.get_by_label("spullen").check()
    page.get_by_label("Categorie").select_option("tools")
    page.get_by_label("Titel").fill("Klopboormachine te leen")
    page.get_by_label("Omschrijving").fill("Een stevige boormachine.\nMet een set boortjes.")
    page.get_by_label("lenen").check()
    page.get_by_label("Wanneer").fill("In het weekend")
    page.get_by_label("Foto 1", exact=True).set_input_files(
        {"name": "boor.png", "mimeType": "image/png", "buffer": f.image_bytes(format="PNG")}
    )
    page.get_by_label("Wat staat er op foto 1?").fill("Een rode boormachine in de koffer")
    page.get_by_role("button", name="Plaats op het prikbord").click()

    expect()(page.locator("h1")).to_have_text("Klopboormachine te leen")
    expect()(main).to_contain_text("Je bericht staat op het prikbord.")
    photo = page.get_by_role("img", name="Een rode boormachine in de koffer")
    expect()(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    expect()(main).to_contain_text("Anna B., nieuw in de community")
    expect()(main).to_contain_text("Past misschien bij jouw bericht")
    assert_accessible(page, "post page, author")
    assert not has_horizontal_scroll(page)

    post = Post.objects.get(author=me)
    assert (post.title, post.pc4, post.terms) == ("Klopboormachine te leen", "3511", "lend")
    assert Photo.objects.get(post=post).alt == "Een rode boormachine in de koffer"

    # a neighbour's post, as a signed-in resident
    page.goto(reverse("community:post", args=[ladder.pk]))
    expect()(page.locator("h1")).to_have_text("Ladder te leen")
    expect()(main).to_contain_text("Reageer op Sanne J.")
    assert_accessible(page, "post page, another resident")
    assert not has_horizontal_scroll(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_post_keeps_its_photo_and_the_post_leads_to_the_conversation(
    new_context, assert_accessible, javascript
):
    """An address in the text is refused once; the browser drops the chosen photo, so placing
    the post again without choosing it is stopped at the photo (not placed without it), and
    the confirmation given stays. Then a neighbour responds: the post leads both to the
    conversation."""
    me = f.resident(email="anna@example.nl", first_name="Anna", last_name="de Boer")
    neighbour = f.resident(pc4="3581", first_name="Sanne", last_name="Jansen")
    photo = {"name": "boor.png", "mimeType": "image/png", "buffer": f.image_bytes(format="PNG")}
    page = phone(new_context, java_script_enabled=javascript)
    main = page.locator("main")
    log_in(page, me)

    def accessible(where: str) -> None:
        if javascript:  # axe-core runs as JavaScript in the page
            assert_accessible(page, where)
        assert not has_horizontal_scroll(page), where

    page.goto(reverse("community:post_new"))
    page.get_by_label("Ik bied iets aan").check()
    page.get_by_label("spullen").check()
    page.get_by_label("Categorie").select_option("tools")
    page.get_by_label("Titel").fill("Klopboormachine te leen")
    page.get_by_label("Omschrijving").fill("Ophalen kan op de Dorpsstraat 12, na zessen.")
    page.get_by_label("lenen").check()
    page.get_by_label("Foto 1", exact=True).set_input_files(photo)
    page.get_by_label("Wat staat er op foto 1?").fill("Een rode boormachine")
    page.get_by_role("button", name="Plaats op het prikbord").click()

    expect()(main).to_contain_text("Let op: persoonlijke gegevens")
    expect()(main).to_contain_text("Je foto's zijn nog niet geplaatst")
    accessible("new post, personal details warning")
    page.get_by_label("Ik weet het, plaats het toch").check()
    page.get_by_role("button", name="Plaats op het prikbord").click()

    expect()(main).to_contain_text("Kies foto 1 (opnieuw)")
    assert not Post.objects.filter(author=me).exists()
    accessible("new post, photo to choose again")
    page.get_by_label("Foto 1", exact=True).set_input_files(photo)
    page.get_by_role("button", name="Plaats op het prikbord").click()

    expect()(page.locator("h1")).to_have_text("Klopboormachine te leen")
    offer = Post.objects.get(author=me)
    assert Photo.objects.get(post=offer).alt == "Een rode boormachine"
    expect()(main).to_contain_text("Nog niemand heeft gereageerd.")

    # a neighbour responds, and finds the conversation from the post again
    other = phone(new_context, java_script_enabled=javascript)
    log_in(other, neighbour)
    other.goto(reverse("community:post", args=[offer.pk]))
    other.get_by_label("Je bericht").fill("Mag ik hem zaterdag lenen?")
    other.get_by_role("button", name="Verstuur je reactie").click()
    expect()(other.locator("h1")).to_have_text("Gesprek met Anna B.")
    other.goto(reverse("community:post", args=[offer.pk]))
    expect()(other.get_by_label("Je bericht")).to_have_count(0)
    other.get_by_role("link", name="Naar het gesprek").click()
    expect()(other.locator("h1")).to_have_text("Gesprek met Anna B.")

    page.reload()
    expect()(main).to_contain_text("Reacties")
    accessible("post page, author with a response")
    page.get_by_role("link", name="Gesprek met Sanne J.").click()
    expect()(page.locator("main")).to_contain_text("Mag ik hem zaterdag lenen?")
