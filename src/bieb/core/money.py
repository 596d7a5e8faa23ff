"""Money is integer cents in EUR. Formatting follows Dutch usage: € 1.234,56."""

from __future__ import annotations


def format_eur(amount_cents: int) -> str:
    if not isinstance(amount_cents, int):
        raise TypeError("amount_cents must be an int (cents), never a float")
    sign = "-" if amount_cents < 0 else ""
    euros, cents = divmod(abs(amount_cents), 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"{sign}€ {grouped},{cents:02d}"
