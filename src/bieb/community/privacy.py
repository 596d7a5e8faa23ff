"""The community's part of a person's privacy (registered with ``accounts.privacy``).

- Export: posts (with the moderators' reasons when hidden), saved searches, conversations with
  the messages the person sent and received, exchanges, thanks given and received, handovers,
  reports the person made, moderation actions about them, thing bookings.
- Deleting the account is refused while a thing of the person waits at a library desk
  (the desk must be able to hand it back) or a thing of the library is booked and lent;
  otherwise the person's posts and conversations (with their messages and photos) are deleted
  (a post with an exchange is kept for figures, hidden, without its text and photos),
  the person is forgotten on exchanges (the birth year and municipality stay, for figures),
  on messages in other people's conversations (the text is removed), on handovers (their
  label), thanks, reports and moderation actions, future thing bookings are cancelled and
  past ones forgotten.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.accounts.privacy import Provider
from bieb.community.models import (
    Block,
    Conversation,
    Exchange,
    Handover,
    HandoverStatus,
    Message,
    ModerationAction,
    Photo,
    Post,
    Report,
    SavedSearch,
    Suspension,
    Thanks,
    ThingBooking,
    ThingBookingStatus,
)
from bieb.core import clock
from bieb.core.errors import DomainError


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(user) -> dict[str, Any]:
    conversations = (
        Conversation.objects.filter(Q(responder=user) | Q(post__author=user))
        .select_related("post")
        .prefetch_related("messages")
        .order_by("pk")
    )
    exchanges = Exchange.objects.filter(Q(giver=user) | Q(receiver=user)).select_related("post")
    return {
        "posts": [
            {
                "type": p.type,
                "kind": p.kind,
                "category": p.category,
                "title": p.title,
                "body": p.body,
                "terms": p.terms,
                "availability": p.availability,
                "area": p.pc4,
                "status": p.status,
                "hidden_reason": p.hidden_reason,
                "created_at": _iso(p.created_at),
                "photos": p.photos.count(),
            }
            for p in Post.objects.filter(author=user).order_by("pk")
        ],
        "saved_searches": [
            {
                "type": s.type,
                "kind": s.kind,
                "category": s.category,
                "words": s.words,
                "radius_km": s.radius_km,
            }
            for s in SavedSearch.objects.filter(person=user).order_by("pk")
        ],
        "conversations": [
            {
                "post": c.post.title,
                "started_at": _iso(c.created_at),
                "messages": [
                    {"mine": m.sender_id == user.pk, "body": m.body, "sent_at": _iso(m.sent_at)}
                    for m in c.messages.all()
                ],
            }
            for c in conversations
        ],
        "exchanges": [
            {
                "post": e.post.title,
                "role": "giver" if e.giver_id == user.pk else "receiver",
                "status": e.status,
                "done_at": _iso(e.done_at),
            }
            for e in exchanges
        ],
        "thanks_given": list(Thanks.objects.filter(author=user).values_list("text", flat=True)),
        "thanks_received": list(
            Thanks.objects.filter(exchange__in=exchanges)
            .exclude(author=user)
            .order_by("pk")
            .values_list("text", flat=True)
        ),
        "handovers": [
            {
                "label": h.label,
                "location": h.location.name,
                "status": h.status,
                "created_at": _iso(h.created_at),
            }
            for h in Handover.objects.filter(exchange__in=exchanges).select_related("location")
        ],
        "reports_made": [
            {
                "reason": r.reason,
                "note": r.note,
                "status": r.status,
                "created_at": _iso(r.created_at),
            }
            for r in Report.objects.filter(reporter=user).order_by("pk")
        ],
        "moderation": [
            {"action": a.kind, "explanation": a.explanation, "at": _iso(a.created_at)}
            for a in ModerationAction.objects.filter(person=user).order_by("pk")
        ],
        "thing_bookings": [
            {
                "thing": b.item.edition.title,
                "first_day": _iso(b.first_day),
                "last_day": _iso(b.last_day),
                "status": b.status,
            }
            for b in ThingBooking.objects.filter(person=user).select_related("item__edition")
        ],
    }


def before_delete(user) -> None:
    waiting = Handover.objects.filter(
        Q(exchange__giver=user) | Q(exchange__receiver=user),
        status__in=(HandoverStatus.WAITING, HandoverStatus.OVERDUE, HandoverStatus.LOCKED),
    )
    if waiting.exists():
        raise DomainError(
            "handover_waiting",
            _(
                "Er ligt nog iets van een ruil voor je klaar bij de bibliotheek. Haal het op of "
                "laat het teruggeven aan de balie; daarna kun je je account verwijderen."
            ),
            status=409,
        )
    if ThingBooking.objects.filter(person=user, status=ThingBookingStatus.LENT).exists():
        raise DomainError(
            "thing_lent",
            _("Je hebt nog een ding van de bibliotheek geleend. Breng het eerst terug."),
            status=409,
        )
    Handover.objects.filter(
        Q(exchange__giver=user) | Q(exchange__receiver=user), status=HandoverStatus.ANNOUNCED
    ).update(status=HandoverStatus.CANCELLED)
    # the desk's label names the post and the receiver ("Boormachine · Anna V.")
    Handover.objects.filter(Q(exchange__giver=user) | Q(exchange__receiver=user)).update(label="")
    ThingBooking.objects.filter(person=user, status=ThingBookingStatus.BOOKED).update(
        status=ThingBookingStatus.CANCELLED
    )
    ThingBooking.objects.filter(person=user).update(person=None)
    Message.objects.filter(sender=user).update(sender=None, body="")
    Conversation.objects.filter(responder=user).delete()
    Exchange.objects.filter(giver=user).update(giver=None)
    Exchange.objects.filter(receiver=user).update(receiver=None)
    # the posts go; exchanges on them stay as figures (their post is protected: hide it instead)
    kept = set(Exchange.objects.values_list("post_id", flat=True).filter(post__author=user))
    Post.objects.filter(author=user).exclude(pk__in=kept).delete()
    Photo.objects.filter(post__author=user).delete()
    Post.objects.filter(author=user, pk__in=kept).update(
        status="hidden",
        hidden_reason="account verwijderd",
        title="",
        body="",
        availability="",
        closed_at=clock.now(),
    )
    Thanks.objects.filter(author=user).update(author=None, text="")
    Report.objects.filter(reporter=user).update(reporter=None)
    Report.objects.filter(subject_person=user).update(subject_person=None)
    ModerationAction.objects.filter(person=user).update(person=None)
    SavedSearch.objects.filter(person=user).delete()
    Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    Suspension.objects.filter(person=user).delete()


PROVIDER = Provider(name="community", export=export, before_delete=before_delete)
