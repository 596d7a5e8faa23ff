"""The SIP2 wire format, checked against pysip2 (an independent codec from PyPI) and the
published checksum vector. No database."""

from __future__ import annotations

import pytest
from pysip2 import (
    CheckoutRequest,
    CheckoutResponse,
    PatronStatusResponse,
    RequestSCResend,
    calculate_checksum,
    decode_message,
    encode_message,
)

from bieb.circulation.sip2 import protocol
from bieb.circulation.sip2.session import Session, card_tail

# the vector in the 3M examples, Koha's tests and pysip2's: both libraries agree on EB80
VECTOR = b"09N20160419    12200820160419    122008APReading Room 1|AO830|AB830$28170815|AC|AY2AZ"


def test_checksum_matches_the_published_vector_and_pysip2():
    assert protocol.checksum(VECTOR) == "EB80"
    assert protocol.checksum(b"97AZ") == calculate_checksum(b"97AZ") == "FEF5"
    assert protocol.checksum_ok(VECTOR + b"EB80")
    assert not protocol.checksum_ok(VECTOR + b"EB81")


def test_a_frame_built_by_pysip2_parses_with_every_field():
    message = CheckoutRequest(
        sc_renewal_policy="Y",
        no_block="N",
        transaction_date="20260105    101500",
        nb_due_date="20260126    101500",
        institution_id="BAM",
        patron_identifier="00000000000017",
        item_identifier="30000000000042",
        terminal_password="",
        patron_password="geheim",
    )
    frame = encode_message(message, sequence_number=7, checksum=True, encoding="utf-8")

    request = protocol.parse(frame)

    assert request.command == "11"
    assert request.sequence == 7 and request.error_detection
    assert request.fixed == {
        "sc_renewal_policy": "Y",
        "no_block": "N",
        "transaction_date": "20260105    101500",
        "nb_due_date": "20260126    101500",
    }
    assert request.text("AA") == "00000000000017"
    assert request.first("AD") == "geheim"
    assert request.first("AC") == ""  # present and empty
    assert request.first("CH") is None  # absent


def test_a_wrong_checksum_and_a_broken_trailer_are_told_apart():
    frame = encode_message(
        CheckoutRequest(
            sc_renewal_policy="N",
            no_block="N",
            transaction_date="20260105    101500",
            nb_due_date="20260126    101500",
            institution_id="BAM",
            patron_identifier="1",
            item_identifier="2",
            terminal_password="",
        ),
        sequence_number=1,
        checksum=True,
    )
    with pytest.raises(protocol.ChecksumError):
        protocol.parse(frame.replace(b"AOBAM", b"AOBAN"))
    with pytest.raises(protocol.MalformedMessage):
        protocol.parse(frame[:-3] + b"\r")  # "AZ" followed by two digits
    # a correct sum over a sequence "number" that is no digit
    body = b"17" + b"20260105    101500" + b"AOBAM|ABX|AYxAZ"
    with pytest.raises(protocol.MalformedMessage, match="sequence"):
        protocol.parse(body + protocol.checksum(body).encode() + b"\r")


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\r",
        b"XX\r",
        b"11NN\r",  # fixed fields cut short
        b"93\r",
        b"17" + b"2" * 18 + b"ab|",  # a field id must be two capitals or digits
        b"99" + b"x" * 9000,
        b"93\x0000CNa|COb|\r",
    ],
)
def test_malformed_frames_are_refused(frame):
    with pytest.raises(protocol.MalformedMessage):
        protocol.parse(frame)


def test_real_machine_sloppiness_is_accepted():
    # a blank 18-space due date, no "|" after the last field, a LF after the CR
    body = b"11NN20260105    101500" + b" " * 18 + b"AOBAM|AA1|AB2|AC"
    request = protocol.parse(body + b"\r\n")

    assert request.fixed["nb_due_date"] == " " * 18
    assert request.first("AC") == ""
    assert not request.error_detection and request.sequence is None

    # an AZ inside the last value (no trailer) is a value, not a checksum
    request = protocol.parse(b"17" + b"2" * 18 + b"AOX|ABBAZAAR")
    assert request.text("AB") == "BAZAAR"


def test_unknown_field_ids_and_repeated_fields_are_kept():
    request = protocol.parse(b"35" + b"2" * 18 + b"AOX|AA1|ZZfuture|AFone|AFtwo|")
    assert request.fields["ZZ"] == ["future"]
    assert request.fields["AF"] == ["one", "two"]


def test_a_response_decodes_in_pysip2_with_the_echoed_sequence():
    frame = protocol.format_response(
        "24",
        ["YYYY" + " " * 10, "005", "20260105    101500"],
        [("AO", "BAM"), ("AA", "123"), ("AE", "Anna de Vries"), ("BL", "Y"), ("CQ", None)],
        sequence=4,
        error_detection=True,
    )

    decoded = decode_message(frame, encoding="utf-8")

    assert isinstance(decoded.message, PatronStatusResponse)
    assert decoded.sequence_number == 4
    assert decoded.message.personal_name == "Anna de Vries"
    assert decoded.message.valid_patron_password is None  # None values are left out


def test_values_cannot_break_the_frame():
    title = "Kees | de jongen\r\n" + "é" * 300
    frame = protocol.format_response(
        "12",
        ["0", "N", "U", "N", "20260105    101500"],
        [("AO", "BAM"), ("AA", "1"), ("AB", "2"), ("AJ", title), ("AH", "")],
    )

    decoded = decode_message(frame, encoding="utf-8")

    assert isinstance(decoded.message, CheckoutResponse)
    assert decoded.message.title_identifier.startswith("Kees   de jongen")
    assert len(decoded.message.title_identifier.encode()) <= protocol.MAX_FIELD_BYTES
    assert frame.count(b"\r") == 1


def test_cp850_machines_get_cp850_and_a_question_mark_for_what_it_lacks():
    frame = protocol.format_response(
        "12",
        ["1", "N", "N", "Y", "20260105    101500"],
        [("AO", "BAM"), ("AA", "1"), ("AB", "2"), ("AJ", "Één € boek"), ("AH", "")],
        encoding="cp850",
    )

    decoded = decode_message(frame, encoding="cp850")

    assert decoded.message.title_identifier == "Één ? boek"


def test_96_carries_az_but_no_ay():
    frame = protocol.resend_request(error_detection=True)

    assert frame.startswith(b"96AZ") and frame.endswith(b"\r")
    assert isinstance(decode_message(frame).message, RequestSCResend)
    assert protocol.resend_request(error_detection=False) == b"96\r"


def test_a_session_remembers_a_checked_password_until_the_patron_leaves():
    session = Session(peer="127.0.0.1:1")
    session.remember_password("12345678901234", "geheim")

    assert session.password_known_good("12345678901234", "geheim")
    assert not session.password_known_good("12345678901234", "geheim!")
    assert not session.password_known_good("99999999999999", "geheim")
    assert "geheim" not in repr(session)
    session.end_patron("12345678901234")
    assert not session.password_known_good("12345678901234", "geheim")


def test_a_log_shows_only_the_last_four_digits_of_a_card():
    assert card_tail("20000000000014") == "…0014"
    assert card_tail("") == "-"
