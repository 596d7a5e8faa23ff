"""Library card numbers: 14 digits, the last one a Luhn check digit.

Layout: ``2`` (library card), one series digit, eleven digits, the check digit.
Series 0 and 1 are handed out in sequence by seeding (demo, bench); series 5-9 are random and
handed out at registration, so seeded and registered numbers never collide.
"""

from __future__ import annotations

import secrets

from stdnum import luhn

CARD_LENGTH = 14
SERIES_DEMO = 0
SERIES_BENCH = 1
_RANDOM_SERIES = (5, 6, 7, 8, 9)


def card_number_with_check_digit(body: str) -> str:
    """``body`` (13 digits) plus its Luhn check digit."""
    if len(body) != CARD_LENGTH - 1 or not body.isdigit():
        raise ValueError("a card number body has 13 digits")
    return body + luhn.calc_check_digit(body)


def card_number_is_valid(number: str) -> bool:
    return len(number) == CARD_LENGTH and number.isdigit() and luhn.is_valid(number)


def card_number_random() -> str:
    """A random card number from the registration series (uniqueness is the caller's job)."""
    series = secrets.choice(_RANDOM_SERIES)
    body = f"2{series}{secrets.randbelow(10**11):011d}"
    return card_number_with_check_digit(body)


def card_number_in_series(series: int, sequence: int) -> str:
    """The ``sequence``-th card number of a seeding series: deterministic and unique."""
    if not 0 <= sequence < 10**11:
        raise ValueError("sequence out of range")
    return card_number_with_check_digit(f"2{series}{sequence:011d}")
