import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from bieb.accounts import access, services
from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import LocationFactory, UserFactory, staff_member
from bieb.core import clock
from bieb.core.errors import NotFound, PermissionDenied
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


def test_desk_finds_own_members_by_card_name_and_email(client, organisation, other_organisation):
    # given desk staff of A, a member of A and a namesake of B
    desk = staff_member(Role.DESK, organisation)
    ours = UserFactory(
        home_organisation=organisation,
        first_name="Joost",
        last_name="Prins",
        email="joost@example.nl",
    )
    UserFactory(home_organisation=other_organisation, first_name="Joost", last_name="Prins")
    client.force_login(desk)

    # when they search by card number, e-mail and name
    for query in (ours.card_number, "JOOST@example.nl", "joost pri"):
        response = client.get(reverse("accounts:member_search"), {"q": query})

        # then only the member of their own organisation is found
        assert list(response.context["results"]) == [ours], query


def test_desk_of_a_cannot_find_or_open_a_member_of_b(client, organisation, other_organisation):
    desk = staff_member(Role.DESK, organisation)
    theirs = UserFactory(home_organisation=other_organisation)
    client.force_login(desk)

    search = client.get(reverse("accounts:member_search"), {"q": theirs.card_number})
    detail = client.get(reverse("accounts:member_detail", args=[theirs.pk]))
    missing = client.get(reverse("accounts:member_detail", args=[999_999]))

    assert search.context["results"] == []
    assert detail.status_code == 404
    assert missing.status_code == 404
    assert theirs.email not in detail.content.decode()


def test_desk_opens_own_member_and_the_view_is_audited(client, organisation):
    desk = staff_member(Role.DESK, organisation)
    ours = UserFactory(home_organisation=organisation, email="lid@example.nl")
    client.force_login(desk)

    response = client.get(reverse("accounts:member_detail", args=[ours.pk]))

    assert response.status_code == 200
    assert "lid@example.nl" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="person.viewed_by_staff", actor=desk, subject=f"accounts.user:{ours.pk}"
    ).exists()


def test_network_admin_sees_members_of_every_organisation(client, organisation, other_organisation):
    admin = staff_member(Role.NETWORK_ADMIN)
    theirs = UserFactory(home_organisation=other_organisation)
    client.force_login(admin)

    assert client.get(reverse("accounts:member_detail", args=[theirs.pk])).status_code == 200
    assert access.organisations_with_role(admin, Role.DESK) == {
        organisation.pk,
        other_organisation.pk,
    }


@pytest.mark.parametrize(
    "name_args",
    [
        ("staff_home", []),
        ("member_search", []),
        ("member_detail", ["member"]),
        ("locations", []),
        ("location_hours", ["location"]),
    ],
)
def test_resident_gets_403_and_anonymous_goes_to_log_in(client, organisation, name_args):
    name, arg_names = name_args
    member = UserFactory(home_organisation=organisation)
    location = LocationFactory(organisation=organisation)
    values = {"member": member.pk, "location": location.pk}
    url = reverse(f"accounts:{name}", args=[values[a] for a in arg_names])

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))

    client.force_login(UserFactory(home_organisation=organisation))
    assert client.get(url).status_code == 403


def test_wrong_role_gets_403_on_member_pages(client, organisation):
    programmer = staff_member(Role.PROGRAMMER, organisation)
    member = UserFactory(home_organisation=organisation)
    client.force_login(programmer)

    assert client.get(reverse("accounts:staff_home")).status_code == 200
    assert client.get(reverse("accounts:member_detail", args=[member.pk])).status_code == 403
    assert client.get(reverse("accounts:locations")).status_code == 403


def test_staff_home_lists_roles(client, organisation):
    manager = staff_member(Role.MANAGER, organisation)
    StaffRole.objects.create(user=manager, organisation=organisation, role=Role.DESK)
    client.force_login(manager)

    html = client.get(reverse("accounts:staff_home")).content.decode()

    assert "directie" in html and "baliemedewerker" in html
    assert organisation.name in html


def test_manager_edits_weekly_hours_of_own_location(client, organisation):
    location = LocationFactory(organisation=organisation)
    manager = staff_member(Role.MANAGER, organisation)
    client.force_login(manager)
    url = reverse("accounts:location_hours", args=[location.pk])

    response = client.post(
        url,
        {
            "form-TOTAL_FORMS": "3",
            "form-INITIAL_FORMS": "0",
            "form-0-weekday": "0",
            "form-0-opens": "09:00",
            "form-0-closes": "17:00",
            "form-0-kind": "staffed",
            "form-1-weekday": "0",
            "form-1-opens": "17:00",
            "form-1-closes": "22:00",
            "form-1-kind": "self_service",
            "form-2-weekday": "",
            "form-2-opens": "",
            "form-2-closes": "",
            "form-2-kind": "staffed",
        },
    )

    assert response.status_code == 302
    periods = list(location.opening_periods.order_by("opens").values_list("weekday", "kind"))
    assert periods == [(0, "staffed"), (0, "self_service")]
    assert "09:00" in client.get(url).content.decode()


def test_overlapping_hours_are_refused_and_nothing_changes(client, organisation):
    location = LocationFactory(organisation=organisation)
    manager = staff_member(Role.MANAGER, organisation)
    client.force_login(manager)

    response = client.post(
        reverse("accounts:location_hours", args=[location.pk]),
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-weekday": "1",
            "form-0-opens": "09:00",
            "form-0-closes": "17:00",
            "form-0-kind": "staffed",
            "form-1-weekday": "1",
            "form-1-opens": "16:00",
            "form-1-closes": "20:00",
            "form-1-kind": "staffed",
        },
    )

    assert response.status_code == 400
    assert "overlappen" in response.content.decode()
    assert not location.opening_periods.exists()


def test_manager_adds_an_exception(client, organisation):
    location = LocationFactory(organisation=organisation)
    manager = staff_member(Role.MANAGER, organisation)
    client.force_login(manager)
    day = clock.today() + dt.timedelta(days=10)

    response = client.post(
        reverse("accounts:location_exception", args=[location.pk]),
        {"date": day.isoformat(), "closed": "on", "kind": "staffed", "reason": "Studiedag"},
    )

    assert response.status_code == 302
    exception = location.opening_exceptions.get()
    assert (exception.date, exception.closed, exception.reason) == (day, True, "Studiedag")


def test_manager_of_a_cannot_touch_locations_of_b(client, organisation, other_organisation):
    theirs = LocationFactory(organisation=other_organisation)
    ours = LocationFactory(organisation=organisation)
    manager = staff_member(Role.MANAGER, organisation)
    client.force_login(manager)

    listing = client.get(reverse("accounts:locations"))
    hours = client.get(reverse("accounts:location_hours", args=[theirs.pk]))
    post = client.post(
        reverse("accounts:location_exception", args=[theirs.pk]),
        {
            "date": (clock.today() + dt.timedelta(days=3)).isoformat(),
            "closed": "on",
            "kind": "staffed",
        },
    )

    assert list(listing.context["locations"]) == [ours]
    assert hours.status_code == 404
    assert post.status_code == 404
    assert not theirs.opening_exceptions.exists()


def test_access_functions_fail_closed(organisation, other_organisation):
    desk = staff_member(Role.DESK, organisation)
    resident = UserFactory(home_organisation=organisation)
    theirs = UserFactory(home_organisation=other_organisation)

    assert access.access_member(desk, resident.pk) == resident
    assert access.access_member(resident, resident.pk, need="write") == resident
    with pytest.raises(NotFound):
        access.access_member(desk, theirs.pk)
    with pytest.raises(PermissionDenied):
        access.access_member(resident, theirs.pk)
    with pytest.raises(PermissionDenied):
        access.access_member(None, resident.pk)
    with pytest.raises(NotFound):
        access.access_organisation(desk, other_organisation.pk, need="staff")
    with pytest.raises(PermissionDenied):
        access.access_organisation(desk, organisation.pk, need="manage")
    assert access.access_organisation(desk, organisation.pk, need="members") == organisation


def test_role_constraints_live_in_the_database(organisation):
    person = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=person, organisation=None, role=Role.DESK)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=person, organisation=organisation, role=Role.NETWORK_ADMIN)
    StaffRole.objects.create(user=person, organisation=organisation, role=Role.DESK)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=person, organisation=organisation, role=Role.DESK)
    StaffRole.objects.create(user=person, organisation=None, role=Role.NETWORK_ADMIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=person, organisation=None, role=Role.NETWORK_ADMIN)


def test_roles_are_granted_by_a_manager_of_that_organisation_only(organisation, other_organisation):
    manager = staff_member(Role.MANAGER, organisation)
    person = UserFactory()

    role = services.staff_role_grant(
        user=person, organisation=organisation, role=Role.DESK, actor=manager
    )
    assert access.organisations_with_role(person, Role.DESK) == {organisation.pk}
    assert AuditEvent.objects.filter(action="staff_role.granted", actor=manager).exists()

    for org, wanted in ((other_organisation, Role.DESK), (None, Role.NETWORK_ADMIN)):
        with pytest.raises(PermissionDenied):
            services.staff_role_grant(user=person, organisation=org, role=wanted, actor=manager)
    with pytest.raises(PermissionDenied):
        services.staff_role_revoke(staff_role=role, actor=person)

    services.staff_role_revoke(staff_role=role, actor=manager)
    assert not StaffRole.objects.filter(user=person).exists()
    assert access.organisations_with_role(person, Role.DESK) == set()
    assert AuditEvent.objects.filter(action="staff_role.revoked").exists()


def test_email_is_unique_whatever_the_capitals():
    UserFactory(email="een@example.nl")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="EEN@example.nl")
