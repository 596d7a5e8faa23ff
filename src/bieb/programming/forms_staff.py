"""Forms of the staff screens of programming (activities, the door, rooms, partners) and of
the public room request. They parse what staff and residents type -- local dates and times
(Europe/Amsterdam), amounts in euros the Dutch way ("12,50"), lists of dates and of catalogue
titles -- into the values the services take; the services check and decide. A service's
refusal (``DomainError``) is put on the field it names (``details["field"]``, translated by
``domain_field_aliases``) or above the form."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _
from stdnum import isbn as stdnum_isbn

from bieb.accounts.forms import DATE_INPUT_FORMATS, TIME_INPUT_FORMATS, AccessibleFormMixin
from bieb.catalog.models import Edition, Work
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.programming import recurrence
from bieb.programming.models import (
    ActivityKind,
    Audience,
    Challenge,
    LanguageLevel,
    Partner,
    PartnerKind,
    PriceKind,
    Programme,
    Room,
)
from bieb.programming.services import DOOR_CODE_DIGITS, ActivityInput, door_code

# "1.234,56": dots group thousands (in threes, the first group without a leading zero)
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?")
_PLAIN = re.compile(r"\d+(?:[.,]\d*)?|[.,]\d+")
_LIST_SPLIT = re.compile(r"[\s,;]+")
#: the most catalogue titles one activity links to
MAX_WORKS = 50


def euros_to_cents(text: str) -> int:
    """An amount in euros ("12,50", "12.5", "€ 3", "1.000,00") as whole cents, exactly
    (``Decimal``, never a float). More than two decimals or anything else: ValidationError."""
    raw = "".join((text or "").replace("€", " ").split())
    if _GROUPED.fullmatch(raw):
        raw = raw.replace(".", "")
    if not _PLAIN.fullmatch(raw):
        raise forms.ValidationError(
            _("Vul een bedrag in euro's in, bijvoorbeeld 12,50."), code="invalid_amount"
        )
    try:
        amount = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and one mark
        raise forms.ValidationError(
            _("Vul een bedrag in euro's in, bijvoorbeeld 12,50."), code="invalid_amount"
        ) from None
    if amount.as_tuple().exponent < -2:
        raise forms.ValidationError(
            _("Een bedrag heeft hoogstens twee cijfers na de komma, bijvoorbeeld 12,50."),
            code="too_precise",
        )
    if amount > 100_000:
        raise forms.ValidationError(_("Dat bedrag is te hoog."), code="too_high")
    return int(amount * 100)


def cents_to_euros(cents: int) -> str:
    """Cents as staff type them back: 1250 -> "12,50"."""
    euros, rest = divmod(int(cents), 100)
    return f"{euros},{rest:02d}"


def local_moment(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock time in the Netherlands as an aware datetime (the first of an hour that
    happens twice in autumn)."""
    return dt.datetime.combine(day, time).replace(tzinfo=clock.AMSTERDAM)


class RefusalFormMixin(AccessibleFormMixin):
    """``add_domain_error`` that also knows which field a refusal code is about."""

    #: refusal code -> field, for refusals that do not name their field
    domain_code_fields: dict[str, str] = {}
    #: a service's field name -> this form's field (``location_id`` -> ``location``)
    domain_field_aliases: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        field = (error.details or {}).get("field") or self.domain_code_fields.get(error.code)
        field = self.domain_field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, error.message)


def _date_field(label, *, required: bool = True, help_text="") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Vul een datum in, bijvoorbeeld 31-12-2025.")},
    )


def _time_field(label, *, help_text="") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        help_text=help_text,
        input_formats=TIME_INPUT_FORMATS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Vul een tijd in, bijvoorbeeld 19:30.")},
    )


def _whole(label, *, initial=None, required: bool = True, help_text="", low: int = 0, high=None):
    attrs = {"min": low, "inputmode": "numeric"}
    if high is not None:
        attrs["max"] = high
    return forms.IntegerField(
        label=label,
        initial=initial,
        required=required,
        help_text=help_text,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs=attrs),
        error_messages={"invalid": _("Vul een heel getal in.")},
    )


class Repeat:
    """The simple recurrence controls, and the RRULE each stands for."""

    NONE = ""
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    CHOICES = [
        (NONE, _("niet: één bijeenkomst")),
        (WEEKLY, _("elke week")),
        (BIWEEKLY, _("om de week")),
        (MONTHLY, _("elke maand (zelfde datum)")),
    ]
    RULES = {
        WEEKLY: "FREQ=WEEKLY",
        BIWEEKLY: "FREQ=WEEKLY;INTERVAL=2",
        MONTHLY: "FREQ=MONTHLY",
    }

    @classmethod
    def rule(cls, repeat: str, sessions: int) -> str:
        return f"{cls.RULES[repeat]};COUNT={sessions}" if repeat in cls.RULES else ""

    @classmethod
    def of(cls, rule: str) -> tuple[str, int | None] | None:
        """(repeat, sessions) when ``rule`` is one the simple controls make, else None."""
        rule = recurrence.normalise(rule)
        if not rule:
            return cls.NONE, None
        for repeat, base in cls.RULES.items():
            match = re.fullmatch(re.escape(base) + r";COUNT=(\d+)", rule)
            if match:
                return repeat, int(match.group(1))
        return None


def _local_dates(text: str) -> list[str]:
    """Dates separated by commas, spaces or new lines, as ISO dates."""
    out = []
    for token in _LIST_SPLIT.split(text or ""):
        if not token:
            continue
        for fmt in DATE_INPUT_FORMATS:
            try:
                out.append(dt.datetime.strptime(token, fmt).date().isoformat())
                break
            except ValueError:
                continue
        else:
            raise forms.ValidationError(
                _("'%(value)s' is geen datum; schrijf bijvoorbeeld 24-12-2025.") % {"value": token},
                code="invalid_date",
            )
    return sorted(set(out))


def works_for(text: str) -> list[Work]:
    """Catalogue works named by their number (werknummer) or by the ISBN of an edition,
    separated by commas, spaces or new lines; in the order given, without repeats."""
    wanted: list[tuple[str, str]] = []
    for token in _LIST_SPLIT.split(text or ""):
        if not token:
            continue
        compact = stdnum_isbn.compact(token) if len(token) >= 10 else token
        if len(compact) in (10, 13) and stdnum_isbn.is_valid(compact):
            wanted.append(("isbn", stdnum_isbn.to_isbn13(compact)))
        elif token.isdigit() and len(token) <= 9:
            wanted.append(("id", token))
        else:
            raise forms.ValidationError(
                _("'%(value)s' is geen werknummer en geen geldig ISBN.") % {"value": token},
                code="invalid_work",
            )
    if len(wanted) > MAX_WORKS:
        raise forms.ValidationError(
            _("Koppel hoogstens %(max)s titels.") % {"max": MAX_WORKS}, code="too_many"
        )
    ids = {int(v) for kind, v in wanted if kind == "id"}
    isbns = {v for kind, v in wanted if kind == "isbn"}
    by_id = {w.pk: w for w in Work.objects.filter(pk__in=ids)} if ids else {}
    by_isbn: dict[str, Work] = {}
    if isbns:
        for edition in Edition.objects.filter(isbn__in=isbns).select_related("work"):
            by_isbn.setdefault(edition.isbn, edition.work)
    works: list[Work] = []
    for kind, value in wanted:
        work = by_id.get(int(value)) if kind == "id" else by_isbn.get(value)
        if work is None:
            raise forms.ValidationError(
                _("Geen titel in de catalogus bij '%(value)s'.") % {"value": value},
                code="unknown_work",
            )
        if work not in works:
            works.append(work)
    return works


class ActivityForm(RefusalFormMixin, forms.Form):
    """Every field of ``services.ActivityInput`` for one organisation's activity.

    Dates and times are local (Europe/Amsterdam). A series repeats with the simple controls
    (every week, every two weeks, every month, with a number of sessions) or with an RRULE
    typed in the advanced field (not both)."""

    kind = forms.ChoiceField(label=_("Soort"), choices=ActivityKind.choices)
    title = forms.CharField(label=_("Titel"), max_length=150)
    summary = forms.CharField(
        label=_("Korte omschrijving"),
        max_length=300,
        help_text=_("Eén of twee zinnen; die staan in het programma."),
    )
    description = forms.CharField(
        label=_("Omschrijving"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    audience = forms.ChoiceField(label=_("Doelgroep"), choices=Audience.choices)
    age_min = _whole(_("Leeftijd vanaf"), required=False, high=120)
    age_max = _whole(_("Leeftijd tot en met"), required=False, high=120)
    language_level = forms.ChoiceField(
        label=_("Taalniveau"), choices=LanguageLevel.choices, required=False
    )
    theme = forms.CharField(
        label=_("Thema"),
        max_length=60,
        required=False,
        help_text=_("Bijvoorbeeld: voorlezen, geldzaken, gezondheid."),
    )
    challenge = forms.ChoiceField(
        label=_("Maatschappelijke opgave"),
        choices=[("", _("Kies een opgave")), *Challenge.choices],
        help_text=_("Waar draagt de activiteit aan bij? Dit telt mee in de rapportages."),
    )
    programme = forms.ChoiceField(
        label=_("Landelijk programma"), choices=Programme.choices, required=False
    )
    location = forms.TypedChoiceField(label=_("Locatie"), coerce=int)
    room = forms.TypedChoiceField(
        label=_("Zaal"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Bij publiceren wordt de zaal voor elke bijeenkomst gereserveerd."),
    )
    partners = forms.TypedMultipleChoiceField(
        label=_("Partners"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "utrecht-checkbox"}),
    )
    works = forms.CharField(
        label=_("Titels uit de catalogus"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_("Werknummers of ISBN's, gescheiden door komma's of spaties."),
    )
    date = _date_field(_("Datum (eerste bijeenkomst)"))
    start_time = _time_field(_("Begintijd"))
    end_time = _time_field(_("Eindtijd"))
    end_date = _date_field(
        _("Einddatum"),
        required=False,
        help_text=_("Alleen als de bijeenkomst op een andere dag eindigt."),
    )
    repeat = forms.ChoiceField(label=_("Herhalen"), choices=Repeat.CHOICES, required=False)
    sessions = _whole(
        _("Aantal bijeenkomsten"),
        required=False,
        low=2,
        high=recurrence.MAX_SESSIONS,
        help_text=_("Bij herhalen: hoeveel keer in totaal, de eerste meegeteld."),
    )
    rrule = forms.CharField(
        label=_("Geavanceerd: herhaling als RRULE"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "Volgens RFC 5545, bijvoorbeeld FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10. "
            "Laat 'Herhalen' dan op 'niet' staan."
        ),
    )
    exdates = forms.CharField(
        label=_("Uitgezonderde data"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Data zonder bijeenkomst, bijvoorbeeld 24-12-2025, 31-12-2025."),
    )
    capacity = _whole(
        _("Aantal plaatsen"),
        initial=20,
        high=100_000,
        help_text=_("0 betekent: geen aanmelding nodig, gewoon binnenlopen."),
    )
    max_group_size = _whole(
        _("Plaatsen per aanmelding, hoogstens"),
        initial=1,
        low=1,
        high=60,
        help_text=_("Meer dan 1 voor gezinnen of een klas."),
    )
    price_kind = forms.ChoiceField(
        label=_("Prijs"), choices=PriceKind.choices, initial=PriceKind.FREE
    )
    price = forms.CharField(
        label=_("Prijs per plaats (euro)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("Bijvoorbeeld 12,50. Bij tegoed: wat iemand zonder tegoed betaalt (mag leeg)."),
    )
    credits = _whole(
        _("Tegoed per plaats"),
        initial=0,
        high=100,
        help_text=_("Alleen bij 'met activiteitentegoed'."),
    )
    pay_at_door = forms.BooleanField(label=_("Betalen aan de deur mag"), required=False)
    accessibility = forms.CharField(
        label=_("Toegankelijkheid"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Bijvoorbeeld: rolstoeltoegankelijk, ringleiding, tolk Nederlandse Gebarentaal."
        ),
    )
    offer_hours = _whole(
        _("Bedenktijd wachtlijst (uren)"),
        initial=24,
        low=1,
        high=24 * 14,
        help_text=_(
            "Zo lang houden we een vrijgekomen plaats vast voor wie op de wachtlijst staat."
        ),
    )

    domain_field_aliases = {
        "location_id": "location",
        "room_id": "room",
        "partner_ids": "partners",
        "work_ids": "works",
        "price_cents": "price",
        "starts_at": "start_time",
        "ends_at": "end_time",
    }
    domain_code_fields = {"room_taken": "room", "capacity_below_taken": "capacity"}

    def __init__(self, *args, organisation, activity=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from bieb.network.models import Location, LocationKind

        self.organisation = organisation
        locations = list(
            Location.objects.filter(organisation=organisation, is_active=True)
            # a pick-up locker is no place to meet
            .exclude(kind=LocationKind.LOCKER)
            .order_by("name")
        )
        if activity is not None and activity.location_id not in {loc.pk for loc in locations}:
            locations.append(activity.location)
        self.fields["location"].choices = [("", _("Kies een locatie"))] + [
            (loc.pk, f"{loc.name} ({loc.get_kind_display()})") for loc in locations
        ]
        rooms = Room.objects.filter(
            location_id__in=[loc.pk for loc in locations], is_active=True
        ).select_related("location")
        self.fields["room"].choices = [("", _("Geen zaal"))] + [
            (
                room.pk,
                _("%(room)s, %(location)s (%(n)s plaatsen)")
                % {"room": room.name, "location": room.location.name, "n": room.capacity},
            )
            for room in rooms
        ]
        self.fields["partners"].choices = [
            (p.pk, f"{p.name} ({p.get_kind_display()})")
            for p in Partner.objects.filter(organisation=organisation)
        ]
        if activity is not None and not self.is_bound:
            self.initial.update(self.initial_for(activity))

    @staticmethod
    def initial_for(activity) -> dict:
        data = ActivityInput.of(activity)
        starts = data.starts_at.astimezone(clock.AMSTERDAM)
        ends = data.ends_at.astimezone(clock.AMSTERDAM)
        simple = Repeat.of(data.rrule)
        initial = {
            name: getattr(data, name)
            for name in (
                "kind",
                "title",
                "summary",
                "description",
                "audience",
                "age_min",
                "age_max",
                "language_level",
                "theme",
                "challenge",
                "programme",
                "capacity",
                "max_group_size",
                "price_kind",
                "credits",
                "pay_at_door",
                "accessibility",
                "offer_hours",
            )
        }
        initial.update(
            location=data.location_id,
            room=data.room_id,
            partners=data.partner_ids,
            works=", ".join(str(pk) for pk in sorted(data.work_ids)),
            date=starts.date(),
            start_time=starts.time().replace(second=0, microsecond=0),
            end_time=ends.time().replace(second=0, microsecond=0),
            end_date=ends.date() if ends.date() != starts.date() else None,
            repeat=simple[0] if simple else Repeat.NONE,
            sessions=simple[1] if simple else None,
            rrule="" if simple else data.rrule,
            exdates=", ".join(
                dt.date.fromisoformat(day).strftime("%d-%m-%Y") for day in data.exdates or []
            ),
            price=cents_to_euros(data.price_cents) if data.price_cents else "",
        )
        return initial

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_price(self) -> int:
        text = (self.cleaned_data.get("price") or "").strip()
        return euros_to_cents(text) if text else 0

    def clean_exdates(self) -> list[str]:
        return _local_dates(self.cleaned_data.get("exdates", ""))

    def clean_works(self) -> list[int]:
        return [work.pk for work in works_for(self.cleaned_data.get("works", ""))]

    def clean(self):
        cleaned = super().clean()
        repeat = cleaned.get("repeat") or Repeat.NONE
        rule = (cleaned.get("rrule") or "").strip()
        sessions = cleaned.get("sessions")
        # where a refusal about the recurrence is shown: the controls that made it
        self.domain_field_aliases = {
            **type(self).domain_field_aliases,
            "rrule": "sessions" if repeat != Repeat.NONE else "rrule",
        }
        if repeat != Repeat.NONE:
            if rule:
                self.add_error(
                    "rrule",
                    _("Kies een eenvoudige herhaling óf vul een RRULE in, niet allebei."),
                )
            elif sessions is None and "sessions" not in self.errors:
                self.add_error("sessions", _("Hoeveel bijeenkomsten zijn er in totaal?"))
            else:
                cleaned["rrule"] = Repeat.rule(repeat, sessions)
        return cleaned

    def to_input(self) -> ActivityInput:
        """The service's input from a valid form."""
        data = self.cleaned_data
        starts_at = local_moment(data["date"], data["start_time"])
        ends_at = local_moment(data.get("end_date") or data["date"], data["end_time"])
        return ActivityInput(
            kind=data["kind"],
            title=data["title"],
            summary=data["summary"],
            description=data.get("description", ""),
            audience=data["audience"],
            challenge=data["challenge"],
            location_id=data["location"],
            starts_at=starts_at,
            ends_at=ends_at,
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            language_level=data.get("language_level", ""),
            theme=data.get("theme", ""),
            programme=data.get("programme", ""),
            room_id=data.get("room"),
            rrule=data.get("rrule", ""),
            exdates=data.get("exdates", []),
            capacity=data["capacity"],
            max_group_size=data["max_group_size"],
            price_kind=data["price_kind"],
            price_cents=data.get("price", 0),
            credits=data.get("credits") or 0,
            pay_at_door=bool(data.get("pay_at_door")),
            accessibility=data.get("accessibility", ""),
            offer_hours=data["offer_hours"],
            partner_ids=list(data.get("partners") or []),
            work_ids=list(data.get("works") or []),
        )


class CancelActivityForm(RefusalFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reden"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Deze reden sturen we mee naar iedereen die zich heeft aangemeld."),
        error_messages={"required": _("Geef een reden; die sturen we mee.")},
    )


class RegistrationCancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200)


_DOOR_CODE = re.compile(rf"\d{{{DOOR_CODE_DIGITS}}}")


def door_code_display(token: str) -> str:
    """The door code in two groups of four, as the registration page shows it."""
    code = door_code(token)
    return f"{code[:4]} {code[4:]}"


class DoorScanForm(RefusalFormMixin, forms.Form):
    """What was scanned or typed at the door: the link a QR code holds, a token, or the
    eight-digit door code (spaces and dashes ignored)."""

    code = forms.CharField(
        label=_("QR-code of aanmeldcode"),
        max_length=500,
        help_text=_("Scan de QR-code of typ de code en druk op Enter."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
        error_messages={"required": _("Scan de QR-code of typ de code.")},
    )

    def typed_door_code(self) -> str:
        """The eight digits when a door code was typed, else ""."""
        digits = re.sub(r"[\s\-.]", "", self.cleaned_data.get("code", ""))
        return digits if _DOOR_CODE.fullmatch(digits) else ""


class DoorListForm(forms.Form):
    """A check-in from the list; how many came is checked by ``services.check_in``."""

    registration = forms.IntegerField()
    present = forms.IntegerField(required=False)


class RoomForm(RefusalFormMixin, forms.Form):
    location = forms.TypedChoiceField(label=_("Locatie"), coerce=int)
    name = forms.CharField(label=_("Naam"), max_length=100)
    capacity = _whole(_("Aantal mensen, hoogstens"), low=1, high=10_000)
    facilities = forms.CharField(
        label=_("Voorzieningen"),
        required=False,
        max_length=300,
        help_text=_("Bijvoorbeeld: beamer, geluid, ringleiding, keuken."),
    )
    is_stage = forms.BooleanField(label=_("Dit is een podium"), required=False)
    bookable_by_public = forms.BooleanField(
        label=_("Inwoners en partners mogen deze zaal aanvragen"), required=False, initial=True
    )

    def __init__(self, *args, locations=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", _("Kies een locatie"))] + [
            (loc.pk, f"{loc.name} ({loc.organisation.name})") for loc in locations
        ]


class BookingDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    note = forms.CharField(required=False, max_length=300)


class PartnerForm(RefusalFormMixin, forms.Form):
    organisation = forms.TypedChoiceField(label=_("Bibliotheekorganisatie"), coerce=int)
    name = forms.CharField(label=_("Naam"), max_length=150)
    kind = forms.ChoiceField(
        label=_("Soort"), choices=[("", _("Kies een soort")), *PartnerKind.choices]
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    email = forms.EmailField(label=_("E-mailadres"), required=False)

    def __init__(self, *args, organisations=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        organisations = list(organisations)
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].pk
            self.fields["organisation"].widget = forms.HiddenInput()


class RoomRequestForm(RefusalFormMixin, forms.Form):
    """A resident's, partner's or staff member's request to use a room."""

    title = forms.CharField(
        label=_("Waarvoor wil je de zaal gebruiken?"),
        max_length=150,
        help_text=_("Bijvoorbeeld: bewonersavond over de nieuwe speeltuin."),
    )
    description = forms.CharField(
        label=_("Toelichting"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    date = _date_field(_("Datum"))
    start_time = _time_field(_("Van"))
    end_time = _time_field(_("Tot"))
    expected_people = _whole(_("Met hoeveel mensen?"), initial=10, low=1, high=10_000)
    partner = forms.TypedChoiceField(
        label=_("Namens"), coerce=int, required=False, empty_value=None
    )
    is_public = forms.BooleanField(
        label=_("Openbaar: iedereen mag komen; zet het in het programma van de bibliotheek"),
        required=False,
    )

    domain_field_aliases = {"starts_at": "start_time", "ends_at": "end_time"}
    domain_code_fields = {"room_taken": "start_time", "partner_unknown": "partner"}

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        partners = list(partners)
        if partners:
            self.fields["partner"].choices = [("", _("mezelf"))] + [
                (p.pk, p.name) for p in partners
            ]
        else:
            del self.fields["partner"]

    def moments(self) -> tuple[dt.datetime, dt.datetime]:
        data = self.cleaned_data
        return (
            local_moment(data["date"], data["start_time"]),
            local_moment(data["date"], data["end_time"]),
        )
