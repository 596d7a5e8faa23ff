"""Demo e-books and audiobooks that really open: short public-domain texts as EPUB 3 files and
a few seconds of sound the project makes itself as WAV files, with a licence of every model.

``ensure_demo_digital()`` is idempotent: it creates what is missing (editions, licences) and
(re)writes the files under ``BIEB_VAR/media/digital/`` when they are missing or differ. The
demo seed calls it after the catalogue and the organisations exist.

The texts are fragments of works whose authors died centuries ago or long before 1955
(Multatuli, the medieval Reynaert poet, the Brothers Grimm in Margaret Hunt's translation of
1884), written out for the demo: they are not scholarly editions. The sounds are synthesised
here (a traditional melody and the Westminster chimes, both public domain).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from bieb.catalog import search, text
from bieb.catalog import services as catalog_services
from bieb.catalog.models import (
    Audience,
    Contributor,
    ContributorRole,
    Edition,
    EditionContributor,
    Format,
    LicenceModel,
    Work,
)
from bieb.circulation import digital_files
from bieb.circulation.digital_files import Chapter
from bieb.core import clock

SOURCE = "demo-digital"
PUBLISHER = "de Bibliotheek (demo)"


@dataclass(frozen=True)
class DemoTitle:
    key: str
    title: str
    subtitle: str
    credits: tuple[tuple[str, str], ...]  # (name as "Family, Given", role)
    language: str  # MARC code
    format: str
    year: int
    description: str
    licence: str
    own_library: bool = False  # the first organisation's licence instead of a national one
    concurrent_users: int = 1
    loans_total: int | None = None
    valid_days: int | None = None
    audience: str = Audience.ALL


MAX_HAVELAAR = [
    Chapter(
        "Eerste hoofdstuk (begin)",
        [
            "Ik ben makelaar in koffie, en woon op de Lauriergracht, No. 37. Het is mijn gewoonte "
            "niet, romans te schrijven, of zulke dingen, en het heeft dan ook lang geduurd, voor "
            "ik er toe overging een paar riem papier extra te bestellen, en het werk aan te "
            "vangen, dat gij, lieve lezer, zo-even in de hand hebt genomen, en dat ge lezen moet "
            "als ge makelaar in koffie zijt, of als ge wat anders zijt. Niet alleen dat ik nooit "
            "iets schreef wat naar een roman geleek, maar ik houd er zelfs niet van, iets "
            "dergelijks te lezen, omdat ik een man van zaken ben.",
            "Sedert jaren vraag ik mij af, waartoe zulke dingen dienen, en ik sta verbaasd over "
            "de onbeschaamdheid, waarmee een dichter of romanverteller u iets op de mouw durft "
            "spelden, dat nooit gebeurd is, en meestal niet gebeuren kan.",
            "Als ik in mijn vak \u2013 ik ben makelaar in koffie, en woon op de Lauriergracht, No. 37 "
            "\u2013 aan een principaal \u2013 een principaal is iemand die koffie verkoopt \u2013 een opgave "
            "deed, waarin maar een klein gedeelte der onwaarheden voorkwam, die in gedichten en "
            "romans de hoofdzaak uitmaken, zou hij terstond Busselinck & Waterman nemen. Dat zijn "
            "ook makelaars in koffie, doch hun adres behoeft ge niet te weten.",
        ],
    ),
    Chapter(
        "Over deze uitgave",
        [
            "Een fragment uit het begin van Max Havelaar (1860) van Multatuli (Eduard Douwes "
            "Dekker, 1820\u20131887), in latere spelling, voor de demo van de Bibliotheek. De tekst "
            "is vrij van auteursrecht. Dit is geen wetenschappelijke editie.",
        ],
    ),
]

REYNAERDE = [
    Chapter(
        "Proloog",
        [
            "Willem die Madocke maecte, / daer hi dicken omme waecte, / hem vernoyde so haerde / "
            "dat die avonture van Reynaerde / in Dietsche onghemaket bleven / \u2013 die Arnout niet "
            "hevet vulscreven \u2013 / dat hi die vijte dede soeken / ende hise na den walschen boeken "
            "/ in Dietsche dus hevet begonnen.",
        ],
    ),
    Chapter(
        "Het hof van koning Nobel (begin)",
        [
            "Het was in een tsinxen daghe / dat beede bosch ende haghe / met groenen loveren "
            "waren bevaen. / Nobel die coninc hadde ghedaen / sijn hof crayeren over al / dat hi "
            "waende, hadde hijs gheval, / houden ten wel groeten love.",
        ],
    ),
    Chapter(
        "Over deze uitgave",
        [
            "Het begin van Van den vos Reynaerde, een Middelnederlands dierenepos uit de "
            "dertiende eeuw, voor de demo van de Bibliotheek. Regels zijn met een schuine streep "
            "gescheiden. Dit is geen wetenschappelijke editie: lees voor studie een uitgave met "
            "verantwoording van het handschrift.",
        ],
    ),
]

FROG_KING = [
    Chapter(
        "The Frog-King, or Iron Henry (beginning)",
        [
            "In olden times when wishing still helped one, there lived a king whose daughters "
            "were all beautiful, but the youngest was so beautiful that the sun itself, which "
            "has seen so much, was astonished whenever it shone in her face. Close by the king's "
            "castle lay a great dark forest, and under an old lime-tree in the forest was a well, "
            "and when the day was very warm, the king's child went out into the forest and sat "
            "down by the side of the cool fountain, and when she was dull she took a golden "
            "ball, and threw it up on high and caught it, and this ball was her favorite "
            "plaything.",
            "Now it so happened that on one occasion the princess's golden ball did not fall "
            "into the little hand which she was holding up for it, but on to the ground beyond, "
            "and rolled straight into the water. The king's daughter followed it with her eyes, "
            "but it vanished, and the well was deep, so deep that the bottom could not be seen. "
            "At this she began to cry, and cried louder and louder, and could not be comforted.",
        ],
    ),
    Chapter(
        "About this edition",
        [
            "The opening of the first of the Grimms' Household Tales in Margaret Hunt's English "
            "translation of 1884, for the demo of de Bibliotheek. The text is in the public "
            "domain. This is not a scholarly edition.",
        ],
    ),
]

#: "Altijd is Kortjakje ziek" (the tune of "Ah! vous dirai-je, maman", 18th century)
KORTJAKJE = [
    (note, 0.42 if index % 7 != 6 else 0.8)
    for phrase in (
        "C4 C4 G4 G4 A4 A4 G4",
        "F4 F4 E4 E4 D4 D4 C4",
        "G4 G4 F4 F4 E4 E4 D4",
        "G4 G4 F4 F4 E4 E4 D4",
        "C4 C4 G4 G4 A4 A4 G4",
        "F4 F4 E4 E4 D4 D4 C4",
    )
    for index, note in enumerate(phrase.split())
]

#: the Westminster quarters (1793), as a carillon plays them before the hour
WESTMINSTER = [
    (note, 0.75)
    for phrase in ("G#4 F#4 E4 B3", "E4 G#4 F#4 B3", "E4 F#4 G#4 E4", "G#4 E4 F#4 B3")
    for note in phrase.split()
] + [(None, 0.5), ("E3", 2.5)]

TITLES = [
    DemoTitle(
        key="max-havelaar-fragment-ebook",
        title="Max Havelaar (fragment)",
        subtitle="of de koffiveilingen der Nederlandsche Handelmaatschappy",
        credits=(("Multatuli", ContributorRole.AUTHOR),),
        language="dut",
        format=Format.EBOOK,
        year=1860,
        description=(
            "Het begin van Max Havelaar: de makelaar in koffie Batavus Droogstoppel stelt zich "
            "voor. Een kort demo-e-book (EPUB) met tekst die vrij is van auteursrecht; altijd "
            "beschikbaar, ook als velen tegelijk lezen."
        ),
        licence=LicenceModel.ALWAYS,
    ),
    DemoTitle(
        key="van-den-vos-reynaerde-fragment-ebook",
        title="Van den vos Reynaerde (fragment)",
        subtitle="proloog en begin",
        credits=(("Willem", ContributorRole.AUTHOR),),
        language="dut",
        format=Format.EBOOK,
        year=1260,
        description=(
            "De eerste regels van het Middelnederlandse dierenepos over de sluwe vos. Een kort "
            "demo-e-book (EPUB) met één licentie van je bibliotheek: één lezer tegelijk, daarna "
            "een wachtlijst."
        ),
        licence=LicenceModel.ONE_COPY_ONE_USER,
        own_library=True,
    ),
    DemoTitle(
        key="the-frog-king-fragment-ebook",
        title="The Frog-King (fragment)",
        subtitle="from Grimms' Household Tales",
        credits=(
            ("Grimm, Jacob", ContributorRole.AUTHOR),
            ("Grimm, Wilhelm", ContributorRole.AUTHOR),
            ("Hunt, Margaret", ContributorRole.TRANSLATOR),
        ),
        language="eng",
        format=Format.EBOOK,
        year=1884,
        description=(
            "The opening of the Frog-King in Margaret Hunt's translation. A short demo e-book "
            "(EPUB) under a licence for ten loans, two readers at a time."
        ),
        licence=LicenceModel.METERED_LOANS,
        concurrent_users=2,
        loans_total=10,
    ),
    DemoTitle(
        key="kortjakje-melodie-audiobook",
        title="Altijd is Kortjakje ziek (melodie)",
        subtitle="demo-luisterboek",
        credits=(("de Bibliotheek", ContributorRole.OTHER),),
        language="dut",
        format=Format.AUDIOBOOK,
        year=2024,
        description=(
            "Twintig seconden van de bekende melodie, door Bieb zelf gemaakt, om luisteren en "
            "doorspoelen in de browser te proberen. Drie luisteraars tegelijk."
        ),
        licence=LicenceModel.CONCURRENT,
        concurrent_users=3,
        audience=Audience.CHILD,
    ),
    DemoTitle(
        key="westminster-klokkenspel-audiobook",
        title="Het Westminster-klokkenspel",
        subtitle="demo-luisterboek",
        credits=(("de Bibliotheek", ContributorRole.OTHER),),
        language="dut",
        format=Format.AUDIOBOOK,
        year=2024,
        description=(
            "Het kwartierslag van de Westminster-klokken als beiaard, door Bieb zelf gemaakt. "
            "Een licentie voor een jaar, twee luisteraars tegelijk."
        ),
        licence=LicenceModel.METERED_TIME,
        concurrent_users=2,
        valid_days=365,
    ),
]

_CHAPTERS = {
    "max-havelaar-fragment-ebook": MAX_HAVELAAR,
    "van-den-vos-reynaerde-fragment-ebook": REYNAERDE,
    "the-frog-king-fragment-ebook": FROG_KING,
}
_SOUNDS = {
    "kortjakje-melodie-audiobook": (KORTJAKJE, False),
    "westminster-klokkenspel-audiobook": (WESTMINSTER, True),
}
_BCP47 = {"dut": "nl", "eng": "en"}


def _contributor(name: str) -> Contributor:
    key = text.fold(name)
    found = Contributor.objects.filter(key=key).first()
    if found is not None:
        return found
    slug = text.slug_for(Contributor(name=name).display_name) or "maker"
    if Contributor.objects.filter(slug=slug).exists():
        slug = f"{slug}-{Contributor.objects.count()}"
    return Contributor.objects.create(name=name, key=key, slug=slug)


def _edition(spec: DemoTitle) -> tuple[Edition, bool]:
    existing = Edition.objects.filter(source=SOURCE, source_id=spec.key).first()
    if existing is not None:
        return existing, False
    first = spec.credits[0][0]
    work, _created = Work.objects.get_or_create(
        key=text.work_key(spec.title, first), defaults={"title": spec.title, "author_name": first}
    )
    edition = Edition.objects.create(
        work=work,
        title=spec.title,
        subtitle=spec.subtitle,
        contributors_text="; ".join(Contributor(name=n).display_name for n, _r in spec.credits),
        publisher=PUBLISHER,
        year=spec.year,
        language=spec.language,
        format=spec.format,
        duration_minutes=1 if spec.format == Format.AUDIOBOOK else None,
        audience=spec.audience,
        description=spec.description,
        source=SOURCE,
        source_id=spec.key,
    )
    for position, (name, role) in enumerate(spec.credits):
        EditionContributor.objects.create(
            edition=edition, contributor=_contributor(name), role=role, position=position
        )
    return edition, True


def _file_bytes(spec: DemoTitle, edition: Edition) -> tuple[str, bytes]:
    if spec.key in _CHAPTERS:
        data = digital_files.build_epub(
            identifier=f"urn:bieb:demo:{spec.key}",
            title=spec.title,
            language=_BCP47[spec.language],
            creators=[Contributor(name=n).display_name for n, _r in spec.credits],
            chapters=_CHAPTERS[spec.key],
            description=spec.description,
            publisher=PUBLISHER,
            rights="Publiek domein / public domain",
        )
        return "epub", data
    notes, bell = _SOUNDS[spec.key]
    return "wav", digital_files.build_wav(notes, bell=bell)


def ensure_demo_digital(*, organisation=None) -> dict[str, object]:
    """Create the demo e-books and audiobooks, their licences (one of every model; the
    one-copy licence belongs to ``organisation``, by default the first by slug) and their
    files. Safe to run again: it adds only what is missing. Returns what it did."""
    from bieb.network.models import Organisation

    if organisation is None:
        organisation = Organisation.objects.order_by("slug").first()
    today = clock.today()
    created: list[int] = []
    ids: list[int] = []
    with transaction.atomic():
        for spec in TITLES:
            edition, is_new = _edition(spec)
            ids.append(edition.pk)
            if is_new:
                created.append(edition.pk)
            if not edition.licences.exists():
                catalog_services.licence_create(
                    edition=edition,
                    model=spec.licence,
                    organisation=organisation if spec.own_library else None,
                    concurrent_users=spec.concurrent_users,
                    loans_total=spec.loans_total,
                    valid_until=today + dt.timedelta(days=spec.valid_days)
                    if spec.valid_days
                    else None,
                    loan_days=21 if spec.format == Format.EBOOK else 14,
                    provider="Publiek domein" if spec.key in _CHAPTERS else "de Bibliotheek",
                )
        if created:
            search.index_editions(created)
        catalog_services.edition_refresh_availability(ids)
    written = 0
    editions = {e.source_id: e for e in Edition.objects.filter(source=SOURCE)}
    for spec in TITLES:
        edition = editions[spec.key]
        extension, data = _file_bytes(spec, edition)
        path = digital_files.media_dir() / f"{digital_files.content_stem(edition)}.{extension}"
        written += digital_files.write_atomically(path, data)
    return {"editions": ids, "created": len(created), "files_written": written}
