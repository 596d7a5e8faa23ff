"""At the door: a scanner types the QR code's whole link and presses Enter, or staff tick
people off the list; scanning twice is one attendance, a code of another activity is refused,
and a check-in can be taken back. The page counts registered, present and still expected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.core import clock
from bieb.programming.models import Attendance, AttendanceMethod, RegistrationStatus
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db
Role = StaffRole.Role


@pytest.fixture
def door():
    org = f.organisation()
    activity = f.activity(organisation=org, title="Digisterker", starts_at=f.tomorrow_at(19))
    ans = f.registration(activity=activity, person=f.UserFactory(first_name="Ans", last_name="A"))
    klas = f.registration(
        activity=activity, person=f.UserFactory(first_name="Klas", last_name="7B"), seats=4
    )
    f.registration(
        activity=activity,
        person=f.UserFactory(first_name="Wacht", last_name="W"),
        status=RegistrationStatus.WAITLISTED,
    )
    return {
        "org": org,
        "activity": activity,
        "ans": ans,
        "klas": klas,
        "desk": staff_member(Role.DESK, org),
        "url": reverse("programming:staff_door", args=[activity.pk]),
        "doors_open": activity.starts_at - dt.timedelta(minutes=15),
    }


def scan(client, url, code):
    response = client.post(url, {"action": "scan", "code": code})
    assert response.status_code == 302 and response["Location"] == url
    return client.get(url).content.decode()


def test_scanning_the_whole_link_checks_in_once(client, door):
    client.force_login(door["desk"])
    link = f"https://bieb.example/aanmelding/{door['ans'].token}"
    with clock.frozen(door["doors_open"]):
        page = scan(client, door["url"], link)
        assert "Welkom, Ans A: 1 persoon binnen." in page
        page = scan(client, door["url"], link + "\n")
        assert "Ans A is al binnen" in page
    attendance = Attendance.objects.get()
    assert attendance.registration == door["ans"]
    assert attendance.method == AttendanceMethod.SCAN
    assert attendance.session_start == door["activity"].starts_at
    assert attendance.checked_in_by == door["desk"]


def test_a_typed_code_works_and_unknown_or_other_activitys_codes_are_refused(client, door):
    other = f.activity(organisation=door["org"], title="Taalcafé")
    theirs = f.registration(activity=other)
    unconfirmed = f.registration(activity=door["activity"], status=RegistrationStatus.WAITLISTED)
    client.force_login(door["desk"])
    with clock.frozen(door["doors_open"]):
        page = scan(client, door["url"], theirs.token)
        assert "Niet gelukt:" in page and "andere activiteit: Taalcafé" in page
        page = scan(client, door["url"], "onzin")
        assert "hoort bij geen enkele aanmelding" in page
        page = scan(client, door["url"], unconfirmed.token)
        assert "geen plaats" in page
        assert not Attendance.objects.exists()
        page = scan(client, door["url"], f"  {door['klas'].token}  ")
        assert "Welkom, Klas 7B: 4 personen binnen." in page
    assert Attendance.objects.get().registration == door["klas"]


def test_list_check_in_counts_a_smaller_group_and_undo_takes_it_back(client, door):
    client.force_login(door["desk"])
    url = door["url"]
    with clock.frozen(door["doors_open"]):
        page = client.get(url).content.decode()
        assert "Ans A" in page and "Klas 7B" in page and "Wacht W" not in page
        assert "<strong>5</strong> aangemeld" in page
        assert "<strong>0</strong> binnen" in page
        assert "<strong>5</strong> nog verwacht" in page

        client.post(url, {"action": "list", "registration": door["klas"].pk, "present": "3"})
        page = client.get(url).content.decode()
        attendance = Attendance.objects.get()
        assert (attendance.present, attendance.method) == (3, AttendanceMethod.LIST)
        assert "<strong>3</strong> binnen" in page
        assert "<strong>1</strong> nog verwacht" in page

        for wrong in ("9", "0"):
            client.post(url, {"action": "list", "registration": door["klas"].pk, "present": wrong})
            assert "Er kunnen 1 tot 4 mensen" in client.get(url).content.decode()
        client.post(url, {"action": "list", "registration": door["klas"].pk, "present": "x"})
        assert "met hoeveel mensen" in client.get(url).content.decode()
        assert Attendance.objects.count() == 1

        client.post(url, {"action": "undo", "attendance": attendance.pk})
        page = client.get(url).content.decode()
        assert "Binnenkomst van Klas 7B teruggedraaid." in page
        assert not Attendance.objects.exists()
        assert "<strong>5</strong> nog verwacht" in page


def test_no_session_now_says_when_the_next_one_is_and_scanning_is_refused(client, door):
    client.force_login(door["desk"])
    with clock.frozen(door["activity"].starts_at - dt.timedelta(days=1)):
        page = client.get(door["url"]).content.decode()
        assert "Er is nu geen bijeenkomst" in page and 'name="code"' not in page
        client.post(door["url"], {"action": "scan", "code": door["ans"].token})
        assert "geen bijeenkomst" in client.get(door["url"]).content.decode()
    assert not Attendance.objects.exists()


def test_the_door_belongs_to_the_activitys_organisation(client, door):
    other_desk = staff_member(Role.DESK, f.organisation())
    client.force_login(other_desk)
    assert client.get(door["url"]).status_code == 404
    assert (
        client.post(door["url"], {"action": "scan", "code": door["ans"].token}).status_code == 404
    )
    client.force_login(f.UserFactory())
    assert client.get(door["url"]).status_code == 403
    assert not Attendance.objects.exists()


def test_the_desk_finds_the_doors_of_now(client, door):
    later = f.activity(
        organisation=door["org"],
        title="Volgende week",
        starts_at=f.tomorrow_at(19) + dt.timedelta(days=7),
    )
    client.force_login(door["desk"])
    with clock.frozen(door["doors_open"]):
        page = client.get(reverse("programming:staff_doors")).content.decode()
    assert "Digisterker" in page and later.title not in page


def test_the_eight_digit_door_code_under_the_qr_code_checks_in(client, door):
    from bieb.programming.forms_staff import door_code, door_code_display

    other = f.activity(organisation=door["org"], title="Taalcafé")
    theirs = f.registration(activity=other)
    code = door_code(door["ans"].token)
    assert len(code) == 8 and code.isdigit()
    assert door_code_display(door["ans"].token) == f"{code[:4]} {code[4:]}"
    # the registration page shows it under the QR code
    mine = client.get(reverse("programming:registration", args=[door["ans"].token]))
    assert door_code_display(door["ans"].token) in mine.content.decode()

    client.force_login(door["desk"])
    with clock.frozen(door["doors_open"]):
        # another activity's code is no code here, and says where to look instead
        page = scan(client, door["url"], door_code_display(theirs.token))
        assert "Deze code hoort bij geen aanmelding voor deze activiteit." in page
        assert "zoek de naam op de lijst" in page
        assert not Attendance.objects.exists()
        # typed as it is read out, with a space or a dash
        page = scan(client, door["url"], f"{code[:4]}-{code[4:]}")
        assert "Welkom, Ans A: 1 persoon binnen." in page
    attendance = Attendance.objects.get()
    assert attendance.registration == door["ans"]
    assert attendance.method == AttendanceMethod.SCAN
