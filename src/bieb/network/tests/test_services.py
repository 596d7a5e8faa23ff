"""Services validate, refuse with stable codes, save all or nothing, and audit."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.core.models import AuditEvent
from bieb.network import services
from bieb.network.models import Location, OpeningException, OpeningPeriod, Organisation
from bieb.network.tests.factories import (
    LocationFactory,
    MunicipalityFactory,
    OrganisationFactory,
    PostcodeAreaFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def utrecht():
    municipality = MunicipalityFactory(cbs_code="GM0344", name="Utrecht")
    PostcodeAreaFactory(pc4="3512", place="Utrecht", municipality=municipality, lat=52.09, lon=5.12)
    return municipality


def test_organisation_create_normalises_and_audits(utrecht):
    organisation = services.organisation_create(
        name="Bibliotheek Utrecht",
        code="but",
        kvk_number="3043 7212",
        municipality_codes=["gm0344"],
    )
    assert (organisation.slug, organisation.code, organisation.kvk_number) == (
        "bibliotheek-utrecht",
        "BUT",
        "30437212",
    )
    assert list(organisation.municipalities.all()) == [utrecht]
    event = AuditEvent.objects.get(action="network.organisation_created")
    assert event.organisation_id == organisation.pk
    assert event.data["municipalities"] == ["GM0344"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kvk_number": "1234"}, "invalid_kvk"),
        ({"municipality_codes": ["GM0344", "GM9999"]}, "unknown_municipality"),
        ({"name": ""}, "invalid_name"),
        ({"code": "X" * 20}, "invalid_code"),
    ],
)
def test_organisation_create_refuses_bad_input_and_saves_nothing(utrecht, overrides, code):
    arguments = {
        "name": "Bibliotheek Utrecht",
        "code": "BUT",
        "kvk_number": "30437212",
        "municipality_codes": ["GM0344"],
        **overrides,
    }
    with pytest.raises(DomainError) as error:
        services.organisation_create(**arguments)
    assert error.value.code == code
    assert not Organisation.objects.exists()
    assert not AuditEvent.objects.exists()


def test_organisation_create_refuses_duplicates(utrecht):
    services.organisation_create(name="Bibliotheek Utrecht", code="BUT", kvk_number="30437212")
    for kwargs in (
        {"name": "Bibliotheek Utrecht", "code": "OTHER", "kvk_number": "11111111"},
        {"name": "Andere", "code": "BUT", "kvk_number": "11111111"},
        {"name": "Andere", "code": "OTHER", "kvk_number": "30437212"},
    ):
        with pytest.raises(DomainError) as error:
            services.organisation_create(**kwargs)
        assert error.value.code == "duplicate_organisation"
    assert Organisation.objects.count() == 1


def test_location_create_takes_point_and_municipality_from_the_postcode(utrecht):
    organisation = OrganisationFactory()
    location = services.location_create(
        organisation=organisation,
        kind="branch",
        name="Bibliotheek Neude",
        street="Neude",
        house_number="11",
        postcode="3512ae",
        study_places=120,
        has_wifi=True,
    )
    assert location.postcode == "3512 AE"
    assert (location.lat, location.lon, location.city) == (52.09, 5.12, "Utrecht")
    assert location.municipality == utrecht
    assert location.slug == "bibliotheek-neude-utrecht"
    assert AuditEvent.objects.filter(action="network.location_created").count() == 1
    # a second location with the same name gets its own slug
    again = services.location_create(
        organisation=organisation,
        kind="locker",
        name="Bibliotheek Neude",
        street="Neude",
        house_number="12",
        postcode="3512 AE",
    )
    assert again.slug == "bibliotheek-neude-utrecht-2"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"postcode": "3512"}, "invalid_postcode"),
        ({"postcode": "1011 SS"}, "invalid_postcode"),
        ({"postcode": "9999 ZZ"}, "unknown_postcode"),
        ({"kind": "castle"}, "invalid_kind"),
        ({"municipality_code": "GM0001"}, "unknown_municipality"),
        ({"lat": 123.0, "lon": 5.0}, "invalid_coordinates"),
        ({"study_places": -1}, "invalid_facilities"),
        ({"name": "x" * 500}, "invalid_text"),
        ({"street": ""}, "missing_field"),
    ],
)
def test_location_create_refuses_bad_input_and_saves_nothing(utrecht, overrides, code):
    arguments = {
        "organisation": OrganisationFactory(),
        "kind": "branch",
        "name": "Bibliotheek Neude",
        "street": "Neude",
        "house_number": "11",
        "postcode": "3512 AE",
        **overrides,
    }
    with pytest.raises(DomainError) as error:
        services.location_create(**arguments)
    assert error.value.code == code
    assert not Location.objects.exists()
    assert not AuditEvent.objects.exists()


def test_location_update_changes_fields_and_moves_with_the_postcode(utrecht):
    elsewhere = MunicipalityFactory(cbs_code="GM0363", name="Amsterdam")
    PostcodeAreaFactory(pc4="1011", place="Amsterdam", municipality=elsewhere, lat=52.37, lon=4.9)
    location = LocationFactory(municipality=utrecht)
    updated = services.location_update(
        location=location, data={"postcode": "1011ab", "hearing_loop": True}
    )
    assert (updated.postcode, updated.municipality, updated.lat) == ("1011 AB", elsewhere, 52.37)
    assert updated.hearing_loop is True
    event = AuditEvent.objects.get(action="network.location_updated")
    assert "postcode" in event.data["fields"] and "hearing_loop" in event.data["fields"]


def test_location_update_refuses_unknown_fields_and_bad_values(utrecht):
    location = LocationFactory(municipality=utrecht, postcode="3512 AE")
    with pytest.raises(DomainError) as error:
        services.location_update(location=location, data={"organisation_id": 9})
    assert error.value.code == "unknown_field"
    with pytest.raises(DomainError) as error:
        services.location_update(location=location, data={"postcode": "nope", "name": "Nieuw"})
    assert error.value.code == "invalid_postcode"
    location.refresh_from_db()
    assert (location.postcode, location.name) != ("nope", "Nieuw")
    assert location.postcode == "3512 AE"


def test_set_hours_replaces_the_week_and_audits():
    location = LocationFactory()
    services.location_set_hours(
        location=location,
        periods=[{"weekday": 0, "opens": "09:00", "closes": "12:00", "kind": "staffed"}],
    )
    services.location_set_hours(
        location=location,
        periods=[
            {"weekday": 1, "opens": "10:00", "closes": "17:00", "kind": "staffed"},
            {"weekday": 1, "opens": "17:00", "closes": "24:00", "kind": "self_service"},
        ],
    )
    assert list(OpeningPeriod.objects.filter(location=location).values_list("weekday", "kind")) == [
        (1, "staffed"),
        (1, "self_service"),
    ]
    assert AuditEvent.objects.filter(action="network.location_hours_set").count() == 2


@pytest.mark.parametrize(
    ("periods", "code"),
    [
        ([{"weekday": 0, "opens": "12:00", "closes": "09:00"}], "invalid_hours"),
        ([{"weekday": 0, "opens": "09:00", "closes": "09:00"}], "invalid_hours"),
        ([{"weekday": 7, "opens": "09:00", "closes": "12:00"}], "invalid_hours"),
        ([{"weekday": 0, "opens": "9 uur", "closes": "12:00"}], "invalid_hours"),
        ([{"weekday": 0, "opens": "09:00", "closes": "12:00", "kind": "robot"}], "invalid_hours"),
        (
            [
                {"weekday": 2, "opens": "09:00", "closes": "12:00", "kind": "staffed"},
                {"weekday": 2, "opens": "11:00", "closes": "20:00", "kind": "self_service"},
            ],
            "overlapping_hours",
        ),
    ],
)
def test_set_hours_refuses_bad_weeks_and_keeps_the_old_one(periods, code):
    location = LocationFactory()
    services.location_set_hours(
        location=location, periods=[{"weekday": 4, "opens": "09:00", "closes": "12:00"}]
    )
    with pytest.raises(DomainError) as error:
        services.location_set_hours(location=location, periods=periods)
    assert error.value.code == code
    assert list(
        OpeningPeriod.objects.filter(location=location).values_list("weekday", flat=True)
    ) == [4]


def test_exceptions_are_validated_and_removable():
    location = LocationFactory()
    day = dt.date(2025, 12, 25)
    with clock.frozen(dt.datetime(2025, 12, 1, 12, tzinfo=dt.UTC)):
        closed = services.location_add_exception(
            location=location, date=day, closed=True, reason="Kerst"
        )
        with pytest.raises(DomainError) as error:
            services.location_add_exception(
                location=location, date=day, closed=False, opens="10:00", closes="12:00"
            )
        assert error.value.code == "conflicting_exception"
        with pytest.raises(DomainError) as error:
            services.location_add_exception(
                location=location, date=dt.date(2025, 11, 1), closed=True
            )
        assert error.value.code == "invalid_date"
        with pytest.raises(DomainError) as error:
            services.location_add_exception(
                location=location,
                date=dt.date(2025, 12, 31),
                closed=False,
                opens="16:00",
                closes="10:00",
            )
        assert error.value.code == "invalid_hours"
        services.location_add_exception(
            location=location,
            date=dt.date(2025, 12, 31),
            closed=False,
            opens="10:00",
            closes="13:00",
        )
        with pytest.raises(DomainError) as error:
            services.location_add_exception(
                location=location,
                date=dt.date(2025, 12, 31),
                closed=False,
                opens="12:00",
                closes="16:00",
            )
        assert error.value.code == "overlapping_hours"

        services.location_remove_exception(location=location, exception_id=closed.pk)
        other = LocationFactory()
        last = OpeningException.objects.get(location=location)
        with pytest.raises(NotFound) as error:
            services.location_remove_exception(location=other, exception_id=last.pk)
        assert error.value.code == "unknown_exception"
    assert list(OpeningException.objects.values_list("date", flat=True)) == [dt.date(2025, 12, 31)]
    assert AuditEvent.objects.filter(action__startswith="network.location_exception").count() == 3


def test_database_refuses_a_period_that_closes_before_it_opens():
    from django.db import IntegrityError, transaction

    location = LocationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningPeriod.objects.create(
            location=location, weekday=0, opens=dt.time(12), closes=dt.time(9), kind="staffed"
        )


def test_audit_failure_rolls_back_the_location(utrecht, monkeypatch):
    # the audit log is a true boundary of this app; make it fail to prove all-or-nothing
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.location_create(
            organisation=OrganisationFactory(),
            kind="branch",
            name="Bibliotheek Neude",
            street="Neude",
            house_number="11",
            postcode="3512 AE",
        )
    assert not Location.objects.exists()
