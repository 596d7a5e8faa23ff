"""Forms of the community board: the board's GET filters, a new post (with up to four photos,
each with a description) and its changes, a photo added later, "notify me" (a saved search),
and the staff's review of an activity idea.

Forms parse what people type; the services (``posts``, ``matching``) check and decide. A
service's refusal (``DomainError``) is put on the field it names (``details["field"]``) or above
the form (``add_domain_error``).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import DATE_INPUT_FORMATS, TIME_INPUT_FORMATS, AccessibleFormMixin
from bieb.community import photos, posts, selectors
from bieb.community.models import Category, PostKind, PostType, Terms
from bieb.core import clock
from bieb.programming.forms_staff import RefusalFormMixin, local_moment
from bieb.programming.models import ActivityKind, Audience, Challenge
from bieb.programming.services import ActivityInput

#: the distances the board and saved searches offer (km)
RADIUS_CHOICES = [(n, _("%(n)s km") % {"n": n}) for n in (2, 5, 10, 25, 50)]
#: what the file inputs accept (the service recognises images by content, not by this)
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
PHOTO_SLOTS = range(1, photos.MAX_PHOTOS + 1)
#: text areas wrap their lines (the site's default class for text, ``utrecht-textbox``, does not)
TEXTAREA_CLASS = "utrecht-textarea utrecht-textarea--html-textarea"

TYPE_CHOICES = [
    (PostType.OFFER, _("Ik bied iets aan")),
    (PostType.REQUEST, _("Ik zoek iets")),
]


def _with_all(choices, label=None) -> list[tuple[str, str]]:
    return [("", label or _("alle")), *choices]


def _radio(**attrs) -> forms.RadioSelect:
    return forms.RadioSelect(attrs={"class": "community-radio", **attrs})


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": TEXTAREA_CLASS})


# --- the board's filters (GET) -------------------------------------------------------------------


class BoardFilterForm(forms.Form):
    """The board's GET filters. Names follow ``selectors.board``; an invalid value filters
    nothing and is shown at its field. ``municipality`` is a CBS code (a choice of the
    municipalities with open posts, and the one of the page)."""

    type = forms.ChoiceField(label=_("Aanbod of vraag"), required=False)
    kind = forms.ChoiceField(label=_("Soort"), required=False)
    category = forms.ChoiceField(label=_("Categorie"), required=False)
    q = forms.CharField(
        label=_("Zoek op woord"), required=False, max_length=selectors.QUERY_MAX_LENGTH
    )
    near = forms.CharField(
        label=_("In de buurt van (postcode of plaats)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    radius = forms.TypedChoiceField(
        label=_("Afstand"),
        required=False,
        coerce=int,
        empty_value=selectors.DEFAULT_RADIUS_KM,
        choices=RADIUS_CHOICES,
        initial=selectors.DEFAULT_RADIUS_KM,
        help_text=_("Alleen met een postcode of plaats."),
    )
    municipality = forms.ChoiceField(label=_("Gemeente"), required=False)

    def __init__(self, *args, municipalities: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _with_all(
            [(PostType.OFFER, _("aanbod")), (PostType.REQUEST, _("vraag"))]
        )
        self.fields["kind"].choices = _with_all(PostKind.choices)
        self.fields["category"].choices = _with_all(Category.choices)
        self.fields["municipality"].choices = _with_all(municipalities, _("heel Nederland"))
        for name, field in self.fields.items():
            # no "utrecht-select--html-select": it hides the browser's arrow and the theme
            # draws none, so a choice list would look like a text box
            css = (
                "utrecht-select"
                if isinstance(field.widget, forms.Select)
                else "utrecht-textbox utrecht-textbox--html-input"
            )
            field.widget.attrs["class"] = css
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].id_for_label}-help"

    def mark_invalid_fields(self) -> None:
        """Point each invalid input at its error message (``aria-describedby``)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].id_for_label}-error"

    def filters(self) -> dict:
        """The valid filters as keyword arguments of ``selectors.board``."""
        data = getattr(self, "cleaned_data", {})
        return {
            "type": data.get("type") or "",
            "kind": data.get("kind") or "",
            "category": data.get("category") or "",
            "q": data.get("q") or "",
            "near": (data.get("near") or "").strip() or None,
            "radius_km": data.get("radius") or selectors.DEFAULT_RADIUS_KM,
        }

    def active_labels(self) -> list[str]:
        """The filters in use, in words ("Soort: spullen"); the municipality is the page's."""
        data = getattr(self, "cleaned_data", {})
        labels = []
        for name in ("type", "kind", "category", "q", "near"):
            value = data.get(name)
            if not value or name in self.errors:
                continue
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            if name == "near":
                labels.append(
                    _("In de buurt van %(place)s (%(km)s km)")
                    % {"place": value, "km": data.get("radius") or selectors.DEFAULT_RADIUS_KM}
                )
            else:
                label = _("Woord") if name == "q" else field.label
                labels.append(f"{label}: {value}")
        return labels


# --- a post --------------------------------------------------------------------------------------


class _PostTextMixin(RefusalFormMixin):
    """Fields and widgets a new post and a change share."""

    domain_code_fields = {
        "duplicate_post": "title",
        "word_filtered": "body",
        "terms_invalid": "terms",
    }

    def _style(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs.setdefault("class", "community-radio")
            elif isinstance(field.widget, forms.FileInput):
                field.widget.attrs.setdefault("class", "community-file")


def _title_field() -> forms.CharField:
    return forms.CharField(
        label=_("Titel"),
        max_length=posts.TITLE_MAX,
        help_text=_("Kort en duidelijk, bijvoorbeeld: Klopboormachine te leen."),
    )


def _body_field() -> forms.CharField:
    return forms.CharField(
        label=_("Omschrijving"),
        max_length=posts.BODY_MAX,
        widget=_textarea(6),
        help_text=_(
            "Wat is het, in welke staat, wat vraag je ervoor terug? Zet er geen adres, "
            "telefoonnummer of e-mailadres in: contact loopt via berichten op het platform."
        ),
    )


def _terms_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Voorwaarden (bij spullen)"),
        required=False,
        choices=[(value, Terms(value).label) for value in posts.THING_TERMS],
        widget=_radio(),
        help_text=_("Uitlenen, weggeven of ruilen. Kennis, vaardigheden en tijd deel je als hulp."),
    )


def _availability_field() -> forms.CharField:
    return forms.CharField(
        label=_("Wanneer"),
        required=False,
        max_length=posts.AVAILABILITY_MAX,
        help_text=_("Bijvoorbeeld: doordeweeks na 18 uur, of in het weekend."),
    )


def _acknowledge_field() -> forms.BooleanField:
    return forms.BooleanField(label=_("Ik weet het, plaats het toch"), required=False)


class PostForm(_PostTextMixin, forms.Form):
    """A new offer or request. ``ideas_only``: a resident under 16 without a guardian's
    consent may propose activity ideas only."""

    type = forms.ChoiceField(label=_("Wat wil je doen?"), choices=TYPE_CHOICES, widget=_radio())
    kind = forms.ChoiceField(label=_("Soort"), choices=PostKind.choices, widget=_radio())
    category = forms.ChoiceField(
        label=_("Categorie"), choices=[("", _("Kies een categorie")), *Category.choices]
    )
    title = _title_field()
    body = _body_field()
    terms = _terms_field()
    availability = _availability_field()
    acknowledge_personal = _acknowledge_field()

    def __init__(self, *args, ideas_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for n in PHOTO_SLOTS:
            self.fields[f"photo_{n}"] = forms.FileField(
                label=_("Foto %(n)s") % {"n": n},
                required=False,
                widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
            )
            self.fields[f"alt_{n}"] = forms.CharField(
                label=_("Wat staat er op foto %(n)s?") % {"n": n},
                required=False,
                max_length=posts.ALT_MAX,
                help_text=_("Een korte beschrijving voor wie de foto niet kan zien."),
            )
        if ideas_only:
            self.fields["kind"].choices = [(PostKind.IDEA, PostKind.IDEA.label)]
            self.fields["kind"].initial = PostKind.IDEA
        self._style()

    def clean(self):
        data = super().clean()
        # "lenen, geven of ruilen" is needed for things; say it from the writer's side
        if data.get("kind") == PostKind.THING and not data.get("terms"):
            self.add_error(
                "terms",
                _("Kies of je het wilt lenen, krijgen of ruilen.")
                if data.get("type") == PostType.REQUEST
                else _("Kies of je het uitleent, weggeeft of ruilt."),
            )
        # a browser never sends a chosen photo twice: after a refusal the description is still
        # there but the photo is gone, and the post would be placed without it unnoticed
        for n in PHOTO_SLOTS:
            if data.get(f"alt_{n}") and not data.get(f"photo_{n}"):
                self.add_error(
                    f"photo_{n}",
                    _(
                        "Kies foto %(n)s (opnieuw): je schreef erbij wat erop staat, maar de "
                        "foto zelf is niet meegestuurd. Wil je geen foto, maak de beschrijving "
                        "dan leeg."
                    )
                    % {"n": n},
                )
        return data

    def photo_slots(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"photo_{n}"], self[f"alt_{n}"]) for n in PHOTO_SLOTS]

    def uploads(self) -> list[tuple[int, object, str]]:
        """(slot, file, description) of each photo chosen, in order."""
        data = self.cleaned_data
        return [
            (n, data[f"photo_{n}"], data.get(f"alt_{n}") or "")
            for n in PHOTO_SLOTS
            if data.get(f"photo_{n}")
        ]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "type": data["type"],
            "kind": data["kind"],
            "category": data["category"],
            "title": data["title"],
            "body": data["body"],
            "terms": data.get("terms") or "",
            "availability": data.get("availability") or "",
            "acknowledge_personal": bool(data.get("acknowledge_personal")),
        }


class PostEditForm(_PostTextMixin, forms.Form):
    """The text of one's own open post (type, kind and place stay)."""

    category = forms.ChoiceField(label=_("Categorie"), choices=Category.choices)
    title = _title_field()
    body = _body_field()
    terms = _terms_field()
    availability = _availability_field()
    acknowledge_personal = _acknowledge_field()

    def __init__(self, *args, post, **kwargs):
        super().__init__(*args, **kwargs)
        if post.kind != PostKind.THING:
            del self.fields["terms"]
        if not self.is_bound:
            self.initial.update(
                category=post.category,
                title=post.title,
                body=post.body,
                terms=post.terms,
                availability=post.availability,
            )
        self._style()

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "category": data["category"],
            "terms": data.get("terms") or "",
            "availability": data.get("availability") or "",
            "acknowledge_personal": bool(data.get("acknowledge_personal")),
        }


class PhotoAddForm(RefusalFormMixin, forms.Form):
    photo = forms.FileField(
        label=_("Foto"),
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT, "class": "community-file"}),
        help_text=_("JPEG, PNG of WebP, tot 10 MB."),
        error_messages={"required": _("Kies een foto.")},
    )
    alt = forms.CharField(
        label=_("Wat staat er op de foto?"),
        required=False,
        max_length=posts.ALT_MAX,
        help_text=_("Een korte beschrijving voor wie de foto niet kan zien."),
    )
    domain_field_aliases = {"photos": "photo"}


# --- "notify me" ---------------------------------------------------------------------------------


class SavedSearchForm(RefusalFormMixin, forms.Form):
    """A saved search from the resident's own postcode area (``matching.saved_search_create``)."""

    type = forms.ChoiceField(label=_("Aanbod of vraag"), required=False)
    kind = forms.ChoiceField(label=_("Soort"), required=False)
    category = forms.ChoiceField(label=_("Categorie"), required=False)
    words = forms.CharField(label=_("Woorden"), required=False, max_length=100)
    radius_km = forms.TypedChoiceField(
        label=_("Binnen"),
        coerce=int,
        choices=RADIUS_CHOICES,
        initial=5,
        help_text=_("Gemeten vanaf je eigen postcodegebied."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _with_all(
            [(PostType.OFFER, _("aanbod")), (PostType.REQUEST, _("vraag"))]
        )
        self.fields["kind"].choices = _with_all(PostKind.choices)
        self.fields["category"].choices = _with_all(Category.choices)


# --- the review of an activity idea (staff) -----------------------------------------------------


def _without_idea_prefix(title: str) -> str:
    """ "Idee: een repair café" -> "een repair café" (an activity is no idea any more)."""
    head, sep, rest = title.partition(":")
    if sep and head.strip().lower() in ("idee", "idea") and rest.strip():
        rest = rest.strip()
        return rest[:1].upper() + rest[1:]
    return title


class IdeaApproveForm(RefusalFormMixin, forms.Form):
    """The few facts a draft activity needs; the programmer completes it afterwards in the
    programming screens (``programming:staff_activity``)."""

    kind = forms.ChoiceField(label=_("Soort activiteit"), choices=ActivityKind.choices)
    title = forms.CharField(label=_("Titel"), max_length=150)
    summary = forms.CharField(
        label=_("Korte omschrijving"),
        max_length=300,
        widget=_textarea(3),
    )
    audience = forms.ChoiceField(label=_("Doelgroep"), choices=Audience.choices)
    challenge = forms.ChoiceField(
        label=_("Maatschappelijke opgave"),
        choices=[("", _("Kies een opgave")), *Challenge.choices],
    )
    location = forms.TypedChoiceField(label=_("Locatie"), coerce=int)
    date = forms.DateField(
        label=_("Datum"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Vul een datum in, bijvoorbeeld 31-12-2025.")},
    )
    start_time = forms.TimeField(
        label=_("Begintijd"),
        input_formats=TIME_INPUT_FORMATS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Vul een tijd in, bijvoorbeeld 19:30.")},
    )
    end_time = forms.TimeField(
        label=_("Eindtijd"),
        input_formats=TIME_INPUT_FORMATS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Vul een tijd in, bijvoorbeeld 19:30.")},
    )
    capacity = forms.IntegerField(
        label=_("Aantal plaatsen"),
        initial=20,
        min_value=0,
        max_value=100_000,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        help_text=_("0 betekent: geen aanmelding nodig, gewoon binnenlopen."),
        error_messages={"invalid": _("Vul een heel getal in.")},
    )
    note = forms.CharField(
        label=_("Bericht aan de bewoner (mag leeg)"),
        required=False,
        max_length=1000,
        widget=_textarea(3),
    )

    domain_field_aliases = {
        "location_id": "location",
        "starts_at": "start_time",
        "ends_at": "end_time",
    }

    def __init__(self, *args, organisation, idea=None, **kwargs):
        super().__init__(*args, **kwargs)
        from bieb.network.models import Location, LocationKind

        locations = (
            Location.objects.filter(organisation=organisation, is_active=True)
            .exclude(kind=LocationKind.LOCKER)
            .order_by("name")
        )
        self.fields["location"].choices = [("", _("Kies een locatie"))] + [
            (loc.pk, f"{loc.name} ({loc.get_kind_display()})") for loc in locations
        ]
        if idea is not None and not self.is_bound:
            self.initial.update(
                title=_without_idea_prefix(idea.title)[:150],
                summary=" ".join(idea.body.split())[:300],
                kind=ActivityKind.EVENT,
                audience=Audience.EVERYONE,
            )

    def to_input(self) -> ActivityInput:
        data = self.cleaned_data
        return ActivityInput(
            kind=data["kind"],
            title=data["title"],
            summary=data["summary"],
            audience=data["audience"],
            challenge=data["challenge"],
            location_id=data["location"],
            starts_at=local_moment(data["date"], data["start_time"]),
            ends_at=local_moment(data["date"], data["end_time"]),
            capacity=data["capacity"],
        )

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < clock.today():
            raise forms.ValidationError(_("Kies een datum vanaf vandaag."))
        return day


class IdeaRejectForm(AccessibleFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Waarom gaat het idee niet door?"),
        max_length=1000,
        widget=_textarea(3),
        help_text=_("De bewoner krijgt deze uitleg per e-mail. Schrijf vriendelijk en concreet."),
        error_messages={
            "required": _("Leg in een paar woorden uit waarom het idee niet doorgaat.")
        },
    )
