"""Managers set their organisation's circulation rules: the services (ranges, who may change
what, audit rows, one row per key under concurrency), what checkout and checkin then do, the
money a manager types, and the staff page through the test client."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django import forms
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.catalog.models import Format
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import rules_selectors, rules_services, services
from bieb.circulation.forms_rules import cents_to_euros, euros_to_cents
from bieb.circulation.models import (
    HoldStatus,
    LoanPolicy,
    OrganisationRules,
    PatronCategory,
)
from bieb.circulation.policies import policy_for
from bieb.circulation.tests.factories import adult, child, copy_at, network, policy
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.core.models import AuditEvent

Role = StaffRole.Role
RULES_URL = "/medewerkers/uitleenregels"

VALID = {
    "format": "",
    "category": "",
    "loan_days": 21,
    "max_renewals": 2,
    "max_loans": 20,
    "overdue_fee_cents_per_day": 25,
    "overdue_fee_max_cents": 500,
}


def save(organisation, actor, **changes) -> LoanPolicy:
    return rules_services.policy_save(
        organisation=organisation, actor=actor, **{**VALID, **changes}
    )


def today() -> dt.date:
    return clock.today()


@pytest.fixture
def net(db):
    return network()


@pytest.fixture
def manager(net):
    return staff_member(Role.MANAGER, net.org)


@pytest.fixture
def admin(db):
    return staff_member(Role.NETWORK_ADMIN)


# --- services: policies ----------------------------------------------------------------------


def test_policy_save_creates_then_changes_one_row_with_an_audit_row_each_time(net, manager):
    first = save(net.org, manager, format=Format.FILM, category=PatronCategory.ADULT, loan_days=7)
    second = save(net.org, manager, format=Format.FILM, category=PatronCategory.ADULT, loan_days=9)

    assert first.pk == second.pk
    row = LoanPolicy.objects.get(organisation=net.org)
    assert (row.format, row.category, row.loan_days) == ("film", "adult", 9)
    events = list(AuditEvent.objects.filter(action="circulation.policy_saved").order_by("pk"))
    assert [e.data["created"] for e in events] == [True, False]
    assert events[1].data["before"]["loan_days"] == 7
    assert events[1].data["after"]["loan_days"] == 9
    assert {e.organisation_id for e in events} == {net.org.pk}
    assert {e.actor_id for e in events} == {manager.pk}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"loan_days": 0}, "invalid_loan_days"),
        ({"loan_days": 367}, "invalid_loan_days"),
        ({"loan_days": 1.5}, "invalid_loan_days"),
        ({"loan_days": True}, "invalid_loan_days"),
        ({"max_renewals": -1}, "invalid_max_renewals"),
        ({"max_renewals": 21}, "invalid_max_renewals"),
        ({"max_loans": 0}, "invalid_max_loans"),
        ({"max_loans": 201}, "invalid_max_loans"),
        ({"overdue_fee_cents_per_day": -1}, "invalid_overdue_fee"),
        ({"overdue_fee_cents_per_day": 10_001}, "invalid_overdue_fee"),
        ({"overdue_fee_max_cents": -1}, "invalid_overdue_fee_max"),
        ({"overdue_fee_max_cents": 100_001}, "invalid_overdue_fee_max"),
        ({"overdue_fee_cents_per_day": 50, "overdue_fee_max_cents": 40}, "invalid_overdue_fee_max"),
        ({"format": "vinyl"}, "invalid_format"),
        ({"category": "senior"}, "invalid_category"),
    ],
)
def test_policy_save_refuses_values_out_of_range_and_changes_nothing(net, manager, changes, code):
    with pytest.raises(DomainError) as refused:
        save(net.org, manager, **changes)

    assert refused.value.code == code
    assert refused.value.message  # a sentence for the manager, not a code
    assert refused.value.details["field"] in (*VALID, "overdue_fee_max_cents")
    assert not LoanPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="circulation.policy_saved").exists()


def test_policy_save_accepts_the_bounds_of_every_range(net, manager):
    low = save(
        net.org,
        manager,
        format=Format.BOOK,
        loan_days=1,
        max_renewals=0,
        max_loans=1,
        overdue_fee_cents_per_day=0,
        overdue_fee_max_cents=0,
    )
    high = save(
        net.org,
        manager,
        format=Format.GAME,
        category=PatronCategory.STAFF,
        loan_days=366,
        max_renewals=20,
        max_loans=200,
        overdue_fee_cents_per_day=10_000,
        overdue_fee_max_cents=100_000,
    )

    assert (low.loan_days, low.max_renewals, low.max_loans) == (1, 0, 1)
    assert (high.loan_days, high.overdue_fee_max_cents) == (366, 100_000)


def test_only_network_admins_change_the_network_defaults(net, manager, admin):
    with pytest.raises(PermissionDenied) as refused:
        save(None, manager)
    assert refused.value.code == "network_admin_only"
    assert not LoanPolicy.objects.exists()

    saved = save(None, admin, loan_days=28)

    assert saved.organisation_id is None and saved.loan_days == 28
    event = AuditEvent.objects.get(action="circulation.policy_saved")
    assert event.organisation_id is None and event.actor_id == admin.pk


def test_a_manager_cannot_touch_another_organisations_policies(net, manager):
    other = policy(net.other_org, loan_days=10)

    with pytest.raises(NotFound):
        save(net.other_org, manager, loan_days=30)
    with pytest.raises(NotFound):
        rules_services.policy_delete(policy=other, actor=manager)

    assert LoanPolicy.objects.get(pk=other.pk).loan_days == 10
    assert not AuditEvent.objects.filter(action__startswith="circulation.policy_").exists()


def test_desk_staff_may_not_change_policies(net):
    desk = staff_member(Role.DESK, net.org)

    with pytest.raises(PermissionDenied):
        save(net.org, desk)

    assert not LoanPolicy.objects.exists()


def test_policy_delete_removes_the_row_and_records_what_it_was(net, manager, admin):
    own = save(net.org, manager, format=Format.FILM, loan_days=7)
    network_default = save(None, admin)

    with pytest.raises(PermissionDenied):
        rules_services.policy_delete(policy=network_default, actor=manager)
    rules_services.policy_delete(policy=own, actor=manager)
    rules_services.policy_delete(policy=own, actor=manager)  # twice: nothing more happens

    assert list(LoanPolicy.objects.values_list("pk", flat=True)) == [network_default.pk]
    event = AuditEvent.objects.get(action="circulation.policy_deleted")
    assert event.subject == f"circulation.loanpolicy:{own.pk}"
    assert event.organisation_id == net.org.pk
    assert event.data == {
        "format": "film",
        "category": "",
        "before": {
            "loan_days": 7,
            "max_renewals": 2,
            "max_loans": 20,
            "overdue_fee_cents_per_day": 25,
            "overdue_fee_max_cents": 500,
        },
    }

    rules_services.policy_delete(policy=network_default, actor=admin)
    assert not LoanPolicy.objects.exists()


# --- services: organisation rules ------------------------------------------------------------


def test_rules_save_creates_then_changes_the_organisations_row(net, manager):
    rules_services.rules_save(
        organisation=net.org, floating=True, hold_shelf_days=3, lost_fee_cents=750, actor=manager
    )
    rules_services.rules_save(
        organisation=net.org, floating=False, hold_shelf_days=10, lost_fee_cents=0, actor=manager
    )

    rules = OrganisationRules.objects.get(organisation=net.org)
    assert (rules.floating, rules.hold_shelf_days, rules.lost_fee_cents) == (False, 10, 0)
    events = list(AuditEvent.objects.filter(action="circulation.rules_saved").order_by("pk"))
    assert [e.data["created"] for e in events] == [True, False]
    assert events[1].data["before"] == {
        "floating": True,
        "hold_shelf_days": 3,
        "lost_fee_cents": 750,
    }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"hold_shelf_days": 0}, "invalid_hold_shelf_days"),
        ({"hold_shelf_days": 61}, "invalid_hold_shelf_days"),
        ({"lost_fee_cents": -1}, "invalid_lost_fee"),
        ({"lost_fee_cents": 10_001}, "invalid_lost_fee"),
        ({"floating": "ja"}, "invalid_floating"),
    ],
)
def test_rules_save_refuses_values_out_of_range(net, manager, changes, code):
    values = {"floating": False, "hold_shelf_days": 7, "lost_fee_cents": 0, **changes}

    with pytest.raises(DomainError) as refused:
        rules_services.rules_save(organisation=net.org, actor=manager, **values)

    assert refused.value.code == code
    assert not OrganisationRules.objects.exists()
    assert not AuditEvent.objects.filter(action="circulation.rules_saved").exists()


def test_rules_belong_to_an_organisation_and_its_managers(net, manager, admin):
    values = {"floating": True, "hold_shelf_days": 7, "lost_fee_cents": 0}
    with pytest.raises(DomainError) as refused:
        rules_services.rules_save(organisation=None, actor=admin, **values)
    assert refused.value.code == "organisation_required"
    with pytest.raises(NotFound):
        rules_services.rules_save(organisation=net.other_org, actor=manager, **values)

    rules_services.rules_save(organisation=net.other_org, actor=admin, **values)

    assert list(OrganisationRules.objects.values_list("organisation_id", flat=True)) == [
        net.other_org.pk
    ]


# --- what lending does with them -------------------------------------------------------------


def test_a_changed_policy_applies_at_once_here_and_within_the_ttl_elsewhere(net, manager):
    from bieb.circulation import policies

    save(net.org, manager, loan_days=14)
    reader = adult()
    first = services.checkout(patron=reader, barcode=copy_at(net.main).barcode, location=net.main)
    save(net.org, manager, loan_days=28)  # saved in this process: its copy is dropped at once
    second = services.checkout(patron=reader, barcode=copy_at(net.main).barcode, location=net.main)
    assert ((first.due_date - today()).days, (second.due_date - today()).days) == (14, 28)

    # a change by another process (no signal here): this one keeps its copy up to TTL seconds
    LoanPolicy.objects.filter(organisation=net.org).update(loan_days=7)
    cached = services.checkout(patron=reader, barcode=copy_at(net.main).barcode, location=net.main)
    assert (cached.due_date - today()).days == 28
    policies._memory["at"] -= policies.TTL + 1  # the process's copy grows older than TTL
    fresh = services.checkout(patron=reader, barcode=copy_at(net.main).barcode, location=net.main)
    assert (fresh.due_date - today()).days == 7


def test_checkout_follows_the_most_specific_policy_a_manager_saved(net, manager, admin):
    save(None, admin, loan_days=21)
    save(None, admin, format=Format.BOOK, category=PatronCategory.ADULT, loan_days=35)
    save(net.org, manager, loan_days=28)
    book_rule = save(
        net.org, manager, format=Format.BOOK, category=PatronCategory.ADULT, loan_days=14
    )
    book = EditionFactory(format=Format.BOOK)
    film = EditionFactory(format=Format.FILM)
    reader = adult()

    lent_book = services.checkout(
        patron=reader, barcode=copy_at(net.main, book).barcode, location=net.main
    )
    lent_film = services.checkout(
        patron=reader, barcode=copy_at(net.main, film).barcode, location=net.main
    )
    lent_elsewhere = services.checkout(
        patron=reader, barcode=copy_at(net.elsewhere, book).barcode, location=net.elsewhere
    )
    lent_by_child = services.checkout(
        patron=child(), barcode=copy_at(net.main, book).barcode, location=net.main
    )

    # the organisation's own book rule beats its general rule and the network's book rule
    assert lent_book.due_date == today() + dt.timedelta(days=14)
    assert lent_film.due_date == today() + dt.timedelta(days=28)
    assert lent_by_child.due_date == today() + dt.timedelta(days=28)
    # another organisation has no own rows: the network's book rule for adults applies
    assert lent_elsewhere.due_date == today() + dt.timedelta(days=35)

    rules_services.policy_delete(policy=book_rule, actor=manager)
    again = services.checkout(
        patron=reader, barcode=copy_at(net.main, book).barcode, location=net.main
    )
    assert again.due_date == today() + dt.timedelta(days=28)


def test_checkin_follows_the_rules_a_manager_saved(net, manager):
    rules_services.rules_save(
        organisation=net.org, floating=True, hold_shelf_days=3, lost_fee_cents=0, actor=manager
    )
    wanted, roaming = copy_at(net.main), copy_at(net.main)
    for item in (wanted, roaming):
        services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    hold = services.hold_place(patron=adult(), edition=wanted.edition, pickup_location=net.branch)

    trapped = services.checkin(barcode=wanted.barcode, location=net.branch)
    stays = services.checkin(barcode=roaming.barcode, location=net.branch)

    hold.refresh_from_db()
    assert trapped.destination == "hold_shelf"
    assert hold.status == HoldStatus.READY
    assert hold.ready_until == today() + dt.timedelta(days=3)
    # floating: returned at another location of its own organisation, the copy stays there
    assert (stays.destination, stays.to_location) == ("shelf", net.branch)


def test_the_page_says_which_rows_decide_exactly_what_checkout_will_use(net, manager, admin):
    save(None, admin)
    save(None, admin, category=PatronCategory.YOUTH, loan_days=28)
    save(None, admin, format=Format.FILM, loan_days=7)
    save(net.org, manager, format=Format.FILM, loan_days=14)
    save(net.org, manager, format=Format.BOOK, category=PatronCategory.ADULT, loan_days=30)

    chosen = rules_selectors.winners(
        list(LoanPolicy.objects.filter(organisation__in=[net.org]))
        + list(LoanPolicy.objects.filter(organisation__isnull=True))
    )

    for format in Format.values:
        for category in PatronCategory.values:
            assert chosen[(format, category)].pk == policy_for(net.org.pk, format, category).pk
    overview = rules_selectors.policy_overview(net.org.pk)
    network_film = next(r for r in overview.network if r.policy.format == "film")
    assert not network_film.applies  # the organisation's own film rule goes first everywhere
    general = next(r for r in overview.network if r.policy.format == "" == r.policy.category)
    assert general.applies_to == (
        "volwassene: alle vormen behalve boek en film (dvd/blu-ray); "
        "medewerker: alle vormen behalve film (dvd/blu-ray)"
    )
    assert not overview.uncovered


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_managers_saving_the_same_policy_at_once_leave_one_row():
    net = network()
    managers = [staff_member(Role.MANAGER, net.org) for _ in range(3)]
    barrier = threading.Barrier(len(managers))
    errors: list[Exception] = []

    def run(person, days: int) -> None:
        try:
            barrier.wait()
            save(net.org, person, format=Format.BOOK, loan_days=days)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(person, 10 + i)) for i, person in enumerate(managers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()

    assert errors == []
    rows = list(LoanPolicy.objects.filter(organisation=net.org, format="book", category=""))
    assert len(rows) == 1
    assert rows[0].loan_days in (10, 11, 12)
    events = AuditEvent.objects.filter(action="circulation.policy_saved")
    assert events.count() == 3
    assert sorted(e.data["created"] for e in events) == [False, False, True]
    # the last save won: the row holds what its audit row says
    assert events.order_by("pk").last().data["after"]["loan_days"] == rows[0].loan_days


# --- money as a manager types it -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("0,25", 25),
        ("1,5", 150),
        ("2", 200),
        ("0", 0),
        (" € 0,20 ", 20),
        ("0.25", 25),
        ("1.000,00", 100_000),
        ("12,", 1200),
        (",5", 50),
        ("0,10", 10),
        ("19,99", 1999),
    ],
)
def test_euros_become_exact_cents(typed, cents):
    assert euros_to_cents(typed) == cents


@pytest.mark.parametrize("typed", ["0,255", "1,500", "-1", "abc", "1,2,3", "1.2.3", "", "€", "1e3"])
def test_amounts_that_are_not_whole_cents_are_refused(typed):
    with pytest.raises(forms.ValidationError):
        euros_to_cents(typed)


def test_cents_are_shown_back_as_typed():
    assert [cents_to_euros(c) for c in (0, 5, 25, 150, 100_000)] == [
        "0,00",
        "0,05",
        "0,25",
        "1,50",
        "1000,00",
    ]


# --- the page --------------------------------------------------------------------------------


def policy_post(scope: str, **changes) -> dict[str, str]:
    data = {
        "organisatie": scope,
        "leenregel-format": "",
        "leenregel-category": "",
        "leenregel-loan_days": "21",
        "leenregel-max_renewals": "2",
        "leenregel-max_loans": "20",
        "leenregel-overdue_fee": "0,25",
        "leenregel-overdue_fee_max": "5",
    }
    data.update({f"leenregel-{k}": v for k, v in changes.items()})
    return data


def rules_post(scope: str, **changes) -> dict[str, str]:
    data = {"organisatie": scope, "regels-hold_shelf_days": "7", "regels-lost_fee": "0"}
    data.update({f"regels-{k}": v for k, v in changes.items()})
    return data


def text(response) -> str:
    return response.content.decode()


def test_manager_sees_own_rules_and_the_network_defaults_read_only(client, net, manager, admin):
    network_row = save(None, admin, overdue_fee_cents_per_day=20, overdue_fee_max_cents=500)
    own = save(net.org, manager, format=Format.FILM, loan_days=14, overdue_fee_cents_per_day=50)
    policy(net.other_org, format="game", loan_days=99)  # never shown to this manager
    client.force_login(manager)

    response = client.get(RULES_URL)

    page = text(response)
    assert response.status_code == 200
    assert net.org.name in page
    assert "€ 0,50" in page and "€ 0,20" in page and "€ 5,00" in page
    assert "99 dagen" not in page
    assert reverse("circulation:rules_policy_delete", args=[own.pk]) in page
    assert reverse("circulation:rules_policy_delete", args=[network_row.pk]) not in page
    assert "Geldt voor" in page
    assert "alle lenerscategorieën: alle vormen behalve film (dvd/blu-ray)" in page
    assert "Nog niet ingesteld: dit zijn de standaardwaarden." in page


def test_manager_adds_a_policy_with_money_in_euros(client, net, manager):
    client.force_login(manager)

    response = client.post(
        reverse("circulation:rules_policy_save"),
        policy_post(
            net.org.code,
            format="film",
            category="adult",
            loan_days="7",
            overdue_fee="0,25",
            overdue_fee_max="1,5",
        ),
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"?organisatie={net.org.code}#leenregels")
    saved = LoanPolicy.objects.get(organisation=net.org)
    assert (saved.format, saved.category, saved.loan_days) == ("film", "adult", 7)
    assert (saved.overdue_fee_cents_per_day, saved.overdue_fee_max_cents) == (25, 150)
    assert AuditEvent.objects.get(action="circulation.policy_saved").actor_id == manager.pk
    follow = client.get(response["Location"])
    assert "Leenregel opgeslagen: film (dvd/blu-ray), volwassene." in text(follow)


def test_a_wrong_amount_or_number_comes_back_on_the_form(client, net, manager):
    client.force_login(manager)
    url = reverse("circulation:rules_policy_save")

    too_precise = client.post(url, policy_post(net.org.code, overdue_fee="0,255"))
    too_long = client.post(url, policy_post(net.org.code, loan_days="400"))

    assert too_precise.status_code == 400
    assert "hoogstens twee cijfers na de komma" in text(too_precise)
    assert 'value="0,255"' in text(too_precise)  # what was typed stays to correct it
    assert too_long.status_code == 400
    assert "De uitleentermijn is 1 tot 366 dagen." in text(too_long)
    assert 'aria-invalid="true"' in text(too_long)
    assert not LoanPolicy.objects.exists()


def test_manager_changes_and_deletes_an_own_policy(client, net, manager):
    own = save(net.org, manager, format=Format.BOOK, loan_days=21)
    client.force_login(manager)

    form = client.get(RULES_URL, {"organisatie": net.org.code, "wijzig": own.pk})
    assert form.status_code == 200
    assert 'name="leenregel-loan_days" value="21"' in text(form)
    assert 'name="leenregel-overdue_fee" value="0,25"' in text(form)
    client.post(
        reverse("circulation:rules_policy_save"),
        policy_post(net.org.code, format="book", loan_days="28"),
    )
    assert LoanPolicy.objects.get(pk=own.pk).loan_days == 28

    response = client.post(reverse("circulation:rules_policy_delete", args=[own.pk]))

    assert response.status_code == 302
    assert not LoanPolicy.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(action="circulation.policy_deleted").count() == 1


def test_manager_saves_the_organisation_rules(client, net, manager):
    client.force_login(manager)

    response = client.post(
        reverse("circulation:rules_save"),
        rules_post(net.org.code, floating="on", hold_shelf_days="3", lost_fee="7,50"),
    )

    assert response.status_code == 302
    rules = OrganisationRules.objects.get(organisation=net.org)
    assert (rules.floating, rules.hold_shelf_days, rules.lost_fee_cents) == (True, 3, 750)
    page = text(client.get(response["Location"]))
    assert "€ 7,50" in page and "3 dagen" in page
    assert "Ja: ingeleverde exemplaren blijven waar ze zijn ingeleverd" in page

    refused = client.post(
        reverse("circulation:rules_save"), rules_post(net.org.code, hold_shelf_days="61")
    )
    assert refused.status_code == 400
    assert "1 tot 60 dagen op de afhaalplank" in text(refused)
    assert OrganisationRules.objects.get(organisation=net.org).hold_shelf_days == 3


def test_desk_staff_get_403_and_anonymous_callers_log_in(client, net):
    anonymous = client.get(RULES_URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/inloggen")

    client.force_login(staff_member(Role.DESK, net.org))

    assert client.get(RULES_URL).status_code == 403
    assert (
        client.post(reverse("circulation:rules_policy_save"), policy_post(net.org.code)).status_code
        == 403
    )
    assert (
        client.post(reverse("circulation:rules_save"), rules_post(net.org.code)).status_code == 403
    )
    assert not LoanPolicy.objects.exists()
    assert not OrganisationRules.objects.exists()


def test_a_manager_of_another_organisation_gets_404(client, net):
    theirs = policy(net.org, format="book", loan_days=21)
    client.force_login(staff_member(Role.MANAGER, net.other_org))

    assert client.get(RULES_URL, {"organisatie": net.org.code}).status_code == 404
    assert client.get(RULES_URL, {"organisatie": "landelijk"}).status_code == 404
    assert client.get(RULES_URL, {"organisatie": "ONBEKEND"}).status_code == 404
    save_there = client.post(
        reverse("circulation:rules_policy_save"), policy_post(net.org.code, loan_days="99")
    )
    network_default = client.post(
        reverse("circulation:rules_policy_save"), policy_post("landelijk")
    )
    rules_there = client.post(reverse("circulation:rules_save"), rules_post(net.org.code))
    delete_there = client.post(reverse("circulation:rules_policy_delete", args=[theirs.pk]))

    assert [save_there.status_code, network_default.status_code] == [404, 404]
    assert [rules_there.status_code, delete_there.status_code] == [404, 404]
    assert list(LoanPolicy.objects.values_list("pk", "loan_days")) == [(theirs.pk, 21)]
    assert not OrganisationRules.objects.exists()
    # their own page is theirs
    own = client.get(RULES_URL)
    assert own.status_code == 200 and net.other_org.name in text(own)


def test_network_admin_edits_the_network_defaults_and_any_organisation(client, net, admin):
    client.force_login(admin)

    page = client.get(RULES_URL)
    assert page.status_code == 200
    assert "Landelijke standaard" in text(page)
    assert f'<option value="{net.org.code}"' in text(page)  # and may pick an organisation

    saved = client.post(
        reverse("circulation:rules_policy_save"),
        policy_post("landelijk", format="film", loan_days="7", overdue_fee="0,50"),
    )
    assert saved.status_code == 302
    default = LoanPolicy.objects.get(organisation__isnull=True)
    assert (default.format, default.loan_days, default.overdue_fee_cents_per_day) == ("film", 7, 50)

    for_org = client.post(
        reverse("circulation:rules_policy_save"), policy_post(net.org.code, loan_days="14")
    )
    assert for_org.status_code == 302
    assert LoanPolicy.objects.get(organisation=net.org).loan_days == 14

    deleted = client.post(reverse("circulation:rules_policy_delete", args=[default.pk]))
    assert deleted.status_code == 302
    assert deleted["Location"].endswith("?organisatie=landelijk#leenregels")
    assert not LoanPolicy.objects.filter(organisation__isnull=True).exists()


def test_a_manager_sees_the_network_defaults_but_cannot_change_them(client, net, manager, admin):
    default = save(None, admin, loan_days=21)
    client.force_login(manager)

    deleted = client.post(reverse("circulation:rules_policy_delete", args=[default.pk]))

    assert deleted.status_code == 404
    assert LoanPolicy.objects.filter(pk=default.pk).exists()


def test_the_page_costs_the_same_queries_for_one_policy_or_many(client, net, manager, admin):
    save(None, admin)
    client.force_login(manager)
    client.get(RULES_URL)  # warm the session

    with CaptureQueriesContext(connection) as few:
        assert client.get(RULES_URL).status_code == 200
    for format in (Format.BOOK, Format.FILM, Format.GAME, Format.MUSIC):
        for category in PatronCategory.values:
            save(net.org, manager, format=format, category=category)
    client.get(RULES_URL)  # the process's copy of the policies is read again once (policies)
    with CaptureQueriesContext(connection) as many:
        assert client.get(RULES_URL).status_code == 200

    assert len(many) == len(few)


def test_the_staff_home_links_managers_to_the_rules(client, net, manager):
    client.force_login(manager)
    assert reverse("circulation:rules") in text(client.get("/medewerkers/"))

    client.force_login(staff_member(Role.DESK, net.org))
    assert reverse("circulation:rules") not in text(client.get("/medewerkers/"))
