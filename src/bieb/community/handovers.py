"""Halen en brengen through the library: the giver drops a thing at a library location and the
receiver picks it up there with a code.

- ``handover_create`` (the giver): an active branch, service point or locker (never the
  mobile library); a six-digit code from ``secrets``, unique among the location's open
  handovers. Only an HMAC of the code is stored (``settings.SECRET_KEY``, SHA-256); the plain
  code goes once to the receiver by e-mail and once in the return value.
- ``handover_drop`` (desk staff of the location's organisation): waiting, to be picked up
  within ``PICK_UP_DAYS``; the receiver is told.
- ``handover_pick_up`` (desk staff enter the code the resident gives) and
  ``pick_up_with_code`` (the desk types only the code: the waiting handover at that location
  with it). A wrong code adds one to ``wrong_tries`` with a conditional ``UPDATE``, so
  requests at once never count past ``MAX_WRONG_TRIES``; the try that reaches it locks the
  handover (``handover_locked``) and the desk checks the resident's ID and unlocks it. The
  answer ``code_wrong`` says how many tries are left and nothing about which digits were
  wrong. ``pick_up_with_code`` is not an oracle across handovers: at most
  ``LOCATION_WRONG_LIMIT`` wrong codes per location an hour (counted from the audit log),
  then ``rate_limited`` (429) whatever the code.
- ``handover_return_to_giver`` (desk staff): the receiver never came, the giver takes the
  thing back; the handover is cancelled (audit ``community.handover_returned``), both told.
- ``handovers_overdue`` (a daily round): waiting past the pick-up day becomes overdue and
  both sides are told. ``desk_list``: what waits at a location, with labels (the post's
  title and the receiver's first name and initial) and no other personal data.

A wrong code is written (the count, the audit row) and then refused: the transaction commits
first, the refusal is raised after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.accounts.access import access_location
from bieb.community import guard, notify
from bieb.community.messages import not_found, page_link
from bieb.community.models import Exchange, ExchangeStatus, Handover, HandoverStatus
from bieb.core import clock
from bieb.core.audit import audit_record, subject_of
from bieb.core.errors import DomainError, PermissionDenied
from bieb.core.models import AuditEvent
from bieb.network.models import Location, LocationKind

__all__ = [
    "HANDOVER_LOCATION_KINDS",
    "LOCATION_WRONG_LIMIT",
    "MAX_WRONG_TRIES",
    "PICK_UP_DAYS",
    "DeskRow",
    "IssuedCode",
    "code_hash",
    "desk_list",
    "handover_cancel",
    "handover_create",
    "handover_drop",
    "handover_pick_up",
    "handover_return_to_giver",
    "handover_unlock",
    "handovers_of",
    "handovers_overdue",
    "pick_up_with_code",
]

#: where things can be dropped: places with a desk or a locker (not the mobile library,
#: not a school library or a partner's venue)
HANDOVER_LOCATION_KINDS = (LocationKind.BRANCH, LocationKind.SERVICE_POINT, LocationKind.LOCKER)
PICK_UP_DAYS = 7
MAX_WRONG_TRIES = 5
#: wrong codes typed at one location in ``LOCATION_WINDOW`` before ``pick_up_with_code`` stops
LOCATION_WRONG_LIMIT = 20
LOCATION_WINDOW = dt.timedelta(hours=1)
#: the states in which the thing can be handed to the receiver
PICKABLE = (HandoverStatus.WAITING, HandoverStatus.OVERDUE)
#: the states in which the thing lies at the desk
AT_DESK = (*PICKABLE, HandoverStatus.LOCKED)
#: the states in which a handover's code is in use at its location
CODE_IN_USE = (
    HandoverStatus.ANNOUNCED,
    HandoverStatus.WAITING,
    HandoverStatus.OVERDUE,
    HandoverStatus.LOCKED,
)
WRONG_CODE = "community.handover_code_wrong"
_CODE = re.compile(r"^\d{6}$")
_TUSSENVOEGSELS = {"van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "op", "in", "la"}


@dataclass(frozen=True)
class IssuedCode:
    """A handover and its plain pickup code, handed out once."""

    handover: Handover
    code: str


@dataclass(frozen=True)
class DeskRow:
    pk: int
    label: str
    status: str
    status_label: str
    dropped_on: dt.date | None
    pick_up_by: dt.date | None
    days_waiting: int


# --- codes -------------------------------------------------------------------------------------


def code_hash(code: str) -> str:
    """The HMAC-SHA-256 of a pickup code under the site's secret key (hex)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"community-handover:{code}".encode(), hashlib.sha256).hexdigest()


def _new_code(location_id: int) -> tuple[str, str]:
    """A fresh six-digit code and its hash, not in use at the location."""
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        hashed = code_hash(code)
        if not Handover.objects.filter(
            location_id=location_id, code_hash=hashed, status__in=CODE_IN_USE
        ).exists():
            return code, hashed


def _normal_code(code: Any) -> str:
    """The code without spaces and dashes; nothing typed is refused before anything counts."""
    normal = re.sub(r"[\s-]", "", str(code or ""))
    if not normal:
        raise DomainError("code_required", _("Vul de ophaalcode in."), details={"field": "code"})
    return normal


def _code_matches(code: str, hashed: str) -> bool:
    return bool(_CODE.match(code)) and hmac.compare_digest(code_hash(code), hashed)


# --- helpers -------------------------------------------------------------------------------------


def _initial(last_name: str) -> str:
    words = [w for w in (last_name or "").replace("-", " ").split() if w]
    for word in words:
        if word.lower() not in _TUSSENVOEGSELS:
            return word[0].upper() + "."
    return words[-1][0].upper() + "." if words else ""


def _label(title: str, receiver: Any) -> str:
    who = " ".join(
        part for part in (receiver.first_name or "", _initial(receiver.last_name)) if part
    )
    suffix = f" · {who}" if who else ""
    room = Handover._meta.get_field("label").max_length - len(suffix)
    short = title if len(title) <= room else title[: room - 1].rstrip() + "…"
    return short + suffix


def _lock_exchange(exchange: Exchange) -> Exchange:
    fresh = (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("post", "giver", "receiver")
        .filter(pk=exchange.pk)
        .first()
    )
    if fresh is None:
        raise not_found()
    return fresh


def _load(handover: Handover) -> Handover:
    fresh = (
        Handover.objects.select_related(
            "location", "exchange", "exchange__post", "exchange__giver", "exchange__receiver"
        )
        .filter(pk=handover.pk)
        .first()
    )
    if fresh is None:
        raise not_found()
    return fresh


def _desk(actor: Any, location_id: int):
    """The location, for desk staff and managers of its organisation."""
    return access_location(actor, location_id, need="members")


def _audit(action: str, handover: Handover, actor: Any, **data: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        subject=handover,
        organisation_id=handover.location.organisation_id,
        data={"exchange": handover.exchange_id, **data},
    )


def _handovers_link(site_url: str) -> str:
    return page_link("community:handovers_mine", site_url=site_url)


def _locked() -> DomainError:
    return DomainError(
        "handover_locked",
        _(
            "Deze zending is geblokkeerd na te veel verkeerde codes. "
            "Controleer het identiteitsbewijs en hef de blokkade op."
        ),
        status=409,
    )


def _not_waiting() -> DomainError:
    return DomainError(
        "handover_not_waiting", _("Deze zending ligt niet (meer) klaar."), status=409
    )


def _wrong(tries_left: int | None) -> DomainError:
    if tries_left is None:
        return DomainError("code_wrong", _("Deze code klopt niet."))
    return DomainError(
        "code_wrong",
        ngettext(
            "Deze code klopt niet. Nog %(left)d poging.",
            "Deze code klopt niet. Nog %(left)d pogingen.",
            tries_left,
        )
        % {"left": tries_left},
        details={"tries_left": tries_left},
    )


# --- reads -------------------------------------------------------------------------------------


def handovers_of(person: Any):
    """The handovers of exchanges ``person`` gives or receives in, newest first."""
    return (
        Handover.objects.filter(
            Q(exchange__giver_id=person.pk) | Q(exchange__receiver_id=person.pk)
        )
        .select_related("location", "exchange", "exchange__post")
        .order_by("-created_at", "-pk")
    )


def desk_list(location: Location, *, today: dt.date | None = None) -> list[DeskRow]:
    """What lies at ``location`` for residents: waiting, overdue and locked handovers, the
    longest waiting first, with labels and days waiting and no other personal data. The
    caller checked the desk's access (``access_location``)."""
    today = today or clock.today()
    statuses = (HandoverStatus.WAITING, HandoverStatus.OVERDUE, HandoverStatus.LOCKED)
    labels = dict(HandoverStatus.choices)
    found = (
        Handover.objects.filter(location_id=location.pk, status__in=statuses)
        .order_by(F("dropped_at").asc(nulls_last=True), "pk")
        .values("pk", "label", "status", "dropped_at", "pick_up_by")
    )
    rows = []
    for row in found:
        dropped_on = (
            row["dropped_at"].astimezone(clock.AMSTERDAM).date() if row["dropped_at"] else None
        )
        rows.append(
            DeskRow(
                pk=row["pk"],
                label=row["label"],
                status=row["status"],
                status_label=str(labels[row["status"]]),
                dropped_on=dropped_on,
                pick_up_by=row["pick_up_by"],
                days_waiting=(today - dropped_on).days if dropped_on else 0,
            )
        )
    return rows


def announced_at(location: Location) -> list[dict[str, Any]]:
    """The handovers announced for ``location`` and not yet brought, the oldest first, as
    dicts of ``pk``, ``label`` and ``created_at`` (no personal data). The caller checked the
    desk's access (``access_location``)."""
    return list(
        Handover.objects.filter(location_id=location.pk, status=HandoverStatus.ANNOUNCED)
        .order_by("created_at", "pk")
        .values("pk", "label", "created_at")
    )


# --- the resident's side -------------------------------------------------------------------------


def handover_create(
    *, exchange: Exchange, person: Any, location: Location, site_url: str = ""
) -> IssuedCode:
    """The giver announces they will bring the thing to ``location``. The receiver gets the
    pickup code by e-mail; the code is returned once and stored only as a hash.

    Refusals: ``not_found`` (not a side), ``not_giver``, the guard's, ``exchange_not_agreed``,
    ``location_unsuitable`` (inactive, or not a branch, service point or locker),
    ``handover_exists`` (one open handover per exchange)."""
    pk = getattr(person, "pk", None)
    if pk is None or pk not in (exchange.giver_id, exchange.receiver_id):
        raise not_found()
    if pk != exchange.giver_id:
        raise PermissionDenied(
            "not_giver", _("Wie het brengt, meldt de overdracht bij de bibliotheek aan.")
        )
    guard.check_may_exchange(person)
    with transaction.atomic():
        fresh = _lock_exchange(exchange)
        if fresh.status != ExchangeStatus.AGREED:
            raise DomainError(
                "exchange_not_agreed",
                _("Deze afspraak is al afgerond of afgezegd."),
                status=409,
            )
        # the location's row is locked so two handovers there never draw the same code
        place = Location.objects.select_for_update().filter(pk=location.pk).first()
        if place is None or not place.is_active or place.kind not in HANDOVER_LOCATION_KINDS:
            raise DomainError(
                "location_unsuitable",
                _("Kies een vestiging, servicepunt of afhaalkluis van de bibliotheek."),
                details={"field": "location"},
            )
        receiver = fresh.receiver
        if receiver is None:
            raise not_found()
        code, hashed = _new_code(place.pk)
        try:
            with transaction.atomic():
                handover = Handover.objects.create(
                    exchange=fresh,
                    location=place,
                    label=_label(fresh.post.title, receiver),
                    code_hash=hashed,
                    created_at=clock.now(),
                )
        except IntegrityError:
            raise DomainError(
                "handover_exists",
                _("Er loopt al een overdracht via de bibliotheek voor deze afspraak."),
                status=409,
            ) from None
        _audit("community.handover_create", handover, person, location=place.pk)
        notify.tell(
            receiver,
            "handover_code",
            site_url=site_url,
            code=code,
            post_title=fresh.post.title,
            giver_first_name=person.first_name,
            location=place,
            link=_handovers_link(site_url),
        )
    return IssuedCode(handover=handover, code=code)


def handover_cancel(*, handover: Handover, person: Any, site_url: str = "") -> Handover:
    """Either side calls off a handover before the thing is at the desk; the other is told.

    Refusals: ``not_found``, ``handover_not_announced``."""
    loaded = _load(handover)
    exchange = loaded.exchange
    if getattr(person, "pk", None) not in (exchange.giver_id, exchange.receiver_id):
        raise not_found()
    with transaction.atomic():
        changed = Handover.objects.filter(pk=loaded.pk, status=HandoverStatus.ANNOUNCED).update(
            status=HandoverStatus.CANCELLED
        )
        if not changed:
            raise DomainError(
                "handover_not_announced",
                _("Dit ligt al bij de bibliotheek of is al afgehandeld."),
                status=409,
            )
        loaded.status = HandoverStatus.CANCELLED
        _audit("community.handover_cancel", loaded, person)
        other = exchange.receiver if person.pk == exchange.giver_id else exchange.giver
        notify.tell(
            other,
            "handover_cancelled",
            site_url=site_url,
            post_title=exchange.post.title,
            location=loaded.location,
            link=_handovers_link(site_url),
        )
    return loaded


# --- the desk ------------------------------------------------------------------------------------


def handover_drop(*, handover: Handover, actor: Any, site_url: str = "") -> Handover:
    """The desk takes the thing in: waiting until ``PICK_UP_DAYS`` from today; the receiver
    is told (without the code again: it is not kept).

    Refusals: the access check's (``forbidden``, ``not_found``), ``handover_not_announced``."""
    loaded = _load(handover)
    _desk(actor, loaded.location_id)
    now = clock.now()
    pick_up_by = clock.today() + dt.timedelta(days=PICK_UP_DAYS)
    with transaction.atomic():
        changed = Handover.objects.filter(pk=loaded.pk, status=HandoverStatus.ANNOUNCED).update(
            status=HandoverStatus.WAITING, dropped_at=now, pick_up_by=pick_up_by
        )
        if not changed:
            raise DomainError(
                "handover_not_announced",
                _("Deze zending is al binnengemeld of afgehandeld."),
                status=409,
            )
        loaded.status, loaded.dropped_at, loaded.pick_up_by = (
            HandoverStatus.WAITING,
            now,
            pick_up_by,
        )
        _audit("community.handover_drop", loaded, actor, pick_up_by=pick_up_by.isoformat())
        notify.tell(
            loaded.exchange.receiver,
            "handover_waiting",
            site_url=site_url,
            post_title=loaded.exchange.post.title,
            location=loaded.location,
            pick_up_by=pick_up_by,
            link=_handovers_link(site_url),
        )
    return loaded


def _hand_over(loaded: Handover, actor: Any, site_url: str) -> Handover | DomainError:
    """Hand the thing over (inside the caller's transaction): one request wins."""
    now = clock.now()
    changed = Handover.objects.filter(pk=loaded.pk, status__in=PICKABLE).update(
        status=HandoverStatus.PICKED_UP, picked_up_at=now
    )
    if not changed:
        status = Handover.objects.filter(pk=loaded.pk).values_list("status", flat=True).first()
        return _locked() if status == HandoverStatus.LOCKED else _not_waiting()
    loaded.status, loaded.picked_up_at = HandoverStatus.PICKED_UP, now
    _audit("community.handover_pick_up", loaded, actor)
    notify.tell(
        loaded.exchange.giver,
        "handover_picked_up",
        site_url=site_url,
        post_title=loaded.exchange.post.title,
        location=loaded.location,
        link=_handovers_link(site_url),
    )
    return loaded


def _count_wrong(loaded: Handover, actor: Any) -> DomainError:
    """One wrong try on ``loaded`` (inside the caller's transaction): a conditional UPDATE
    that never counts past ``MAX_WRONG_TRIES`` and locks the handover at the last one."""
    changed = Handover.objects.filter(
        pk=loaded.pk, status__in=PICKABLE, wrong_tries__lt=MAX_WRONG_TRIES
    ).update(
        wrong_tries=F("wrong_tries") + 1,
        status=Case(
            When(wrong_tries__gte=MAX_WRONG_TRIES - 1, then=Value(HandoverStatus.LOCKED)),
            default=F("status"),
        ),
    )
    if not changed:
        status = Handover.objects.filter(pk=loaded.pk).values_list("status", flat=True).first()
        return _locked() if status == HandoverStatus.LOCKED else _not_waiting()
    tries = Handover.objects.filter(pk=loaded.pk).values_list("wrong_tries", flat=True).get()
    _audit(WRONG_CODE, loaded, actor, tries=tries)
    if tries >= MAX_WRONG_TRIES:
        _audit("community.handover_lock", loaded, actor)
        return _locked()
    return _wrong(MAX_WRONG_TRIES - tries)


def _finish(outcome: Handover | DomainError) -> Handover:
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def handover_pick_up(*, handover: Handover, code: str, actor: Any, site_url: str = "") -> Handover:
    """The desk hands the thing over when the code the resident gives is right. The exchange
    stays agreed until one of the two marks it done; the giver is told.

    Refusals: the access check's, ``code_wrong`` (with ``tries_left``), ``handover_locked``
    (the wrong try that reaches the limit, and every try after), ``handover_not_waiting``."""
    loaded = _load(handover)
    _desk(actor, loaded.location_id)
    code = _normal_code(code)
    with transaction.atomic():
        current = Handover.objects.filter(pk=loaded.pk).values("status", "code_hash").first()
        if current is None:
            raise not_found()
        if current["status"] == HandoverStatus.LOCKED:
            outcome: Handover | DomainError = _locked()
        elif current["status"] not in PICKABLE:
            outcome = _not_waiting()
        elif _code_matches(code, current["code_hash"]):
            outcome = _hand_over(loaded, actor, site_url)
        else:
            outcome = _count_wrong(loaded, actor)
    return _finish(outcome)


def pick_up_with_code(*, location: Location, code: str, actor: Any, site_url: str = "") -> Handover:
    """The desk types the code a resident gives: the handover waiting at ``location`` with
    that code is handed over.

    At most ``LOCATION_WRONG_LIMIT`` wrong codes an hour per location: after that every try
    there is refused ``rate_limited`` (429) whatever the code, so the desk cannot be used to
    try codes against all the handovers at once. A wrong code counts for the location (no
    handover is known to count it on).

    Refusals: the access check's, ``rate_limited``, ``code_wrong``, ``handover_locked``."""
    place = _desk(actor, location.pk)
    code = _normal_code(code)
    subject = subject_of(place)
    with transaction.atomic():
        # the location's row serialises the count and the write of wrong codes there
        Location.objects.select_for_update().filter(pk=place.pk).values_list("pk").first()
        wrong = AuditEvent.objects.filter(
            subject=subject, action=WRONG_CODE, occurred_at__gt=clock.now() - LOCATION_WINDOW
        ).count()
        if wrong >= LOCATION_WRONG_LIMIT:
            raise DomainError(
                "rate_limited",
                _(
                    "Er zijn hier het afgelopen uur te veel verkeerde codes ingevoerd. "
                    "Zoek de zending op in de lijst en controleer het identiteitsbewijs."
                ),
                status=429,
            )
        found = None
        if _CODE.match(code):
            found = (
                Handover.objects.select_related(
                    "location", "exchange", "exchange__post", "exchange__giver"
                )
                .filter(
                    location_id=place.pk,
                    code_hash=code_hash(code),
                    status__in=(*PICKABLE, HandoverStatus.LOCKED),
                )
                .order_by("pk")
                .first()
            )
        if found is None:
            audit_record(
                action=WRONG_CODE,
                actor=actor,
                subject=subject,
                organisation_id=place.organisation_id,
            )
            outcome: Handover | DomainError = _wrong(None)
        elif found.status == HandoverStatus.LOCKED:
            outcome = _locked()
        else:
            outcome = _hand_over(found, actor, site_url)
    return _finish(outcome)


def handover_unlock(
    *, handover: Handover, actor: Any, new_code: bool = False, site_url: str = ""
) -> IssuedCode | Handover:
    """After checking the receiver's ID the desk lifts the lock: the tries start again. With
    ``new_code`` the receiver gets a new code by e-mail (and the old one stops working); the
    result is then an ``IssuedCode``.

    Refusals: the access check's, ``handover_not_locked``."""
    loaded = _load(handover)
    _desk(actor, loaded.location_id)
    with transaction.atomic():
        values: dict[str, Any] = {
            "wrong_tries": 0,
            "status": Case(
                When(reported_at__isnull=False, then=Value(HandoverStatus.OVERDUE)),
                default=Value(HandoverStatus.WAITING),
            ),
        }
        code = ""
        if new_code:
            # the location's row: the new code is unique there (as in ``handover_create``)
            Location.objects.select_for_update().filter(pk=loaded.location_id).first()
            code, values["code_hash"] = _new_code(loaded.location_id)
        changed = Handover.objects.filter(pk=loaded.pk, status=HandoverStatus.LOCKED).update(
            **values
        )
        if not changed:
            raise DomainError(
                "handover_not_locked", _("Deze zending is niet geblokkeerd."), status=409
            )
        loaded.refresh_from_db(fields=["status", "wrong_tries", "code_hash"])
        _audit("community.handover_unlock", loaded, actor, new_code=bool(new_code))
        if new_code:
            notify.tell(
                loaded.exchange.receiver,
                "handover_code",
                site_url=site_url,
                code=code,
                reissued=True,
                post_title=loaded.exchange.post.title,
                giver_first_name="",
                location=loaded.location,
                link=_handovers_link(site_url),
            )
    return IssuedCode(handover=loaded, code=code) if new_code else loaded


def handover_return_to_giver(*, handover: Handover, actor: Any, site_url: str = "") -> Handover:
    """The receiver never came: the desk gives the thing back to the giver (who is at the desk,
    their ID checked). The handover is cancelled (the model has no "returned" state; the audit
    row ``community.handover_returned`` tells it apart from a cancellation by a resident) and
    its code stops working; both sides are told. The exchange stays agreed: the two may
    arrange a new handover, or call it off, in their conversation.

    Refusals: the access check's, ``handover_not_at_desk`` (only announced, or handed over
    or cancelled already)."""
    loaded = _load(handover)
    _desk(actor, loaded.location_id)
    with transaction.atomic():
        changed = Handover.objects.filter(pk=loaded.pk, status__in=AT_DESK).update(
            status=HandoverStatus.CANCELLED
        )
        if not changed:
            raise DomainError(
                "handover_not_at_desk",
                _("Deze zending ligt niet bij de balie: er is niets terug te geven."),
                status=409,
            )
        previous, loaded.status = loaded.status, HandoverStatus.CANCELLED
        _audit("community.handover_returned", loaded, actor, previous=previous)
        exchange = loaded.exchange
        for person, role in ((exchange.giver, "giver"), (exchange.receiver, "receiver")):
            notify.tell(
                person,
                "handover_returned",
                site_url=site_url,
                role=role,
                post_title=exchange.post.title,
                location=loaded.location,
                link=_handovers_link(site_url),
            )
    return loaded


# --- the daily round -------------------------------------------------------------------------------


def handovers_overdue(today: dt.date | None = None, *, site_url: str = "") -> int:
    """Waiting handovers past their pick-up day become overdue (``reported_at``); the desk sees
    them in its list and both sides are told. Each is reported once. How many were."""
    today = today or clock.today()
    reported = 0
    candidates = Handover.objects.filter(
        status=HandoverStatus.WAITING, pick_up_by__lt=today
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            now = clock.now()
            changed = Handover.objects.filter(
                pk=pk, status=HandoverStatus.WAITING, pick_up_by__lt=today
            ).update(status=HandoverStatus.OVERDUE, reported_at=now)
            if not changed:
                continue
            loaded = _load(Handover(pk=pk))
            _audit("community.handover_overdue", loaded, None)
            exchange = loaded.exchange
            for person, role in ((exchange.receiver, "receiver"), (exchange.giver, "giver")):
                notify.tell(
                    person,
                    "handover_overdue",
                    site_url=site_url,
                    role=role,
                    post_title=exchange.post.title,
                    location=loaded.location,
                    pick_up_by=loaded.pick_up_by,
                    link=_handovers_link(site_url),
                )
            reported += 1
    return reported
