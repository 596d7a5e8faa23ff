"""The SIP2 server, driven over TCP by an independent SIP2 codec (pysip2 from PyPI).

Every request is built and every answer decoded by pysip2, which checks the AZ checksum, the
echoed AY sequence number and the strict SIP2 2.00 layout (fixed-field widths and patterns,
required fields) of what our server sends. Hand-built frames appear only where a real machine
sends something pysip2 will not build (blank due dates, garbage, a wrong checksum). The server
runs in a thread on a free port against the test database, each machine connection on its own
database connection, so these tests run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import logging
import select
import socket
import threading
import time

import pytest
from django.core.cache import cache
from pysip2 import (
    ACSStatusResponse,
    CheckinRequest,
    CheckinResponse,
    CheckoutRequest,
    CheckoutResponse,
    EndPatronSessionRequest,
    EndSessionResponse,
    HoldRequest,
    HoldResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    PatronInformationRequest,
    PatronInformationResponse,
    PatronStatusRequest,
    PatronStatusResponse,
    RenewRequest,
    RenewResponse,
    RequestACSResend,
    RequestSCResend,
    SCStatusRequest,
    calculate_checksum,
    decode_message,
    encode_message,
)

from bieb.accounts.tests.factories import PASSWORD
from bieb.catalog.models import Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.models import Hold, HoldStatus, Loan, Terminal
from bieb.circulation.sip2 import patrons
from bieb.circulation.sip2.server import Sip2Server
from bieb.circulation.sip2.terminals import terminal_create, terminal_set_active
from bieb.circulation.tests.factories import adult, copy_at, network, policy
from bieb.core import clock
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

ENCODING = "utf-8"


def ts() -> str:
    return dt.datetime.now().strftime("%Y%m%d    %H%M%S")


class Machine:
    """A self-service machine: a socket and pysip2's codec, error detection on by default."""

    def __init__(self, port: int, *, checksum: bool = True, timeout: float = 20.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.checksum = checksum
        self.seq = 0
        self.buffer = b""

    def read_frame(self) -> bytes:
        while b"\r" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        frame, _, self.buffer = self.buffer.partition(b"\r")
        return frame + b"\r"

    def send_raw(self, frame: bytes) -> bytes:
        self.sock.sendall(frame)
        return self.read_frame()

    def encode(self, message) -> bytes:
        frame = encode_message(
            message,
            sequence_number=self.seq if self.checksum else None,
            checksum=self.checksum,
            encoding=ENCODING,
        )
        self.seq = (self.seq + 1) % 10
        return frame

    def request(self, message, expect=None):
        """Send ``message``; return the decoded answer (checked: type, AY echo, checksum)."""
        sent_seq = self.seq
        decoded = decode_message(self.send_raw(self.encode(message)), encoding=ENCODING)
        if expect is not None:
            assert type(decoded.message) is expect, decoded.message
        if self.checksum:
            assert decoded.checksum is not None
            if expect is not RequestSCResend:
                assert decoded.sequence_number == sent_seq
        return decoded.message

    def login(self, user: str, password: str) -> LoginResponse:
        return self.request(
            LoginRequest(
                uid_algorithm="0",
                pwd_algorithm="0",
                login_user_id=user,
                login_password=password,
                location_code=None,
            ),
            LoginResponse,
        )

    def close(self) -> None:
        self.sock.close()


def raw_frame(body: str, seq: int | None = 0) -> bytes:
    """A hand-built frame with a correct AY/AZ trailer (checksum from pysip2)."""
    prefix = (body + (f"AY{seq}" if seq is not None else "") + "AZ").encode(ENCODING)
    return prefix + calculate_checksum(prefix).encode("ascii") + b"\r"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # wrong-password counts and locks live in the cache, shared with the server's threads
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def server():
    sip2 = Sip2Server(("127.0.0.1", 0))
    thread = threading.Thread(target=sip2.serve_forever, daemon=True)
    thread.start()
    yield sip2
    sip2.stop()
    thread.join(timeout=10)


class Library:
    """A network, a logged-in-able terminal at ``main``, a patron and copies there."""

    def __init__(self) -> None:
        self.net = network()
        self.terminal, self.password = terminal_create(location=self.net.main, login="automaat-1")
        self.code = self.net.org.code
        self.patron = adult()
        self.card = self.patron.card_number

    def copy(self, **kwargs) -> Item:
        return copy_at(self.net.main, **kwargs)


@pytest.fixture
def library() -> Library:
    return Library()


def machine_for(server, library: Library, **kwargs) -> Machine:
    machine = Machine(server.port, **kwargs)
    assert machine.login(library.terminal.login, library.password).ok == "1"
    return machine


def checkout(library: Library, barcode: str, *, card: str | None = None, password=None):
    return CheckoutRequest(
        sc_renewal_policy="N",
        no_block="N",
        transaction_date=ts(),
        nb_due_date=ts(),
        institution_id=library.code,
        patron_identifier=card or library.card,
        item_identifier=barcode,
        terminal_password="",
        patron_password=password,
    )


def checkin(library: Library, barcode: str) -> CheckinRequest:
    return CheckinRequest(
        no_block="N",
        transaction_date=ts(),
        return_date=ts(),
        current_location="MACHINE",
        institution_id=library.code,
        item_identifier=barcode,
        terminal_password="",
    )


def patron_status(library: Library, password, *, card: str | None = None) -> PatronStatusRequest:
    return PatronStatusRequest(
        language="000",
        transaction_date=ts(),
        institution_id=library.code,
        patron_identifier=card or library.card,
        terminal_password="",
        patron_password=password,
    )


def patron_information(library: Library, summary: str, *, password=PASSWORD, **kwargs):
    return PatronInformationRequest(
        language="000",
        transaction_date=ts(),
        summary=summary,
        institution_id=library.code,
        patron_identifier=library.card,
        terminal_password="",
        patron_password=password,
        **kwargs,
    )


# --- 93 login, 99 status ---------------------------------------------------------------------


def test_a_terminal_logs_in_and_gets_the_acs_status(server, library):
    machine = Machine(server.port)

    assert machine.login("automaat-1", library.password).ok == "1"
    status = machine.request(
        SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
        ACSStatusResponse,
    )

    assert status.online_status == "Y"
    assert status.checkout_ok == "Y" and status.checkin_ok == "Y"
    assert status.institution_id == library.code
    assert status.protocol_version == "2.00"
    # patron status, checkout, checkin, status, resend, login, patron info, end session,
    # item information and renew are supported; the rest is not
    assert status.supported_messages == "YYYNYYYYYNYNNNYN"
    assert status.terminal_location == library.net.main.name
    assert Terminal.objects.get(pk=library.terminal.pk).last_seen_at is not None
    machine.close()


def test_a_wrong_password_or_unknown_login_is_refused_and_nothing_is_served(server, library):
    item = library.copy()
    machine = Machine(server.port)

    assert machine.login("automaat-1", "not-the-password").ok == "0"
    assert machine.login("no-such-machine", library.password).ok == "0"
    answer = machine.request(checkout(library, item.barcode), CheckoutResponse)
    status = machine.request(
        SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
        ACSStatusResponse,
    )

    assert answer.ok == "0"
    assert "niet aangemeld" in answer.screen_message[0]
    assert status.online_status == "N" and status.checkout_ok == "N"
    assert not Loan.objects.exists()
    machine.close()


def test_a_switched_off_terminal_cannot_log_in_and_is_stopped_mid_session(server, library):
    item = library.copy()
    machine = machine_for(server, library)

    terminal_set_active(library.terminal, active=False)
    answer = machine.request(checkout(library, item.barcode), CheckoutResponse)

    assert answer.ok == "0"
    assert machine.login("automaat-1", library.password).ok == "0"
    assert not Loan.objects.exists()
    machine.close()


def test_a_guessing_machine_is_disconnected_after_five_failed_logins(server, library):
    machine = Machine(server.port)
    for _ in range(4):
        assert machine.login("automaat-1", "guess").ok == "0"

    assert machine.login("automaat-1", "guess").ok == "0"  # the fifth answer, then goodbye

    with pytest.raises(ConnectionError):
        machine.login("automaat-1", library.password)
    machine.close()


# --- 23 patron status, 63 patron information -------------------------------------------------


def test_patron_status_checks_the_card_and_the_account_password(server, library):
    machine = machine_for(server, library)

    def status(card, password):
        return machine.request(patron_status(library, password, card=card), PatronStatusResponse)

    good = status(library.card, PASSWORD)
    wrong = status(library.card, "1234")
    unknown = status("99999999999999", "")

    assert (good.valid_patron, good.valid_patron_password) == ("Y", "Y")
    assert good.personal_name == library.patron.full_name
    assert good.patron_status[0] == " "  # may borrow
    assert (wrong.valid_patron, wrong.valid_patron_password) == ("Y", "N")
    assert wrong.personal_name == ""  # no name for a wrong password
    assert any("pincode" in m for m in wrong.screen_message)
    assert unknown.valid_patron == "N"
    assert unknown.personal_name == ""
    assert unknown.patron_status.startswith("YYYY")  # no privileges for an unknown card
    assert any("kennen we niet" in m for m in unknown.screen_message)
    machine.close()


def test_a_card_number_alone_tells_only_whether_the_card_may_borrow(server, library):
    policy(library.net.org, overdue_fee_cents_per_day=20, overdue_fee_max_cents=500)
    late = library.copy()
    with clock.frozen(clock.now() - dt.timedelta(days=30)):
        services.checkout(patron=library.patron, barcode=late.barcode, location=library.net.main)
    services.checkin(barcode=late.barcode, location=library.net.main)  # a fee on the card
    lent = library.copy()
    services.checkout(patron=library.patron, barcode=lent.barcode, location=library.net.main)
    machine = machine_for(server, library)
    # the same password checked once on this connection: it must come again in every message
    assert machine.request(patron_status(library, PASSWORD), PatronStatusResponse).fee_amount

    status = machine.request(patron_status(library, ""), PatronStatusResponse)  # AD empty
    information = {
        password: machine.request(
            patron_information(library, "  Y       ", password=password),
            PatronInformationResponse,
        )
        for password in (None, "0000")
    }
    fines = machine.request(
        patron_information(library, "   Y      ", password=None), PatronInformationResponse
    )

    assert (status.valid_patron, status.valid_patron_password) == ("Y", None)
    assert status.personal_name == ""
    assert status.fee_amount is None and status.currency_type is None
    assert status.patron_status[0] == " "  # the machine may still lend on the card
    for password, answer in information.items():
        assert answer.valid_patron == "Y"
        assert answer.valid_patron_password == ("N" if password else None)
        assert answer.personal_name == ""
        assert answer.charged_items == ()
        assert answer.charged_items_count == "    " and answer.fine_items_count == "    "
        assert answer.charged_items_limit is None
        assert answer.fee_amount is None
    assert fines.fine_items == ()
    machine.close()


def test_patron_information_counts_loans_and_lists_the_ones_asked_for(server, library):
    first, second, late = library.copy(), library.copy(), library.copy()
    for item in (first, second):
        services.checkout(patron=library.patron, barcode=item.barcode, location=library.net.main)
    with clock.frozen(clock.now() - dt.timedelta(days=60)):
        services.checkout(patron=library.patron, barcode=late.barcode, location=library.net.main)
    waiting_for = EditionFactory()
    copy_at(library.net.branch, edition=waiting_for, status=ItemStatus.ON_LOAN)
    services.hold_place(
        patron=library.patron, edition=waiting_for, pickup_location=library.net.main
    )
    machine = machine_for(server, library)

    charged = machine.request(patron_information(library, "  Y       "), PatronInformationResponse)
    overdue = machine.request(patron_information(library, " Y        "), PatronInformationResponse)
    paged = machine.request(
        patron_information(library, "  Y       ", start_item="2", end_item="2"),
        PatronInformationResponse,
    )
    unavailable = machine.request(
        patron_information(library, "     Y    "), PatronInformationResponse
    )

    assert charged.charged_items_count == "0003"
    assert charged.overdue_items_count == "0001"
    assert charged.unavailable_holds_count == "0001"
    assert charged.hold_items_count == "0000"
    assert sorted(charged.charged_items) == sorted([first.barcode, second.barcode, late.barcode])
    assert charged.overdue_items == ()  # only the list asked for
    assert overdue.overdue_items == (late.barcode,)
    assert len(paged.charged_items) == 1
    assert unavailable.unavailable_hold_items == (waiting_for.title,)
    assert charged.valid_patron_password == "Y"
    machine.close()


def test_patron_information_with_a_wrong_password_shows_no_loans(server, library):
    item = library.copy()
    services.checkout(patron=library.patron, barcode=item.barcode, location=library.net.main)
    machine = machine_for(server, library)

    answer = machine.request(
        patron_information(library, "  Y       ", password="0000"), PatronInformationResponse
    )

    assert answer.valid_patron_password == "N"
    assert answer.charged_items == ()
    assert answer.charged_items_count == "    "
    machine.close()


def test_five_wrong_passwords_lock_the_card_even_for_the_right_one_until_it_ends(
    server, library, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="bieb.circulation.sip2")
    checked = []
    real_check = patrons.check_password
    monkeypatch.setattr(
        patrons, "check_password", lambda *args: checked.append(1) or real_check(*args)
    )
    item, other = library.copy(), library.copy()
    first, second = machine_for(server, library), machine_for(server, library)

    # guessed through two machines: the count is the card's, not the connection's
    guesses = [
        machine.request(patron_status(library, f"{n:04d}"), PatronStatusResponse)
        for n, machine in zip(range(5), [first, second] * 3, strict=False)
    ]
    checks_before_lock = len(checked)
    right = first.request(patron_status(library, PASSWORD), PatronStatusResponse)
    elsewhere = second.request(patron_information(library, "  Y       "), PatronInformationResponse)
    lend = first.request(checkout(library, item.barcode, password=PASSWORD), CheckoutResponse)
    card_only = second.request(checkout(library, other.barcode), CheckoutResponse)
    checks_while_locked = len(checked) - checks_before_lock
    with clock.frozen(clock.now() + dt.timedelta(minutes=patrons.PASSWORD_LOCK // 60 + 1)):
        after = first.request(patron_status(library, PASSWORD), PatronStatusResponse)

    assert [g.valid_patron_password for g in guesses] == ["N"] * 5
    assert checks_before_lock == 5
    assert any("Te vaak" in m for m in guesses[-1].screen_message)
    assert (right.valid_patron, right.valid_patron_password) == ("Y", "N")
    assert right.personal_name == ""
    assert any("Te vaak" in m for m in right.screen_message)
    assert elsewhere.valid_patron_password == "N"
    assert elsewhere.charged_items_count == "    " and elsewhere.personal_name == ""
    assert lend.ok == "0" and "Te vaak" in lend.screen_message[0]
    assert not Loan.objects.filter(item=item).exists()
    assert card_only.ok == "1"  # the lock is on passwords; card-only lending is a policy
    assert checks_while_locked == 0  # locked: the password is not even looked at
    assert (after.valid_patron_password, after.personal_name) == ("Y", library.patron.full_name)
    assert "locked for password checks" in caplog.text
    assert library.card[-4:] in caplog.text
    assert library.card not in caplog.text
    first.close()
    second.close()


def test_a_right_password_clears_the_count_of_wrong_ones(server, library):
    machine = machine_for(server, library)
    below = patrons.PASSWORD_MAX_FAILURES - 1

    def status(password):
        return machine.request(patron_status(library, password), PatronStatusResponse)

    first_round = [status("0000").valid_patron_password for _ in range(below)]
    between = status(PASSWORD).valid_patron_password
    second_round = [status("1111").valid_patron_password for _ in range(below)]
    last = status(PASSWORD)

    assert first_round == second_round == ["N"] * below
    assert between == "Y"
    assert (last.valid_patron_password, last.personal_name) == ("Y", library.patron.full_name)
    machine.close()


# --- 11 checkout -----------------------------------------------------------------------------


def test_checkout_lends_the_copy_through_the_services(server, library):
    item = library.copy()
    machine = machine_for(server, library)

    answer = machine.request(checkout(library, item.barcode, password=PASSWORD), CheckoutResponse)

    loan = Loan.objects.get(item=item, returned_at__isnull=True)
    assert answer.ok == "1" and answer.desensitize == "Y"
    assert answer.item_identifier == item.barcode
    assert answer.title_identifier == item.edition.title
    assert answer.due_date == f"{loan.due_date:%Y%m%d}    235959"
    assert any(loan.due_date.strftime("%d-%m-%Y") in m for m in answer.screen_message)
    assert loan.patron == library.patron
    assert loan.channel == "sip2"
    assert loan.checkout_location == library.net.main
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ON_LOAN
    assert AuditEvent.objects.filter(action="circulation.checkout").count() == 1
    machine.close()


def test_checkout_is_refused_for_a_copy_on_loan_an_unknown_copy_or_card(server, library):
    lent = library.copy()
    other = adult()
    services.checkout(patron=other, barcode=lent.barcode, location=library.net.main)
    free = library.copy()
    machine = machine_for(server, library)

    on_loan = machine.request(checkout(library, lent.barcode), CheckoutResponse)
    unknown_item = machine.request(checkout(library, "NO-SUCH-COPY"), CheckoutResponse)
    unknown_card = machine.request(
        checkout(library, free.barcode, card="00000000000000"), CheckoutResponse
    )
    wrong_password = machine.request(
        checkout(library, free.barcode, password="1111"), CheckoutResponse
    )

    assert on_loan.ok == "0" and on_loan.due_date == ""
    assert on_loan.title_identifier == lent.edition.title
    assert "uitgeleend" in on_loan.screen_message[0]
    assert unknown_item.ok == "0" and "kennen we niet" in unknown_item.screen_message[0]
    assert unknown_card.ok == "0" and "pas kennen we niet" in unknown_card.screen_message[0]
    assert wrong_password.ok == "0" and "pincode" in wrong_password.screen_message[0]
    assert Loan.objects.get(item=lent, returned_at__isnull=True).patron == other
    assert not Loan.objects.filter(item=free).exists()
    machine.close()


def test_checkout_refusals_from_the_services_reach_the_screen(server, library):
    policy(library.net.org, max_loans=1)
    first, second = library.copy(), library.copy()
    machine = machine_for(server, library)

    assert machine.request(checkout(library, first.barcode), CheckoutResponse).ok == "1"
    answer = machine.request(checkout(library, second.barcode), CheckoutResponse)

    assert answer.ok == "0"
    assert "maximum" in answer.screen_message[0]
    machine.close()


def test_checkout_with_the_blank_due_date_real_machines_send(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    body = (
        f"11NN{ts()}{' ' * 18}AO{library.code}|AA{library.card}|AB{item.barcode}|AC|"
        f"AD{PASSWORD}|BON|BIN|"
    )

    decoded = decode_message(machine.send_raw(raw_frame(body, seq=3)), encoding=ENCODING)

    assert isinstance(decoded.message, CheckoutResponse)
    assert decoded.message.ok == "1"
    assert decoded.sequence_number == 3
    assert Loan.objects.filter(item=item, returned_at__isnull=True).count() == 1
    machine.close()


def test_checkout_of_an_own_copy_renews_it_when_the_machine_allows(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    machine.request(checkout(library, item.barcode), CheckoutResponse)
    first_due = Loan.objects.get(item=item).due_date

    again = machine.request(checkout(library, item.barcode), CheckoutResponse)
    renewal = machine.request(
        CheckoutRequest(
            sc_renewal_policy="Y",
            no_block="N",
            transaction_date=ts(),
            nb_due_date=ts(),
            institution_id=library.code,
            patron_identifier=library.card,
            item_identifier=item.barcode,
            terminal_password="",
        ),
        CheckoutResponse,
    )

    assert again.ok == "0" and "al geleend" in again.screen_message[0]
    assert (renewal.ok, renewal.renewal_ok) == ("1", "Y")
    loan = Loan.objects.get(item=item)
    assert loan.renewals == 1
    assert loan.due_date > first_due
    machine.close()


def cancel_checkout(library: Library, barcode: str, *, card: str | None = None):
    return CheckoutRequest(
        sc_renewal_policy="N",
        no_block="N",
        transaction_date=ts(),
        nb_due_date=ts(),
        institution_id=library.code,
        patron_identifier=card or library.card,
        item_identifier=barcode,
        terminal_password="",
        cancel="Y",
    )


def test_checkout_cancel_undoes_the_patrons_loan(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    machine.request(checkout(library, item.barcode), CheckoutResponse)

    answer = machine.request(cancel_checkout(library, item.barcode), CheckoutResponse)

    assert answer.ok == "1"
    assert not Loan.objects.filter(item=item, returned_at__isnull=True).exists()
    assert Item.objects.get(pk=item.pk).status == ItemStatus.AVAILABLE
    machine.close()


def test_checkout_cancel_undoes_only_a_loan_just_made_here_to_this_patron(server, library):
    older = library.copy()
    with clock.frozen(clock.now() - dt.timedelta(minutes=11)):
        services.checkout(patron=library.patron, barcode=older.barcode, location=library.net.main)
    elsewhere = copy_at(library.net.branch)
    services.checkout(patron=library.patron, barcode=elsewhere.barcode, location=library.net.branch)
    someone = adult()
    theirs = library.copy()
    services.checkout(patron=someone, barcode=theirs.barcode, location=library.net.main)
    machine = machine_for(server, library)

    too_old = machine.request(cancel_checkout(library, older.barcode), CheckoutResponse)
    other_place = machine.request(cancel_checkout(library, elsewhere.barcode), CheckoutResponse)
    not_theirs = machine.request(cancel_checkout(library, theirs.barcode), CheckoutResponse)

    for answer in (too_old, other_place, not_theirs):
        assert answer.ok == "0"
        assert "geen uitlening" in answer.screen_message[0]
    assert Loan.objects.filter(returned_at__isnull=True).count() == 3
    assert not AuditEvent.objects.filter(action="circulation.checkin").exists()
    machine.close()


# --- 09 checkin ------------------------------------------------------------------------------


def test_checkin_returns_the_copy_and_tells_where_it_goes(server, library):
    item = library.copy()
    services.checkout(patron=library.patron, barcode=item.barcode, location=library.net.main)
    waiting = adult()
    services.hold_place(patron=waiting, edition=item.edition, pickup_location=library.net.main)
    away = library.copy()
    services.checkout(patron=library.patron, barcode=away.barcode, location=library.net.main)
    machine = machine_for(server, library)

    held = machine.request(checkin(library, item.barcode), CheckinResponse)
    shelved = machine.request(checkin(library, away.barcode), CheckinResponse)

    assert held.ok == "1" and held.alert == "Y" and held.sort_bin == "HOLD"
    assert held.permanent_location == library.net.main.name
    assert held.title_identifier == item.edition.title
    assert any("gereserveerd" in m for m in held.screen_message)
    assert Hold.objects.get(patron=waiting).status == HoldStatus.READY
    assert shelved.ok == "1" and shelved.alert == "N" and shelved.sort_bin == "SHELF"
    assert not Loan.objects.filter(returned_at__isnull=True).exists()
    assert Item.objects.get(pk=away.pk).status == ItemStatus.AVAILABLE
    checkins = AuditEvent.objects.filter(action="circulation.checkin")
    assert [e.data["channel"] for e in checkins] == ["sip2", "sip2"]
    machine.close()


def test_checkin_elsewhere_sends_the_copy_home_and_unknown_copies_are_refused(server, library):
    foreign = copy_at(library.net.branch)
    services.checkout(patron=library.patron, barcode=foreign.barcode, location=library.net.branch)
    machine = machine_for(server, library)

    transit = machine.request(checkin(library, foreign.barcode), CheckinResponse)
    unknown = machine.request(checkin(library, "NO-SUCH-COPY"), CheckinResponse)

    assert transit.ok == "1" and transit.alert == "Y" and transit.sort_bin == "TRANSIT"
    assert any(library.net.branch.name in m for m in transit.screen_message)
    assert Item.objects.get(pk=foreign.pk).status == ItemStatus.IN_TRANSIT
    assert unknown.ok == "0" and unknown.permanent_location == ""
    assert "kennen we niet" in unknown.screen_message[0]
    machine.close()


def test_a_late_return_shows_the_fee_and_the_patron_status_then_carries_it(server, library):
    policy(library.net.org, overdue_fee_cents_per_day=20, overdue_fee_max_cents=500)
    item = library.copy()
    with clock.frozen(clock.now() - dt.timedelta(days=30)):
        services.checkout(patron=library.patron, barcode=item.barcode, location=library.net.main)
    machine = machine_for(server, library)

    returned = machine.request(checkin(library, item.barcode), CheckinResponse)

    def status(password):
        return machine.request(patron_status(library, password), PatronStatusResponse)

    right, wrong = status(PASSWORD), status("nope")

    assert returned.ok == "1"
    assert any("dagen te laat" in m for m in returned.screen_message)
    assert any(m.startswith("Te-laatgeld: EUR 1,80") for m in returned.screen_message)
    assert (right.currency_type, right.fee_amount) == ("EUR", "1.80")
    assert wrong.fee_amount is None  # no money matters for a wrong password
    machine.close()


# --- 29 renew --------------------------------------------------------------------------------


def renew(library: Library, barcode: str) -> RenewRequest:
    return RenewRequest(
        third_party_allowed="N",
        no_block="N",
        transaction_date=ts(),
        nb_due_date=ts(),
        institution_id=library.code,
        patron_identifier=library.card,
        patron_password=PASSWORD,
        item_identifier=barcode,
    )


def test_renew_extends_the_loan_unless_someone_waits(server, library):
    with clock.frozen(clock.now() - dt.timedelta(days=10)):
        mine = library.copy()
        services.checkout(patron=library.patron, barcode=mine.barcode, location=library.net.main)
        wanted = library.copy()
        services.checkout(patron=library.patron, barcode=wanted.barcode, location=library.net.main)
    services.hold_place(patron=adult(), edition=wanted.edition, pickup_location=library.net.main)
    someone_elses = library.copy()
    services.checkout(patron=adult(), barcode=someone_elses.barcode, location=library.net.main)
    before = Loan.objects.get(item=mine).due_date
    machine = machine_for(server, library)

    renewed = machine.request(renew(library, mine.barcode), RenewResponse)
    reserved = machine.request(renew(library, wanted.barcode), RenewResponse)
    not_mine = machine.request(renew(library, someone_elses.barcode), RenewResponse)

    after = Loan.objects.get(item=mine).due_date
    assert (renewed.ok, renewed.renewal_ok) == ("1", "Y")
    assert after > before
    assert renewed.due_date == f"{after:%Y%m%d}    235959"
    assert reserved.ok == "0" and "gereserveerd" in reserved.screen_message[0]
    assert reserved.due_date == f"{Loan.objects.get(item=wanted).due_date:%Y%m%d}    235959"
    assert not_mine.ok == "0" and "niet op jouw pas" in not_mine.screen_message[0]
    assert Loan.objects.get(item=someone_elses).renewals == 0
    machine.close()


def test_renew_with_a_blank_due_date(server, library):
    item = library.copy()
    services.checkout(patron=library.patron, barcode=item.barcode, location=library.net.main)
    machine = machine_for(server, library)
    body = f"29NN{ts()}{' ' * 18}AO{library.code}|AA{library.card}|AB{item.barcode}|"

    decoded = decode_message(machine.send_raw(raw_frame(body, seq=5)), encoding=ENCODING)

    assert isinstance(decoded.message, RenewResponse)
    assert decoded.message.ok == "1"
    assert Loan.objects.get(item=item).renewals == 1
    machine.close()


# --- 17 item information, 35 end session -----------------------------------------------------


def test_item_information_reports_status_due_date_and_queue(server, library):
    shelf = library.copy()
    lent = library.copy()
    loan = services.checkout(patron=library.patron, barcode=lent.barcode, location=library.net.main)
    services.hold_place(patron=adult(), edition=lent.edition, pickup_location=library.net.main)
    machine = machine_for(server, library)

    def info(barcode):
        return machine.request(
            ItemInformationRequest(
                transaction_date=ts(), institution_id=library.code, item_identifier=barcode
            ),
            ItemInformationResponse,
        )

    available, on_loan, unknown = info(shelf.barcode), info(lent.barcode), info("NOPE")

    assert available.circulation_status == "03"
    assert available.due_date is None
    assert available.current_location == library.net.main.name
    assert available.owner == library.net.org.name
    assert on_loan.circulation_status == "04"
    assert on_loan.due_date == f"{loan.due_date:%Y%m%d}    235959"
    assert on_loan.hold_queue_length == "1"
    assert on_loan.title_identifier == lent.edition.title
    assert unknown.circulation_status == "01" and unknown.title_identifier == ""
    machine.close()


def test_end_patron_session_is_confirmed(server, library):
    machine = machine_for(server, library)
    machine.request(patron_information(library, "          "), PatronInformationResponse)

    ended = machine.request(
        EndPatronSessionRequest(
            transaction_date=ts(), institution_id=library.code, patron_identifier=library.card
        ),
        EndSessionResponse,
    )

    assert ended.end_session == "Y"
    assert ended.patron_identifier == library.card
    machine.close()


def test_messages_bieb_does_not_serve_get_their_own_negative_answer(server, library):
    machine = machine_for(server, library)

    answer = machine.request(
        HoldRequest(
            hold_mode="+",
            transaction_date=ts(),
            institution_id=library.code,
            patron_identifier=library.card,
        ),
        HoldResponse,
    )

    assert answer.ok == "0"
    assert answer.screen_message
    machine.close()


def test_a_request_for_another_institution_is_refused(server, library):
    item = library.copy()
    machine = machine_for(server, library)

    request = checkout(library, item.barcode)
    answer = machine.request(
        CheckoutRequest(**{**_fields(request), "institution_id": library.net.other_org.code}),
        CheckoutResponse,
    )

    assert answer.ok == "0"
    assert answer.institution_id == library.code
    assert not Loan.objects.exists()
    machine.close()


def _fields(message) -> dict:
    return {name: getattr(message, name) for name in message.__struct_fields__}


# --- error detection: 96, 97, repeats --------------------------------------------------------


def test_a_wrong_checksum_gets_96_and_the_resent_frame_is_served(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    good = machine.encode(checkout(library, item.barcode))
    broken = good[:-5] + (b"0000" if good[-5:-1] != b"0000" else b"1111") + b"\r"

    first = decode_message(machine.send_raw(broken), encoding=ENCODING)
    assert not Loan.objects.exists()
    second = decode_message(machine.send_raw(good), encoding=ENCODING)

    assert isinstance(first.message, RequestSCResend)
    assert first.checksum is not None  # 96 with AZ, no AY
    assert isinstance(second.message, CheckoutResponse) and second.message.ok == "1"
    assert Loan.objects.filter(item=item).count() == 1
    machine.close()


def test_garbage_gets_96_and_the_connection_keeps_working(server, library):
    machine = machine_for(server, library)

    for garbage in (b"hello\r", b"11NN\r", b"GET / HTTP/1.1\r", "ZZ\u20ac|\r".encode()):
        answer = decode_message(machine.send_raw(garbage), encoding=ENCODING)
        assert isinstance(answer.message, RequestSCResend)
    status = machine.request(
        SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
        ACSStatusResponse,
    )

    assert status.online_status == "Y"
    machine.close()


def test_97_repeats_the_last_answer_byte_for_byte(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    answer = machine.send_raw(machine.encode(checkout(library, item.barcode)))

    again = machine.send_raw(machine.encode(RequestACSResend()))

    assert again == answer
    assert Loan.objects.filter(item=item).count() == 1
    machine.close()


def test_a_repeated_frame_is_answered_again_without_lending_twice(server, library):
    item = library.copy()
    machine = machine_for(server, library)
    frame = machine.encode(checkout(library, item.barcode))

    first = machine.send_raw(frame)
    second = machine.send_raw(frame)  # the machine missed our answer and retries

    assert first == second
    assert decode_message(second, encoding=ENCODING).message.ok == "1"
    assert AuditEvent.objects.filter(action="circulation.checkout").count() == 1
    machine.close()


def test_a_machine_without_error_detection_gets_answers_without_ay_az(server, library):
    item = library.copy()
    machine = Machine(server.port, checksum=False)
    assert machine.login("automaat-1", library.password).ok == "1"

    raw = machine.send_raw(machine.encode(checkout(library, item.barcode)))

    assert b"AZ" not in raw[-12:]
    assert decode_message(raw, encoding=ENCODING).message.ok == "1"
    machine.close()


# --- many machines at once -------------------------------------------------------------------


def run_together(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_ten_machines_lend_ten_copies_at_once(server, library):
    people = [adult() for _ in range(10)]
    items = [library.copy() for _ in range(10)]

    def lend(person, item):
        def call():
            machine = machine_for(server, library, timeout=60)
            try:
                return machine.request(
                    checkout(library, item.barcode, card=person.card_number, password=PASSWORD),
                    CheckoutResponse,
                ).ok
            finally:
                machine.close()

        return call

    results = run_together([lend(p, i) for p, i in zip(people, items, strict=True)])

    assert results == ["1"] * 10
    assert Loan.objects.filter(returned_at__isnull=True, channel="sip2").count() == 10
    for person, item in zip(people, items, strict=True):
        assert Loan.objects.get(item=item).patron == person


def test_two_machines_racing_for_one_copy_lend_it_once(server, library):
    item = library.copy()
    a, b = adult(), adult()
    machines = [machine_for(server, library, timeout=60) for _ in range(2)]

    def lend(machine, person):
        return lambda: (
            machine.request(
                checkout(library, item.barcode, card=person.card_number), CheckoutResponse
            ).ok
        )

    results = run_together([lend(machines[0], a), lend(machines[1], b)])

    assert sorted(results) == ["0", "1"]
    assert Loan.objects.filter(item=item, returned_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="circulation.checkout").count() == 1
    for machine in machines:
        machine.close()


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_broken_machine_does_not_disturb_the_others(server, library):
    item, other = library.copy(), library.copy()
    broken = machine_for(server, library)
    half = Machine(server.port)
    healthy = machine_for(server, library)

    half.sock.sendall(b"9300CNautomaat-1|CO")  # half a frame: its thread waits for the rest
    garbage = decode_message(broken.send_raw(b"\x00\xff garbage|||\r"), encoding=ENCODING)
    lent = healthy.request(checkout(library, item.barcode), CheckoutResponse)  # meanwhile
    broken.sock.sendall(b"x" * 9000)  # an endless frame
    broken.sock.close()  # and gone without a goodbye
    half.sock.close()  # the line drops mid-frame
    assert wait_until(lambda: server.connections == 1)
    after = healthy.request(checkout(library, other.barcode), CheckoutResponse)

    assert isinstance(garbage.message, RequestSCResend)
    assert lent.ok == "1" and after.ok == "1"
    assert Loan.objects.filter(returned_at__isnull=True).count() == 2
    healthy.close()
    assert wait_until(lambda: server.connections == 0)


def test_a_quiet_machine_is_disconnected_after_the_idle_timeout(library):
    quick = Sip2Server(("127.0.0.1", 0), idle_timeout=0.3)
    thread = threading.Thread(target=quick.serve_forever, daemon=True)
    thread.start()
    try:
        machine = machine_for(quick, library)
        time.sleep(1.0)

        with pytest.raises((ConnectionError, OSError)):
            machine.login("automaat-1", library.password)
        assert wait_until(lambda: quick.connections == 0)
        machine.close()
    finally:
        quick.stop()
        thread.join(timeout=10)


def wait_closed(machine: Machine, timeout: float = 10.0, drip: bytes = b"") -> float | None:
    """Seconds until the server closes ``machine``'s connection (None: still open after
    ``timeout``), sending ``drip`` every 0.1 s meanwhile."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if drip:
                machine.sock.sendall(drip)
            readable, _, _ = select.select([machine.sock], [], [], 0.1)
            if readable and not machine.sock.recv(4096):
                return time.monotonic() - start
        except OSError:  # reset: closed with our bytes unread
            return time.monotonic() - start
    return None


def test_a_connection_that_does_not_log_in_is_closed_after_the_login_deadline(library, caplog):
    caplog.set_level(logging.INFO, logger="bieb.circulation.sip2")
    quick = Sip2Server(("127.0.0.1", 0), login_timeout=1.0)
    thread = threading.Thread(target=quick.serve_forever, daemon=True)
    thread.start()
    try:
        member = machine_for(quick, library)
        silent, dripping = Machine(quick.port), Machine(quick.port)
        assert silent.login("automaat-1", "guess").ok == "0"  # a failed login is no login

        silent_closed = wait_closed(silent)
        dripping_closed = wait_closed(dripping, drip=b"9")  # never a whole frame

        assert silent_closed is not None and dripping_closed is not None
        assert dripping_closed < 5  # bytes do not keep a connection without a login alive
        status = member.request(
            SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
            ACSStatusResponse,
        )
        assert status.online_status == "Y"  # logged in: past the deadline and still served
        assert wait_until(lambda: quick.connections == 1)
        assert "not logged in within 1 s" in caplog.text
        for machine in (member, silent, dripping):
            machine.close()
    finally:
        quick.stop()
        thread.join(timeout=10)


def test_a_machine_over_the_connection_limit_is_turned_away(library):
    small = Sip2Server(("127.0.0.1", 0), max_connections=1)
    thread = threading.Thread(target=small.serve_forever, daemon=True)
    thread.start()
    try:
        first = machine_for(small, library)
        second = Machine(small.port)

        with pytest.raises((ConnectionError, OSError)):
            second.login("automaat-1", library.password)
        assert (
            first.request(
                SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
                ACSStatusResponse,
            ).online_status
            == "Y"
        )
        first.close()
        second.close()
    finally:
        small.stop()
        thread.join(timeout=10)
