"""Factory functions for community tests. Other test modules import these.

Places are real four-digit postcode areas (PC4) with their points, created on first use:

- ``"3511"`` Utrecht centre, ``"3512"`` Utrecht (about 0.5 km away), ``"3581"`` Utrecht
  (about 1.8 km), ``"3431"`` Nieuwegein (about 8 km), all in the municipality of Utrecht
  except Nieuwegein (its own municipality, its own library);
- ``"1011"`` Amsterdam centre (about 35 km from Utrecht).

Each municipality is served by one library organisation (``library(municipality)``), which is
the home organisation of the residents who live there.

- ``resident(**kw)``: an adult (40) with a confirmed e-mail address, living in ``pc4``
  (default ``"3511"``); any ``User`` field may be given;
- ``youth(**kw)``: a resident of 12 (no guardian's consent unless ``consent=True``);
- ``staff(role, organisation)``: a staff member (``"programmer"``, ``"manager"``, ...);
- ``post(**kw)``: an open post written straight to the database (no service, no mail),
  by ``author`` (a new resident unless given) in the author's area;
- ``saved_search(**kw)``, ``block(blocker, blocked)``, ``suspend(person)``,
  ``word_filter(organisation, phrase)``, ``conversation(post, responder)``,
  ``exchange(post, giver, receiver, status)``;
- ``image_bytes(...)`` / ``upload(...)``: a real image (optionally with GPS EXIF) to upload.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from bieb.accounts.models import GuardianLink, StaffRole
from bieb.accounts.tests.factories import OrganisationFactory, UserFactory, years_ago
from bieb.community.models import (
    Block,
    Conversation,
    Exchange,
    Post,
    SavedSearch,
    Suspension,
    WordFilter,
)
from bieb.core import clock
from bieb.network.models import Municipality, PostcodeArea
from bieb.network.validation import name_key

__all__ = [
    "AREAS",
    "MUNICIPALITIES",
    "area",
    "block",
    "conversation",
    "exchange",
    "image_bytes",
    "library",
    "municipality",
    "post",
    "resident",
    "saved_search",
    "staff",
    "suspend",
    "upload",
    "word_filter",
    "youth",
]

_seq = itertools.count(1)

#: cbs code -> (name, province, population, lat, lon)
MUNICIPALITIES = {
    "GM0344": ("Utrecht", "Utrecht", 361_924, 52.0907, 5.1214),
    "GM0356": ("Nieuwegein", "Utrecht", 63_866, 52.0292, 5.0832),
    "GM0363": ("Amsterdam", "Noord-Holland", 918_117, 52.3728, 4.8936),
}

#: pc4 -> (place, cbs code, lat, lon)
AREAS = {
    "3511": ("Utrecht", "GM0344", 52.0927, 5.1139),
    "3512": ("Utrecht", "GM0344", 52.0889, 5.1200),
    "3581": ("Utrecht", "GM0344", 52.0880, 5.1390),
    "3431": ("Nieuwegein", "GM0356", 52.0260, 5.0920),
    "1011": ("Amsterdam", "GM0363", 52.3730, 4.9020),
}


def municipality(cbs_code: str = "GM0344") -> Municipality:
    """A real municipality (``MUNICIPALITIES``), created on first use."""
    name, province, population, lat, lon = MUNICIPALITIES[cbs_code]
    made, _created = Municipality.objects.get_or_create(
        cbs_code=cbs_code,
        defaults={
            "name": name,
            "name_key": name_key(name),
            "province": province,
            "population": population,
            "lat": lat,
            "lon": lon,
        },
    )
    return made


def area(pc4: str = "3511") -> PostcodeArea:
    """A real PC4 area (``AREAS``) with its municipality, created on first use."""
    place, cbs_code, lat, lon = AREAS[pc4]
    made, _created = PostcodeArea.objects.get_or_create(
        pc4=pc4,
        defaults={
            "place": place,
            "place_key": name_key(place),
            "municipality": municipality(cbs_code),
            "inhabitants": 10_000,
            "lat": lat,
            "lon": lon,
        },
    )
    return made


def library(where: Municipality | str = "GM0344"):
    """The library organisation serving a municipality (one per municipality, on first use)."""
    place = where if isinstance(where, Municipality) else municipality(where)
    found = place.organisations.order_by("pk").first()
    return found or OrganisationFactory(municipalities=[place])


def resident(*, pc4: str = "3511", **kw: Any):
    """An adult (40) with a confirmed e-mail address, living in ``pc4``; any ``User`` field
    may be given (``postcode=""`` for someone without a postcode)."""
    place = area(pc4)
    n = next(_seq)
    fields: dict[str, Any] = {
        "birth_date": years_ago(40),
        "postcode": f"{pc4} AB",
        "municipality": place.municipality,
        "home_organisation": library(place.municipality),
        "email_verified_at": clock.now() - dt.timedelta(days=30),
        "first_name": "Anna",
        "last_name": f"de Vries{n}",
    }
    fields.update(kw)
    return UserFactory(**fields)


def youth(*, age: int = 12, consent: bool = False, **kw: Any):
    """A resident of ``age`` (12), with a guardian's consent when ``consent``."""
    kw.setdefault("birth_date", years_ago(age))
    person = resident(**kw)
    if consent:
        guardian = resident(pc4=kw.get("pc4", "3511"))
        GuardianLink.objects.create(guardian=guardian, child=person, consent_given_at=clock.now())
    return person


def staff(role: str = "programmer", organisation=None, **kw: Any):
    """A staff member with ``role`` in ``organisation`` (the Utrecht library unless given)."""
    organisation = organisation or library()
    kw.setdefault("email_verified_at", clock.now())
    person = UserFactory(**kw)
    StaffRole.objects.create(user=person, organisation=organisation, role=role)
    return person


def post(**kw: Any) -> Post:
    """An open post written straight to the database (no checks, no notifications).

    Defaults: an offer of a thing (tools, to lend) by a new resident of ``"3511"``; the
    place is the author's area unless ``pc4`` is given (``lat``/``lon``/``municipality``
    follow it).
    """
    n = next(_seq)
    author = kw.pop("author", None) or resident()
    pc4 = kw.pop("pc4", None) or (author.postcode or "3511")[:4]
    place = area(pc4)
    fields: dict[str, Any] = {
        "author": author,
        "type": Post.Type.OFFER,
        "kind": Post.Kind.THING,
        "category": "tools",
        "title": f"Boormachine {n}",
        "body": "Een goede klopboormachine, met boortjes erbij.",
        "terms": "lend",
        "pc4": pc4,
        "municipality": place.municipality,
        "lat": place.lat,
        "lon": place.lon,
    }
    fields.update(kw)
    if fields.get("status") == Post.Status.HIDDEN and not fields.get("hidden_reason"):
        fields["hidden_reason"] = "Verborgen door een moderator."
    return Post.objects.create(**fields)


def saved_search(**kw: Any) -> SavedSearch:
    """A saved search of ``person`` (a new resident unless given) from their own area."""
    person = kw.pop("person", None) or resident()
    pc4 = kw.pop("pc4", None) or (person.postcode or "3511")[:4]
    place = area(pc4)
    fields: dict[str, Any] = {
        "person": person,
        "pc4": pc4,
        "lat": place.lat,
        "lon": place.lon,
        "radius_km": 5,
    }
    fields.update(kw)
    return SavedSearch.objects.create(**fields)


def block(blocker, blocked) -> Block:
    return Block.objects.create(blocker=blocker, blocked=blocked)


def suspend(person, *, reason: str = "Spam op het prikbord.", until=None) -> Suspension:
    """An active suspension of ``person`` (until lifted unless ``until`` is given)."""
    return Suspension.objects.create(
        person=person, reason=reason, starts_at=clock.now() - dt.timedelta(minutes=1), until=until
    )


def word_filter(organisation, phrase: str) -> WordFilter:
    return WordFilter.objects.create(organisation=organisation, phrase=phrase)


def conversation(post: Post, responder=None) -> Conversation:
    return Conversation.objects.create(post=post, responder=responder or resident())


def exchange(post: Post, *, giver=None, receiver=None, status: str = "agreed") -> Exchange:
    """An exchange on ``post``: the author gives an offer, receives a request."""
    other = resident()
    if giver is None and receiver is None:
        giver, receiver = (
            (post.author, other) if post.type == Post.Type.OFFER else (other, post.author)
        )
    made = Exchange.objects.create(
        post=post,
        giver=giver or other,
        receiver=receiver or other,
        status=status,
        municipality=post.municipality,
        done_at=clock.now() if status == "done" else None,
    )
    return made


def image_bytes(
    size: tuple[int, int] = (800, 600),
    *,
    format: str = "JPEG",
    gps: bool = False,
    orientation: int | None = None,
    color: tuple[int, int, int] = (200, 80, 40),
) -> bytes:
    """A real image; with ``gps`` it carries GPS EXIF (tag 34853) and a camera make, with
    ``orientation`` an EXIF orientation tag (274)."""
    from PIL import Image

    image = Image.new("RGB", size, color)
    # a marker in the top-left corner, so orientation can be checked
    for x in range(min(20, size[0])):
        for y in range(min(10, size[1])):
            image.putpixel((x, y), (0, 0, 255))
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "Testcamera"  # Make
        exif[0x8825] = {  # GPSInfo IFD (34853)
            1: "N",
            2: (52.0, 5.0, 30.0),
            3: "E",
            4: (5.0, 7.0, 15.0),
        }
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if gps or orientation:
        options["exif"] = exif.tobytes()
    if format == "JPEG":
        options["quality"] = 90
    image.save(out, format=format, **options)
    return out.getvalue()


def upload(
    data: bytes | None = None, *, name: str = "foto.jpg", content_type: str = "image/jpeg"
) -> SimpleUploadedFile:
    """An uploaded file (a real 800x600 JPEG unless ``data`` is given)."""
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type)
