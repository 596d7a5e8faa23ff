import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from bieb.accounts.models import User


@pytest.mark.django_db
def test_seed_twice_then_demo_info_lists_working_log_ins():
    call_command("seed", "--profile", "demo", stdout=StringIO())
    people = User.objects.count()
    call_command("seed", "--profile", "demo", stdout=StringIO())
    assert User.objects.count() == people  # idempotent

    out = StringIO()
    call_command("demo-info", "--json", stdout=out)
    info = json.loads(out.getvalue())
    roles = {account["role"] for account in info["accounts"]}
    assert {"resident", "youth", "desk", "manager", "network_admin"} <= roles
    resident = next(a for a in info["accounts"] if a["role"] == "resident")
    user = User.objects.get(email=resident["email"])
    assert user.check_password(resident["password"])
    assert user.card_number == resident["card_number"]


def test_bench_lists_its_benchmarks():
    out = StringIO()
    call_command("bench", stdout=out)
    assert "nearest" in json.loads(out.getvalue())["benchmarks"]


@pytest.fixture
def back_to_dutch():
    # The locale middleware leaves the last request's language active in this thread.
    yield
    translation.activate("nl")


def test_site_is_dutch_whatever_the_browser_asks_until_english_is_chosen(client, back_to_dutch):
    assert 'lang="nl"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()


@pytest.mark.django_db
def test_api_messages_follow_accept_language(client, back_to_dutch):
    dutch = client.get("/api/v1/me").json()["error"]["message"]
    english = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert dutch != english
