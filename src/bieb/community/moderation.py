"""Moderation: residents report, moderators act, and the resident is told what and why.

Who moderates: the **managers and programmers** of the reported resident's library
organisation (``MODERATORS``). Programmers run the activities and the community work of a
library and managers answer for it; desk staff have the desk to run and collection staff
the collection, so they do not moderate. Network administrators moderate everywhere (and
see reports that belong to no organisation). Staff of another organisation get "not found"
(404) for a report or resident outside their organisations, a resident without a moderator
role anywhere gets "forbidden" (403).

Whose organisation: the reported resident's ``home_organisation``; a resident without one
belongs to the organisation serving the municipality of the reported post (or of the
resident), and otherwise to no organisation, which only network administrators see.

Every action (hide, warn, suspend, restore) writes a ``ModerationAction`` and an audit row in
one transaction, marks the report handled, and mails the resident what happened, the
moderator's explanation, and how to object: by answering their library, whose contact
details the e-mail gives. Hiding keeps the post or message (with the reason) so a restore can
bring it back; a suspension runs ``days`` days or, without ``days``, until restored.
``guard.check_may_take_part`` refuses a suspended resident every community write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from bieb.accounts.access import Role, has_role, is_network_admin, organisations_with_role
from bieb.community import guard, notify, text
from bieb.community.models import (
    Message,
    ModerationAction,
    ModerationKind,
    Post,
    PostStatus,
    Report,
    ReportReason,
    ReportStatus,
    Suspension,
    WordFilter,
)
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied

__all__ = [
    "MODERATORS",
    "moderate",
    "moderation_queue",
    "report_create",
    "report_dismiss",
    "word_filter_add",
    "word_filter_remove",
    "word_filters",
]

#: the staff roles that moderate their organisation's residents
MODERATORS = (Role.MANAGER, Role.PROGRAMMER)
#: a suspension lasts at most this many days (longer: indefinitely, until restored)
MAX_SUSPENSION_DAYS = 365


# --- who and where ------------------------------------------------------------------------------


def _signed_in(person: Any) -> None:
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        raise PermissionDenied("login_required", _("Log eerst in."), status=401)


def _not_found() -> NotFound:
    return NotFound("not_found", _("Dit bestaat niet of je hebt er geen toegang toe."))


def _organisation_id_for(person: Any, post: Post | None) -> int | None:
    """The organisation that moderates ``person`` (see the module's docstring)."""
    from bieb.network.models import Organisation

    if person is not None and person.home_organisation_id:
        return person.home_organisation_id
    municipality_id = (post.municipality_id if post is not None else None) or (
        getattr(person, "municipality_id", None) if person is not None else None
    )
    if municipality_id is None:
        return None
    return (
        Organisation.objects.filter(municipalities=municipality_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def organisation_of(person: Any) -> int | None:
    """The organisation that moderates ``person`` outside any post (see the module's
    docstring), or None; the services act on a resident under this organisation."""
    return _organisation_id_for(person, None)


def _check_moderator(actor: Any, organisation_id: int | None) -> None:
    """Refuse unless ``actor`` moderates ``organisation_id``: 401 anonymous, 403 no moderator
    role anywhere, 404 a moderator elsewhere."""
    _signed_in(actor)
    if not has_role(actor, *MODERATORS):
        raise PermissionDenied("forbidden", _("Je hebt geen toegang tot deze pagina."))
    if is_network_admin(actor):
        return
    if organisation_id is None or organisation_id not in organisations_with_role(
        actor, *MODERATORS
    ):
        raise _not_found()


def _conversation_people(message: Message) -> tuple[int | None, int | None]:
    conversation = message.conversation
    return conversation.post.author_id, conversation.responder_id


# --- reports ------------------------------------------------------------------------------------


def report_create(
    *,
    reporter: Any,
    reason: str,
    note: str = "",
    post: Post | None = None,
    message: Message | None = None,
    person: Any = None,
) -> Report:
    """Report one post, message or resident to the moderators of the resident's library.

    Any signed-in resident may report (also while suspended: someone may need to report the
    person who harassed them); a message only by one of the two people in its conversation
    (others get "not found"). A second open report of the same thing by the same reporter
    answers the first (no new row, nothing counted). At most ``guard.RATES["report"]`` new
    reports a day per reporter (``rate_limited``)."""
    _signed_in(reporter)
    if sum(x is not None for x in (post, message, person)) != 1:
        raise DomainError(
            "report_subject", _("Meld één bericht, één chatbericht of één persoon."), status=400
        )
    if reason not in ReportReason.values:
        raise DomainError(
            "report_reason",
            _("Kies waarom je dit meldt."),
            status=400,
            details={"field": "reason"},
        )
    note = text.clean(note, max_length=500)
    if message is not None:
        message = Message.objects.select_related("conversation__post").get(pk=message.pk)
        if reporter.pk not in _conversation_people(message):
            raise _not_found()
        subject = message.sender
        context_post = message.conversation.post
    elif post is not None:
        post = Post.objects.select_related("author").get(pk=post.pk)
        if post.status == PostStatus.HIDDEN and post.author_id != reporter.pk:
            raise _not_found()
        subject, context_post = post.author, post
    else:
        subject, context_post = person, None
    if subject is not None and subject.pk == reporter.pk:
        raise DomainError("report_self", _("Je kunt jezelf niet melden."), status=400)

    from bieb.accounts.models import User

    with transaction.atomic():
        # one reporter's reports one after the other: the duplicate check and the count hold
        User.objects.select_for_update().filter(pk=reporter.pk).values_list("pk").first()
        same = Report.objects.filter(reporter=reporter, status=ReportStatus.OPEN)
        if message is not None:
            same = same.filter(message=message)
        elif post is not None:
            same = same.filter(post=post)
        else:
            same = same.filter(subject_person=person, post__isnull=True, message__isnull=True)
        existing = same.order_by("pk").first()
        if existing is not None:
            return existing
        guard.check_rate(
            reporter,
            "report",
            lambda since: Report.objects.filter(reporter=reporter, created_at__gte=since).count(),
        )
        report = Report.objects.create(
            reporter=reporter,
            post=post,
            message=message,
            subject_person=subject,
            organisation_id=_organisation_id_for(subject, context_post),
            reason=reason,
            note=note,
        )
        audit_record(
            action="community.report",
            actor=reporter,
            subject=report,
            organisation_id=report.organisation_id,
            data={
                "reason": reason,
                "post": post.pk if post else None,
                "message": message.pk if message else None,
                "person": subject.pk if subject else None,
            },
        )
    return report


def moderation_queue(actor: Any) -> QuerySet[Report]:
    """Open reports for ``actor`` to handle, oldest first: those of the organisations they
    moderate (a network administrator: all, also those of no organisation)."""
    _signed_in(actor)
    if not has_role(actor, *MODERATORS):
        raise PermissionDenied("forbidden", _("Je hebt geen toegang tot deze pagina."))
    reports = Report.objects.filter(status=ReportStatus.OPEN)
    if not is_network_admin(actor):
        reports = reports.filter(organisation_id__in=organisations_with_role(actor, *MODERATORS))
    return reports.select_related(
        "post", "message", "message__conversation", "subject_person", "organisation"
    ).order_by("created_at", "pk")


def _handle_reports(reports: QuerySet[Report], actor: Any, now: dt.datetime) -> int:
    return reports.filter(status=ReportStatus.OPEN).update(
        status=ReportStatus.HANDLED, handled_at=now, handled_by=actor
    )


def report_dismiss(*, actor: Any, report: Report) -> Report:
    """Close ``report`` without an action (nothing wrong found). Nobody is mailed."""
    report = Report.objects.select_related("post", "subject_person").get(pk=report.pk)
    organisation_id = _organisation_id_for(report.subject_person, report.post) or (
        report.organisation_id
    )
    _check_moderator(actor, organisation_id)
    now = clock.now()
    with transaction.atomic():
        if not _handle_reports(Report.objects.filter(pk=report.pk), actor, now):
            raise DomainError("report_handled", _("Deze melding is al afgehandeld."), status=409)
        audit_record(
            action="community.report_dismiss",
            actor=actor,
            subject=report,
            organisation_id=organisation_id,
        )
    report.refresh_from_db()
    return report


# --- actions ------------------------------------------------------------------------------------


def moderate(
    *,
    actor: Any,
    kind: str,
    explanation: str,
    report: Report | None = None,
    post: Post | None = None,
    message: Message | None = None,
    person: Any = None,
    days: int | None = None,
) -> ModerationAction:
    """Act on a post, a message or a resident (from ``report`` when the subject is not named).

    - ``hide``: the post (status hidden) or message is hidden with ``explanation`` as reason;
    - ``warn``: nothing changes but the resident is told;
    - ``suspend``: the resident may write nothing in the community for ``days`` days
      (1 to 365), or until restored when ``days`` is None;
    - ``restore``: a hidden post or message is shown again; for a resident alone, their
      suspensions are lifted.

    Only moderators of the resident's organisation (``_check_moderator``). The explanation is
    required: the resident is mailed it, with what happened and how to object."""
    if kind not in ModerationKind.values:
        raise DomainError("moderation_kind", _("Kies wat je wilt doen."), status=400)
    explanation = text.clean(explanation, max_length=500)
    if not explanation:
        raise DomainError(
            "explanation_required",
            _("Schrijf op waarom: de bewoner krijgt deze uitleg te lezen."),
            status=400,
            details={"field": "explanation"},
        )
    if report is not None:
        report = Report.objects.select_related("post", "message", "subject_person").get(
            pk=report.pk
        )
        if post is None and message is None and person is None:
            post, message, person = report.post, report.message, report.subject_person
    if message is not None:
        message = Message.objects.select_related("conversation__post", "sender").get(pk=message.pk)
    if post is not None:
        post = Post.objects.select_related("author").get(pk=post.pk)
    subject = (
        person
        or (post.author if post is not None else None)
        or (message.sender if message is not None else None)
        or (report.subject_person if report is not None else None)
    )
    context_post = post or (message.conversation.post if message is not None else None)
    organisation_id = _organisation_id_for(subject, context_post) or (
        report.organisation_id if report is not None else None
    )
    _check_moderator(actor, organisation_id)

    until = None
    if kind == ModerationKind.SUSPEND:
        if subject is None:
            raise DomainError("no_person", _("Er is niemand om te schorsen."), status=409)
        if days is not None:
            if not isinstance(days, int) or not 1 <= days <= MAX_SUSPENSION_DAYS:
                raise DomainError(
                    "suspension_days",
                    _("Schors voor 1 tot %(max)s dagen, of tot je de schorsing opheft.")
                    % {"max": MAX_SUSPENSION_DAYS},
                    status=400,
                    details={"field": "days"},
                )
            until = clock.now() + dt.timedelta(days=days)
    if kind == ModerationKind.HIDE and post is None and message is None:
        raise DomainError(
            "nothing_to_hide", _("Kies een bericht of chatbericht om te verbergen."), status=400
        )
    if kind == ModerationKind.WARN and subject is None:
        raise DomainError("no_person", _("Er is niemand om te waarschuwen."), status=409)

    now = clock.now()
    with transaction.atomic():
        restored = _apply(kind, post, message, subject, explanation, now, until)
        if kind == ModerationKind.RESTORE and not restored:
            raise DomainError(
                "nothing_to_restore",
                _("Er is niets verborgen of geschorst om te herstellen."),
                status=409,
            )
        action = ModerationAction.objects.create(
            kind=kind,
            moderator=actor,
            person=subject,
            post=post,
            message=message,
            report=report,
            explanation=explanation,
            created_at=now,
        )
        handled = Q(pk=report.pk) if report is not None else Q(pk__in=[])
        if kind == ModerationKind.HIDE:
            # every open report of what is hidden now is answered by it
            handled |= Q(post=post) if post is not None else Q(message=message)
        _handle_reports(Report.objects.filter(handled), actor, now)
        audit_record(
            action=f"community.moderate_{kind}",
            actor=actor,
            subject=action,
            organisation_id=organisation_id,
            data={
                "person": subject.pk if subject else None,
                "post": post.pk if post else None,
                "message": message.pk if message else None,
                "report": report.pk if report else None,
                "until": until.isoformat() if until else None,
                "explanation": explanation,
            },
        )
        _tell(subject, kind, explanation, post, message, until, organisation_id)
    return action


def _apply(kind, post, message, person, explanation, now, until) -> bool:
    """Change what ``kind`` changes; for a restore, whether anything was restored."""
    reason = explanation[:300]
    if kind == ModerationKind.HIDE:
        if post is not None:
            Post.objects.filter(pk=post.pk).update(
                status=PostStatus.HIDDEN, hidden_reason=reason, updated_at=now
            )
            post.status, post.hidden_reason = PostStatus.HIDDEN, reason
        else:
            Message.objects.filter(pk=message.pk).update(hidden_reason=reason)
            message.hidden_reason = reason
        return True
    if kind == ModerationKind.SUSPEND:
        Suspension.objects.create(person=person, reason=explanation, starts_at=now, until=until)
        return True
    if kind == ModerationKind.RESTORE:
        if post is not None:
            back = PostStatus.CLOSED if post.closed_at else PostStatus.OPEN
            done = Post.objects.filter(pk=post.pk, status=PostStatus.HIDDEN).update(
                status=back, hidden_reason="", updated_at=now
            )
            if done:
                post.status, post.hidden_reason = back, ""
            return bool(done)
        if message is not None:
            done = (
                Message.objects.filter(pk=message.pk)
                .exclude(hidden_reason="")
                .update(hidden_reason="")
            )
            message.hidden_reason = ""
            return bool(done)
        if person is not None:
            return bool(
                Suspension.objects.filter(person=person, lifted_at__isnull=True)
                .filter(Q(until__isnull=True) | Q(until__gt=now))
                .update(lifted_at=now)
            )
        return False
    return True  # warn: the e-mail is the action


def _tell(person, kind, explanation, post, message, until, organisation_id) -> None:
    from bieb.network.models import Organisation

    organisation = (
        Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    )
    notify.tell(
        person,
        f"moderation_{kind}",
        explanation=explanation,
        post=post,
        message=message,
        until=until.astimezone(clock.AMSTERDAM) if until else None,
        organisation=organisation,
    )


# --- word filters -------------------------------------------------------------------------------


def word_filters(actor: Any, organisation: Any) -> QuerySet[WordFilter]:
    """The organisation's filtered words and phrases, alphabetically (its moderators only)."""
    _check_moderator(actor, organisation.pk)
    return WordFilter.objects.filter(organisation=organisation).order_by("phrase")


def word_filter_add(*, actor: Any, organisation: Any, phrase: str) -> WordFilter:
    """Keep ``phrase`` (2 to 60 characters, stored in lower case) off the organisation's board.
    Adding a phrase that is on the list already answers the existing row."""
    _check_moderator(actor, organisation.pk)
    phrase = text.clean(phrase, max_length=60, single_line=True).casefold()
    if len(phrase) < 2:
        raise DomainError(
            "phrase_too_short",
            _("Een woord of zin voor het filter heeft minstens twee tekens."),
            status=400,
            details={"field": "phrase"},
        )
    try:
        with transaction.atomic():
            word = WordFilter.objects.create(organisation=organisation, phrase=phrase)
            audit_record(
                action="community.word_filter_add",
                actor=actor,
                subject=word,
                organisation_id=organisation.pk,
                data={"phrase": phrase},
            )
    except IntegrityError:
        return WordFilter.objects.get(organisation=organisation, phrase=phrase)
    return word


def word_filter_remove(*, actor: Any, word_filter: WordFilter) -> None:
    """Take a phrase off its organisation's list (a phrase already gone: nothing more)."""
    _check_moderator(actor, word_filter.organisation_id)
    with transaction.atomic():
        deleted, _rows = WordFilter.objects.filter(pk=word_filter.pk).delete()
        if deleted:
            audit_record(
                action="community.word_filter_remove",
                actor=actor,
                subject=f"community.wordfilter:{word_filter.pk}",
                organisation_id=word_filter.organisation_id,
                data={"phrase": word_filter.phrase},
            )
