"""Reporting and moderation screens through the test client: residents report a post, a
message or a resident and are thanked; moderators of the resident's library see the queue with
the reported text shown safely, act (the resident is mailed the explanation), look at one
resident and keep the word filter; staff elsewhere get "not found", other roles "forbidden"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
from bieb.community.tests.factories import (
    conversation,
    exchange,
    library,
    post,
    resident,
    staff,
    suspend,
    word_filter,
)
from bieb.core import clock
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 3, 10, 12, 0, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def _noon():
    with clock.frozen(NOON):
        yield


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def utrecht():
    org = library("GM0344")
    org.email = "community@bibliotheekutrecht.example"
    org.save()
    return org


def page(response) -> str:
    return response.content.decode()


def message_from(sender, offer: Post, body="Grof bericht") -> Message:
    chat = conversation(offer, responder=sender)
    return Message.objects.create(conversation=chat, sender=sender, body=body)


def reported(post_=None, **kw) -> Report:
    return moderation.report_create(
        reporter=kw.pop("reporter", None) or resident(),
        reason=kw.pop("reason", "spam"),
        post=post_ or post(),
        **kw,
    )


# --- reporting ---------------------------------------------------------------------------------


def test_a_resident_reports_a_post_and_is_told_what_happens_next(client):
    bad = post(title="Gratis iPhones")
    reporter = resident()
    client.force_login(reporter)
    url = reverse("community:report", args=[bad.pk])

    form = client.get(url)
    response = client.post(url, {"reason": "spam", "note": "Reclame <b>voor</b> een webshop"})

    assert form.status_code == 200
    # the name ends in a full stop of its own ("Anna V."): no second one after it
    assert "Je meldt dit bericht van " in page(form)
    assert ": \u2018Gratis iPhones\u2019." in page(form)
    assert "..<" not in page(form) and ".." not in page(form).split("Je meldt", 1)[1][:200]
    assert response.status_code == 302
    assert response["Location"] == reverse("community:report_thanks")
    report = Report.objects.get()
    assert (report.post, report.reporter, report.reason) == (bad, reporter, "spam")
    assert report.note == "Reclame voor een webshop"
    thanks = client.get(response["Location"])
    assert "Wat gebeurt er nu?" in page(thanks)
    assert "De ander hoort niet dat jij het meldde" in page(thanks)
    assert reverse("community:post", args=[bad.pk]) in page(thanks)


def test_reporting_needs_a_reason_and_a_log_in(client):
    bad = post()
    url = reverse("community:report", args=[bad.pk])

    anonymous = client.get(url)
    client.force_login(resident())
    no_reason = client.post(url, {"note": "Zomaar"})

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert no_reason.status_code == 400
    assert "Kies waarom je dit meldt." in page(no_reason)
    assert not Report.objects.exists()


def test_a_hidden_post_and_ones_own_post_cannot_be_reported(client):
    author = resident()
    client.force_login(author)

    hidden = client.get(reverse("community:report", args=[post(status="hidden").pk]))
    own = client.get(reverse("community:report", args=[post(author=author).pk]))
    missing = client.get(reverse("community:report", args=[999_999]))

    assert (hidden.status_code, own.status_code, missing.status_code) == (404, 404, 404)


def test_a_message_is_reported_only_by_someone_in_its_conversation(client):
    offer = post()
    rude = message_from(resident(), offer, body="Jij <script>alert(1)</script> sukkel")
    url = reverse("community:report_message", args=[rude.pk])

    client.force_login(resident())
    outsider = client.get(url)
    client.force_login(rude.sender)
    sender = client.get(url)
    client.force_login(offer.author)
    shown = client.get(url)
    response = client.post(url, {"reason": "rude"})

    assert (outsider.status_code, sender.status_code) == (404, 404)
    assert "&lt;script&gt;" in page(shown) and "<script>alert" not in page(shown)
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.message, report.subject_person) == (rude, rude.sender)


def test_a_resident_is_reported_only_by_someone_who_can_know_them(client):
    known = post().author
    stranger = resident()
    me = resident()
    client.force_login(me)

    ok = client.post(reverse("community:report_person", args=[known.pk]), {"reason": "rude"})
    talked = resident()
    conversation(post(author=me), responder=talked)
    by_conversation = client.get(reverse("community:report_person", args=[talked.pk]))
    helped = resident()
    exchange(post(), giver=helped, receiver=resident(), status="done")
    by_exchange = client.get(reverse("community:report_person", args=[helped.pk]))
    unknown = client.get(reverse("community:report_person", args=[stranger.pk]))
    myself = client.get(reverse("community:report_person", args=[me.pk]))

    assert ok.status_code == 302
    assert Report.objects.get().subject_person == known
    assert (unknown.status_code, myself.status_code) == (404, 404)
    assert (by_conversation.status_code, by_exchange.status_code) == (200, 200)
    assert "Je meldt deze deelnemer: " in page(by_conversation)


def test_too_many_reports_are_refused_with_the_reason(client):
    reporter = resident()
    limit, _window = guard.RATES["report"]
    for _n in range(limit):
        reported(reporter=reporter)
    client.force_login(reporter)

    response = client.post(reverse("community:report", args=[post().pk]), {"reason": "spam"})

    assert response.status_code == 429
    assert "Probeer het later opnieuw." in page(response)


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_shows_the_reported_text_safely_with_the_residents_history(client, utrecht):
    author = resident(first_name="Bert", last_name="Bakker")
    older = reported(
        post(author=author, title="Oud", body="<script>alert('x')</script> Kijk op www.spam.nl")
    )
    with clock.frozen(NOON + dt.timedelta(hours=1)):
        newer = reported(post(title="Nieuw"))
    moderation.moderate(
        actor=staff("manager", utrecht),
        kind="warn",
        explanation="Eerdere waarschuwing voor reclame.",
        person=author,
    )
    elsewhere = reported(post(author=resident(pc4="1011"), title="Amsterdams bericht"))
    client.force_login(staff("programmer", utrecht))

    response = client.get(reverse("community:moderation"))

    html = page(response)
    assert response.status_code == 200
    assert "2 open meldingen" in html
    assert html.index(f"report-{older.pk}") < html.index(f"report-{newer.pk}")
    assert f"report-{elsewhere.pk}" not in html and "Amsterdams bericht" not in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Bevat links (niet aanklikbaar)" in html
    assert 'href="http://www.spam.nl' not in html and 'href="www.spam.nl' not in html
    assert "Eerdere waarschuwing voor reclame." in html
    assert "Bert B." in html
    assert reverse("community:moderation_person", args=[author.pk]) in html


def test_the_queue_costs_the_same_queries_for_two_reports_as_for_eight(client, utrecht):
    moderator = staff("programmer", utrecht)
    offer = post()
    reported(offer)
    moderation.report_create(
        reporter=offer.author, reason="rude", message=message_from(resident(), offer)
    )
    client.force_login(moderator)
    client.get(reverse("community:moderation"))  # the session and roles, once
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("community:moderation"))
    for _n in range(3):
        reported()
        moderation.report_create(
            reporter=offer.author, reason="rude", message=message_from(resident(), offer)
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("community:moderation"))

    assert "8 open meldingen" in page(response)
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("role", "status"),
    [("desk", 403), ("collection", 403), ("programmer", 200), ("manager", 200)],
)
def test_the_queue_is_for_programmers_and_managers(client, utrecht, role, status):
    client.force_login(staff(role, utrecht))
    assert client.get(reverse("community:moderation")).status_code == status


def test_residents_and_visitors_have_no_queue(client):
    anonymous = client.get(reverse("community:moderation"))
    client.force_login(resident())
    signed_in = client.get(reverse("community:moderation"))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert signed_in.status_code == 403


def test_hiding_mails_the_explanation_to_the_resident(client, utrecht, sent):
    author = resident()
    bad = post(author=author, title="Gratis iPhones")
    report = reported(bad)
    client.force_login(staff("programmer", utrecht))
    url = reverse("community:moderate", args=[report.pk])
    prefix = f"r{report.pk}"

    with sent():
        response = client.post(
            url,
            {
                f"{prefix}-kind": "hide",
                f"{prefix}-explanation": "Dit is reclame; dat past niet op het prikbord.",
            },
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("community:moderation")
    bad.refresh_from_db()
    assert bad.status == Post.Status.HIDDEN
    assert Report.objects.get().status == ReportStatus.HANDLED
    [email] = mail.outbox
    assert email.to == [author.email]
    assert "Dit is reclame; dat past niet op het prikbord." in email.body
    assert AuditEvent.objects.filter(action="community.moderate_hide").exists()
    assert "Verborgen. De bewoner krijgt je uitleg per e-mail." in page(
        client.get(reverse("community:moderation"))
    )


def test_an_action_without_an_explanation_is_refused_at_its_field(client, utrecht):
    report = reported()
    client.force_login(staff("programmer", utrecht))
    prefix = f"r{report.pk}"

    response = client.post(
        reverse("community:moderate", args=[report.pk]), {f"{prefix}-kind": "warn"}
    )

    assert response.status_code == 400
    html = page(response)
    assert "Schrijf op waarom: de bewoner krijgt deze uitleg te lezen." in html
    assert f'href="#act-{report.pk}"' in html
    assert f'id="id_{prefix}-explanation"' in html and 'aria-invalid="true"' in html
    assert not ModerationAction.objects.exists()
    assert Report.objects.get().status == ReportStatus.OPEN
    # the choice made is still chosen, on a radio that shows it (the browser's own: the
    # theme's "utrecht-radio-button" looks the same checked or not)
    warn = re.search(rf'<input[^>]*name="{prefix}-kind"[^>]*value="warn"[^>]*>', html).group(0)
    assert "checked" in warn and 'class="community-radio"' in warn
    assert "utrecht-radio-button" not in html
    textarea = re.search(rf'<textarea[^>]*name="{prefix}-explanation"[^>]*>', html).group(0)
    assert "utrecht-textarea" in textarea  # the explanation wraps its lines


def test_a_suspension_runs_the_days_given_and_is_explained(client, utrecht, sent):
    author = resident()
    report = reported(post(author=author))
    client.force_login(staff("manager", utrecht))
    prefix = f"r{report.pk}"

    with sent():
        client.post(
            reverse("community:moderate", args=[report.pk]),
            {
                f"{prefix}-kind": "suspend",
                f"{prefix}-days": "7",
                f"{prefix}-explanation": "Herhaaldelijk reclame.",
            },
        )

    suspension = Suspension.objects.get(person=author)
    assert suspension.until == NOON + dt.timedelta(days=7)
    [email] = mail.outbox
    assert "Herhaaldelijk reclame." in email.body


def test_too_many_days_of_suspension_are_refused(client, utrecht):
    report = reported()
    client.force_login(staff("manager", utrecht))
    prefix = f"r{report.pk}"

    response = client.post(
        reverse("community:moderate", args=[report.pk]),
        {f"{prefix}-kind": "suspend", f"{prefix}-days": "999", f"{prefix}-explanation": "X"},
    )

    assert response.status_code == 400
    assert "Schors voor 1 tot 365 dagen." in page(response)
    assert not Suspension.objects.exists()


def test_dismissing_closes_the_report_without_mail_and_only_once(client, utrecht, sent):
    report = reported()
    client.force_login(staff("programmer", utrecht))
    url = reverse("community:moderate", args=[report.pk])
    prefix = f"r{report.pk}"

    with sent():
        first = client.post(url, {f"{prefix}-kind": "dismiss"})
    again = client.post(url, {f"{prefix}-kind": "dismiss"})

    assert first.status_code == 302
    assert Report.objects.get().status == ReportStatus.HANDLED
    assert mail.outbox == []
    assert again.status_code == 409
    assert "Deze melding is al afgehandeld." in page(again)


def test_a_moderator_of_another_library_gets_not_found(client, utrecht):
    bad = post()
    report = reported(bad)
    client.force_login(staff("programmer", library("GM0363")))
    prefix = f"r{report.pk}"

    response = client.post(
        reverse("community:moderate", args=[report.pk]),
        {f"{prefix}-kind": "hide", f"{prefix}-explanation": "Weg ermee."},
    )
    person_page = client.get(reverse("community:moderation_person", args=[bad.author.pk]))

    assert response.status_code == 404
    assert person_page.status_code == 404
    bad.refresh_from_db()
    assert bad.status == Post.Status.OPEN
    assert not ModerationAction.objects.exists()


def test_moderating_is_a_post_for_moderators_only(client, utrecht):
    report = reported()
    url = reverse("community:moderate", args=[report.pk])

    client.force_login(staff("programmer", utrecht))
    assert client.get(url).status_code == 405
    client.force_login(staff("desk", utrecht))
    assert client.post(url, {}).status_code == 403
    client.force_login(resident())
    assert client.post(url, {}).status_code == 403


def test_a_network_administrator_sees_reports_of_no_library(client):
    homeless = resident(home_organisation=None, municipality=None)
    report = reported(post(author=homeless, municipality=None))
    assert report.organisation_id is None

    client.force_login(staff("programmer", library()))
    assert f"report-{report.pk}" not in page(client.get(reverse("community:moderation")))
    client.force_login(staff_member("network_admin", None))
    assert f"report-{report.pk}" in page(client.get(reverse("community:moderation")))


# --- one resident ------------------------------------------------------------------------------


def test_a_residents_page_shows_posts_reports_actions_and_suspension(client, utrecht):
    author = resident(first_name="Bert", last_name="Bakker")
    hidden = post(author=author, title="Verborgen iPhones")
    reported(hidden, note="Alweer reclame")
    Post.objects.filter(pk=hidden.pk).update(status="hidden", hidden_reason="Spam")
    post(author=author, title="Boormachine te leen")
    suspend(author, reason="Spam op het prikbord.")
    ModerationAction.objects.create(
        kind="hide", moderator=staff("manager", utrecht), person=author, explanation="Spam."
    )
    client.force_login(staff("programmer", utrecht))

    response = client.get(reverse("community:moderation_person", args=[author.pk]))

    html = page(response)
    assert response.status_code == 200
    assert "Moderatie: Bert B." in html
    assert "Verborgen iPhones" in html and "Boormachine te leen" in html
    assert "Alweer reclame" in html
    assert "Geschorst tot een moderator het opheft." in html
    assert "Reden: Spam op het prikbord." in html
    assert 'name="form" value="lift"' in html
    assert f'name="form" value="post-{hidden.pk}"' in html


def test_a_moderator_lifts_a_suspension_and_restores_a_post(client, utrecht, sent):
    author = resident()
    hidden = post(author=author, status="hidden", hidden_reason="Spam")
    suspend(author)
    client.force_login(staff("programmer", utrecht))
    url = reverse("community:moderation_person", args=[author.pk])

    with sent():
        lifted = client.post(
            url,
            {"form": "lift", "lift-action": "lift", "lift-explanation": "Je mag weer meedoen."},
        )
        restored = client.post(
            url,
            {
                "form": f"post-{hidden.pk}",
                f"post-{hidden.pk}-action": "restore_post",
                f"post-{hidden.pk}-target": hidden.pk,
                f"post-{hidden.pk}-explanation": "Toch geen reclame.",
            },
        )

    assert (lifted.status_code, restored.status_code) == (302, 302)
    assert guard.active_suspension(author) is None
    hidden.refresh_from_db()
    assert hidden.status == Post.Status.OPEN
    assert [m.to for m in mail.outbox] == [[author.email], [author.email]]
    assert "Je mag weer meedoen." in mail.outbox[0].body
    assert "Toch geen reclame." in mail.outbox[1].body


def test_a_moderator_warns_a_resident_but_not_without_a_reason(client, utrecht, sent):
    author = post().author
    client.force_login(staff("manager", utrecht))
    url = reverse("community:moderation_person", args=[author.pk])

    empty = client.post(url, {"form": "warn", "warn-action": "warn", "warn-explanation": ""})
    with sent():
        warned = client.post(
            url, {"form": "warn", "warn-action": "warn", "warn-explanation": "Let op je toon."}
        )

    assert empty.status_code == 400
    assert "Schrijf op waarom" in page(empty)
    assert warned.status_code == 302
    assert ModerationAction.objects.get().kind == "warn"
    [email] = mail.outbox
    assert "Let op je toon." in email.body


def test_another_residents_post_is_not_restored_through_this_page(client, utrecht):
    author = resident()
    someone_else = post(status="hidden", hidden_reason="Spam")
    client.force_login(staff("programmer", utrecht))

    response = client.post(
        reverse("community:moderation_person", args=[author.pk]),
        {
            "form": f"post-{someone_else.pk}",
            f"post-{someone_else.pk}-action": "restore_post",
            f"post-{someone_else.pk}-target": someone_else.pk,
            f"post-{someone_else.pk}-explanation": "Terug.",
        },
    )

    assert response.status_code == 404
    someone_else.refresh_from_db()
    assert someone_else.status == Post.Status.HIDDEN


# --- word filters ------------------------------------------------------------------------------


def test_moderators_keep_their_librarys_word_filter(client, utrecht):
    word_filter(utrecht, "gratis iphone")
    word_filter(library("GM0363"), "amsterdams woord")
    client.force_login(staff("programmer", utrecht))
    url = reverse("community:word_filters")

    listed = page(client.get(url))
    added = client.post(url, {"organisatie": utrecht.pk, "phrase": "  Koop NU  "})
    twice = client.post(url, {"organisatie": utrecht.pk, "phrase": "koop nu"})
    short = client.post(url, {"organisatie": utrecht.pk, "phrase": "x"})

    assert "gratis iphone" in listed and "amsterdams woord" not in listed
    assert added.status_code == 302 and twice.status_code == 302
    assert added["Location"] == f"{url}?organisatie={utrecht.pk}"
    assert list(
        WordFilter.objects.filter(organisation=utrecht).values_list("phrase", flat=True)
    ) == ["gratis iphone", "koop nu"]
    assert short.status_code == 400
    assert "minstens twee tekens" in page(short)

    word = WordFilter.objects.get(phrase="koop nu")
    removed = client.post(reverse("community:word_filter_remove", args=[word.pk]))

    assert removed.status_code == 302
    assert not WordFilter.objects.filter(pk=word.pk).exists()
    assert AuditEvent.objects.filter(action="community.word_filter_remove").exists()


def test_another_librarys_word_filter_is_out_of_reach(client, utrecht):
    theirs = word_filter(library("GM0363"), "amsterdams woord")
    client.force_login(staff("programmer", utrecht))

    removed = client.post(reverse("community:word_filter_remove", args=[theirs.pk]))
    added = client.post(
        reverse("community:word_filters"),
        {"organisatie": theirs.organisation_id, "phrase": "sneaky"},
    )

    assert removed.status_code == 404
    assert WordFilter.objects.filter(pk=theirs.pk).exists()
    # an organisation that is not the moderator's is not chosen: the phrase lands on their own
    assert added.status_code == 302
    assert WordFilter.objects.get(phrase="sneaky").organisation == utrecht
    client.force_login(staff("desk", utrecht))
    assert client.get(reverse("community:word_filters")).status_code == 403


def test_a_moderator_of_two_libraries_chooses_the_list(client, utrecht):
    amsterdam = library("GM0363")
    word_filter(amsterdam, "amsterdams woord")
    moderator = staff("programmer", utrecht)
    from bieb.accounts.models import StaffRole

    StaffRole.objects.create(user=moderator, organisation=amsterdam, role="manager")
    client.force_login(moderator)

    shown = page(client.get(reverse("community:word_filters"), {"organisatie": amsterdam.pk}))

    assert 'name="organisatie"' in shown and "amsterdams woord" in shown
