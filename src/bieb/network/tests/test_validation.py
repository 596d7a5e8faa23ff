"""Postcode and KvK validation and normalisation, place-name keys, time parsing."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.exceptions import ValidationError

from bieb.network import validation


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("1011ab", "1011 AB"),
        ("1011 AB", "1011 AB"),
        (" 3512-ae ", "3512 AE"),
        ("NL-9101AB", "9101 AB"),
    ],
)
def test_postcode_is_normalised(raw, normalised):
    assert validation.postcode_normalise(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "1011", "0123 AB", "1011 SA", "1011 SS", "10111 AB", "abcd ef", "1" * 500]
)
def test_invalid_postcodes_are_refused(raw):
    with pytest.raises(ValidationError):
        validation.postcode_normalise(raw)
    assert not validation.postcode_is_valid(raw)


@pytest.mark.parametrize(
    ("raw", "pc4"),
    [("1011", "1011"), ("1011ab", "1011"), ("1011 AB", "1011"), ("x", None), ("0999", None)],
)
def test_pc4_of(raw, pc4):
    assert validation.pc4_of(raw) == pc4


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        ("01234567", "01234567"),
        ("12.34.56.78", "12345678"),
    ],
)
def test_kvk_number_is_compacted(raw, number):
    assert validation.kvk_validate(raw) == number


@pytest.mark.parametrize("raw", ["", "1234567", "123456789", "1234567A", "00000000", "KVK12345678"])
def test_invalid_kvk_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        validation.kvk_validate(raw)
    assert not validation.kvk_is_valid(raw)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("'s-Gravenhage", "s gravenhage"),
        ("Súdwest-Fryslân", "sudwest fryslan"),
        ("Hengelo (O.)", "hengelo o"),
        ("  DAMWÂLD ", "damwald"),
    ],
)
def test_name_key_ignores_case_accents_and_punctuation(raw, key):
    assert validation.name_key(raw) == key


def test_times_parse_and_midnight_reads_as_24_00():
    assert validation.time_parse("9:30") == dt.time(9, 30)
    assert validation.time_parse("24:00") == validation.END_OF_DAY
    assert validation.time_format(validation.END_OF_DAY) == "24:00"
    for bad in ["25:00", "24:30", "noon", ""]:
        with pytest.raises(ValueError):
            validation.time_parse(bad)
