"""Forms of the library of things: the catalogue's GET filters, a booking (first and last
day), how staff lend a thing (settings), and the desk's lending, taking back, repair and
cancelling.

Forms parse what people type; ``community.things`` checks and decides. A refusal
(``DomainError``) is put on the field it names (``details["field"]``) or above the form.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import DATE_INPUT_FORMATS
from bieb.community import things
from bieb.community.forms_moderation import RefusalMixin, textarea_widget
from bieb.programming.forms_staff import cents_to_euros, euros_to_cents

CONDITION_MAX = 500


def _date_field(label, *, required: bool = True, help_text="") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": _("Vul een datum in, bijvoorbeeld 31-12-2025."),
            "required": _("Vul een datum in."),
        },
    )


class ThingsFilterForm(RefusalMixin, forms.Form):
    """The catalogue's GET filters: words of the name, a location, a municipality and "free
    on" a day."""

    zoek = forms.CharField(
        label=_("Wat zoek je?"),
        required=False,
        max_length=100,
        help_text=_("Bijvoorbeeld: boormachine, naaimachine of beamer."),
    )
    locatie = forms.ChoiceField(label=_("Locatie"), required=False)
    gemeente = forms.ChoiceField(label=_("Gemeente"), required=False)
    vrij_op = _date_field(
        _("Vrij op"), required=False, help_text=_("Alleen dingen die die dag te leen zijn.")
    )

    def __init__(self, *args, locations=(), municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locatie"].choices = [("", _("alle locaties")), *locations]
        self.fields["gemeente"].choices = [("", _("alle gemeenten")), *municipalities]


class BookingForm(RefusalMixin, forms.Form):
    domain_code_fields = {
        "date_in_past": "first_day",
        "too_far_ahead": "first_day",
        "dates_reversed": "last_day",
        "too_long": "last_day",
    }

    first_day = _date_field(_("Eerste dag"), help_text=_("De dag dat je het ophaalt."))
    last_day = _date_field(_("Laatste dag"), help_text=_("De dag dat je het terugbrengt."))


class ThingSettingsForm(RefusalMixin, forms.Form):
    """How a thing is lent (``things.thing_settings_set``); the deposit in euros."""

    buffer_days = forms.IntegerField(
        label=_("Dagen tussen twee uitleningen"),
        min_value=0,
        max_value=things.MAX_BUFFER_DAYS,
        help_text=_("Om na te kijken en schoon te maken. In die dagen kan niemand reserveren."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    deposit = forms.CharField(
        label=_("Borg in euro"),
        max_length=12,
        help_text=_("Betaald aan de balie bij het lenen; 0 voor geen borg. Bijvoorbeeld 25,00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    max_days = forms.IntegerField(
        label=_("Ten hoogste dagen lenen"),
        min_value=1,
        max_value=things.MAX_LOAN_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    instructions = forms.CharField(
        label=_("Uitleg voor wie het leent"),
        required=False,
        max_length=2000,
        widget=textarea_widget(4),
        help_text=_("Wat zit erbij, waar moet je op letten. Staat op de pagina en in de e-mail."),
    )

    domain_code_fields = {"deposit_cents": "deposit"}

    @classmethod
    def for_settings(cls, settings) -> ThingSettingsForm:
        return cls(
            initial={
                "buffer_days": settings.buffer_days,
                "deposit": cents_to_euros(settings.deposit_cents),
                "max_days": settings.max_days,
                "instructions": settings.instructions,
            }
        )

    def clean_deposit(self) -> int:
        return euros_to_cents(self.cleaned_data["deposit"])


class _DeskForm(RefusalMixin, forms.Form):
    """A desk action on one booking at ``locations`` (those of the thing's library; the
    cleaned ``location`` is the Location itself)."""

    location = forms.TypedChoiceField(label=_("Locatie"), coerce=int)

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._locations = {location.pk: location for location in locations}
        self.fields["location"].choices = [
            (location.pk, location.name) for location in self._locations.values()
        ]

    def clean_location(self):
        return self._locations[self.cleaned_data["location"]]


class LendForm(_DeskForm):
    domain_code_fields = {"deposit_required": "deposit_received"}

    deposit_received = forms.BooleanField(label=_("Borg ontvangen"), required=False)
    condition_out = forms.CharField(
        label=_("Staat bij het meegeven"),
        required=False,
        max_length=CONDITION_MAX,
        help_text=_("Bijvoorbeeld: compleet, kras op de greep."),
    )

    def __init__(self, *args, deposit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not deposit:
            del self.fields["deposit_received"]


class ReturnForm(_DeskForm):
    condition_back = forms.CharField(
        label=_("Staat bij het terugbrengen"),
        required=False,
        max_length=CONDITION_MAX,
        help_text=_("Bijvoorbeeld: schoon en compleet."),
    )
    needs_repair = forms.BooleanField(
        label=_("Kapot: naar reparatie"),
        required=False,
        help_text=_(
            "Latere reserveringen worden dan geannuleerd en de bewoners krijgen een e-mail."
        ),
    )


class RepairForm(RefusalMixin, forms.Form):
    note = forms.CharField(
        label=_("Wat is er kapot?"),
        required=False,
        max_length=CONDITION_MAX,
        help_text=_(
            "Reserveringen die nog komen worden geannuleerd; de bewoners krijgen een e-mail."
        ),
    )


class CancelForm(RefusalMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reden voor de bewoner"),
        required=False,
        max_length=300,
        help_text=_("De bewoner krijgt een e-mail met deze reden."),
    )
