"""The staff screens of Abonnement 2.0 (``/medewerkers/abonnementen``): who may see and do
what, refusals shown next to the form, and audit rows that name the staff member."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import invoicing, services
from bieb.subscriptions.invoicing import NewLine
from bieb.subscriptions.models import (
    DocumentKind,
    Invoice,
    LineKind,
    PlanPrice,
    Subscription,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import LONG_AGO, adult, plan

pytestmark = pytest.mark.django_db
Role = StaffRole.Role
D = dt.date
MARCH_10 = dt.date(2025, 3, 10)
LOOKUP = reverse("subscriptions:staff_lookup")
PRICES = reverse("subscriptions:staff_prices")


def on(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def text(response) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    words = " ".join(re.sub(r"<[^>]+>", " ", body).split()).replace("&#x27;", "'")
    return re.sub(r" ([.,:;)])", r"\1", words)


def resident_url(name: str, member, *args) -> str:
    return reverse(f"subscriptions:{name}", args=[member.pk, *args])


@pytest.fixture
def world():
    org_a = OrganisationFactory(code="BIBA", name="Bibliotheek A")
    org_b = OrganisationFactory(code="BIBB", name="Bibliotheek B")
    basis = plan(code="basis", name="Basis", monthly=1_000, yearly=10_000, physical_loans=10)
    with on(D(2025, 3, 10)):
        resident_a = adult(home_organisation=org_a, email="anna@example.nl")
        resident_b = adult(home_organisation=org_b, email="bram@example.nl")
        for person in (resident_a, resident_b):
            services.subscribe(person=person, plan_code="basis", actor=person)
    return {
        "org_a": org_a,
        "org_b": org_b,
        "basis": basis,
        "a": resident_a,
        "b": resident_b,
        "desk_a": staff_member(Role.DESK, org_a, first_name="Dirk"),
        "manager_a": staff_member(Role.MANAGER, org_a, first_name="Mira"),
        "manager_b": staff_member(Role.MANAGER, org_b),
        "programmer_a": staff_member(Role.PROGRAMMER, org_a),
        "admin": staff_member(Role.NETWORK_ADMIN, None),
    }


def as_user(client, user):
    client.force_login(user)
    return client


def invoice_for(person, amount=1_000, day=MARCH_10):
    with on(day):
        return invoicing.invoice_create(
            person=person,
            organisation_id=person.home_organisation_id,
            lines=[NewLine(LineKind.SUBSCRIPTION, "Basis, maart", amount, 900)],
        )


# --- access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in_and_residents_are_refused(client, world):
    for url in (LOOKUP, resident_url("staff_resident", world["a"]), PRICES):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    as_user(client, world["a"])
    for url in (LOOKUP, resident_url("staff_resident", world["a"]), PRICES):
        assert client.get(url).status_code == 403, url


def test_staff_without_a_member_role_are_refused(client, world):
    as_user(client, world["programmer_a"])
    assert client.get(LOOKUP).status_code == 403
    assert client.get(resident_url("staff_resident", world["a"])).status_code == 403


# --- looking up ------------------------------------------------------------------------------


def test_desk_finds_a_resident_of_their_organisation_by_card_or_e_mail(client, world):
    as_user(client, world["desk_a"])
    page = resident_url("staff_resident", world["a"])
    card = world["a"].card_number
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    for query in (card, spaced, "anna@example.nl", "ANNA@example.nl"):
        response = client.get(LOOKUP, {"q": query})
        assert response.status_code == 302 and response["Location"] == page, query


def test_desk_does_not_find_a_resident_of_another_organisation(client, world):
    as_user(client, world["desk_a"])
    for query in (world["b"].card_number, "bram@example.nl"):
        response = client.get(LOOKUP, {"q": query})
        assert response.status_code == 200
        assert "Geen inwoner van jouw bibliotheek gevonden." in text(response)
        assert world["b"].last_name not in text(response)


def test_a_name_is_not_a_lookup_key(client, world):
    as_user(client, world["desk_a"])
    response = client.get(LOOKUP, {"q": "Anna"})
    assert response.status_code == 400
    assert "Zoek op het hele pasnummer of het hele e-mailadres." in text(response)


def test_the_network_administrator_finds_residents_everywhere(client, world):
    as_user(client, world["admin"])
    response = client.get(LOOKUP, {"q": "bram@example.nl"})
    assert response["Location"] == resident_url("staff_resident", world["b"])
    assert client.get(response["Location"]).status_code == 200


# --- one resident ----------------------------------------------------------------------------


def test_the_resident_page_shows_plan_state_and_invoices_and_is_audited(client, world):
    invoice = invoice_for(world["a"])
    invoice_for(world["b"], 777)
    as_user(client, world["desk_a"])
    with on(D(2025, 3, 12)):
        response = client.get(resident_url("staff_resident", world["a"]))
    page = text(response)
    assert response.status_code == 200
    assert f"Abonnement van {world['a'].full_name}" in page
    assert "Basis Staat aan" in page and "Betaalt per maand." in page
    assert invoice.number in page and "Openstaand: nog € 10,00" in page
    assert "€ 7,77" not in page
    assert "Crediteren" not in page  # desk staff do not credit
    event = AuditEvent.objects.get(action="subscriptions.viewed_by_staff")
    assert event.actor_id == world["desk_a"].pk
    assert event.organisation_id == world["org_a"].pk


def test_a_resident_of_another_organisation_is_404_for_every_staff_url(client, world):
    invoice = invoice_for(world["b"])
    as_user(client, world["desk_a"])
    b = world["b"]
    with on(D(2025, 3, 12)):
        assert client.get(resident_url("staff_resident", b)).status_code == 404
        assert client.post(resident_url("staff_switch_off", b)).status_code == 404
        assert client.post(resident_url("staff_switch_on", b)).status_code == 404
    as_user(client, world["manager_a"])
    credit = resident_url("staff_invoice_credit", b, invoice.pk)
    assert client.get(credit).status_code == 404
    assert client.post(credit, {"amount": "1", "reason": "x"}).status_code == 404
    assert not SwitchOff.objects.exists()
    assert not Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()


def test_staff_switch_off_and_on_write_audit_rows_naming_the_staff_member(client, world):
    a, desk = world["a"], world["desk_a"]
    as_user(client, desk)
    with on(D(2025, 3, 20)):
        response = client.post(resident_url("staff_switch_off", a), {"from_date": ""})
        assert response.status_code == 302
        page = text(client.get(response["Location"]))
        assert f"Het abonnement van {a.full_name} staat uit vanaf 20 maart 2025." in page
        assert "Staat uit" in page
    with on(D(2025, 3, 23)):
        response = client.post(resident_url("staff_switch_on", a))
        assert response.status_code == 302
        assert "staat weer aan" in text(client.get(response["Location"]))
    subscription = Subscription.objects.get(person=a)
    assert list(SwitchOff.objects.values_list("subscription_id", "off_from", "on_from")) == [
        (subscription.pk, D(2025, 3, 20), D(2025, 3, 23))
    ]
    rows = AuditEvent.objects.filter(
        action__in=["subscriptions.switch_off", "subscriptions.switch_on"]
    ).order_by("pk")
    assert [(r.action, r.actor_id, r.subject) for r in rows] == [
        ("subscriptions.switch_off", desk.pk, f"subscriptions.subscription:{subscription.pk}"),
        ("subscriptions.switch_on", desk.pk, f"subscriptions.subscription:{subscription.pk}"),
    ]
    assert {r.organisation_id for r in rows} == {world["org_a"].pk}


def test_staff_switch_off_from_a_later_date_and_refusals_next_to_the_form(client, world):
    a = world["a"]
    as_user(client, world["desk_a"])
    with on(D(2025, 3, 20)):
        past = client.post(resident_url("staff_switch_off", a), {"from_date": "2025-03-01"})
        later = client.post(resident_url("staff_switch_off", a), {"from_date": "2025-04-01"})
        on_again = client.post(resident_url("staff_switch_on", a))
    assert past.status_code == 400
    error = re.search(r'id="from_date-error">(.*?)</div>', past.content.decode(), re.S)
    assert error and "Deze datum ligt in het verleden" in error.group(1)
    assert later.status_code == 302
    assert SwitchOff.objects.get().off_from == D(2025, 4, 1)
    assert on_again.status_code == 409
    assert "Je abonnement staat al aan." in text(on_again)


def test_staff_actions_for_a_resident_without_a_subscription_are_refused_clearly(client, world):
    newcomer = adult(home_organisation=world["org_a"])
    as_user(client, world["desk_a"])
    with on(D(2025, 3, 20)):
        page = text(client.get(resident_url("staff_resident", newcomer)))
        response = client.post(resident_url("staff_switch_off", newcomer))
    assert "Geen actief abonnement." in page
    assert response.status_code == 404
    assert "Je hebt geen actief abonnement." in text(response)


# --- crediting -------------------------------------------------------------------------------


def test_a_manager_credits_an_invoice_with_a_reason(client, world):
    a, manager = world["a"], world["manager_a"]
    invoice = invoice_for(a, 1_000)
    as_user(client, manager)
    url = resident_url("staff_invoice_credit", a, invoice.pk)
    with on(D(2025, 3, 12)):
        assert "Crediteren" in text(client.get(resident_url("staff_resident", a)))
        form = text(client.get(url))
        response = client.post(url, {"amount": "2,50", "reason": "Pas was kapot"})
        assert response.status_code == 302
        page = text(client.get(response["Location"]))
    assert "Nog te crediteren, hoogstens € 10,00" in form
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    assert (note.corrects_id, note.total_cents, note.person_id) == (invoice.pk, 250, a.pk)
    assert (
        note.lines.get().description == f"Creditering van factuur {invoice.number}: Pas was kapot"
    )
    assert f"Creditnota {note.number} van € 2,50 gemaakt op factuur {invoice.number}." in page
    invoice.refresh_from_db()
    assert invoice.outstanding_cents == 750
    created = AuditEvent.objects.get(action="subscriptions.credit_note_create")
    assert created.actor_id == manager.pk


def test_credit_refusals_show_next_to_the_fields_and_create_nothing(client, world):
    a = world["a"]
    invoice = invoice_for(a, 1_000)
    as_user(client, world["manager_a"])
    url = resident_url("staff_invoice_credit", a, invoice.pk)
    too_much = client.post(url, {"amount": "10,01", "reason": "te veel"})
    no_reason = client.post(url, {"amount": "1", "reason": "  "})
    not_money = client.post(url, {"amount": "1,234", "reason": "drie decimalen"})
    assert too_much.status_code == 400
    error = re.search(r'id="amount-error">(.*?)</div>', too_much.content.decode(), re.S)
    assert error and "niet meer crediteren dan er op de factuur staat" in error.group(1)
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.content.decode()
    assert not_money.status_code == 400 and 'id="amount-error"' in not_money.content.decode()
    assert not Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()


def test_desk_staff_may_not_credit(client, world):
    invoice = invoice_for(world["a"])
    as_user(client, world["desk_a"])
    url = resident_url("staff_invoice_credit", world["a"], invoice.pk)
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "1", "reason": "x"}).status_code == 403
    assert not Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()


def test_a_credit_note_itself_and_someone_elses_invoice_cannot_be_credited_here(client, world):
    a = world["a"]
    invoice = invoice_for(a)
    note = invoicing.invoice_credit(invoice, amount_cents=100, reason="x", actor=None)
    other = invoice_for(adult(home_organisation=world["org_a"]))
    as_user(client, world["manager_a"])
    assert client.get(resident_url("staff_invoice_credit", a, note.pk)).status_code == 404
    assert client.get(resident_url("staff_invoice_credit", a, other.pk)).status_code == 404


# --- plans and prices ------------------------------------------------------------------------


def test_only_network_administrators_see_plans_and_prices(client, world):
    for who in ("desk_a", "manager_a", "programmer_a"):
        as_user(client, world[who])
        assert client.get(PRICES).status_code == 403, who
        assert client.post(PRICES, {}).status_code == 403, who


def test_the_prices_page_lists_the_price_in_effect_and_the_scheduled_ones(client, world):
    basis = world["basis"]
    PlanPrice.objects.create(
        plan=basis, monthly_cents=1_200, yearly_cents=12_000, effective_from=D(2025, 6, 1)
    )
    as_user(client, world["admin"])
    with on(D(2025, 3, 20)):
        page = text(client.get(PRICES))
    assert "Basis (basis) € 10,00 per maand, € 100,00 per jaar" in page
    assert "vanaf 1 juni 2025: € 12,00 per maand, € 120,00 per jaar" in page


def test_a_network_administrator_schedules_a_price(client, world):
    admin, basis = world["admin"], world["basis"]
    as_user(client, admin)
    with on(D(2025, 3, 20)):
        response = client.post(
            PRICES,
            {
                "plan": str(basis.pk),
                "effective_from": "2025-05-01",
                "monthly": "4,75",
                "yearly": "55",
                "one_off": "",
            },
        )
        assert response.status_code == 302
        page = text(client.get(PRICES))
    price = PlanPrice.objects.get(plan=basis, effective_from=D(2025, 5, 1))
    assert (price.monthly_cents, price.yearly_cents, price.one_off_cents) == (475, 5_500, 0)
    assert "Nieuwe prijs voor Basis vanaf 1 mei 2025: € 4,75 per maand, € 55,00 per jaar." in page
    event = AuditEvent.objects.get(action="subscriptions.price_schedule")
    assert event.actor_id == admin.pk and event.data["monthly_cents"] == 475
    # the price in effect today did not change
    assert (
        PlanPrice.objects.filter(plan=basis, effective_from=LONG_AGO).get().monthly_cents == 1_000
    )


def test_a_price_in_the_past_is_refused_next_to_the_date(client, world):
    as_user(client, world["admin"])
    with on(D(2025, 3, 20)):
        response = client.post(
            PRICES,
            {
                "plan": str(world["basis"].pk),
                "effective_from": "2025-03-19",
                "monthly": "5",
                "yearly": "50",
            },
        )
    assert response.status_code == 400
    error = re.search(r'id="effective_from-error">(.*?)</div>', response.content.decode(), re.S)
    assert error and "Deze datum ligt in het verleden" in error.group(1)
    assert PlanPrice.objects.filter(plan=world["basis"]).count() == 1


def test_a_youth_plan_cannot_get_a_price(client, world):
    youth_plan = plan(code="jeugd", name="Jeugd", monthly=0, yearly=0, min_age=0, max_age=17)
    as_user(client, world["admin"])
    with on(D(2025, 3, 20)):
        response = client.post(
            PRICES,
            {
                "plan": str(youth_plan.pk),
                "effective_from": "2025-04-01",
                "monthly": "1",
                "yearly": "10",
            },
        )
    assert response.status_code == 400
    assert "Een jeugdabonnement is gratis" in text(response)
    assert PlanPrice.objects.filter(plan=youth_plan).count() == 1


def test_the_resident_page_does_not_query_per_invoice(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = world["a"]
    invoice_for(a)
    url = resident_url("staff_resident", a)

    def count(user) -> int:
        as_user(client, user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = [count(world["manager_a"]), count(world["admin"])]
    for day in range(11, 16):
        invoice_for(a, 100 + day, day=D(2025, 3, day))
    assert [count(world["manager_a"]), count(world["admin"])] == few
