"""Forms for "Mijn abonnement" and the staff screens of Abonnement 2.0. They parse input; the
services decide, and the views put a service's refusal (``DomainError``) on the field it is
about (``details["field"]``, or the code in ``domain_code_fields``) or above the form."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import DATE_INPUT_FORMATS, AccessibleFormMixin
from bieb.circulation.forms_rules import EuroField
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.subscriptions.models import Interval, Plan


class RefusalFormMixin(AccessibleFormMixin):
    """``add_domain_error`` that also knows which field a refusal code is about."""

    #: refusal code -> field, for refusals that do not name their field
    domain_code_fields: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        field = error.details.get("field") or self.domain_code_fields.get(error.code)
        field = self.domain_field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, error.message)


def _date_field(label, help_text) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
    )


def _pass_code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Stadspascode"),
        max_length=40,
        required=False,
        help_text=_("Alleen voor het tarief met stadspas: de code op je stadspas."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class SwitchOffForm(RefusalFormMixin, forms.Form):
    """Switch off today (no date) or from a later date."""

    from_date = _date_field(
        _("Uitzetten vanaf"),
        _("Leeg laten is vandaag. Een latere datum kun je tot die dag ongedaan maken."),
    )
    domain_code_fields = {"date_in_past": "from_date", "subscription_ending": "from_date"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_date"].widget.attrs["min"] = clock.today().isoformat()


class _PlanChoiceForm(RefusalFormMixin, forms.Form):
    """A choice among ``plans`` (the template shows each with what it includes and costs)."""

    plan = forms.ChoiceField(
        label=_("Abonnementsvorm"),
        widget=forms.RadioSelect(attrs={"class": "utrecht-radio-button"}),
        error_messages={"required": _("Kies een abonnementsvorm.")},
    )
    domain_code_fields = {
        "plan_unknown": "plan",
        "plan_not_subscribable": "plan",
        "plan_not_available": "plan",
        "plan_not_for_age": "plan",
        "youth_is_free": "plan",
        "same_plan": "plan",
    }

    def __init__(self, *args, plans: Iterable[Plan] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.code, plan.name) for plan in plans]
        self.fields["plan"].error_messages["invalid_choice"] = _(
            "Kies een van de abonnementsvormen hieronder."
        )


class SubscribeForm(_PlanChoiceForm):
    interval = forms.ChoiceField(
        label=_("Betalen"),
        choices=[(Interval.MONTH, _("per maand")), (Interval.YEAR, _("per jaar"))],
        initial=Interval.MONTH,
        widget=forms.RadioSelect(attrs={"class": "utrecht-radio-button"}),
        error_messages={"required": _("Kies per maand of per jaar betalen.")},
    )
    municipal_pass_code = _pass_code_field()
    domain_code_fields = {**_PlanChoiceForm.domain_code_fields, "interval_unknown": "interval"}


class PlanChangeChoiceForm(_PlanChoiceForm):
    """Step one of changing plan: which plan (GET; nothing changes yet)."""


class PlanChangeConfirmForm(RefusalFormMixin, forms.Form):
    """Step two: the plan (carried over) and, for the stadspas plan, the code."""

    plan = forms.CharField(widget=forms.HiddenInput)
    municipal_pass_code = _pass_code_field()


class MandateForm(RefusalFormMixin, forms.Form):
    """Give a SEPA direct-debit mandate (machtiging). The mandates service checks the IBAN."""

    account_holder = forms.CharField(
        label=_("Naam rekeninghouder"),
        max_length=70,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        help_text=_("Bijvoorbeeld NL91 ABNA 0417 1643 00. Spaties mogen."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    consent = forms.BooleanField(
        label=_(
            "Ik geef de bibliotheek toestemming om de bedragen van mijn facturen "
            "van deze rekening af te schrijven."
        ),
        error_messages={"required": _("Vink aan dat je toestemming geeft voor de incasso.")},
    )
    domain_code_fields = {"iban_invalid": "iban", "account_holder_required": "account_holder"}

    def clean_iban(self) -> str:
        return re.sub(r"\s+", "", self.cleaned_data["iban"]).upper()


# --- staff -----------------------------------------------------------------------------------


class ResidentSearchForm(AccessibleFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Pasnummer of e-mailadres"),
        max_length=254,
        required=False,
        help_text=_("Het hele pasnummer of het hele e-mailadres van de inwoner."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class StaffSwitchOffForm(SwitchOffForm):
    """The same as the resident's, with a staff member's labels."""

    from_date = _date_field(
        _("Uitzetten vanaf"),
        _("Leeg laten is vandaag. Een latere datum kan de inwoner tot die dag ongedaan maken."),
    )


class InvoiceCreditForm(RefusalFormMixin, forms.Form):
    amount = EuroField(label=_("Bedrag in euro"), help_text=_("Bijvoorbeeld 4,75."))
    reason = forms.CharField(
        label=_("Reden"),
        max_length=150,
        help_text=_("Komt op de creditnota, zodat de inwoner het ook leest."),
    )
    domain_code_fields = {"amount_invalid": "amount", "credit_too_large": "amount"}


class PlanPriceForm(RefusalFormMixin, forms.Form):
    """A new price for a plan from a date (network administrators)."""

    plan = forms.ChoiceField(label=_("Abonnementsvorm"))
    effective_from = forms.DateField(
        label=_("Geldig vanaf"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "Vandaag of later. Een periode die al loopt, houdt de prijs van haar eerste dag."
        ),
    )
    monthly = EuroField(label=_("Prijs per maand in euro"), help_text=_("Bijvoorbeeld 4,75."))
    yearly = EuroField(label=_("Prijs per jaar in euro"), help_text=_("Bijvoorbeeld 55,00."))
    one_off = EuroField(
        label=_("Prijs per keer in euro"),
        required=False,
        help_text=_("Alleen voor een dagpas; anders leeg laten."),
    )
    vat_rate = forms.DecimalField(
        label=_("Btw-tarief in procenten"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        help_text=_(
            "Alleen als het tarief verandert, bijvoorbeeld 21. Leeg: het tarief blijft zoals het is."
        ),
    )
    domain_code_fields = {
        "date_in_past": "effective_from",
        "youth_is_free": "monthly",
        "vat_rate_invalid": "vat_rate",
    }

    def clean_vat_rate(self) -> int | None:
        value = self.cleaned_data.get("vat_rate")
        return None if value is None else int(value * 100)

    def __init__(self, *args, plans: Iterable[Plan] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].widget.attrs["min"] = clock.today().isoformat()
        self.fields["plan"].choices = [("", _("Kies een abonnementsvorm"))] + [
            (str(plan.pk), plan.name) for plan in plans
        ]

    def clean_one_off(self) -> int:
        return self.cleaned_data.get("one_off") or 0
