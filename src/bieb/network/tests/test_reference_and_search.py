"""Reference data, finding a point for a query, and the nearest locations."""

from __future__ import annotations

import pytest

from bieb.network import selectors
from bieb.network.models import Municipality, PostcodeArea
from bieb.network.reference import reference_data_load
from bieb.network.tests.factories import LocationFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return reference_data_load()


def test_reference_data_loads_all_rows_once(reference):
    assert reference["municipalities"] == 342
    assert reference["postcode_areas"] == 4059
    assert Municipality.objects.count() == 342
    assert PostcodeArea.objects.count() == 4059
    # every PC4 has a 2024 municipality
    assert not PostcodeArea.objects.filter(municipality__isnull=True).exists()
    # running again changes nothing
    again = reference_data_load()
    assert again == reference
    assert (Municipality.objects.count(), PostcodeArea.objects.count()) == (342, 4059)


def test_reference_data_maps_2021_names_to_2024_municipalities(reference):
    def municipality_of(pc4: str) -> str:
        return PostcodeArea.objects.select_related("municipality").get(pc4=pc4).municipality.name

    assert municipality_of("1381") == "Amsterdam"  # Weesp merged in 2022
    assert municipality_of("7551") == "Hengelo (O.)"  # province qualifier
    assert municipality_of("5074") == "Tilburg"  # Haaren, dissolved
    assert municipality_of("5296") == "Boxtel"
    assert municipality_of("1853") == "Heiloo"  # no municipality in the source: nearest point
    amsterdam = Municipality.objects.get(cbs_code="GM0363")
    assert (amsterdam.name, amsterdam.province, amsterdam.population) == (
        "Amsterdam",
        "Noord-Holland",
        892960,
    )


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("1011", "1011 Amsterdam"),
        ("1011ab", "1011 Amsterdam"),
        ("1011 AB", "1011 Amsterdam"),
        (" 3512-ae ", "3512 Utrecht"),
        ("utrecht", "Utrecht"),
        ("DAMWALD", "Damwâld"),
        ("damwâld", "Damwâld"),
        ("Den Haag", "Den Haag"),
        ("s-Gravenhage", "'s-Gravenhage"),
        ("sudwest fryslan", "Súdwest-Fryslân"),
        ("Bergen (L.)", "Bergen L"),
        ("Noardeast-Fryslan", "Noardeast-Fryslân"),
    ],
)
def test_point_for_query_finds_postcodes_places_and_municipalities(reference, query, label):
    point = selectors.point_for_query(query)
    assert point is not None
    assert point.label == label
    assert 50.7 < point.lat < 53.6 and 3.3 < point.lon < 7.3


def test_point_for_a_postcode_is_the_pc4_point(reference):
    area = PostcodeArea.objects.get(pc4="1011")
    assert selectors.point_for_query("1011 AB")[:2] == (area.lat, area.lon)


@pytest.mark.parametrize("query", ["", "   ", "1099", "Atlantis", "x" * 101, "!!!", "0000"])
def test_point_for_query_returns_none_for_unknown_or_bad_input(reference, query):
    assert selectors.point_for_query(query) is None


def test_nearest_orders_exactly_by_distance_and_filters_kind():
    # given locations east of a point at 52.0 N 5.0 E, at known distances
    municipality = MunicipalityFactory()

    def at(name, lon, kind="branch", active=True):
        return LocationFactory(
            name=name, lat=52.0, lon=lon, kind=kind, municipality=municipality, is_active=active
        )

    far = at("Ver", 6.0)  # ~68.6 km
    near = at("Dichtbij", 5.01)  # ~0.69 km
    middle = at("Midden", 5.2)  # ~13.7 km
    locker = at("Kluis", 5.05, kind="locker")  # ~3.4 km
    at("Gesloten", 5.001, active=False)
    west = at("West", 4.9)  # ~6.8 km

    result = selectors.locations_nearest(lat=52.0, lon=5.0, limit=10)

    assert [location for location, _ in result] == [near, locker, west, middle, far]
    distances = [round(d, 1) for _, d in result]
    assert distances == [0.7, 3.4, 6.8, 13.7, 68.5]
    assert [loc for loc, _ in selectors.locations_nearest(lat=52.0, lon=5.0, limit=2)] == [
        near,
        locker,
    ]
    branches = selectors.locations_nearest(lat=52.0, lon=5.0, limit=3, kinds=["branch"])
    assert [loc for loc, _ in branches] == [near, west, middle]


def test_nearest_widens_the_search_until_it_finds_enough():
    municipality = MunicipalityFactory()
    lone = LocationFactory(lat=53.4, lon=6.8, municipality=municipality)  # ~310 km away
    result = selectors.locations_nearest(lat=51.3, lon=3.8, limit=5)
    assert [loc for loc, _ in result] == [lone]
    assert 300 < result[0][1] < 320


def test_nearest_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    municipality = MunicipalityFactory()
    for index in range(30):
        LocationFactory(lat=52.0 + index * 0.001, lon=5.0, municipality=municipality)
    with django_assert_max_num_queries(6):
        result = selectors.locations_nearest(lat=52.0, lon=5.0, limit=20)
        for location, _distance in result:
            selectors.location_opening_state(location=location)
            assert location.organisation.name and location.municipality.name
    assert len(result) == 20
