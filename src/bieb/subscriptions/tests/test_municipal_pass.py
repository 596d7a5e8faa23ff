"""The stadspas rate: where the municipality delivered its list of valid passes, only a code
on it (and valid) gets the reduced rate."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import MunicipalityFactory
from bieb.subscriptions import services
from bieb.subscriptions.models import MunicipalPass, Subscription
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


@pytest.fixture
def stadspas():
    return plan(code="stadspas", monthly=200, yearly=2_200, requires_municipal_pass=True)


def test_only_a_listed_valid_code_gets_the_rate(stadspas, tmp_path):
    utrecht, elders = MunicipalityFactory(cbs_code="GM0344"), MunicipalityFactory()
    listed = tmp_path / "passen.txt"
    listed.write_text("SP-1234-5678\n\nsp 2222 3333\nSP-1234-5678\n", encoding="utf-8")
    out = StringIO()
    call_command(
        "billing", "passes", "--municipality", "gm0344", "--valid-until", "2026-12-31",
        str(listed), stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue()) == {"municipality": "GM0344", "codes": 2}
    assert not MunicipalPass.objects.filter(code_sha256__icontains="SP").exists()  # digests only

    with at(D(2026, 6, 1)):
        for code in ("SP-9999-0000", "SP-1234-56"):
            with pytest.raises(DomainError) as refused:
                services.subscribe(
                    person=adult(municipality=utrecht), plan_code="stadspas",
                    municipal_pass_code=code,
                )  # fmt: skip
            assert refused.value.code == "municipal_pass_invalid"
        services.subscribe(
            person=adult(municipality=utrecht), plan_code="stadspas",
            municipal_pass_code="sp-2222-3333",
        )  # fmt: skip
        # a municipality without a list: the format check stands, the desk checks the pass
        services.subscribe(
            person=adult(municipality=elders), plan_code="stadspas",
            municipal_pass_code="XX-0000-1111",
        )  # fmt: skip
    with at(D(2027, 1, 1)), pytest.raises(DomainError) as refused:
        services.subscribe(
            person=adult(municipality=utrecht), plan_code="stadspas",
            municipal_pass_code="SP-1234-5678",
        )  # fmt: skip
    assert refused.value.code == "municipal_pass_invalid"  # the list ran out
    assert Subscription.objects.count() == 2
    assert AuditEvent.objects.filter(action="subscriptions.municipal_passes_load").count() == 1


def test_a_list_with_a_bad_line_loads_nothing():
    utrecht = MunicipalityFactory()
    services.municipal_passes_load(
        municipality=utrecht, codes=["SP-1234-5678"], valid_until=D(2026, 12, 31)
    )
    with pytest.raises(DomainError) as refused:
        services.municipal_passes_load(
            municipality=utrecht, codes=["SP-1111-2222", "geen code"], valid_until=D(2027, 12, 31)
        )
    assert refused.value.code == "municipal_pass_list_invalid"
    assert MunicipalPass.objects.get().valid_until == D(2026, 12, 31)
