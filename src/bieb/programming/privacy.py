"""Programming's part of a person's privacy (registered with ``accounts.privacy``).

- Export: registrations (activity, dates, seats, status, payment, check-ins), room booking
  requests, whether a personal calendar feed exists (not its secret).
- Deleting the account cancels live registrations for activities that have not started (their
  seats go to the waitlist, credits and money back through ``services.registration_cancel``),
  forgets the person on every registration (the birth year and the status stay, for figures:
  an activity that took place was not cancelled, and what it cost is not given back), ends
  pending room requests and deletes the calendar feed.
"""

from __future__ import annotations

from typing import Any

from bieb.accounts.privacy import Provider
from bieb.core import clock
from bieb.programming.models import (
    LIVE_STATUSES,
    BookingStatus,
    CalendarFeed,
    Registration,
    RoomBooking,
)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(user) -> dict[str, Any]:
    registrations = (
        Registration.objects.filter(person=user)
        .select_related("activity")
        .prefetch_related("attendances")
        .order_by("pk")
    )
    return {
        "registrations": [
            {
                "activity": r.activity.title,
                "activity_starts_at": _iso(r.activity.starts_at),
                "seats": r.seats,
                "status": r.status,
                "registered_at": _iso(r.created_at),
                "confirmed_at": _iso(r.confirmed_at),
                "cancelled_at": _iso(r.cancelled_at),
                "payment": r.payment,
                "credits_used": r.credits_used,
                "checked_in": [_iso(a.session_start) for a in r.attendances.all()],
            }
            for r in registrations
        ],
        "room_requests": [
            {
                "room": b.room.name,
                "title": b.title,
                "starts_at": _iso(b.starts_at),
                "ends_at": _iso(b.ends_at),
                "status": b.status,
            }
            for b in RoomBooking.objects.filter(requested_by=user).select_related("room")
        ],
        "calendar_feed": CalendarFeed.objects.filter(person=user).exists(),
    }


def before_delete(user) -> None:
    from bieb.programming import services

    for registration in Registration.objects.filter(
        person=user, status__in=LIVE_STATUSES, activity__starts_at__gt=clock.now()
    ):
        services.registration_cancel(registration=registration, actor=None)
    Registration.objects.filter(person=user).update(person=None, name="", email="")
    RoomBooking.objects.filter(requested_by=user, status=BookingStatus.REQUESTED).update(
        status=BookingStatus.CANCELLED
    )
    RoomBooking.objects.filter(requested_by=user).update(requested_by=None)
    CalendarFeed.objects.filter(person=user).delete()


PROVIDER = Provider(name="programming", export=export, before_delete=before_delete)
