import json
from io import StringIO

import pytest
from django.core.management import call_command

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
