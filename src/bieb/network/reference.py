"""Load the bundled reference data: 342 municipalities (2024) and 4,059 PC4 areas.

The PC4 file names municipalities as in 2021 (see data/SOURCES.md). Each PC4 is mapped to a
2024 municipality by, in order: the exact name; the name without its province qualifier
(``Hengelo`` -> ``Hengelo (O.)``); the table of merged municipalities; for Haaren (dissolved)
the four PC4s one by one; and for the rest (no municipality in the source) the municipality
whose point is nearest. Loading is an upsert keyed on CBS code and PC4, so it can run again.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from django.conf import settings
from django.db import transaction

from bieb.network.geo import haversine_km
from bieb.network.models import Municipality, PostcodeArea
from bieb.network.validation import name_key

# 2021 municipality name in pc4.csv -> 2024 municipality name (official mergers).
MERGED_MUNICIPALITIES = {
    "Weesp": "Amsterdam",
    "Beemster": "Purmerend",
    "Heerhugowaard": "Dijk en Waard",
    "Langedijk": "Dijk en Waard",
    "Boxmeer": "Land van Cuijk",
    "Cuijk": "Land van Cuijk",
    "Grave": "Land van Cuijk",
    "Mill en Sint Hubert": "Land van Cuijk",
    "Sint Anthonis": "Land van Cuijk",
    "Landerd": "Maashorst",
    "Uden": "Maashorst",
    "Brielle": "Voorne aan Zee",
    "Hellevoetsluis": "Voorne aan Zee",
    "Westvoorne": "Voorne aan Zee",
}
# Haaren was dissolved on 1 January 2021; its PC4s went to four neighbours.
HAAREN_PC4 = {"5074": "Tilburg", "5076": "Oisterwijk", "5268": "Vught", "5296": "Boxtel"}
EXPECTED_MUNICIPALITIES = 342
EXPECTED_PC4 = 4059

_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir or settings.BIEB_BUNDLED_DATA)


def _int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if value else None


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _municipality_for_pc4(
    row: dict[str, str], by_name: dict[str, Municipality], by_base: dict[str, Municipality]
) -> Municipality | None:
    name = row["municipality"].strip()
    if row["pc4"] in HAAREN_PC4 and name == "Haaren":
        return by_name[HAAREN_PC4[row["pc4"]]]
    if name in by_name:
        return by_name[name]
    if name in by_base:
        return by_base[name]
    if name in MERGED_MUNICIPALITIES:
        return by_name[MERGED_MUNICIPALITIES[name]]
    return None


@transaction.atomic
def reference_data_load(*, data_dir: Path | None = None) -> dict[str, int]:
    """Upsert municipalities and postcode areas from the bundled CSV files.

    Guarantees: afterwards there is exactly one row per CBS code and per PC4 in the files, with
    the file's values; every PC4 has a 2024 municipality; running it again changes nothing.
    Returns counts: municipalities, postcode_areas, and how many PC4s needed the nearest-point
    fallback.
    """
    directory = _data_dir(data_dir)
    municipality_rows = _read(directory / "municipalities.csv")
    Municipality.objects.bulk_create(
        [
            Municipality(
                cbs_code=row["cbs_code"],
                name=row["name"],
                name_key=name_key(row["name"]),
                province=row["province"],
                population=int(row["inhabitants"] or 0),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
            for row in municipality_rows
        ],
        update_conflicts=True,
        unique_fields=["cbs_code"],
        update_fields=["name", "name_key", "province", "population", "lat", "lon"],
        batch_size=500,
    )
    municipalities = list(Municipality.objects.all())
    by_name = {m.name: m for m in municipalities}
    by_base: dict[str, Municipality] = {}
    for municipality in municipalities:
        base = _QUALIFIER.sub("", municipality.name)
        if base != municipality.name and base not in by_name:
            by_base[base] = municipality

    fallbacks = 0
    areas = []
    for row in _read(directory / "pc4.csv"):
        lat, lon = float(row["lat"]), float(row["lon"])
        municipality = _municipality_for_pc4(row, by_name, by_base)
        if municipality is None:
            fallbacks += 1
            municipality = min(municipalities, key=lambda m: haversine_km(lat, lon, m.lat, m.lon))
        areas.append(
            PostcodeArea(
                pc4=row["pc4"],
                place=row["place"].strip(),
                place_key=name_key(row["place"]),
                municipality=municipality,
                inhabitants=_int_or_none(row["inhabitants"]),
                inhabitants_0_14=_int_or_none(row["inhabitants_0_14"]),
                inhabitants_15_19=_int_or_none(row["inhabitants_15_19"]),
                lat=lat,
                lon=lon,
            )
        )
    PostcodeArea.objects.bulk_create(
        areas,
        update_conflicts=True,
        unique_fields=["pc4"],
        update_fields=[
            "place",
            "place_key",
            "municipality",
            "inhabitants",
            "inhabitants_0_14",
            "inhabitants_15_19",
            "lat",
            "lon",
        ],
        batch_size=1000,
    )
    return {
        "municipalities": len(municipality_rows),
        "postcode_areas": len(areas),
        "nearest_point_fallbacks": fallbacks,
    }
