"""Forms for the desk, the resident's loans and holds, and terminal accounts. They parse input;
the services decide (and refuse with a ``DomainError`` that the views show on the form)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import DATE_INPUT_FORMATS, AccessibleFormMixin
from bieb.circulation import desk_selectors
from bieb.circulation.models import HoldScope
from bieb.core import clock

MAX_PAUSE_DAYS = 365


class CardScanForm(forms.Form):
    """A library card, scanned or typed (spaces are ignored)."""

    card = forms.CharField(label=_("Pasnummer"), max_length=40)

    def clean_card(self) -> str:
        return "".join(self.cleaned_data["card"].split())


class ItemScanForm(forms.Form):
    """A copy's barcode, scanned or typed."""

    barcode = forms.CharField(label=_("Barcode van het exemplaar"), max_length=40)


class _PickupField(forms.ChoiceField):
    """Active locations grouped by organisation; cleans to the ``Location``."""

    def __init__(self, *, first_organisation_id: int | None = None, **kwargs) -> None:
        kwargs.setdefault("label", _("Afhalen in"))
        super().__init__(
            choices=desk_selectors.pickup_locations(first_organisation_id=first_organisation_id),
            **kwargs,
        )

    def clean(self, value):
        value = super().clean(value)
        location = desk_selectors.active_location(value)
        if location is None:
            raise forms.ValidationError(_("Kies een locatie waar je kunt afhalen."))
        return location


class HoldPlaceForm(AccessibleFormMixin, forms.Form):
    pickup_location = forms.ChoiceField()  # replaced in __init__ (choices come from the database)
    scope = forms.ChoiceField(
        label=_("Waar mag het exemplaar vandaan komen?"),
        choices=HoldScope.choices,
        initial=HoldScope.NATIONAL,
        widget=forms.RadioSelect(attrs={"class": "utrecht-radio-button"}),
        help_text=_("Uit heel Nederland ben je meestal het snelst aan de beurt."),
    )

    def __init__(self, *args, person=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        home = getattr(person, "home_organisation_id", None)
        self.fields["pickup_location"] = _PickupField(first_organisation_id=home)


class HoldPickupForm(AccessibleFormMixin, forms.Form):
    pickup_location = forms.ChoiceField()  # replaced in __init__

    def __init__(self, *args, person=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        home = getattr(person, "home_organisation_id", None)
        self.fields["pickup_location"] = _PickupField(
            first_organisation_id=home, label=_("Nieuwe afhaallocatie")
        )


class HoldPauseForm(AccessibleFormMixin, forms.Form):
    not_before = forms.DateField(
        label=_("Pauzeren tot"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Vanaf deze datum doe je weer mee. Je plek in de wachtrij houd je."),
    )

    def clean_not_before(self) -> dt.date:
        day = self.cleaned_data["not_before"]
        today = clock.today()
        if day <= today:
            raise forms.ValidationError(_("Kies een datum na vandaag."))
        if day > today + dt.timedelta(days=MAX_PAUSE_DAYS):
            raise forms.ValidationError(_("Pauzeren kan hoogstens een jaar."))
        return day


class TerminalForm(AccessibleFormMixin, forms.Form):
    location = forms.ModelChoiceField(
        label=_("Locatie"),
        queryset=None,
        empty_label=_("Kies een locatie"),
    )
    name = forms.CharField(
        label=_("Naam"),
        max_length=80,
        help_text=_("Zo herken je de automaat, bijvoorbeeld: Uitleenautomaat bij de ingang."),
    )
    login = forms.CharField(
        label=_("Gebruikersnaam"),
        max_length=40,
        help_text=_("Letters, cijfers, punt of streepje; 3 tot 40 tekens."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, organisation_ids: set[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = desk_selectors.terminal_locations(
            organisation_ids=organisation_ids
        )
        self.fields["location"].label_from_instance = lambda loc: (
            f"{loc.name} — {loc.organisation.name}"
        )
