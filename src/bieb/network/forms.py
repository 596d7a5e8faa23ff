"""Forms of the public network pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.network.models import Location
from bieb.network.selectors import QUERY_MAX_LENGTH


class FindForm(forms.Form):
    """ "Find your library": a postcode or place, optionally one kind of location."""

    q = forms.CharField(
        label=_("Postcode of plaats"),
        max_length=QUERY_MAX_LENGTH,
        help_text=_("Bijvoorbeeld 1011 AB, 3511 of Leeuwarden."),
        error_messages={
            "required": _("Vul een postcode of plaats in."),
            "max_length": _("Dat is te lang. Vul een postcode of plaatsnaam in."),
        },
    )
    kind = forms.ChoiceField(
        label=_("Soort locatie"),
        required=False,
        choices=[("", _("Alle soorten")), *Location.Kind.choices],
        error_messages={"invalid_choice": _("Kies een soort uit de lijst.")},
    )
