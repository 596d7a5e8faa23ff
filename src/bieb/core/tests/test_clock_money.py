import datetime as dt

import pytest

from bieb.core import clock
from bieb.core.money import format_eur


def test_frozen_clock_moves_now_and_local_today():
    moment = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # 01:30 CET, DST starts at 02:00
    with clock.frozen(moment):
        assert clock.now() == moment
        assert clock.local_now().utcoffset() == dt.timedelta(hours=1)
        assert clock.today() == dt.date(2026, 3, 29)
    assert clock.now() != moment


def test_frozen_refuses_naive_datetimes():
    with pytest.raises(ValueError), clock.frozen(dt.datetime(2026, 1, 1)):
        pass


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "€ 0,00"), (5, "€ 0,05"), (123456, "€ 1.234,56"), (-1999, "-€ 19,99")],
)
def test_format_eur_is_dutch_and_exact(cents, text):
    assert format_eur(cents) == text


def test_format_eur_refuses_floats():
    with pytest.raises(TypeError):
        format_eur(12.5)  # type: ignore[arg-type]
