"""The header navigation follows who is signed in: anonymous, resident or staff member."""

import pytest
from django.urls import reverse

from bieb.accounts.tests.factories import OrganisationFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db


def nav_of(html: str) -> str:
    return html.split('<nav class="bieb-nav"', 1)[1].split("</nav>", 1)[0]


def test_signed_in_resident_gets_mijn_bibliotheek_and_a_log_out_button_but_no_staff_link(client):
    client.force_login(UserFactory())

    nav = nav_of(client.get(reverse("portal:home")).content.decode())

    assert f'href="{reverse("accounts:mine")}"' in nav
    assert f'<form action="{reverse("accounts:logout")}" method="post">' in nav
    assert 'name="csrfmiddlewaretoken"' in nav  # log-out is a POST with CSRF, not a link
    assert f'href="{reverse("accounts:staff_home")}"' not in nav
    assert f'href="{reverse("accounts:login")}"' not in nav


def test_staff_member_also_gets_the_staff_link(client):
    client.force_login(staff_member("desk", organisation=OrganisationFactory()))

    nav = nav_of(client.get(reverse("portal:home")).content.decode())

    assert f'href="{reverse("accounts:staff_home")}"' in nav
    assert "Medewerkers" in nav


def test_current_page_is_marked_in_the_navigation(client):
    client.force_login(UserFactory())

    nav = nav_of(client.get(reverse("accounts:mine")).content.decode())

    assert f'href="{reverse("accounts:mine")}" aria-current="page"' in nav


def test_anonymous_pages_ask_the_database_nothing_for_the_navigation(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get(reverse("portal:home"))

    assert "Inloggen" in response.content.decode()


def test_staff_check_costs_one_query_per_page(client, django_assert_num_queries):
    client.force_login(staff_member("desk", organisation=OrganisationFactory()))

    # session + user + staff roles
    with django_assert_num_queries(3):
        client.get(reverse("portal:privacy"))
