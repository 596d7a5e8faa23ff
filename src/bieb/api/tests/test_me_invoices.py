"""``/api/v1/me/usage`` and ``/api/v1/me/invoices``: a resident's meters against their plan,
and their own invoices and credit notes with a PDF; never anyone else's."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.api.tests.test_me_subscription import call, error_of, on
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import services
from bieb.subscriptions.invoicing import billing_run
from bieb.subscriptions.models import Invoice, Meter
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def org():
    return OrganisationFactory(code="BIBA", name="Bibliotheek A")


@pytest.fixture
def digitaal():
    return plan(
        code="digitaal", name="Digitaal", monthly=350, yearly=3_900, digital_loans_per_month=5,
        activity_credits_per_month=2,
    )  # fmt: skip


def test_usage_counts_this_period_against_the_plan(client, org, digitaal):
    person = adult(home_organisation=org)
    other_org = OrganisationFactory()
    with on(D(2026, 3, 15)):
        services.subscribe(person=person, plan_code="digitaal")
        for _ in range(3):
            services.usage_record(person=person, meter=Meter.DIGITAL_LOANS, organisation_id=org.pk)
        services.usage_record(
            person=person, meter=Meter.DIGITAL_LOANS, organisation_id=other_org.pk
        )
        services.usage_record(person=person, meter=Meter.LOANS, organisation_id=org.pk)
    with on(D(2026, 4, 14)):
        body = call(client, "GET", "/api/v1/me/usage", user=person).json()
    assert body["period_start"] == "2026-03-15" and body["period_end"] == "2026-04-15"
    meters = {m["meter"]: m for m in body["meters"]}
    assert meters["digital_loans"] | {"label": ""} == {
        "meter": "digital_loans", "label": "", "used": 4, "limit": 5, "left": 1,
    }  # fmt: skip
    assert meters["loans"]["used"] == 1 and meters["loans"]["limit"] is None
    assert meters["activity_credits"] == {**meters["activity_credits"], "used": 0, "left": 2}

    with on(D(2026, 4, 15)):  # a new period
        body = call(client, "GET", "/api/v1/me/usage", user=person).json()
    assert {m["meter"]: m["used"] for m in body["meters"]} == {
        "loans": 0, "digital_loans": 0, "activity_credits": 0,
    }  # fmt: skip


def test_invoices_are_listed_with_lines_and_a_pdf_only_for_their_owner(client, org, digitaal):
    person, stranger = adult(home_organisation=org), adult(home_organisation=org)
    with on(D(2026, 3, 1)):
        services.subscribe(person=person, plan_code="digitaal")
        services.subscribe(person=stranger, plan_code="digitaal")
    billing_run(today=D(2026, 3, 1))
    mine = Invoice.objects.get(person=person)
    theirs = Invoice.objects.get(person=stranger)

    body = call(client, "GET", "/api/v1/me/invoices", user=person).json()

    assert [i["number"] for i in body] == [mine.number]
    invoice = body[0]
    assert invoice["total_cents"] == 350 and invoice["outstanding_cents"] == 350
    assert invoice["vat_cents"] == 29  # 9 % of 350 inclusive: 28.90
    assert invoice["lines"][0]["first_day"] == "2026-03-01"
    assert invoice["lines"][0]["last_day"] == "2026-03-31"
    pdf = client.get(invoice["pdf_url"], headers=_auth(person))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert mine.number.encode() in pdf.content
    assert b"Bibliotheek A" in pdf.content

    other = call(client, "GET", f"/api/v1/me/invoices/{theirs.pk}/pdf", user=person)
    assert error_of(other, 404) == "invoice_unknown"
    assert error_of(call(client, "GET", "/api/v1/me/invoices"), 401)


def _auth(person) -> dict[str, str]:
    from bieb.api.services import token_create

    _, secret = token_create(user=person)
    return {"Authorization": f"Bearer {secret}"}
