"""Reporting and moderation screens (``community.moderation`` decides; these views parse,
call one service and render).

Residents (signed in):
- ``/community/<id>/melden``: report a post (a hidden post only its author could see, and
  then they cannot report it: "not found");
- ``/mijn/berichten/bericht/<id>/melden``: report a message, for the two people in its
  conversation only (others: "not found");
- ``/community/deelnemer/<id>/melden``: report a resident, who must be someone the reporter
  can know from the platform (a visible post, or a conversation together); others are "not
  found", so the page cannot be used to look people up;
- ``/community/melding/bedankt``: thanks, and what happens next.

Moderators (``moderation.MODERATORS`` of the reported resident's organisation, network
administrators everywhere; staff without the role 403, moderators elsewhere 404):
- ``/medewerkers/moderatie``: the open reports, oldest first, each with what was reported
  (as plain text, never as HTML and with links not clickable), the resident's earlier
  moderation, and a form: hide, warn, suspend (days), restore, or no action;
- ``/medewerkers/moderatie/<report>`` (POST): that form;
- ``/medewerkers/moderatie/deelnemer/<id>``: one resident's posts, hidden messages,
  reports, moderation and suspension, with warn, suspend, lift and restore;
- ``/medewerkers/moderatie/woorden``: the organisation's word filter.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from bieb.accounts.access import is_network_admin, staff_required
from bieb.accounts.models import User
from bieb.community import forms_moderation as forms
from bieb.community import guard, moderation, selectors, text
from bieb.community.models import (
    Conversation,
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
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.network.models import Organisation

MODERATORS = moderation.MODERATORS
#: open reports shown on one page of the queue (the oldest; the count says how many more)
QUEUE_PAGE = 50
#: earlier actions shown with a report
HISTORY_SHOWN = 5
#: rows per list on a resident's page
PERSON_ROWS = 50
#: where the thank-you page points back to (set when a report is made)
_BACK_KEY = "bieb.community.report_back"


def _page_link(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # that part of the community is not mounted
        return ""


def _signed_in(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.user.is_active)


def _not_found() -> Http404:
    return Http404(_("Dit bestaat niet of je hebt er geen toegang toe."))


# --- reports by residents ----------------------------------------------------------------------


def _report_page(
    request: HttpRequest,
    *,
    subject: dict[str, Any],
    what: dict[str, Any],
    back_url: str,
) -> HttpResponse:
    """GET: the form; POST: ``moderation.report_create`` and on to the thank-you page."""
    form = forms.ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                moderation.report_create(
                    reporter=request.user,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data.get("note") or "",
                    **subject,
                )
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                request.session[_BACK_KEY] = back_url
                return redirect("community:report_thanks")
    return render(
        request,
        "community/moderation/report.html",
        {"form": form, "what": what, "back_url": back_url, "action": request.path},
        status=status,
    )


@never_cache
def report_post(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    post = Post.objects.select_related("author").filter(pk=pk).first()
    if post is None or post.status == PostStatus.HIDDEN:
        raise _not_found()
    if post.author_id == request.user.pk:
        raise Http404(_("Je eigen bericht kun je niet melden."))
    return _report_page(
        request,
        subject={"post": post},
        what={
            "kind": "post",
            "title": post.title,
            "person": selectors.author_label(post.author),
        },
        back_url=reverse("community:post", args=[post.pk]),
    )


@never_cache
def report_message(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    message = Message.objects.select_related("conversation__post", "sender").filter(pk=pk).first()
    me = request.user.pk
    if message is None or me not in (
        message.conversation.post.author_id,
        message.conversation.responder_id,
    ):
        raise _not_found()
    if message.sender_id == me:
        raise Http404(_("Je eigen bericht kun je niet melden."))
    conversation_url = _page_link("community:conversation", message.conversation_id)
    return _report_page(
        request,
        subject={"message": message},
        what={
            "kind": "message",
            "title": message.conversation.post.title,
            "person": selectors.author_label(message.sender),
            "sent_at": message.sent_at,
            "body": message.body,
        },
        back_url=conversation_url or reverse("community:board"),
    )


def _known_to(person: User, reporter: Any) -> bool:
    """Whether ``reporter`` can know ``person`` from the platform: a public profile (a post
    that is not hidden, or a completed exchange, as ``community:profile`` decides), or a
    conversation between the two."""
    if Post.objects.filter(author=person).exclude(status=PostStatus.HIDDEN).exists():
        return True
    if selectors.completed_exchanges(person) > 0:
        return True
    return Conversation.objects.filter(
        Q(post__author=person, responder=reporter) | Q(post__author=reporter, responder=person)
    ).exists()


@never_cache
def report_person(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    person = User.objects.filter(pk=pk, is_active=True, anonymised_at__isnull=True).first()
    if person is None or person.pk == request.user.pk or not _known_to(person, request.user):
        raise _not_found()
    return _report_page(
        request,
        subject={"person": person},
        what={"kind": "person", "person": selectors.author_label(person)},
        back_url=reverse("community:board"),
    )


@never_cache
@require_safe
def report_thanks(request: HttpRequest) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    back_url = request.session.get(_BACK_KEY) or reverse("community:board")
    return render(request, "community/moderation/report_thanks.html", {"back_url": back_url})


# --- the queue ---------------------------------------------------------------------------------


def _report_in_scope(request: HttpRequest, report_id: int) -> Report:
    """A report of one of the caller's organisations (any status); 404 otherwise. Reports of
    no organisation only for network administrators."""
    report = (
        Report.objects.select_related(
            "post", "message", "message__conversation__post", "subject_person"
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise _not_found()
    if is_network_admin(request.user):
        return report
    if report.organisation_id is None or report.organisation_id not in set(
        request.staff_organisation_ids
    ):
        raise _not_found()
    return report


def _kinds_for(report: Report, suspended_ids: set[int]) -> list[tuple[str, str]]:
    post, message = report.post, report.message
    visible = (post is not None and post.status != PostStatus.HIDDEN) or (
        message is not None and not message.hidden_reason
    )
    hidden = (post is not None and post.status == PostStatus.HIDDEN) or (
        message is not None and bool(message.hidden_reason)
    )
    lift = post is None and message is None and report.subject_person_id in suspended_ids
    return forms.report_kinds(can_hide=visible, can_restore=hidden or lift)


def _active_suspended(person_ids: set[int]) -> set[int]:
    now = clock.now()
    return set(
        Suspension.objects.filter(
            person_id__in=person_ids, lifted_at__isnull=True, starts_at__lte=now
        )
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .values_list("person_id", flat=True)
    )


def _history(person_ids: set[int]) -> dict[int, list[ModerationAction]]:
    """The latest actions on each person (``HISTORY_SHOWN`` at most), in one query."""
    found: dict[int, list[ModerationAction]] = {}
    if not person_ids:
        return found
    for action in ModerationAction.objects.filter(person_id__in=person_ids).order_by(
        "-created_at", "-pk"
    ):
        rows = found.setdefault(action.person_id, [])
        if len(rows) < HISTORY_SHOWN:
            rows.append(action)
    return found


def _report_counts(person_ids: set[int]) -> dict[int, int]:
    if not person_ids:
        return {}
    return dict(
        Report.objects.filter(subject_person_id__in=person_ids)
        .values("subject_person_id")
        .annotate(n=Count("pk"))
        .values_list("subject_person_id", "n")
    )


def _content(report: Report) -> dict[str, Any]:
    """What was reported, as plain text for the template (escaped there; links listed apart
    and never made clickable)."""
    if report.message_id and report.message is not None:
        body = report.message.body
        return {
            "kind": "message",
            "title": report.message.conversation.post.title,
            "body": body,
            "links": text.links_in(body),
            "hidden": bool(report.message.hidden_reason),
            "hidden_reason": report.message.hidden_reason,
            "at": report.message.sent_at,
        }
    if report.post_id and report.post is not None:
        body = report.post.body
        return {
            "kind": "post",
            "title": report.post.title,
            "body": body,
            "links": text.links_in(f"{body}\n{report.post.availability}"),
            "hidden": report.post.status == PostStatus.HIDDEN,
            "hidden_reason": report.post.hidden_reason,
            "at": report.post.created_at,
            "url": reverse("community:post", args=[report.post_id])
            if report.post.status != PostStatus.HIDDEN
            else "",
        }
    return {"kind": "person"}


def _queue_page(
    request: HttpRequest,
    *,
    bound: dict[int, forms.ModerateForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    queue = moderation.moderation_queue(request.user).select_related(
        "reporter", "message__conversation__post"
    )
    total = queue.count()
    reports = list(queue[:QUEUE_PAGE])
    people = {r.subject_person_id for r in reports if r.subject_person_id}
    suspended = _active_suspended(people)
    history = _history(people)
    counts = _report_counts(people)
    bound = bound or {}
    rows = []
    for report in reports:
        person_id = report.subject_person_id
        rows.append(
            {
                "report": report,
                "reason": ReportReason(report.reason).label,
                "reporter": selectors.author_label(report.reporter),
                "subject": selectors.author_label(report.subject_person)
                if report.subject_person
                else "",
                "person_url": reverse("community:moderation_person", args=[person_id])
                if person_id
                else "",
                "suspended": person_id in suspended,
                "history": [
                    {"action": a, "label": ModerationKind(a.kind).label}
                    for a in history.get(person_id, [])
                ],
                "reports_about": counts.get(person_id, 0),
                "content": _content(report),
                "form": bound.get(report.pk)
                or forms.ModerateForm(prefix=f"r{report.pk}", kinds=_kinds_for(report, suspended)),
            }
        )
    return render(
        request,
        "community/moderation/queue.html",
        {
            "rows": rows,
            "total": total,
            "more": max(0, total - len(rows)),
            "error": error,
            "errors_at": [pk for pk, form in bound.items() if form.errors],
        },
        status=status,
    )


@never_cache
@staff_required(*MODERATORS)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@never_cache
@staff_required(*MODERATORS)
@require_POST
def moderate(request: HttpRequest, report_id: int) -> HttpResponse:
    """One report: an action of ``moderation.moderate`` (the resident is mailed) or "no
    action" (``moderation.report_dismiss``)."""
    report = _report_in_scope(request, report_id)
    if report.status != ReportStatus.OPEN:
        return _queue_page(request, error=_("Deze melding is al afgehandeld."), status=409)
    suspended = _active_suspended({report.subject_person_id} - {None})
    form = forms.ModerateForm(
        request.POST, prefix=f"r{report.pk}", kinds=_kinds_for(report, suspended)
    )
    if not form.is_valid():
        return _queue_page(request, bound={report.pk: form}, status=400)
    kind = form.cleaned_data["kind"]
    try:
        if kind == forms.DISMISS:
            moderation.report_dismiss(actor=request.user, report=report)
        else:
            moderation.moderate(
                actor=request.user,
                kind=kind,
                explanation=form.cleaned_data["explanation"],
                report=report,
                days=form.cleaned_data.get("days"),
            )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        if exc.code == "report_handled":
            return _queue_page(request, error=exc.message, status=exc.status)
        form.add_domain_error(exc)
        return _queue_page(request, bound={report.pk: form}, status=exc.status)
    messages.success(request, _done_message(kind))
    return redirect("community:moderation")


def _done_message(kind: str) -> str:
    return {
        forms.DISMISS: _("De melding is gesloten zonder actie."),
        ModerationKind.HIDE: _("Verborgen. De bewoner krijgt je uitleg per e-mail."),
        ModerationKind.WARN: _("Gewaarschuwd. De bewoner krijgt je uitleg per e-mail."),
        ModerationKind.SUSPEND: _("Geschorst. De bewoner krijgt je uitleg per e-mail."),
        ModerationKind.RESTORE: _("Hersteld. De bewoner krijgt je uitleg per e-mail."),
    }[kind]


# --- one resident ------------------------------------------------------------------------------


def _person_in_scope(request: HttpRequest, pk: int) -> User:
    """A resident the caller moderates: of one of their organisations (as
    ``moderation`` decides whose a resident is), or reported to one of them."""
    person = User.objects.filter(pk=pk, anonymised_at__isnull=True).first()
    if person is None:
        raise _not_found()
    if is_network_admin(request.user):
        return person
    mine = set(request.staff_organisation_ids)
    # the same rule the service applies when it acts on this resident
    if moderation.organisation_of(person) in mine:
        return person
    if Report.objects.filter(subject_person=person, organisation_id__in=mine).exists():
        return person
    raise _not_found()


def _person_forms() -> dict[str, forms.PersonActionForm]:
    """The unbound forms of a resident's page that act on the resident."""
    return {
        name: forms.PersonActionForm(prefix=name, initial={"action": name})
        for name in ("warn", "suspend", "lift")
    }


def _person_page(
    request: HttpRequest,
    person: User,
    *,
    bound: forms.PersonActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    action_forms = _person_forms()
    posts = list(Post.objects.filter(author=person).order_by("-created_at", "-pk")[:PERSON_ROWS])
    hidden_messages = list(
        Message.objects.filter(sender=person)
        .exclude(hidden_reason="")
        .select_related("conversation__post")
        .order_by("-sent_at", "-pk")[:PERSON_ROWS]
    )

    def restore_form(name: str, action: str, target: int) -> forms.PersonActionForm:
        if bound is not None and bound.prefix == name:
            return bound
        return forms.PersonActionForm(prefix=name, initial={"action": action, "target": target})

    if bound is not None and bound.prefix in action_forms:
        action_forms[bound.prefix] = bound
    reports = list(
        Report.objects.filter(subject_person=person)
        .select_related("post", "message", "reporter")
        .order_by("-created_at", "-pk")[:PERSON_ROWS]
    )
    actions = list(
        ModerationAction.objects.filter(person=person)
        .select_related("moderator", "post")
        .order_by("-created_at", "-pk")[:PERSON_ROWS]
    )
    return render(
        request,
        "community/moderation/person.html",
        {
            "person": person,
            "label": selectors.author_label(person),
            "suspension": guard.active_suspension(person),
            "posts": [
                {
                    "post": post,
                    "status": PostStatus(post.status).label,
                    "url": reverse("community:post", args=[post.pk])
                    if post.status != PostStatus.HIDDEN
                    else "",
                    "form": restore_form(f"post-{post.pk}", "restore_post", post.pk)
                    if post.status == PostStatus.HIDDEN
                    else None,
                }
                for post in posts
            ],
            "hidden_messages": [
                {
                    "message": message,
                    "links": text.links_in(message.body),
                    "form": restore_form(f"message-{message.pk}", "restore_message", message.pk),
                }
                for message in hidden_messages
            ],
            "reports": [
                {
                    "report": report,
                    "reason": ReportReason(report.reason).label,
                    "reporter": selectors.author_label(report.reporter),
                    "status": ReportStatus(report.status).label,
                }
                for report in reports
            ],
            "actions": [
                {
                    "action": action,
                    "label": ModerationKind(action.kind).label,
                    "moderator": action.moderator.full_name if action.moderator else "—",
                }
                for action in actions
            ],
            "forms": action_forms,
            "has_errors": bound is not None and bool(bound.errors),
        },
        status=status,
    )


def _person_action(request: HttpRequest, person: User) -> HttpResponse:
    """POST: the form named by ``form`` (its prefix): warn, suspend, lift, or restore one
    hidden post or message of this resident."""
    prefix = request.POST.get("form", "")
    if prefix not in ("warn", "suspend", "lift") and not (
        prefix.startswith(("post-", "message-")) and prefix.split("-", 1)[1].isdigit()
    ):
        messages.error(request, _("Kies wat je wilt doen."))
        return _person_page(request, person, status=400)
    form = forms.PersonActionForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _person_page(request, person, bound=form, status=400)
    action = form.cleaned_data["action"]
    target = form.cleaned_data.get("target")
    explanation = form.cleaned_data["explanation"]
    arguments: dict[str, Any] = {"actor": request.user, "explanation": explanation}
    if action == "restore_post":
        post = Post.objects.filter(pk=target, author=person).first()
        if post is None:
            raise _not_found()
        arguments.update(kind=ModerationKind.RESTORE, post=post)
    elif action == "restore_message":
        message = Message.objects.filter(pk=target, sender=person).first()
        if message is None:
            raise _not_found()
        arguments.update(kind=ModerationKind.RESTORE, message=message)
    elif action == "lift":
        arguments.update(kind=ModerationKind.RESTORE, person=person)
    else:
        arguments.update(kind=action, person=person, days=form.cleaned_data.get("days"))
    try:
        moderation.moderate(**arguments)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        form.add_domain_error(exc)
        return _person_page(request, person, bound=form, status=exc.status)
    messages.success(request, _done_message(arguments["kind"]))
    return redirect("community:moderation_person", pk=person.pk)


@never_cache
@staff_required(*MODERATORS)
def person(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _person_in_scope(request, pk)
    if request.method == "POST":
        return _person_action(request, resident)
    return _person_page(request, resident)


# --- word filters ------------------------------------------------------------------------------


def _organisations(request: HttpRequest) -> list[Organisation]:
    return list(
        Organisation.objects.filter(pk__in=request.staff_organisation_ids)
        .only("pk", "name")
        .order_by("name", "pk")
    )


def _chosen(organisations: list[Organisation], raw: str | None) -> Organisation | None:
    try:
        wanted = int(raw or 0)
    except ValueError:
        wanted = 0
    for organisation in organisations:
        if organisation.pk == wanted:
            return organisation
    return organisations[0] if organisations else None


def _word_filters_url(organisation: Organisation | None) -> str:
    base = reverse("community:word_filters")
    return f"{base}?{urlencode({'organisatie': organisation.pk})}" if organisation else base


@never_cache
@staff_required(*MODERATORS)
def word_filters(request: HttpRequest) -> HttpResponse:
    """GET: the chosen organisation's list (``?organisatie=``) and a form; POST adds."""
    organisations = _organisations(request)
    source = request.POST if request.method == "POST" else request.GET
    organisation = _chosen(organisations, source.get("organisatie"))
    form = forms.WordFilterForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if organisation is not None and form.is_valid():
            try:
                word = moderation.word_filter_add(
                    actor=request.user,
                    organisation=organisation,
                    phrase=form.cleaned_data["phrase"],
                )
            except (NotFound, PermissionDenied):
                raise
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("'%(phrase)s' staat op de lijst van %(organisation)s.")
                    % {"phrase": word.phrase, "organisation": organisation.name},
                )
                return redirect(_word_filters_url(organisation))
    words = list(moderation.word_filters(request.user, organisation)) if organisation else []
    return render(
        request,
        "community/moderation/word_filters.html",
        {
            "organisations": organisations,
            "organisation": organisation,
            "words": words,
            "form": form,
        },
        status=status,
    )


@never_cache
@staff_required(*MODERATORS)
@require_POST
def word_filter_remove(request: HttpRequest, pk: int) -> HttpResponse:
    word = WordFilter.objects.select_related("organisation").filter(pk=pk).first()
    if word is None:
        raise _not_found()
    moderation.word_filter_remove(actor=request.user, word_filter=word)
    messages.success(
        request, _("'%(phrase)s' staat niet meer op de lijst.") % {"phrase": word.phrase}
    )
    return redirect(_word_filters_url(word.organisation))
