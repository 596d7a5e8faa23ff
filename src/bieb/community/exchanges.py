"""Exchanges: two residents agree on a post, carry it out, and may thank each other.

- The post's author agrees with a responder in their conversation (``exchange_agree``): for
  an offer the author gives and the responder receives, for a request the other way round.
  One exchange per conversation; agreeing again after a cancellation revives it.
- Either side marks it done or cancels it. A thing still at a library desk (a handover
  waiting, locked or overdue) must be picked up first; a handover only announced is
  cancelled with the exchange.
- After it is done each side may thank the other once, with a short sentence (no stars).
- ``profile``: completed exchanges and the thanks received, with nothing more of the authors
  than their first name.
- Birth years and the post's municipality stay on the exchange for figures after the people
  are forgotten.

Locks: each command locks the exchange (or, when agreeing, the conversation) row first.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.community import guard, notify
from bieb.community.messages import (
    blocked_between,
    is_participant,
    not_found,
    page_link,
)
from bieb.community.models import (
    Conversation,
    Exchange,
    ExchangeStatus,
    Handover,
    HandoverStatus,
    PostStatus,
    PostType,
    Thanks,
)
from bieb.community.text import clean as clean_text
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, PermissionDenied

__all__ = [
    "AT_THE_DESK",
    "THANKS_MAX",
    "exchange_agree",
    "exchange_cancel",
    "exchange_done",
    "exchanges_of",
    "profile",
    "thank",
]

THANKS_MAX = 280
#: handovers whose thing lies at a library desk
AT_THE_DESK = (HandoverStatus.WAITING, HandoverStatus.LOCKED, HandoverStatus.OVERDUE)


def _birth_year(person: Any) -> int | None:
    if person is None:
        return None
    if person.birth_year:
        return person.birth_year
    return person.birth_date.year if person.birth_date else None


def _side_of(exchange: Exchange, person: Any) -> str:
    """``"giver"`` or ``"receiver"``; ``not_found`` for anyone else."""
    pk = getattr(person, "pk", None)
    if pk is not None and pk == exchange.giver_id:
        return "giver"
    if pk is not None and pk == exchange.receiver_id:
        return "receiver"
    raise not_found()


def _other(exchange: Exchange, person: Any):
    return exchange.receiver if person.pk == exchange.giver_id else exchange.giver


def _lock(exchange: Exchange) -> Exchange:
    fresh = (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("post", "giver", "receiver")
        .filter(pk=exchange.pk)
        .first()
    )
    if fresh is None:
        raise not_found()
    return fresh


def _audit(action: str, exchange: Exchange, person: Any, **data: Any) -> None:
    audit_record(
        action=action,
        actor=person,
        subject=exchange,
        organisation_id=getattr(person, "home_organisation_id", None),
        data={"post": exchange.post_id, **data},
    )


def _link(exchange: Exchange, site_url: str) -> str:
    if exchange.conversation_id:
        return page_link("community:conversation", exchange.conversation_id, site_url=site_url)
    return page_link("community:messages", site_url=site_url)


def exchanges_of(person: Any):
    """The exchanges ``person`` gives or receives in, newest first."""
    return (
        Exchange.objects.filter(Q(giver_id=person.pk) | Q(receiver_id=person.pk))
        .select_related("post", "giver", "receiver")
        .order_by("-created_at", "-pk")
    )


def exchange_agree(*, conversation: Conversation, person: Any, site_url: str = "") -> Exchange:
    """The post's author agrees with the responder of ``conversation``: an exchange, agreed.

    Refusals: ``not_found`` (not in the conversation), ``not_author`` (the responder cannot
    agree for the author), the guard's for the author, ``other_cannot_exchange`` (the
    responder may not take part now: suspended, or under 16 without consent), ``blocked``,
    ``post_not_open``, ``exchange_exists`` (already agreed or done)."""
    if not is_participant(conversation, person):
        raise not_found()
    if person.pk != conversation.post.author_id:
        raise PermissionDenied(
            "not_author",
            _("Alleen wie het aanbod of de vraag plaatste, maakt de afspraak."),
        )
    guard.check_may_exchange(person)
    with transaction.atomic():
        fresh = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("post", "responder")
            .filter(pk=conversation.pk)
            .first()
        )
        if fresh is None:
            raise not_found()
        post, responder = fresh.post, fresh.responder
        try:
            guard.check_may_exchange(responder)
        except DomainError:
            raise DomainError(
                "other_cannot_exchange",
                _("Met deze bewoner kun je op dit moment niets afspreken."),
                status=409,
            ) from None
        if blocked_between(person.pk, responder.pk):
            raise PermissionDenied("blocked", _("Je kunt met deze bewoner niets afspreken."))
        if post.status != PostStatus.OPEN:
            raise DomainError(
                "post_not_open",
                _("Dit aanbod of deze vraag staat niet meer open."),
                status=409,
            )
        if post.type == PostType.OFFER:
            giver, receiver = person, responder
        else:
            giver, receiver = responder, person
        existing = Exchange.objects.select_for_update().filter(conversation_id=fresh.pk).first()
        if existing is not None and existing.status != ExchangeStatus.CANCELLED:
            raise DomainError(
                "exchange_exists",
                _("Jullie hebben hier al een afspraak over."),
                status=409,
            )
        values = {
            "post": post,
            "giver": giver,
            "receiver": receiver,
            "status": ExchangeStatus.AGREED,
            "created_at": clock.now(),
            "done_at": None,
            "giver_birth_year": _birth_year(giver),
            "receiver_birth_year": _birth_year(receiver),
            "municipality_id": post.municipality_id,
        }
        if existing is None:
            exchange = Exchange.objects.create(conversation=fresh, **values)
        else:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
            exchange = existing
        _audit(
            "community.exchange_agree",
            exchange,
            person,
            giver=giver.pk,
            receiver=receiver.pk,
        )
        notify.tell(
            responder,
            "exchange_agreed",
            site_url=site_url,
            post_title=post.title,
            other_first_name=person.first_name,
            giving=responder.pk == giver.pk,
            link=_link(exchange, site_url),
        )
    return exchange


def _settle_handovers(exchange: Exchange) -> None:
    """Refuse while the thing lies at a desk; cancel a handover only announced."""
    if Handover.objects.filter(exchange_id=exchange.pk, status__in=AT_THE_DESK).exists():
        raise DomainError(
            "handover_open",
            _(
                "Het ligt nog bij de bibliotheek. Laat het eerst ophalen, "
                "of vraag de balie om hulp."
            ),
            status=409,
        )
    Handover.objects.filter(exchange_id=exchange.pk, status=HandoverStatus.ANNOUNCED).update(
        status=HandoverStatus.CANCELLED
    )


def exchange_done(*, exchange: Exchange, person: Any, site_url: str = "") -> Exchange:
    """Either side marks the exchange done; the other side is told and both may thank.
    Marking a done exchange done again changes nothing.

    Refusals: ``not_found`` (not a side), ``exchange_cancelled``, ``handover_open``."""
    _side_of(exchange, person)
    with transaction.atomic():
        fresh = _lock(exchange)
        if fresh.status == ExchangeStatus.DONE:
            return fresh
        if fresh.status == ExchangeStatus.CANCELLED:
            raise DomainError(
                "exchange_cancelled", _("Deze afspraak is niet doorgegaan."), status=409
            )
        _settle_handovers(fresh)
        fresh.status = ExchangeStatus.DONE
        fresh.done_at = clock.now()
        fresh.save(update_fields=["status", "done_at"])
        _audit("community.exchange_done", fresh, person)
        notify.tell(
            _other(fresh, person),
            "exchange_done",
            site_url=site_url,
            post_title=fresh.post.title,
            other_first_name=person.first_name,
            link=_link(fresh, site_url),
        )
    return fresh


def exchange_cancel(
    *, exchange: Exchange, person: Any, reason: str = "", site_url: str = ""
) -> Exchange:
    """Either side calls off an agreed exchange; the other side is told (without the reason,
    which is for the audit log only).

    Refusals: ``not_found``, ``exchange_not_agreed`` (done or cancelled already),
    ``handover_open``."""
    _side_of(exchange, person)
    with transaction.atomic():
        fresh = _lock(exchange)
        if fresh.status != ExchangeStatus.AGREED:
            raise DomainError(
                "exchange_not_agreed",
                _("Deze afspraak is al afgerond of afgezegd."),
                status=409,
            )
        _settle_handovers(fresh)
        fresh.status = ExchangeStatus.CANCELLED
        fresh.save(update_fields=["status"])
        _audit(
            "community.exchange_cancel",
            fresh,
            person,
            reason=clean_text(reason, max_length=300, single_line=True),
        )
        notify.tell(
            _other(fresh, person),
            "exchange_cancelled",
            site_url=site_url,
            post_title=fresh.post.title,
            other_first_name=person.first_name,
            link=_link(fresh, site_url),
        )
    return fresh


def thank(*, exchange: Exchange, person: Any, text: str = "", site_url: str = "") -> Thanks:
    """One side thanks the other after a done exchange, once, with an optional sentence
    (plain text, at most ``THANKS_MAX``).

    Refusals: ``not_found``, the guard's, ``blocked`` (either way: a thanks is shown on the
    other's profile), ``exchange_not_done``, ``thanks_exists``."""
    _side_of(exchange, person)
    guard.check_may_exchange(person)
    sentence = clean_text(text, max_length=THANKS_MAX, single_line=True)
    with transaction.atomic():
        fresh = _lock(exchange)
        other = _other(fresh, person)
        if other is not None and blocked_between(person.pk, other.pk):
            raise PermissionDenied("blocked", _("Je kunt deze bewoner geen berichten sturen."))
        if fresh.status != ExchangeStatus.DONE:
            raise DomainError(
                "exchange_not_done",
                _("Bedanken kan als de afspraak gelukt is."),
                status=409,
            )
        try:
            with transaction.atomic():
                thanks = Thanks.objects.create(exchange=fresh, author=person, text=sentence)
        except IntegrityError:
            raise DomainError(
                "thanks_exists", _("Je hebt al bedankt voor deze afspraak."), status=409
            ) from None
        _audit("community.thank", fresh, person)
        notify.tell(
            _other(fresh, person),
            "thanks_received",
            site_url=site_url,
            post_title=fresh.post.title,
            other_first_name=person.first_name,
            link=page_link("community:profile_mine", site_url=site_url),
        )
    return thanks


def profile(person: Any, *, thanks_shown: int = 20) -> dict[str, Any]:
    """What a profile shows: ``completed_exchanges`` (done, as giver or receiver),
    ``thanks_count`` and ``thanks`` (the newest ``thanks_shown``: ``text``, ``first_name``
    of the author, ``created_at``). No ratings."""
    completed = Exchange.objects.filter(
        Q(giver_id=person.pk) | Q(receiver_id=person.pk), status=ExchangeStatus.DONE
    ).count()
    received = (
        Thanks.objects.filter(
            Q(exchange__giver_id=person.pk) | Q(exchange__receiver_id=person.pk),
            exchange__status=ExchangeStatus.DONE,
        )
        .exclude(author_id=person.pk)
        .order_by("-created_at", "-pk")
    )
    rows = list(received.values("text", "author__first_name", "created_at")[:thanks_shown])
    return {
        "completed_exchanges": completed,
        "thanks_count": received.count(),
        "thanks": [
            {
                "text": row["text"],
                "first_name": row["author__first_name"] or "",
                "created_at": row["created_at"],
            }
            for row in rows
        ],
    }
