"""The one place code asks for the time, so tests can move it.

``now()`` is timezone-aware UTC. ``local_now()`` is the same moment in Europe/Amsterdam, the
time the libraries and residents live in. Tests use ``frozen(moment)`` to pin the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.utils import timezone

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    if _frozen is not None:
        return _frozen
    return timezone.now()


def local_now() -> dt.datetime:
    return now().astimezone(AMSTERDAM)


def today() -> dt.date:
    """Today's date in the Netherlands."""
    return local_now().date()


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """Pin ``now()`` to ``moment`` (must be aware) for the duration of the block."""
    global _frozen
    if timezone.is_naive(moment):
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous, _frozen = _frozen, moment.astimezone(dt.UTC)
    try:
        yield
    finally:
        _frozen = previous
