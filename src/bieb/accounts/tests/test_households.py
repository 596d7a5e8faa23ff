import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.urls import reverse

from bieb.accounts import services
from bieb.accounts.models import HOUSEHOLD_MAX_MEMBERS, Household, User
from bieb.accounts.tests.factories import UserFactory, years_ago
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent


def household_with(size: int) -> tuple[Household, User]:
    manager = UserFactory()
    household = services.household_create(user=manager, name="Familie Jansen")
    for _ in range(size - 1):
        member = UserFactory()
        services.household_add_member(
            household=household, card_number=member.card_number, email=member.email, actor=manager
        )
    return household, manager


@pytest.mark.django_db
def test_manager_adds_a_member_by_card_and_email(client, mail_sent):
    # given a household and a resident who is not in one
    manager = UserFactory()
    household = services.household_create(user=manager, name="Familie Jansen")
    member = UserFactory(email="bram@example.nl")
    client.force_login(manager)

    # when the manager adds them with card number and e-mail
    with mail_sent():
        response = client.post(
            reverse("accounts:household_add"),
            {"card_number": member.card_number, "email": "Bram@example.nl"},
        )

    # then they are a member, told by mail, and it is audited
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.household == household
    assert [m.to for m in mail.outbox] == [["bram@example.nl"]]
    assert AuditEvent.objects.filter(
        action="household.member_added", subject=f"accounts.user:{member.pk}"
    ).exists()


@pytest.mark.django_db
def test_household_holds_at_most_six():
    household, manager = household_with(HOUSEHOLD_MAX_MEMBERS)
    seventh = UserFactory()

    with pytest.raises(DomainError) as refused:
        services.household_add_member(
            household=household, card_number=seventh.card_number, email=seventh.email, actor=manager
        )

    assert refused.value.code == "household_full"
    assert household.members.count() == HOUSEHOLD_MAX_MEMBERS
    seventh.refresh_from_db()
    assert seventh.household is None


@pytest.mark.django_db
def test_only_the_manager_adds_members():
    household, manager = household_with(2)
    member = household.members.exclude(pk=manager.pk).get()
    newcomer = UserFactory()

    with pytest.raises(DomainError) as refused:
        services.household_add_member(
            household=household,
            card_number=newcomer.card_number,
            email=newcomer.email,
            actor=member,
        )
    assert refused.value.code == "not_household_manager"


@pytest.mark.django_db
def test_adding_with_a_wrong_email_finds_nobody(client):
    manager = UserFactory()
    services.household_create(user=manager, name="Familie Jansen")
    member = UserFactory()
    client.force_login(manager)

    response = client.post(
        reverse("accounts:household_add"),
        {"card_number": member.card_number, "email": "x@example.nl"},
    )

    assert response.status_code == 400
    assert "geen lid met dit pasnummer" in response.content.decode()
    member.refresh_from_db()
    assert member.household is None


@pytest.mark.django_db
def test_leaving_manager_hands_over_to_the_next_adult():
    household, manager = household_with(1)
    child = UserFactory(birth_date=years_ago(17))
    adult = UserFactory(birth_date=years_ago(40))
    for person in (child, adult):
        services.household_add_member(
            household=household, card_number=person.card_number, email=person.email, actor=manager
        )

    services.household_leave(user=manager)

    household.refresh_from_db()
    assert household.manager == adult
    assert set(household.members.all()) == {child, adult}


@pytest.mark.django_db
def test_household_without_adults_left_is_dissolved():
    household, manager = household_with(1)
    child = UserFactory(birth_date=years_ago(17))
    services.household_add_member(
        household=household, card_number=child.card_number, email=child.email, actor=manager
    )

    services.household_leave(user=manager)

    assert not Household.objects.exists()
    child.refresh_from_db()
    assert child.household is None


@pytest.mark.django_db
def test_create_refuses_a_second_household():
    _household, manager = household_with(1)

    with pytest.raises(DomainError) as refused:
        services.household_create(user=manager, name="Nog een")
    assert refused.value.code == "already_in_household"
    assert Household.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_adds_for_the_last_seat_let_exactly_one_in():
    # given a household with one seat left and two residents to add
    household, manager = household_with(HOUSEHOLD_MAX_MEMBERS - 1)
    candidates = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(person: User) -> None:
        try:
            barrier.wait()
            services.household_add_member(
                household=household,
                card_number=person.card_number,
                email=person.email,
                actor=manager,
            )
            outcomes.append("added")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    # when both are added at the same moment, each on its own database connection
    threads = [threading.Thread(target=add, args=(p,)) for p in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then exactly one got in and the household is full, not over-full
    connections.close_all()
    assert sorted(outcomes) == ["added", "household_full"]
    assert User.objects.filter(household=household).count() == HOUSEHOLD_MAX_MEMBERS
