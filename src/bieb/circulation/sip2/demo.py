"""The demo's self-service machine: a SIP2 terminal account at the first demo location.

``ensure_demo_terminal()`` creates it (idempotently: a second run changes nothing, a changed
password or a switched-off account is put back) and returns its credentials;
``demo_sip2_info()`` adds what a tester needs to drive a machine: the institution id, demo
cards with their password, and barcodes free to lend at that location. The password is fixed
and documented (docs/sip2.md) because it is demo data, like the demo log-ins.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password

from bieb.catalog.models import DIGITAL_FORMATS, Item, ItemStatus
from bieb.circulation.models import Hold, HoldStatus, Terminal
from bieb.circulation.sip2.server import DEFAULT_PORT
from bieb.core import clock

DEMO_TERMINAL_LOGIN = "demo-automaat"
DEMO_TERMINAL_PASSWORD = "sip2-demo-2026"
DEMO_TERMINAL_NAME = "Demo-uitleenautomaat"
#: the demo log-ins listed as patrons (staff have cards too, but testers want members)
PATRON_ROLES = ("resident", "youth")


def demo_location():
    """The first active branch of the demo library (by creation), or None before seeding."""
    from bieb.accounts.seeding import demo_library
    from bieb.network.models import Location

    library = demo_library()
    if library is None:
        return None
    locations = Location.objects.filter(organisation=library, is_active=True).select_related(
        "organisation"
    )
    return (
        locations.filter(kind="branch").order_by("pk").first() or locations.order_by("pk").first()
    )


def _credentials(terminal: Terminal) -> dict:
    location = terminal.location
    return {
        "login": terminal.login,
        "password": DEMO_TERMINAL_PASSWORD,
        "name": terminal.name,
        "location": location.name,
        "location_slug": location.slug,
        "institution_id": location.organisation.code,
    }


def ensure_demo_terminal() -> dict | None:
    """Create the demo terminal if it is missing; return its credentials (None when the demo
    network is not seeded). Seeding is no person's action, so it writes no audit row."""
    terminal = (
        Terminal.objects.select_related("location__organisation")
        .filter(login=DEMO_TERMINAL_LOGIN)
        .first()
    )
    if terminal is None:
        location = demo_location()
        if location is None:
            return None
        terminal = Terminal.objects.create(
            location=location,
            login=DEMO_TERMINAL_LOGIN,
            name=DEMO_TERMINAL_NAME,
            password_hash=make_password(DEMO_TERMINAL_PASSWORD),
        )
    elif not terminal.is_active or not check_password(
        DEMO_TERMINAL_PASSWORD, terminal.password_hash
    ):
        terminal.is_active = True
        terminal.password_hash = make_password(DEMO_TERMINAL_PASSWORD)
        Terminal.objects.filter(pk=terminal.pk).update(
            is_active=True, password_hash=terminal.password_hash, updated_at=clock.now()
        )
    return _credentials(terminal)


def seed_sip2(profile: str, seed: int) -> None:
    """A seeder for ``bieb seed`` (after network, accounts and catalog): the demo terminal."""
    if profile == "demo":
        ensure_demo_terminal()


def demo_sip2_info(*, items: int = 8) -> dict:
    """Everything a tester needs to try a self-service machine against ``bieb sip2 serve``
    (read-only: run the seed first). Patrons are the demo log-ins that have a card; their SIP2
    password (AD) is their account password (the demo log-in password)."""
    from bieb.accounts.seeding import demo_accounts

    terminal = (
        Terminal.objects.select_related("location__organisation")
        .filter(login=DEMO_TERMINAL_LOGIN)
        .first()
    )
    info: dict = {
        "host": "127.0.0.1",
        "port": DEFAULT_PORT,
        "command": f"bieb sip2 serve --host 127.0.0.1 --port {DEFAULT_PORT}",
        "terminal": _credentials(terminal) if terminal is not None else None,
        "institution_id": terminal.location.organisation.code if terminal is not None else None,
        "patrons": [
            {
                "card_number": account["card_number"],
                "password": account["password"],
                "role": account["role"],
                "email": account["email"],
            }
            for account in demo_accounts()
            if account.get("card_number") and account["role"] in PATRON_ROLES
        ],
        "items": [],
    }
    if terminal is not None:
        waited_for = Hold.objects.filter(item__isnull=False, status=HoldStatus.WAITING).values_list(
            "item_id", flat=True
        )
        free = (
            Item.objects.filter(location=terminal.location, status=ItemStatus.AVAILABLE)
            .exclude(edition__format__in=DIGITAL_FORMATS)
            .exclude(pk__in=waited_for)
            .select_related("edition")
            .order_by("pk")[:items]
        )
        info["items"] = [{"barcode": item.barcode, "title": item.edition.title} for item in free]
    return info
