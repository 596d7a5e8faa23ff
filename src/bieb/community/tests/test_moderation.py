"""Moderation: reports go to the moderators of the reported resident's library, every action
is recorded, audited and explained to the resident by e-mail, and staff elsewhere see nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from bieb.accounts.tests.factories import staff_member
from bieb.community import guard, moderation
from bieb.community.models import (
    Message,
    ModerationAction,
    Post,
    Report,
    ReportStatus,
    Suspension,
    WordFilter,
)
from bieb.community.tests.factories import conversation, library, post, resident, staff
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 3, 10, 12, 0, tzinfo=clock.AMSTERDAM)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (the e-mails) of the block."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def utrecht():
    org = library("GM0344")
    org.email = "community@bibliotheekutrecht.example"
    org.website = "https://bibliotheekutrecht.example"
    org.save()
    return org


def network_admin():
    return staff_member("network_admin", None)


def message_in(post_, sender, body="Hallo, is hij nog vrij?") -> Message:
    chat = conversation(post_, responder=sender if sender != post_.author else None)
    return Message.objects.create(conversation=chat, sender=sender, body=body)


# --- reports ----------------------------------------------------------------------------------


def test_a_report_of_a_post_goes_to_the_authors_library(utrecht):
    author = resident()
    reporter = resident(pc4="1011")  # another municipality, another library
    bad = post(author=author)

    report = moderation.report_create(
        reporter=reporter, reason="spam", note="<b>Reclame</b> voor een webshop", post=bad
    )

    assert report.organisation_id == utrecht.pk == author.home_organisation_id
    assert report.subject_person == author
    assert report.status == ReportStatus.OPEN
    assert report.note == "Reclame voor een webshop"
    event = AuditEvent.objects.get(action="community.report")
    assert event.organisation_id == utrecht.pk
    assert event.data["post"] == bad.pk


def test_reporting_the_same_post_twice_answers_the_open_report():
    reporter, bad = resident(), post()

    first = moderation.report_create(reporter=reporter, reason="spam", post=bad)
    again = moderation.report_create(reporter=reporter, reason="rude", post=bad)

    assert again.pk == first.pk
    assert Report.objects.count() == 1


def test_a_message_can_be_reported_only_by_someone_in_its_conversation():
    offer = post()
    responder = resident()
    chat = conversation(offer, responder=responder)
    rude = Message.objects.create(conversation=chat, sender=responder, body="Grof!")

    with pytest.raises(NotFound):
        moderation.report_create(reporter=resident(), reason="rude", message=rude)

    report = moderation.report_create(reporter=offer.author, reason="rude", message=rude)
    assert report.subject_person == responder
    assert report.message == rude


def test_nobody_reports_themself_and_reports_are_rate_limited():
    reporter = resident()
    with pytest.raises(DomainError) as refused:
        moderation.report_create(reporter=reporter, reason="spam", person=reporter)
    assert refused.value.code == "report_self"

    limit, _window = guard.RATES["report"]
    for _n in range(limit):
        moderation.report_create(reporter=reporter, reason="spam", post=post())
    with pytest.raises(DomainError) as refused:
        moderation.report_create(reporter=reporter, reason="spam", post=post())
    assert refused.value.code == "rate_limited"
    assert refused.value.status == 429


def test_a_report_needs_one_subject_and_a_known_reason():
    reporter = resident()
    with pytest.raises(DomainError) as refused:
        moderation.report_create(reporter=reporter, reason="spam")
    assert refused.value.code == "report_subject"
    with pytest.raises(DomainError) as refused:
        moderation.report_create(reporter=reporter, reason="boring", post=post())
    assert refused.value.code == "report_reason"


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_shows_the_open_reports_of_the_moderators_own_library_oldest_first(utrecht):
    programmer = staff("programmer", utrecht)
    in_utrecht = [post(), post()]
    in_amsterdam = post(author=resident(pc4="1011"))
    with clock.frozen(NOON):
        older = moderation.report_create(reporter=resident(), reason="spam", post=in_utrecht[1])
    with clock.frozen(NOON + dt.timedelta(hours=1)):
        newer = moderation.report_create(reporter=resident(), reason="rude", post=in_utrecht[0])
        elsewhere = moderation.report_create(reporter=resident(), reason="spam", post=in_amsterdam)

    assert list(moderation.moderation_queue(programmer)) == [older, newer]
    assert elsewhere in moderation.moderation_queue(staff("manager", library("GM0363")))
    admin = network_admin()
    assert list(moderation.moderation_queue(admin)) == [older, newer, elsewhere]


def test_desk_staff_and_residents_have_no_queue(utrecht):
    with pytest.raises(PermissionDenied):
        moderation.moderation_queue(staff("desk", utrecht))
    with pytest.raises(PermissionDenied):
        moderation.moderation_queue(resident())


# --- actions ----------------------------------------------------------------------------------


def test_staff_of_another_library_cannot_act_and_learn_nothing(utrecht):
    bad = post()
    report = moderation.report_create(reporter=resident(), reason="spam", post=bad)
    other_library = library("GM0363")

    with pytest.raises(NotFound):
        moderation.moderate(
            actor=staff("programmer", other_library),
            kind="hide",
            explanation="Reclame.",
            report=report,
        )
    with pytest.raises(PermissionDenied) as refused:
        moderation.moderate(
            actor=staff("desk", utrecht), kind="hide", explanation="Reclame.", post=bad
        )
    assert refused.value.status == 403

    bad.refresh_from_db()
    assert bad.status == Post.Status.OPEN
    assert not ModerationAction.objects.exists()
    assert Report.objects.get().status == ReportStatus.OPEN


def test_hiding_a_reported_post_records_audits_handles_and_explains(utrecht, sent):
    moderator = staff("programmer", utrecht)
    bad = post(title="Gratis iPhones")
    report = moderation.report_create(reporter=resident(), reason="spam", post=bad)
    second = moderation.report_create(reporter=resident(), reason="unsafe", post=bad)

    with sent():
        action = moderation.moderate(
            actor=moderator,
            kind="hide",
            explanation="Dit is reclame voor een webshop; dat past niet op het prikbord.",
            report=report,
        )

    bad.refresh_from_db()
    assert bad.status == Post.Status.HIDDEN
    assert bad.hidden_reason.startswith("Dit is reclame")
    assert (action.kind, action.moderator, action.person, action.post, action.report) == (
        "hide",
        moderator,
        bad.author,
        bad,
        report,
    )
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.HANDLED}
    assert Report.objects.get(pk=second.pk).handled_by == moderator
    event = AuditEvent.objects.get(action="community.moderate_hide")
    assert event.organisation_id == utrecht.pk
    assert event.actor == moderator
    [email] = mail.outbox
    assert email.to == [bad.author.email]
    assert "Gratis iPhones" in email.body
    assert "Dit is reclame voor een webshop" in email.body
    assert "Ben je het hier niet mee eens?" in email.body
    assert "community@bibliotheekutrecht.example" in email.body


def test_hiding_a_message_tells_its_sender_without_quoting_it(utrecht, sent):
    offer = post()
    sender = resident()
    rude = message_in(offer, sender, body="Jij bent een sukkel")

    with sent():
        moderation.moderate(
            actor=staff("manager", utrecht),
            kind="hide",
            explanation="Schelden hoort hier niet.",
            message=rude,
        )

    rude.refresh_from_db()
    assert rude.hidden_reason == "Schelden hoort hier niet."
    [email] = mail.outbox
    assert email.to == [sender.email]
    assert "Schelden hoort hier niet." in email.body
    assert "sukkel" not in email.body


def test_a_warning_changes_nothing_but_tells_why(utrecht, sent):
    person = resident()
    with sent():
        moderation.moderate(
            actor=staff("programmer", utrecht),
            kind="warn",
            explanation="Blijf vriendelijk in je berichten.",
            person=person,
        )

    assert not Suspension.objects.exists()
    assert ModerationAction.objects.get().kind == "warn"
    [email] = mail.outbox
    assert "waarschuwing" in email.subject
    assert "Blijf vriendelijk in je berichten." in email.body
    assert AuditEvent.objects.filter(action="community.moderate_warn").count() == 1


def test_a_suspended_resident_is_refused_by_the_guard_until_it_ends(utrecht, sent):
    person = resident()
    with clock.frozen(NOON), sent():
        moderation.moderate(
            actor=staff("programmer", utrecht),
            kind="suspend",
            explanation="Herhaaldelijk spam.",
            person=person,
            days=7,
        )

    suspension = Suspension.objects.get(person=person)
    assert suspension.until == NOON + dt.timedelta(days=7)
    [email] = mail.outbox
    assert "17 maart 2025" in email.body
    assert "Herhaaldelijk spam." in email.body
    with clock.frozen(NOON + dt.timedelta(days=6)):
        with pytest.raises(PermissionDenied) as refused:
            guard.check_may_take_part(person)
        assert refused.value.code == "suspended"
        assert "Herhaaldelijk spam." in refused.value.message
    with clock.frozen(NOON + dt.timedelta(days=7, minutes=1)):
        guard.check_may_take_part(person)


def test_an_indefinite_suspension_lasts_until_restored(utrecht, sent):
    moderator = staff("manager", utrecht)
    person = resident()
    moderation.moderate(actor=moderator, kind="suspend", explanation="Bedreigingen.", person=person)
    with pytest.raises(PermissionDenied):
        guard.check_may_take_part(person)

    with sent():
        moderation.moderate(
            actor=moderator, kind="restore", explanation="Na een goed gesprek.", person=person
        )

    guard.check_may_take_part(person)
    assert Suspension.objects.get(person=person).lifted_at is not None
    assert "opgeheven" in mail.outbox[-1].subject
    assert "Na een goed gesprek." in mail.outbox[-1].body


def test_restoring_shows_a_hidden_post_again_and_nothing_twice(utrecht, sent):
    moderator = staff("programmer", utrecht)
    bad = post()
    moderation.moderate(actor=moderator, kind="hide", explanation="Te persoonlijk.", post=bad)

    with sent():
        moderation.moderate(
            actor=moderator, kind="restore", explanation="Aangepast door de schrijver.", post=bad
        )

    bad.refresh_from_db()
    assert (bad.status, bad.hidden_reason) == (Post.Status.OPEN, "")
    assert "weer zichtbaar" in mail.outbox[-1].subject
    with pytest.raises(DomainError) as refused:
        moderation.moderate(actor=moderator, kind="restore", explanation="Nog eens.", post=bad)
    assert refused.value.code == "nothing_to_restore"


def test_every_action_needs_an_explanation(utrecht):
    with pytest.raises(DomainError) as refused:
        moderation.moderate(
            actor=staff("programmer", utrecht),
            kind="warn",
            explanation="  <b></b> ",
            person=resident(),
        )
    assert refused.value.code == "explanation_required"


def test_a_network_admin_moderates_a_resident_of_no_library(sent):
    nowhere = resident(home_organisation=None, municipality=None)
    report = moderation.report_create(reporter=resident(), reason="rude", person=nowhere)
    assert report.organisation_id is None

    with pytest.raises(NotFound):
        moderation.moderate(
            actor=staff("manager", library()), kind="warn", explanation="Let op.", report=report
        )
    moderation.moderate(actor=network_admin(), kind="warn", explanation="Let op.", report=report)
    assert Report.objects.get().status == ReportStatus.HANDLED


def test_a_report_can_be_dismissed_without_telling_anyone(utrecht, sent):
    report = moderation.report_create(reporter=resident(), reason="other", post=post())
    with sent():
        moderation.report_dismiss(actor=staff("programmer", utrecht), report=report)

    assert Report.objects.get().status == ReportStatus.HANDLED
    assert mail.outbox == []
    with pytest.raises(DomainError) as refused:
        moderation.report_dismiss(actor=staff("programmer", utrecht), report=report)
    assert refused.value.code == "report_handled"


# --- word filters -----------------------------------------------------------------------------


def test_moderators_keep_their_own_word_filter(utrecht):
    from bieb.community import posts

    moderator = staff("programmer", utrecht)
    word = moderation.word_filter_add(actor=moderator, organisation=utrecht, phrase=" Snel Geld ")
    again = moderation.word_filter_add(actor=moderator, organisation=utrecht, phrase="snel geld")

    assert word.pk == again.pk and word.phrase == "snel geld"
    assert [w.phrase for w in moderation.word_filters(moderator, utrecht)] == ["snel geld"]
    assert posts.word_filter_phrases(resident()) == ["snel geld"]  # applies to its residents
    assert AuditEvent.objects.filter(action="community.word_filter_add").count() == 1

    moderation.word_filter_remove(actor=moderator, word_filter=word)
    assert not WordFilter.objects.exists()
    assert AuditEvent.objects.filter(action="community.word_filter_remove").count() == 1


def test_word_filters_are_out_of_reach_of_others(utrecht):
    with pytest.raises(NotFound):
        moderation.word_filter_add(
            actor=staff("manager", library("GM0363")), organisation=utrecht, phrase="spam"
        )
    with pytest.raises(PermissionDenied):
        moderation.word_filter_add(actor=resident(), organisation=utrecht, phrase="spam")
    with pytest.raises(PermissionDenied):
        moderation.word_filters(staff("desk", utrecht), utrecht)
    with pytest.raises(DomainError) as refused:
        moderation.word_filter_add(
            actor=staff("manager", utrecht), organisation=utrecht, phrase="x"
        )
    assert refused.value.code == "phrase_too_short"
    assert not WordFilter.objects.exists()
