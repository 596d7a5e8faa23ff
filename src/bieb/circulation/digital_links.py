"""Signed, short-lived links to a loan's file (``/digitaal/inhoud/<token>``).

The token is Django's ``TimestampSigner`` output (own salt) naming the loan, timed on
``bieb.core.clock``. It works for ``LINK_SECONDS`` and only while the loan is open: a browser's
audio element or a reading app fetches the file with it and sends no log-in.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.utils.translation import gettext as _

from bieb.circulation.models import DigitalLoan
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound

__all__ = ["LINK_SECONDS", "content_token", "loan_for_token"]

#: how long a signed link to the file works
LINK_SECONDS = 60 * 60
_TOKEN_SALT = "bieb.circulation.digital.content"


class _ClockSigner(signing.TimestampSigner):
    """Django's timestamp signer on ``bieb.core.clock``, so tests can move time past a link's
    lifetime like they move it past a loan's."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(clock.now().timestamp()))

    def unsign(self, value: str, max_age: float | dt.timedelta | None = None) -> str:
        result = signing.Signer.unsign(self, value)
        value, stamp = result.rsplit(self.sep, 1)
        if max_age is not None:
            if isinstance(max_age, dt.timedelta):
                max_age = max_age.total_seconds()
            age = clock.now().timestamp() - signing.b62_decode(stamp)
            if age > max_age:
                raise signing.SignatureExpired(f"Signature age {age} > {max_age} seconds")
        return value


def _signer() -> signing.TimestampSigner:
    return _ClockSigner(salt=_TOKEN_SALT)


def content_token(loan: DigitalLoan) -> str:
    """A token for the loan's file, valid ``LINK_SECONDS`` and only while the loan is open."""
    return _signer().sign(str(loan.pk))


def loan_for_token(token: str, *, max_age: int = LINK_SECONDS) -> DigitalLoan:
    """The open loan a link names. ``link_invalid`` (404) for a forged or mangled token,
    ``link_expired`` (410) for an old one, ``loan_closed`` (410) once the loan ended."""
    try:
        value = _signer().unsign(token, max_age=dt.timedelta(seconds=max_age))
    except signing.SignatureExpired as exc:
        raise DomainError(
            "link_expired",
            _("Deze link is verlopen. Open de titel opnieuw via Mijn digitaal."),
            status=410,
        ) from exc
    except signing.BadSignature as exc:
        raise NotFound("link_invalid", _("Deze link klopt niet.")) from exc
    loan = (
        DigitalLoan.objects.select_related("edition", "licence", "patron")
        .filter(pk=int(value))
        .first()
        if value.isdigit()
        else None
    )
    if loan is None:
        raise NotFound("link_invalid", _("Deze link klopt niet."))
    if loan.returned_at is not None or loan.expires_at <= clock.now():
        raise DomainError(
            "loan_closed",
            _("Deze uitlening is afgelopen. Leen de titel opnieuw om hem te openen."),
            status=410,
        )
    return loan
