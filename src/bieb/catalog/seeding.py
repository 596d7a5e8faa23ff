"""Demo catalogue: Dutch titles in every format (book, large print, e-book, audiobook, film,
streaming, game, magazine, things) with copies at the demo libraries in every status, digital
licences of every model, and a slice of 1,500 real Library of Congress records.

The Dutch titles are real books, films and authors; their ISBNs are NOT the real ones but valid
numbers in a made-up 978-90-99999 range, so nobody mistakes demo data for a bibliographic
source. Seeding is repeatable: a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from django.db import transaction
from stdnum import ean

from bieb.catalog import services, text
from bieb.catalog.models import (
    Audience,
    Contributor,
    ContributorRole,
    DigitalLicence,
    Edition,
    EditionContributor,
    Format,
    Identifier,
    Item,
    ItemStatus,
    LicenceModel,
    Subject,
    SubjectKind,
    Work,
)
from bieb.core import clock

DEMO_SOURCE = "demo"
LOC_SAMPLE = Path(__file__).parent / "data" / "loc-sample.mrc"

# title, subtitle, [(name, role)], year, language, publisher, [(subject, kind)],
# audience, (age_min, age_max), avi, description, [(format, extra)]
# extra: pages / minutes, and for digital formats the licence (model, users, loans_total, months)
T = SubjectKind.TOPIC
G = SubjectKind.GENRE
P = SubjectKind.PLACE
DEMO_TITLES = [
    (
        "Max Havelaar",
        "of de koffiveilingen der Nederlandsche Handelmaatschappy",
        [("Multatuli", ContributorRole.AUTHOR)],
        1860,
        "dut",
        "Van Oorschot",
        [("Koloniale geschiedenis", T), ("Nederlands-Indië", P), ("Klassieke romans", G)],
        Audience.ADULT,
        (None, None),
        "",
        "De makelaar in koffie Batavus Droogstoppel krijgt het pakket van Sjaalman in handen: "
        "het verhaal van de assistent-resident Max Havelaar, die in Lebak opkomt voor de Javaanse "
        "bevolking tegen uitbuiting door het koloniale bestuur.",
        [
            (Format.BOOK, 352),
            (Format.LARGE_PRINT, 512),
            (Format.EBOOK, ("always", 1, None, None)),
            (Format.AUDIOBOOK, ("concurrent", 3, None, None)),
        ],
    ),
    (
        "De avonden",
        "een winterverhaal",
        [("Reve, Gerard", ContributorRole.AUTHOR)],
        1947,
        "dut",
        "De Bezige Bij",
        [("Naoorlogse tijd", T), ("Amsterdam", P), ("Klassieke romans", G)],
        Audience.ADULT,
        (None, None),
        "",
        "Tien avonden uit het leven van Frits van Egters, kantoorklerk in het naoorlogse "
        "Amsterdam, in de laatste dagen van december 1946.",
        [(Format.BOOK, 320), (Format.EBOOK, ("one_copy", 1, None, None)), (Format.FILM, 100)],
    ),
    (
        "Het Achterhuis",
        "dagboekbrieven 12 juni 1942 - 1 augustus 1944",
        [("Frank, Anne", ContributorRole.AUTHOR)],
        1947,
        "dut",
        "Prometheus",
        [("Tweede Wereldoorlog", T), ("Jodenvervolging", T), ("Dagboeken", G)],
        Audience.TEEN,
        (12, None),
        "",
        "Het dagboek dat Anne Frank bijhield in het achterhuis aan de Prinsengracht, waar zij "
        "met haar familie ondergedoken zat.",
        [
            (Format.BOOK, 368),
            (Format.EBOOK, ("metered_loans", 2, 50, None)),
            (Format.AUDIOBOOK, ("metered_time", 2, None, 24)),
        ],
    ),
    (
        "Harry Potter en de Steen der Wijzen",
        "",
        [("Rowling, J.K.", ContributorRole.AUTHOR), ("Kuipers, Wiebe", ContributorRole.TRANSLATOR)],
        1998,
        "dut",
        "De Harmonie",
        [("Tovenarij", T), ("Fantasy", G), ("Kostscholen", T)],
        Audience.CHILD,
        (10, 14),
        "E7",
        "Harry Potter ontdekt op zijn elfde verjaardag dat hij een tovenaar is en gaat naar "
        "Zweinstein, de school voor hekserij en hocus-pocus.",
        [
            (Format.BOOK, 223),
            (Format.EBOOK, ("concurrent", 5, None, None)),
            (Format.AUDIOBOOK, ("one_copy", 1, None, None)),
        ],
    ),
    (
        "Harry Potter and the Philosopher's Stone",
        "",
        [("Rowling, J.K.", ContributorRole.AUTHOR)],
        1997,
        "eng",
        "Bloomsbury",
        [("Wizards", T), ("Fantasy", G)],
        Audience.CHILD,
        (10, 14),
        "",
        "Harry Potter has never even heard of Hogwarts when the letters start dropping on the "
        "doormat at number four, Privet Drive.",
        [(Format.BOOK, 223)],
    ),
    (
        "Café De Wereld",
        "verhalen van de stamtafel",
        [("Visser, Marieke", ContributorRole.AUTHOR)],
        2021,
        "dut",
        "Atlas Contact",
        [("Horeca", T), ("Verhalen", G)],
        Audience.ADULT,
        (None, None),
        "",
        "Verhalen over de vaste gasten van een bruin café in Dokkum: de kapper, de weduwe en de "
        "jongen die altijd te laat is.",
        [(Format.BOOK, 240), (Format.EBOOK, ("concurrent", 2, None, None))],
    ),
    (
        "Dolfje Weerwolfje",
        "",
        [
            ("Loon, Paul van", ContributorRole.AUTHOR),
            ("Wijk, Hugo van", ContributorRole.ILLUSTRATOR),
        ],
        1995,
        "dut",
        "Leopold",
        [("Weerwolven", T), ("Griezelverhalen", G)],
        Audience.CHILD,
        (7, 10),
        "E4",
        "Op zijn zevende verjaardag verandert Dolfje in een weerwolf. Samen met zijn broer Timmo "
        "ontdekt hij wat dat betekent.",
        [(Format.BOOK, 96), (Format.AUDIOBOOK, ("concurrent", 3, None, None))],
    ),
    (
        "Pluk van de Petteflet",
        "",
        [
            ("Schmidt, Annie M.G.", ContributorRole.AUTHOR),
            ("Westendorp, Fiep", ContributorRole.ILLUSTRATOR),
        ],
        1971,
        "dut",
        "Querido",
        [("Vriendschap", T), ("Voorleesboeken", G)],
        Audience.CHILD,
        (6, 10),
        "E5",
        "Pluk rijdt in zijn rode kraanwagentje door de stad en vindt een torenkamer in de "
        "Petteflet, waar hij de vreemdste buren heeft.",
        [(Format.BOOK, 160), (Format.LARGE_PRINT, 190)],
    ),
    (
        "Jip en Janneke",
        "",
        [
            ("Schmidt, Annie M.G.", ContributorRole.AUTHOR),
            ("Westendorp, Fiep", ContributorRole.ILLUSTRATOR),
        ],
        1977,
        "dut",
        "Querido",
        [("Voorleesboeken", G), ("Spelen", T)],
        Audience.TODDLER,
        (2, 5),
        "",
        "Jip kijkt door een gat in de heg en ziet Janneke. Korte voorleesverhalen voor peuters.",
        [(Format.BOOK, 120)],
    ),
    (
        "Kikker is verliefd",
        "",
        [("Velthuijs, Max", ContributorRole.AUTHOR)],
        1989,
        "dut",
        "Leopold",
        [("Prentenboeken", G), ("Verliefdheid", T)],
        Audience.TODDLER,
        (3, 6),
        "",
        "Kikker voelt zich vreemd: warm en koud tegelijk. Is hij ziek, of is hij verliefd op Eend?",
        [(Format.BOOK, 32)],
    ),
    (
        "Kruistocht in spijkerbroek",
        "",
        [("Beckman, Thea", ContributorRole.AUTHOR)],
        1973,
        "dut",
        "Lemniscaat",
        [("Kinderkruistocht", T), ("Tijdreizen", T), ("Historische romans", G)],
        Audience.TEEN,
        (12, 16),
        "",
        "Dolf Wega komt door een mislukt experiment met een tijdmachine in 1212 terecht en trekt "
        "mee met de kinderkruistocht.",
        [(Format.BOOK, 383), (Format.FILM, 109)],
    ),
    (
        "Koning van Katoren",
        "",
        [("Terlouw, Jan", ContributorRole.AUTHOR)],
        1971,
        "dut",
        "Lemniscaat",
        [("Avontuur", G), ("Koningen", T)],
        Audience.TEEN,
        (11, 15),
        "",
        "Stach wil koning worden van Katoren en moet daarvoor zeven opdrachten vervullen.",
        [(Format.BOOK, 208), (Format.EBOOK, ("one_copy", 1, None, None))],
    ),
    (
        "De aanslag",
        "",
        [("Mulisch, Harry", ContributorRole.AUTHOR)],
        1982,
        "dut",
        "De Bezige Bij",
        [("Tweede Wereldoorlog", T), ("Verzet", T), ("Oorlogsromans", G)],
        Audience.ADULT,
        (None, None),
        "",
        "Haarlem, januari 1945: voor het huis van de buren wordt een collaborateur doodgeschoten. "
        "Die nacht verandert het leven van de twaalfjarige Anton Steenwijk voorgoed.",
        [(Format.BOOK, 240), (Format.AUDIOBOOK, ("metered_loans", 1, 25, None))],
    ),
    (
        "Het diner",
        "",
        [("Koch, Herman", ContributorRole.AUTHOR)],
        2009,
        "dut",
        "Ambo|Anthos",
        [("Opvoeding", T), ("Psychologische romans", G)],
        Audience.ADULT,
        (None, None),
        "",
        "Twee broers en hun vrouwen gaan uit eten in een duur restaurant. Tussen voorgerecht en "
        "dessert komt uit wat hun zonen hebben gedaan.",
        [
            (Format.BOOK, 304),
            (Format.EBOOK, ("concurrent", 2, None, None)),
            (Format.LARGE_PRINT, 420),
        ],
    ),
    (
        "Turks fruit",
        "",
        [("Wolkers, Jan", ContributorRole.AUTHOR)],
        1969,
        "dut",
        "Meulenhoff",
        [("Liefde", T), ("Klassieke romans", G)],
        Audience.ADULT,
        (None, None),
        "",
        "Een beeldhouwer kijkt terug op zijn hartstochtelijke liefde voor Olga.",
        [(Format.BOOK, 224), (Format.STREAMING, ("always", 1, None, None))],
    ),
    (
        "Zwartboek",
        "",
        [
            ("Verhoeven, Paul", ContributorRole.DIRECTOR),
            ("Houten, Carice van", ContributorRole.PERFORMER),
        ],
        2006,
        "dut",
        "A-Film",
        [("Tweede Wereldoorlog", T), ("Verzet", T), ("Speelfilms", G)],
        Audience.ADULT,
        (16, None),
        "",
        "Een joodse zangeres sluit zich in 1944 aan bij het verzet in Den Haag.",
        [(Format.FILM, 145), (Format.STREAMING, ("always", 1, None, None))],
    ),
    (
        "Tuinieren in een kleine tuin",
        "van balkon tot stadstuin",
        [("Bakker, Els", ContributorRole.AUTHOR)],
        2019,
        "dut",
        "Terra",
        [("Tuinieren", T), ("Stadslandbouw", T)],
        Audience.ADULT,
        (None, None),
        "",
        "Praktische tips voor wie weinig ruimte heeft: moestuinbakken, klimplanten en bijen.",
        [(Format.BOOK, 176)],
    ),
    (
        "Gardening for Everyone",
        "",
        [("Green, Alys", ContributorRole.AUTHOR)],
        2018,
        "eng",
        "Kyle Books",
        [("Gardening", T)],
        Audience.ADULT,
        (None, None),
        "",
        "A friendly guide to growing flowers and vegetables in any garden.",
        [(Format.BOOK, 208), (Format.EBOOK, ("always", 1, None, None))],
    ),
    (
        "Zo werkt je smartphone",
        "stap voor stap voor senioren",
        [("Vries, Henk de", ContributorRole.AUTHOR)],
        2024,
        "dut",
        "Visual Steps",
        [("Smartphones", T), ("Digitale vaardigheden", T)],
        Audience.ADULT,
        (None, None),
        "",
        "Bellen, appen, foto's maken en veilig internetbankieren: in grote letters en met veel "
        "schermafbeeldingen uitgelegd.",
        [(Format.BOOK, 256), (Format.LARGE_PRINT, 256)],
    ),
    (
        "Samen aan tafel",
        "vegetarisch koken voor het hele gezin",
        [("Yilmaz, Ayşe", ContributorRole.AUTHOR)],
        2023,
        "dut",
        "Nijgh & Van Ditmar",
        [("Vegetarische keuken", T), ("Kookboeken", G)],
        Audience.ALL,
        (None, None),
        "",
        "Honderd recepten uit de Turkse, Marokkaanse en Nederlandse keuken, zonder vlees.",
        [(Format.BOOK, 288)],
    ),
    (
        "De Kolonisten van Catan",
        "basisspel",
        [("Teuber, Klaus", ContributorRole.AUTHOR)],
        2015,
        "dut",
        "999 Games",
        [("Bordspellen", G)],
        Audience.ALL,
        (10, None),
        "",
        "Bouw dorpen, steden en wegen op het eiland Catan. Voor 3 tot 4 spelers.",
        [(Format.GAME, 75)],
    ),
    (
        "Quest",
        "maandblad over natuur, wetenschap en geschiedenis",
        [],
        2026,
        "dut",
        "G+J",
        [("Populaire wetenschap", T)],
        Audience.ADULT,
        (None, None),
        "",
        "Het maandblad voor nieuwsgierige lezers.",
        [(Format.MAGAZINE, 132)],
    ),
    (
        "Boormachine",
        "accuboormachine met klopfunctie, 18 V",
        [],
        2025,
        "",
        "Bibliotheek van dingen",
        [("Gereedschap", T), ("Klussen", T)],
        Audience.ADULT,
        (18, None),
        "",
        "Accuboormachine met twee accu's, lader en een set hout-, steen- en metaalboren.",
        [(Format.THING, None)],
    ),
    (
        "Naaimachine",
        "voor beginners en gevorderden",
        [],
        2024,
        "",
        "Bibliotheek van dingen",
        [("Naaien", T), ("Repareren", T)],
        Audience.ADULT,
        (16, None),
        "",
        "Elektrische naaimachine met 23 steken, knoopsgatautomaat en handleiding in het Nederlands.",
        [(Format.THING, None)],
    ),
    (
        "Beamer",
        "full-hd projector met scherm",
        [],
        2025,
        "",
        "Bibliotheek van dingen",
        [("Presenteren", T)],
        Audience.ADULT,
        (18, None),
        "",
        "Projector met HDMI-kabel, opvouwbaar scherm en draagtas. Voor buurtavonden en "
        "presentaties.",
        [(Format.THING, None)],
    ),
    (
        "3D-printer",
        "",
        [],
        2025,
        "",
        "Bibliotheek van dingen",
        [("Makerspace", T)],
        Audience.ADULT,
        (14, None),
        "",
        "Eenvoudige 3D-printer met PLA-filament. Uitleg in de makerspace verplicht.",
        [(Format.THING, None)],
    ),
]

# Copies per physical format at each demo organisation, and the spread of their status.
COPIES = {
    Format.BOOK: 3,
    Format.LARGE_PRINT: 1,
    Format.FILM: 1,
    Format.GAME: 1,
    Format.MAGAZINE: 1,
    Format.THING: 1,
    Format.AUDIO_CD: 1,
}
# Loans, holds and transfers are made afterwards through circulation's services
# (``circulation.seeding``), so every copy that is out has a real loan or hold behind it.
STATUS_SPREAD = [ItemStatus.AVAILABLE] * 19 + [ItemStatus.REPAIR]


def _isbn(n: int) -> str:
    body = f"97890999{n:04d}"
    return body + ean.calc_check_digit(body)


def _contributor(name: str) -> Contributor:
    key = text.fold(name)
    contributor = Contributor.objects.filter(key=key).first()
    if contributor is None:
        slug = text.slug_for(Contributor(name=name).display_name)
        if Contributor.objects.filter(slug=slug).exists():
            slug = f"{slug}-{Contributor.objects.count()}"
        contributor = Contributor.objects.create(name=name, key=key, slug=slug)
    return contributor


def _subject(label: str, kind: str) -> Subject:
    key = text.fold(label)
    subject = Subject.objects.filter(key=key).first()
    if subject is None:
        subject = Subject.objects.create(label=label, key=key, slug=text.slug_for(label), kind=kind)
    return subject


def _branches(organisations) -> dict[int, list]:
    from bieb.network.models import Location

    by_org: dict[int, list] = {o.pk: [] for o in organisations}
    for location in Location.objects.filter(
        organisation__in=organisations, kind__in=["branch", "service_point"], is_active=True
    ).order_by("pk"):
        by_org[location.organisation_id].append(location)
    return by_org


def _seed_titles(organisations, rng: random.Random) -> list[int]:
    today = clock.today()
    branches = _branches(organisations)
    new_ids: list[int] = []
    isbn_counter = 0
    barcode_counter = 0
    for spec in DEMO_TITLES:
        (
            title,
            subtitle,
            credits,
            year,
            language,
            publisher,
            subjects,
            audience,
            ages,
            avi,
            description,
            formats,
        ) = spec
        first_author = credits[0][0] if credits else ""
        work, _ = Work.objects.get_or_create(
            key=text.work_key(title, first_author),
            defaults={"title": title, "author_name": first_author},
        )
        for fmt, extra in formats:
            isbn_counter += 1
            source_id = f"{text.slug_for(title, 60)}-{fmt}"
            if Edition.objects.filter(source=DEMO_SOURCE, source_id=source_id).exists():
                continue
            digital = isinstance(extra, tuple)
            has_isbn = fmt in {Format.BOOK, Format.LARGE_PRINT, Format.EBOOK, Format.AUDIOBOOK}
            edition = Edition.objects.create(
                work=work,
                title=title,
                subtitle=subtitle,
                contributors_text="; ".join(Contributor(name=n).display_name for n, _r in credits),
                isbn=_isbn(isbn_counter) if has_isbn else "",
                publisher=publisher,
                year=year if fmt != Format.EBOOK else max(year, 2012),
                language=language,
                format=fmt,
                pages=extra if fmt in {Format.BOOK, Format.LARGE_PRINT, Format.MAGAZINE} else None,
                duration_minutes=extra if fmt in {Format.FILM, Format.GAME} else None,
                audience=audience,
                age_min=ages[0],
                age_max=ages[1],
                avi_level=avi if fmt == Format.BOOK else "",
                description=description,
                source=DEMO_SOURCE,
                source_id=source_id,
            )
            new_ids.append(edition.pk)
            if edition.isbn:
                Identifier.objects.create(
                    edition=edition, value=edition.isbn, as_printed=edition.isbn
                )
            for position, (name, role) in enumerate(credits):
                EditionContributor.objects.create(
                    edition=edition, contributor=_contributor(name), role=role, position=position
                )
            edition.subjects.set([_subject(label, kind) for label, kind in subjects])
            if digital:
                model, users, loans_total, months = extra
                licence = DigitalLicence.objects.create(
                    edition=edition,
                    organisation=None if model == LicenceModel.ALWAYS else organisations[0],
                    model=model,
                    provider="Online Bibliotheek" if model != "always" else "Publiek domein",
                    concurrent_users=users,
                    loans_total=loans_total,
                    valid_until=today + dt.timedelta(days=30 * months) if months else None,
                )
                # (circulation's demo seed lends the one-copy title and queues two readers)
                if model == LicenceModel.METERED_LOANS:
                    DigitalLicence.objects.filter(pk=licence.pk).update(loans_used=loans_total - 3)
                continue
            for organisation in organisations:
                places = branches[organisation.pk]
                if not places:
                    continue
                for copy in range(COPIES.get(fmt, 1)):
                    barcode_counter += 1
                    location = places[(barcode_counter + copy) % len(places)]
                    status = rng.choice(STATUS_SPREAD)
                    item = Item.objects.create(
                        edition=edition,
                        organisation=organisation,
                        home_location=location,
                        location=location,
                        barcode=f"9{organisation.pk:03d}{barcode_counter:08d}",
                        shelf_mark=_shelf_mark(fmt, audience, first_author or title),
                        status=ItemStatus.AVAILABLE,
                        replacement_cost_cents=2495 if fmt != Format.THING else 14900,
                    )
                    if status != ItemStatus.AVAILABLE:
                        Item.objects.filter(pk=item.pk).update(status=status)
    return new_ids


def _shelf_mark(fmt: str, audience: str, name: str) -> str:
    letters = text.fold(name.split(",")[0]).replace(" ", "")[:4].upper()
    prefix = {
        Format.THING: "DING",
        Format.GAME: "SPEL",
        Format.FILM: "DVD",
        Format.MAGAZINE: "TIJD",
        Format.LARGE_PRINT: "GL",
    }.get(fmt, {"toddler": "P", "child": "J", "teen": "JO"}.get(audience, "R"))
    return f"{prefix} {letters}"


def seed_catalog(profile: str, seed: int) -> None:
    """Seed the demo catalogue; the ``bench`` profile adds nothing (``bieb bench search`` builds
    its own, far larger, catalogue)."""
    from bieb.catalog import search
    from bieb.network.models import Organisation

    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    if profile == "bench":
        return
    organisations = list(Organisation.objects.order_by("slug"))
    if not organisations:
        return
    rng = random.Random(f"catalog:{seed}")  # noqa: S311 - repeatable demo data
    with transaction.atomic():
        new_ids = _seed_titles(organisations, rng)
        search.index_editions(new_ids)
        services.edition_refresh_availability(new_ids)
    if LOC_SAMPLE.exists() and not Edition.objects.filter(source="loc").exists():
        from bieb.catalog.importer import import_marc

        import_marc(LOC_SAMPLE, source="loc", organisation=organisations[0], items_per_edition=1)


def demo_items(limit: int = 8) -> list[dict]:
    """A few demo barcodes for testers: copies on the shelf and on loan, and a thing."""
    picks = []
    wanted = [
        (Format.BOOK, ItemStatus.AVAILABLE, 4),
        (Format.BOOK, ItemStatus.ON_LOAN, 2),
        (Format.THING, ItemStatus.AVAILABLE, 1),
        (Format.FILM, ItemStatus.AVAILABLE, 1),
    ]
    for fmt, status, count in wanted:
        items = (
            Item.objects.filter(edition__source=DEMO_SOURCE, edition__format=fmt, status=status)
            .select_related("edition", "location")
            .order_by("pk")[:count]
        )
        picks.extend(
            {
                "barcode": item.barcode,
                "title": item.edition.title,
                "status": item.status,
                "location": item.location.name,
            }
            for item in items
        )
    return picks[:limit]
