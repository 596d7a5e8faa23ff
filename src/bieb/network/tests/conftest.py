from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.network import services
from bieb.network.reference import reference_data_load
from bieb.network.tests.factories import OrganisationFactory

# A Wednesday in term time, 11:00 in Amsterdam.
NOW = dt.datetime(2025, 1, 8, 11, 0, tzinfo=clock.AMSTERDAM)


@pytest.fixture
def frozen_now():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def small_network(db, frozen_now):
    """Reference data, one organisation in Utrecht with a branch, a locker and a school library."""
    reference_data_load()
    organisation = services.organisation_create(
        name="Bibliotheek Utrecht", code="BUT", kvk_number="30437212", municipality_codes=["GM0344"]
    )
    other = OrganisationFactory(name="Bibliotheek Elders", slug="bibliotheek-elders")
    branch = services.location_create(
        organisation=organisation,
        kind="branch",
        name="Bibliotheek Neude",
        street="Neude",
        house_number="11",
        postcode="3512 AE",
        lat=52.0928,
        lon=5.1195,
        wheelchair_accessible=True,
        hearing_loop=True,
        study_places=120,
        meeting_rooms=3,
        has_makerspace=True,
        has_wifi=True,
    )
    services.location_set_hours(
        location=branch,
        periods=[
            *[
                {"weekday": d, "opens": "08:00", "closes": "10:00", "kind": "self_service"}
                for d in range(5)
            ],
            *[
                {"weekday": d, "opens": "10:00", "closes": "17:00", "kind": "staffed"}
                for d in range(5)
            ],
            *[
                {"weekday": d, "opens": "17:00", "closes": "22:00", "kind": "self_service"}
                for d in range(5)
            ],
        ],
    )
    services.location_add_exception(
        location=branch, date=dt.date(2025, 1, 10), closed=True, reason="Studiedag"
    )
    locker = services.location_create(
        organisation=organisation,
        kind="locker",
        name="Afhaalkluis Utrecht Centraal",
        street="Stationsplein",
        house_number="1",
        postcode="3511 CE",
        lat=52.0894,
        lon=5.1101,
    )
    services.location_set_hours(
        location=locker,
        periods=[
            {"weekday": d, "opens": "00:00", "closes": "24:00", "kind": "self_service"}
            for d in range(7)
        ],
    )
    school = services.location_create(
        organisation=organisation,
        kind="school_library",
        name="Schoolbibliotheek Kanaleneiland",
        street="Marshallaan",
        house_number="2",
        postcode="3527 TK",
        lat=52.0711,
        lon=5.0993,
    )
    services.location_set_hours(
        location=school,
        periods=[{"weekday": 3, "opens": "09:00", "closes": "12:00", "kind": "staffed"}],
    )
    return {
        "organisation": organisation,
        "other": other,
        "branch": branch,
        "locker": locker,
        "school": school,
    }
