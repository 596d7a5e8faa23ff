"""Posts: offers and requests of residents, the checks on them, their photos, and the review
of activity ideas by staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.community import posts, selectors
from bieb.community.models import Photo, Post
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.programming.models import Activity, ActivityStatus
from bieb.programming.services import ActivityInput
from bieb.programming.tests.factories import tomorrow_at

pytestmark = pytest.mark.django_db


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def code_of(call) -> str:
    return refusal(call).code


def create(person, **kw):
    fields = {
        "type": "offer",
        "kind": "thing",
        "category": "tools",
        "title": "Klopboormachine te leen",
        "body": "Een stevige boormachine met een set boortjes.",
        "terms": "lend",
    }
    fields.update(kw)
    return posts.post_create(person=person, **fields)


# --- placing a post ------------------------------------------------------------------------------


def test_a_resident_posts_an_offer_in_their_postcode_area_never_the_address():
    person = f.resident(pc4="3512", postcode="3512 JE")

    made = create(person, availability="Op zaterdag")

    made.refresh_from_db()
    assert made.status == Post.Status.OPEN
    assert (made.pc4, made.municipality.name) == ("3512", "Utrecht")
    assert (made.lat, made.lon) == (f.area("3512").lat, f.area("3512").lon)
    assert "JE" not in made.pc4
    assert made.author == person and made.availability == "Op zaterdag"
    assert made.idea_status == "" and not made.flagged_personal
    event = AuditEvent.objects.get(action="community.post_create")
    assert event.subject == f"community.post:{made.pk}" and event.actor == person
    assert event.organisation_id == person.home_organisation_id


def test_script_in_a_title_and_text_comes_out_as_plain_text():
    person = f.resident()

    made = create(
        person,
        title='<script>alert("x")</script><b>Boor</b>machine <img src=x onerror=alert(1)>',
        body="Goed &lt;script&gt;alert(1)&lt;/script&gt; werkend.\n\n\n\n<a href='x'>klik</a>",
    )

    made.refresh_from_db()
    assert made.title == "Boor machine"
    assert "<" not in made.body and "script" not in made.body and "alert" not in made.body
    assert made.body.startswith("Goed") and "klik" in made.body


def test_a_title_or_text_that_is_empty_after_cleaning_is_refused():
    person = f.resident()

    assert code_of(lambda: create(person, title="<script>x</script>   ")) == "title_required"
    assert code_of(lambda: create(person, body="<p> </p>")) == "body_required"
    assert not Post.objects.exists()


def test_unknown_choices_are_refused_and_skills_are_always_help():
    person = f.resident()

    assert code_of(lambda: create(person, type="gift")) == "invalid_choice"
    assert code_of(lambda: create(person, kind="car")) == "invalid_choice"
    assert code_of(lambda: create(person, category="weapons")) == "invalid_choice"
    assert code_of(lambda: create(person, terms="help")) == "terms_invalid"
    skill = create(person, kind="skill", category="digital", title="Hulp met je telefoon")
    assert skill.terms == "help"


def test_personal_details_in_the_text_warn_first_and_are_saved_when_confirmed():
    person = f.resident()
    body = "Ophalen aan de Kerkstraat 12, of bel 06-12345678."

    warning = refusal(lambda: create(person, body=body))

    assert warning.code == "personal_details" and warning.status == 409
    assert warning.details["kinds"] == ["address", "phone"]
    assert "Kerkstraat" not in warning.message and "0612345678" not in warning.message
    assert not Post.objects.exists()

    made = create(person, body=body, acknowledge_personal=True)
    assert made.flagged_personal is True
    assert AuditEvent.objects.get(action="community.post_create").data["flagged_personal"] == [
        "address",
        "phone",
    ]


def test_the_word_filter_of_the_home_library_and_of_the_municipality_refuses_without_quoting():
    person = f.resident()
    f.word_filter(person.home_organisation, "sukkel")
    other_library_here = OrganisationFactory(municipalities=[f.municipality("GM0344")])
    f.word_filter(other_library_here, "oplichter")
    f.word_filter(f.library("GM0363"), "fiets")  # Amsterdam's list does not apply in Utrecht

    refused = refusal(lambda: create(person, body="Niet voor een SUKKEL zoals jij."))
    assert refused.code == "word_filtered"
    assert "sukkel" not in refused.message.casefold()
    assert code_of(lambda: create(person, title="Geen oplichter")) == "word_filtered"
    assert not Post.objects.exists()

    assert create(person, title="Mijn fiets te leen").pk


def test_at_most_five_posts_a_day():
    person = f.resident()
    start = clock.now()
    with clock.frozen(start):
        for n in range(5):
            create(person, title=f"Ding {n}")

        refused = refusal(lambda: create(person, title="Ding 6"))
        assert (refused.code, refused.status) == ("rate_limited", 429)

    with clock.frozen(start + dt.timedelta(hours=25)):
        assert create(person, title="Ding 6").pk


def test_the_same_post_twice_within_a_day_is_refused():
    person = f.resident()
    start = clock.now()
    with clock.frozen(start):
        create(person)
        assert code_of(lambda: create(person)) == "duplicate_post"
        assert create(person, title="Klopboormachine te leen (2)").pk
        # someone else may write the same words
        assert create(f.resident()).pk

    with clock.frozen(start + dt.timedelta(hours=24, minutes=1)):
        assert create(person).pk


def test_youth_under_16_may_post_an_idea_but_not_offer_a_thing():
    child = f.youth(age=12)

    refused = refusal(lambda: create(child))
    assert (refused.code, refused.status) == ("consent_required", 403)
    assert not Post.objects.exists()

    idea = create(
        child, kind="idea", category="games", title="Spelletjesmiddag", body="Met bordspellen."
    )
    assert (idea.kind, idea.idea_status, idea.terms) == ("idea", "pending", "help")

    with_consent = f.youth(age=12, consent=True)
    assert create(with_consent, title="Skateboard te leen").pk


def test_a_suspended_resident_is_refused_and_may_post_again_when_it_ends():
    person = f.resident()
    suspension = f.suspend(person, reason="Herhaald spam.")

    refused = refusal(lambda: create(person))
    assert (refused.code, refused.status) == ("suspended", 403)
    assert "Herhaald spam." in refused.message
    assert not Post.objects.exists()

    suspension.lifted_at = clock.now()
    suspension.save()
    assert create(person).pk


def test_an_unconfirmed_address_or_no_postcode_is_refused():
    assert code_of(lambda: create(f.resident(email_verified_at=None))) == "email_unconfirmed"
    refused = refusal(lambda: create(f.resident(postcode="")))
    assert (refused.code, refused.details["field"]) == ("postcode_required", "postcode")


def test_photos_are_processed_with_the_post_and_a_bad_one_refuses_it_all():
    person = f.resident()

    made = create(person, photos=[f.upload(), f.upload(f.image_bytes((3000, 2000), gps=True))])

    photos = list(made.photos.order_by("pk"))
    assert [(p.width, p.height) for p in photos] == [(800, 600), (1600, 1067)]
    assert bytes(photos[1].image)[:2] == b"\xff\xd8"

    fake = f.upload(b"dit is geen foto", name="vakantie.jpg")
    assert code_of(lambda: create(person, title="Tweede", photos=[f.upload(), fake])) == (
        "photo_invalid"
    )
    assert code_of(lambda: create(person, title="Derde", photos=[f.upload()] * 5)) == (
        "too_many_photos"
    )
    assert Post.objects.count() == 1 and Photo.objects.count() == 2


# --- changing and closing ------------------------------------------------------------------------


def test_the_author_changes_the_text_with_the_same_checks():
    person = f.resident()
    made = create(person)

    changed = posts.post_update(
        post=made,
        person=person,
        title="<i>Boormachine</i>",
        body="Nu ook met een waterpas.",
        category="tools",
        terms="give",
    )

    assert (changed.title, changed.body, changed.terms) == (
        "Boormachine",
        "Nu ook met een waterpas.",
        "give",
    )
    event = AuditEvent.objects.get(action="community.post_update")
    assert set(event.data["changed"]) == {"title", "body", "terms"}
    assert code_of(
        lambda: posts.post_update(
            post=made, person=person, title="x", body="Mail me: a@b.nl", category="tools"
        )
    ) == ("personal_details")
    assert code_of(
        lambda: posts.post_update(
            post=made, person=f.resident(), title="x", body="y", category="tools"
        )
    ) == ("not_yours")


def test_the_author_closes_a_post_and_then_it_cannot_change():
    person = f.resident()
    made = create(person)

    assert code_of(lambda: posts.post_close(post=made, person=f.resident())) == "not_yours"
    closed = posts.post_close(post=made, person=person)
    assert closed.status == Post.Status.CLOSED and closed.closed_at is not None
    assert posts.post_close(post=made, person=person).status == Post.Status.CLOSED
    assert AuditEvent.objects.filter(action="community.post_close").count() == 1
    assert code_of(
        lambda: posts.post_update(post=made, person=person, title="a", body="b", category="tools")
    ) == ("post_not_open")


def test_a_hidden_post_cannot_be_closed_or_changed_by_its_author():
    hidden = f.post(status=Post.Status.HIDDEN)

    assert code_of(lambda: posts.post_close(post=hidden, person=hidden.author)) == "post_not_open"
    assert (
        code_of(lambda: posts.post_photo_add(post=hidden, person=hidden.author, file=f.upload()))
        == "post_not_open"
    )


def test_photos_are_added_up_to_four_and_removed_by_the_author_only():
    person = f.resident()
    made = create(person)
    added = [
        posts.post_photo_add(post=made, person=person, file=f.upload(), alt="<b>Voorkant</b>")
        for _ in range(4)
    ]
    assert added[0].alt == "Voorkant"

    refused = refusal(lambda: posts.post_photo_add(post=made, person=person, file=f.upload()))
    assert (refused.code, refused.status) == ("too_many_photos", 409)
    assert (
        code_of(lambda: posts.post_photo_add(post=made, person=f.resident(), file=f.upload()))
        == "not_yours"
    )

    other = f.resident()
    assert (
        code_of(lambda: posts.post_photo_remove(post=made, person=other, photo_id=added[0].pk))
        == "not_found"
    )
    posts.post_photo_remove(post=made, person=person, photo_id=added[0].pk)
    assert made.photos.count() == 3
    assert code_of(lambda: posts.post_photo_remove(post=made, person=person, photo_id="nope")) == (
        "not_found"
    )


# --- ideas ---------------------------------------------------------------------------------------


def activity_data(organisation) -> ActivityInput:
    place = LocationFactory(organisation=organisation)
    return ActivityInput(
        kind="event",
        title="Spelletjesmiddag",
        summary="Bordspellen voor jong en oud.",
        audience="everyone",
        challenge="lifelong",
        location_id=place.pk,
        starts_at=tomorrow_at(14),
        ends_at=tomorrow_at(17),
        capacity=20,
    )


def an_idea(**kw):
    author = kw.pop("author", None) or f.resident()
    return create(
        author,
        kind="idea",
        category="games",
        title="Spelletjesmiddag in de bieb",
        body="Elke maand bordspellen spelen met de buurt.",
        **kw,
    )


def test_an_approved_idea_becomes_a_draft_activity_with_the_resident_as_co_organiser(
    django_capture_on_commit_callbacks,
):
    idea = an_idea()
    library = idea.author.home_organisation
    programmer = f.staff("programmer", library)

    with django_capture_on_commit_callbacks(execute=True):
        reviewed = posts.idea_review(
            post=idea,
            actor=programmer,
            approve=True,
            note="We plannen het samen.",
            activity_data=activity_data(library),
        )

    activity = Activity.objects.get()
    assert reviewed.activity == activity and reviewed.idea_status == "approved"
    assert activity.status == ActivityStatus.DRAFT
    assert (activity.organisation, activity.co_organiser) == (library, idea.author)
    assert AuditEvent.objects.filter(
        action="community.idea_approve", organisation_id=library.pk
    ).exists()
    [message] = [m for m in mail.outbox if m.to == [idea.author.email]]
    assert "Spelletjesmiddag in de bieb" in message.subject
    assert "mede-organisator" in message.body and "We plannen het samen." in message.body
    assert selectors.post_path(idea.pk) in message.body

    refused = refusal(
        lambda: posts.idea_review(post=idea, actor=programmer, approve=False, note="Toch niet.")
    )
    assert (refused.code, refused.status) == ("idea_reviewed", 409)


def test_a_rejected_idea_needs_a_note_which_the_resident_receives(
    django_capture_on_commit_callbacks,
):
    idea = an_idea()
    manager = f.staff("manager", idea.author.home_organisation)

    assert code_of(
        lambda: posts.idea_review(post=idea, actor=manager, approve=False, note=" ")
    ) == ("note_required")
    with django_capture_on_commit_callbacks(execute=True):
        posts.idea_review(
            post=idea, actor=manager, approve=False, note="Er is al zo'n middag in de wijk."
        )

    idea.refresh_from_db()
    assert (idea.idea_status, idea.activity) == ("rejected", None)
    assert not Activity.objects.exists()
    [message] = mail.outbox
    assert message.to == [idea.author.email]
    assert "Er is al zo'n middag in de wijk." in message.body


def test_only_programmers_and_managers_of_the_residents_library_review_ideas():
    idea = an_idea()
    other_library = f.library("GM0363")

    elsewhere = refusal(
        lambda: posts.idea_review(
            post=idea,
            actor=f.staff("programmer", other_library),
            approve=True,
            activity_data=activity_data(other_library),
        )
    )
    assert (elsewhere.code, elsewhere.status) == ("not_found", 404)
    desk = refusal(
        lambda: posts.idea_review(
            post=idea, actor=f.staff("desk", idea.author.home_organisation), approve=False, note="x"
        )
    )
    assert desk.status == 403
    resident = refusal(
        lambda: posts.idea_review(post=idea, actor=idea.author, approve=False, note="x")
    )
    assert resident.status == 403
    idea.refresh_from_db()
    assert idea.idea_status == "pending" and not Activity.objects.exists()


def test_bad_activity_data_leaves_the_idea_waiting_and_only_ideas_are_reviewed():
    idea = an_idea()
    library = idea.author.home_organisation
    programmer = f.staff("programmer", library)
    data = activity_data(library)
    data.summary = ""

    assert (
        code_of(lambda: posts.idea_review(post=idea, actor=programmer, approve=True))
        == "activity_required"
    )
    assert (
        code_of(
            lambda: posts.idea_review(post=idea, actor=programmer, approve=True, activity_data=data)
        )
        == "summary_required"
    )
    idea.refresh_from_db()
    assert idea.idea_status == "pending" and not Activity.objects.exists()

    offer = create(f.resident())
    assert (
        code_of(lambda: posts.idea_review(post=offer, actor=programmer, approve=False, note="x"))
        == "not_an_idea"
    )


def test_an_idea_of_a_resident_without_home_library_goes_to_a_library_of_their_municipality():
    author = f.resident(home_organisation=None)
    idea = an_idea(author=author)
    library = f.library("GM0344")
    programmer = f.staff("programmer", library)

    reviewed = posts.idea_review(
        post=idea, actor=programmer, approve=True, activity_data=activity_data(library)
    )

    assert reviewed.activity.organisation == library
