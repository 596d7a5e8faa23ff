"""Settlement between organisations: a month's money, to the cent, shared by the organisation
that invoiced it or by use; once per month; and the staff screens that show it."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.circulation.tests.test_races import at_once
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import ledger, services, settlement
from bieb.subscriptions.invoicing import NewLine, invoice_create
from bieb.subscriptions.models import (
    LineKind,
    Meter,
    PaymentMethod,
    Settlement,
    SettlementLine,
)
from bieb.subscriptions.settlement import largest_remainder, settlement_make
from bieb.subscriptions.tests.factories import adult

pytestmark = pytest.mark.django_db
D = dt.date
Role = StaffRole.Role


def moment(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in Amsterdam."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.AMSTERDAM)


def on(day: dt.date, hour: int = 12, minute: int = 0):
    return clock.frozen(moment(day, hour, minute))


def invoice(person, org, cents: int, day: dt.date | None = None):
    with on(day or D(2025, 1, 5)):
        return invoice_create(
            person=person,
            organisation_id=org.pk,
            lines=[NewLine(LineKind.CORRECTION, "Abonnement", cents, 900)],
        )


def pay(person, invoices, when: dt.datetime):
    with clock.frozen(when):
        payment = ledger.payment_create(
            person=person, method=PaymentMethod.IDEAL, invoices=invoices
        )
        return ledger.payment_mark_paid(payment)


def reverse(payment, when: dt.datetime):
    with clock.frozen(when):
        return ledger.payment_mark_failed(payment, code="MD06", reason="teruggeboekt")


def settle(month: str, today: dt.date, rule: str | None = None) -> dict:
    with on(today):
        return settlement_make(month=month, rule=rule)


def lines_of(answer: dict) -> dict[str, tuple[int, int, int]]:
    return {
        line["organisation"]: (line["basis"], line["amount_cents"], line["collected_cents"])
        for line in answer["lines"]
    }


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message
    return caught.value


@pytest.fixture
def orgs():
    return [OrganisationFactory(code=code) for code in ("ORGA", "ORGB", "ORGC")]


# --- by municipality ---------------------------------------------------------------------------


def test_by_municipality_each_payment_goes_to_the_organisations_that_invoiced_it(orgs):
    a, b, c = orgs
    anna, bert, carla, dirk, eva = (adult(home_organisation=o) for o in (a, a, b, c, b))
    pay(anna, [invoice(anna, a, 1_000)], moment(D(2025, 3, 10)))
    # one payment for an invoice of A (the subscription) and one of B (a fee there)
    pay(bert, [invoice(bert, a, 499), invoice(bert, b, 250)], moment(D(2025, 3, 31), 23, 30))
    # the first minutes of March in Amsterdam are still February in UTC: March
    pay(carla, [invoice(carla, b, 777)], moment(D(2025, 3, 1), 0, 30))
    # the first minutes of April in Amsterdam are still March in UTC: April
    pay(dirk, [invoice(dirk, c, 300)], moment(D(2025, 4, 1), 0, 30))
    pay(eva, [invoice(eva, b, 100)], moment(D(2025, 2, 28), 23, 59))

    answer = settle("2025-03", D(2025, 4, 2))

    assert answer["created"] is True and answer["rule"] == "municipality"
    assert answer["collected_cents"] == 1_000 + 499 + 250 + 777
    assert lines_of(answer) == {"ORGA": (1_499, 1_499, 1_499), "ORGB": (1_027, 1_027, 1_027)}
    assert answer["lines_total_cents"] == answer["collected_cents"]
    stored = Settlement.objects.get()
    assert (stored.month, stored.rule, stored.collected_cents) == (
        D(2025, 3, 1),
        "municipality",
        2_526,
    )
    assert sum(stored.lines.values_list("amount_cents", flat=True)) == 2_526
    event = AuditEvent.objects.get(action="subscriptions.settlement_make")
    assert event.subject == f"subscriptions.settlement:{stored.pk}"
    assert event.data | {} == {
        "month": "2025-03",
        "rule": "municipality",
        "collected_cents": 2_526,
        "received_cents": 2_526,
        "reversed_cents": 0,
        "payments": 3,
        "reversals": 0,
        "lines": 2,
    }


def test_reversals_are_taken_off_in_the_month_they_happen_and_nothing_counts_twice(orgs):
    a, b, _c = orgs
    anna, bert = adult(home_organisation=a), adult(home_organisation=b)
    february = pay(anna, [invoice(anna, a, 1_000)], moment(D(2025, 2, 10)))
    reverse(february, moment(D(2025, 3, 5)))  # a SEPA return in March
    back_and_forth = pay(anna, [invoice(anna, a, 600)], moment(D(2025, 3, 3)))
    reverse(back_and_forth, moment(D(2025, 3, 20)))
    late_return = pay(bert, [invoice(bert, b, 800)], moment(D(2025, 3, 12)))
    reverse(late_return, moment(D(2025, 4, 3)))  # returned in April, before March is settled
    pay(anna, [invoice(anna, a, 2_500)], moment(D(2025, 3, 15)))

    march = settle("2025-03", D(2025, 4, 10))
    february_answer = settle("2025-02", D(2025, 4, 10))
    april = settle("2025-04", D(2025, 5, 2))

    assert february_answer["collected_cents"] == 1_000  # it came in then; it went in March
    assert march["collected_cents"] == -1_000 + 600 - 600 + 800 + 2_500 == 2_300
    assert lines_of(march) == {"ORGA": (1_500, 1_500, 1_500), "ORGB": (800, 800, 800)}
    # B was given the 800 in March and gives it back in April: a negative line
    assert lines_of(april) == {"ORGB": (-800, -800, -800)}
    assert april["collected_cents"] == -800
    # over the months, exactly what stayed paid: the 2,500
    assert sum(s.collected_cents for s in Settlement.objects.all()) == 2_500
    march_event = AuditEvent.objects.get(
        action="subscriptions.settlement_make", data__month="2025-03"
    )
    assert (march_event.data["received_cents"], march_event.data["reversed_cents"]) == (
        3_900,
        1_600,
    )


def test_a_payment_without_invoices_goes_to_the_payers_own_library(orgs):
    from bieb.subscriptions.models import Payment, PaymentStatus

    a, b, _c = orgs
    person = adult(home_organisation=b)
    Payment.objects.create(
        person=person,
        method=PaymentMethod.IDEAL,
        status=PaymentStatus.PAID,
        amount_cents=450,
        paid_at=moment(D(2025, 3, 9)),
    )
    pay(person, [invoice(person, a, 100)], moment(D(2025, 3, 9)))

    answer = settle("2025-03", D(2025, 4, 1))

    assert lines_of(answer) == {"ORGA": (100, 100, 100), "ORGB": (450, 450, 450)}


def test_money_that_belongs_to_no_organisation_stops_the_month():
    from bieb.subscriptions.models import Payment, PaymentStatus

    stray = Payment.objects.create(
        person=adult(),  # no own library, and the payment pays no invoice
        method=PaymentMethod.IDEAL,
        status=PaymentStatus.PAID,
        amount_cents=450,
        paid_at=moment(D(2025, 3, 9)),
    )

    error = refused("settlement_unassigned", lambda: settle("2025-03", D(2025, 4, 1)))

    assert error.status == 409 and error.details == {"payments": [stray.pk]}
    assert not Settlement.objects.exists()


# --- by use ------------------------------------------------------------------------------------


def use(person, org, meter: str, day: dt.date, amount: int = 1) -> None:
    services.usage_record(
        person=person, meter=meter, organisation_id=org.pk, amount=amount, day=day
    )


def test_by_use_the_month_is_shared_in_proportion_to_weighted_use(orgs):
    a, b, c = orgs
    payer = adult(home_organisation=a)
    pay(payer, [invoice(payer, a, 1_000)], moment(D(2025, 3, 20)))
    reader = adult(home_organisation=b)
    use(reader, a, Meter.LOANS, D(2025, 3, 2))
    use(reader, b, Meter.LOANS, D(2025, 3, 30))
    use(reader, c, Meter.DIGITAL_LOANS, D(2025, 3, 15))
    use(reader, a, Meter.LOANS, D(2025, 2, 28), amount=50)  # a period of February
    use(reader, c, Meter.ACTIVITY_CREDITS, D(2025, 4, 1), amount=50)  # a period of April

    refused("usage_not_final", lambda: settle("2025-03", D(2025, 4, 30), rule="usage"))
    answer = settle("2025-03", D(2025, 5, 1), rule="usage")

    # 1,000 in thirds: 333.33 each; the cent left goes to the tie with the lowest id (A)
    assert answer["rule"] == "usage" and answer["collected_cents"] == 1_000
    assert lines_of(answer) == {
        "ORGA": (1, 334, 1_000),
        "ORGB": (1, 333, 0),
        "ORGC": (1, 333, 0),
    }
    assert AuditEvent.objects.get(action="subscriptions.settlement_make").data["usage_weights"] == {
        "loans": 1,
        "digital_loans": 1,
        "activity_credits": 1,
    }


def test_the_weights_of_use_are_a_setting(orgs, monkeypatch):
    a, b, c = orgs
    payer = adult(home_organisation=c)
    pay(payer, [invoice(payer, c, 1_001)], moment(D(2025, 3, 20)))
    reader = adult(home_organisation=a)
    use(reader, a, Meter.LOANS, D(2025, 3, 2))
    use(reader, b, Meter.DIGITAL_LOANS, D(2025, 3, 3))
    use(reader, c, Meter.ACTIVITY_CREDITS, D(2025, 3, 4), amount=5)
    monkeypatch.setattr(
        settlement,
        "USAGE_WEIGHTS",
        {Meter.LOANS: 3, Meter.DIGITAL_LOANS: 1, Meter.ACTIVITY_CREDITS: 0},
    )

    answer = settle("2025-03", D(2025, 5, 1), rule="usage")

    # 3/4 and 1/4 of 1,001: 750.75 and 250.25; the cent left goes to the larger remainder
    assert lines_of(answer) == {"ORGA": (3, 751, 0), "ORGB": (1, 250, 0), "ORGC": (0, 0, 1_001)}
    assert answer["lines_total_cents"] == 1_001


def test_money_without_any_use_cannot_be_shared_by_use(orgs):
    a = orgs[0]
    payer = adult(home_organisation=a)
    pay(payer, [invoice(payer, a, 500)], moment(D(2025, 3, 20)))

    refused("no_usage", lambda: settle("2025-03", D(2025, 5, 1), rule="usage"))

    assert not Settlement.objects.exists()
    assert lines_of(settle("2025-03", D(2025, 5, 1), rule="municipality")) == {
        "ORGA": (500, 500, 500)
    }


# --- once, and refusals ------------------------------------------------------------------------


def test_settling_twice_answers_the_settlement_that_exists(orgs):
    a = orgs[0]
    payer = adult(home_organisation=a)
    pay(payer, [invoice(payer, a, 1_234)], moment(D(2025, 3, 20)))
    first = settle("2025-03", D(2025, 4, 1))
    pay(payer, [invoice(payer, a, 99, D(2025, 3, 25))], moment(D(2025, 3, 25)))  # too late: paid

    again = settle("2025-03", D(2025, 6, 1))
    same_rule = settle("2025-03", D(2025, 6, 1), rule="municipality")

    assert again == same_rule == first | {"created": False}
    assert Settlement.objects.count() == 1 and SettlementLine.objects.count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.settlement_make").count() == 1
    error = refused("settlement_exists", lambda: settle("2025-03", D(2025, 6, 1), rule="usage"))
    assert error.status == 409 and error.details == {"rule": "municipality"}


def test_an_empty_month_is_settled_with_no_lines():
    answer = settle("2025-03", D(2025, 4, 1))

    assert answer == {
        "month": "2025-03",
        "rule": "municipality",
        "created": True,
        "collected_cents": 0,
        "lines_total_cents": 0,
        "lines": [],
    }


@pytest.mark.parametrize(
    "month", ["2025-13", "2025-00", "2025-3", "maart", "", "20255-01", "2025/03"]
)
def test_a_bad_month_is_refused(month):
    error = refused("month_invalid", lambda: settle(month, D(2025, 4, 1)))
    assert error.status == 400


def test_a_month_is_settled_only_when_it_is_over_in_amsterdam(orgs):
    with clock.frozen(moment(D(2025, 3, 31), 23, 59)):  # 21:59 UTC
        refused("month_not_over", lambda: settlement_make(month="2025-03"))
        refused("month_not_over", lambda: settlement_make(month="2025-07"))
    with clock.frozen(moment(D(2025, 4, 1), 0, 1)):  # still 31 March in UTC
        assert settlement_make(month="2025-03")["created"] is True


def test_an_unknown_rule_is_refused():
    error = refused("rule_unknown", lambda: settle("2025-03", D(2025, 4, 1), rule="halves"))
    assert error.status == 400
    assert not Settlement.objects.exists() and not AuditEvent.objects.exists()


def test_the_command_settles_and_prints_the_settlement(orgs):
    a = orgs[0]
    payer = adult(home_organisation=a)
    pay(payer, [invoice(payer, a, 4_321)], moment(D(2025, 3, 20)))
    out = io.StringIO()

    with on(D(2025, 4, 1)):
        call_command("billing", "settle", "--month", "2025-03", stdout=out)
        call_command("billing", "settle", "--month", "2025-03", stdout=(second := io.StringIO()))
        with pytest.raises(CommandError, match="month_not_over"):
            call_command("billing", "settle", "--month", "2025-04")
        with pytest.raises(CommandError, match="settlement_exists"):
            call_command("billing", "settle", "--month", "2025-03", "--rule", "usage")

    printed = json.loads(out.getvalue())
    assert printed["created"] is True and printed["collected_cents"] == 4_321
    assert lines_of(printed) == {"ORGA": (4_321, 4_321, 4_321)}
    assert json.loads(second.getvalue()) == printed | {"created": False}
    assert Settlement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_settlements_of_one_month_at_once_make_one():
    org = OrganisationFactory(code="RACE")
    payer = adult(home_organisation=org)
    pay(payer, [invoice(payer, org, 700)], moment(D(2025, 3, 20)))

    with on(D(2025, 4, 1)):
        answers = at_once(
            lambda: settlement_make(month="2025-03"),
            lambda: settlement_make(month="2025-03"),
        )

    assert all(isinstance(a, dict) for a in answers), answers
    assert sorted(a["created"] for a in answers) == [False, True]
    assert answers[0] | {"created": None} == answers[1] | {"created": None}
    assert Settlement.objects.count() == 1 and SettlementLine.objects.count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.settlement_make").count() == 1


# --- whole cents: properties ---------------------------------------------------------------------


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.dictionaries(
        st.integers(min_value=1, max_value=10_000),
        st.integers(min_value=0, max_value=10**6),
        min_size=1,
        max_size=12,
    ).filter(lambda w: sum(w.values()) > 0),
)
def test_largest_remainder_adds_up_and_stays_within_a_cent(total, weights):
    shares = largest_remainder(total, weights)
    whole = sum(weights.values())

    assert sum(shares.values()) == total
    assert set(shares) == set(weights)
    for key, amount in shares.items():
        assert abs(amount * whole - total * weights[key]) < whole  # within one cent
        assert amount * total >= 0  # the sign of the total, never the other way
        if weights[key] == 0:
            assert amount == 0
    assert largest_remainder(total, dict(reversed(list(weights.items())))) == shares


def test_largest_remainder_breaks_ties_by_the_lowest_key():
    assert largest_remainder(2, {7: 1, 3: 1, 5: 1}) == {3: 1, 5: 1, 7: 0}
    assert largest_remainder(-2, {7: 1, 3: 1, 5: 1}) == {3: -1, 5: -1, 7: 0}
    with pytest.raises(ValueError):
        largest_remainder(1, {1: 0})
    with pytest.raises(ValueError):
        largest_remainder(1, {1: -1})


MARCH_DAYS = st.integers(min_value=1, max_value=31)


@st.composite
def months(draw):
    payments = draw(
        st.lists(
            st.tuples(
                st.lists(  # invoices: (organisation index, cents)
                    st.tuples(st.integers(0, 2), st.integers(1, 50_000)), min_size=1, max_size=3
                ),
                MARCH_DAYS,
                st.sampled_from([None, "march", "april"]),  # reversed, and when
            ),
            max_size=6,
        )
    )
    usage = draw(
        st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from(Meter.values), st.integers(1, 40)),
            min_size=1,
            max_size=6,
        )
    )
    rule = draw(st.sampled_from(["municipality", "usage"]))
    return payments, usage, rule


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(month=months())
def test_any_month_is_shared_exactly(orgs, month):
    payments, usage, rule = month
    with transaction.atomic():
        own: dict[int, int] = defaultdict(int)  # the oracle: net per invoicing organisation
        for invoices, day, reversed_when in payments:
            person = adult(home_organisation=orgs[invoices[0][0]])
            made = [invoice(person, orgs[i], cents) for i, cents in invoices]
            payment = pay(person, made, moment(D(2025, 3, day), 9))
            if reversed_when == "march":
                reverse(payment, moment(D(2025, 3, day), 18))
            elif reversed_when == "april":
                reverse(payment, moment(D(2025, 4, 2)))
            if reversed_when != "march":
                for i, cents in invoices:
                    own[orgs[i].pk] += cents
        reader = adult()
        for i, meter, amount in usage:
            use(reader, orgs[i], meter, D(2025, 3, 10), amount=amount)
        collected = sum(own.values())

        answer = settle("2025-03", D(2025, 5, 1), rule=rule)

        lines = {line["organisation_id"]: line for line in answer["lines"]}
        assert answer["collected_cents"] == collected
        assert sum(line["amount_cents"] for line in lines.values()) == collected
        assert sum(line["collected_cents"] for line in lines.values()) == collected
        assert all(line["amount_cents"] >= 0 for line in lines.values())
        whole = sum(line["basis"] for line in lines.values())
        for org in orgs:
            line = lines.get(org.pk, {"basis": 0, "amount_cents": 0, "collected_cents": 0})
            assert line["collected_cents"] == own[org.pk]
            if rule == "municipality":
                assert line["amount_cents"] == own[org.pk]  # its exact share
            else:  # within one cent of collected * basis / all use
                assert abs(line["amount_cents"] * whole - collected * line["basis"]) < whole
        transaction.set_rollback(True)


# --- the screens ---------------------------------------------------------------------------------


@pytest.fixture
def settled(orgs):
    """March 2025 settled: A's residents paid 1,500, B's 800."""
    a, b, _c = orgs
    anna, bert = adult(home_organisation=a), adult(home_organisation=b)
    pay(anna, [invoice(anna, a, 1_500)], moment(D(2025, 3, 15)))
    pay(bert, [invoice(bert, b, 800)], moment(D(2025, 3, 16)))
    settle("2025-03", D(2025, 4, 1))
    return Settlement.objects.get()


def page(response) -> str:
    return response.content.decode()


def test_network_administrators_see_every_settlement_and_that_it_adds_up(client, orgs, settled):
    a, b, _c = orgs
    client.force_login(staff_member(Role.NETWORK_ADMIN))

    listing = client.get("/medewerkers/verrekening")
    month = client.get("/medewerkers/verrekening/2025-03")

    assert listing.status_code == 200
    assert "maart 2025" in page(listing) and "€ 23,00" in page(listing)
    assert 'href="/medewerkers/verrekening/2025-03"' in page(listing)
    assert month.status_code == 200
    text = page(month)
    assert a.name in text and b.name in text
    assert "€ 15,00" in text and "€ 8,00" in text
    assert 'data-total="amount">€ 23,00<' in text
    assert "Klopt: de regels tellen op tot € 23,00" in text
    assert client.get("/medewerkers/verrekening/2025-02").status_code == 404
    assert client.get("/medewerkers/verrekening/maart").status_code == 404
    assert client.get(f"/medewerkers/verrekening/2025-03/{b.code}").status_code == 200


def test_managers_see_only_their_own_organisations_statement(client, orgs, settled):
    a, b, _c = orgs
    client.force_login(staff_member(Role.MANAGER, a))

    listing = client.get("/medewerkers/verrekening")
    own = client.get(f"/medewerkers/verrekening/2025-03/{a.code}")

    assert listing.status_code == 200
    assert a.name in page(listing) and b.name not in page(listing)
    assert "€ 8,00" not in page(listing)
    assert own.status_code == 200
    assert 'data-figure="amount">€ 15,00<' in page(own)
    assert 'data-figure="collected">€ 15,00<' in page(own)
    assert b.name not in page(own)
    # another organisation's statement, or one that does not exist: the same 404
    assert client.get(f"/medewerkers/verrekening/2025-03/{b.code}").status_code == 404
    assert client.get("/medewerkers/verrekening/2025-03/BESTAATNIET").status_code == 404
    # all lines of a month are for network administrators
    assert client.get("/medewerkers/verrekening/2025-03").status_code == 403


def test_a_statement_by_use_shows_what_moves_between_organisations(client, orgs):
    a, b, _c = orgs
    payer = adult(home_organisation=a)
    pay(payer, [invoice(payer, a, 900)], moment(D(2025, 3, 20)))
    reader = adult(home_organisation=a)
    use(reader, a, Meter.LOANS, D(2025, 3, 5))
    use(reader, b, Meter.LOANS, D(2025, 3, 6), amount=2)
    settle("2025-03", D(2025, 5, 1), rule="usage")

    client.force_login(staff_member(Role.MANAGER, b))
    response = client.get(f"/medewerkers/verrekening/2025-03/{b.code}")

    text = page(response)
    assert 'data-figure="amount">€ 6,00<' in text
    assert 'data-figure="collected">€ 0,00<' in text
    assert "€ 6,00 te ontvangen" in text
    assert "Aandeel: 66,7 %" in text


def test_other_staff_and_residents_may_not_see_settlements(client, orgs, settled):
    a = orgs[0]
    assert client.get("/medewerkers/verrekening")["Location"].startswith("/inloggen")
    for user in (staff_member(Role.DESK, a), adult(home_organisation=a)):
        client.force_login(user)
        assert client.get("/medewerkers/verrekening").status_code == 403
        assert client.get(f"/medewerkers/verrekening/2025-03/{a.code}").status_code == 403
        assert client.get("/medewerkers/verrekening/2025-03").status_code == 403


def test_the_list_of_settlements_takes_the_same_queries_for_more_months(
    client, orgs, settled, django_assert_num_queries
):
    client.force_login(staff_member(Role.NETWORK_ADMIN))
    client.get("/medewerkers/verrekening")  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get("/medewerkers/verrekening")
    settle("2025-04", D(2025, 5, 2))
    settle("2025-05", D(2025, 6, 2))

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get("/medewerkers/verrekening")
    assert page(response).count("/medewerkers/verrekening/2025-0") == 3
