"""Forms for the circulation rules page. They parse what a manager types (amounts in euros the
Dutch way, "0,25") into whole cents; ``rules_services`` checks the ranges and decides."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import AccessibleFormMixin
from bieb.catalog.models import Format
from bieb.circulation import rules_services
from bieb.circulation.models import PatronCategory

# "1.234,56": dots group thousands (in threes, first group without a leading zero)
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?")
_PLAIN = re.compile(r"\d+(?:[.,]\d*)?|[.,]\d+")


def euros_to_cents(text: str) -> int:
    """Parse an amount in euros ("0,25", "1,5", "€ 2", "1.000,00", "0.25") into whole cents,
    exactly (``Decimal``, never a float). More than two decimals, a negative amount or
    anything else is refused with a ``forms.ValidationError``."""
    raw = "".join((text or "").replace("€", " ").split())
    if _GROUPED.fullmatch(raw):
        raw = raw.replace(".", "")
    if not _PLAIN.fullmatch(raw):
        raise forms.ValidationError(
            _("Vul een bedrag in euro's in, bijvoorbeeld 0,25."), code="invalid_amount"
        )
    try:
        amount = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and one mark
        raise forms.ValidationError(
            _("Vul een bedrag in euro's in, bijvoorbeeld 0,25."), code="invalid_amount"
        ) from None
    if amount.as_tuple().exponent < -2:
        raise forms.ValidationError(
            _("Een bedrag heeft hoogstens twee cijfers na de komma, bijvoorbeeld 0,25."),
            code="too_precise",
        )
    return int(amount * 100)


def cents_to_euros(cents: int) -> str:
    """Cents as a manager types them back: 25 -> "0,25" (no euro sign, no thousands dots)."""
    euros, rest = divmod(int(cents), 100)
    return f"{euros},{rest:02d}"


class EuroField(forms.Field):
    """An amount in euros, cleaned to whole cents (an ``int``)."""

    widget = forms.TextInput
    max_length = 20

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "maxlength": str(self.max_length)}
        )

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return cents_to_euros(value)
        return value

    def to_python(self, value):
        value = (value or "").strip() if isinstance(value, str) else value
        if value in self.empty_values:
            return None
        if len(value) > self.max_length:
            raise forms.ValidationError(
                _("Vul een bedrag in euro's in, bijvoorbeeld 0,25."), code="invalid_amount"
            )
        return euros_to_cents(value)


def _whole(label, bounds: tuple[int, int], help_text) -> forms.IntegerField:
    low, high = bounds
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric"}),
    )


class PolicyForm(AccessibleFormMixin, forms.Form):
    """One loan policy: which loans (format, category) and the numbers for them."""

    format = forms.ChoiceField(
        label=_("Vorm"),
        choices=[("", _("Alle vormen")), *Format.choices],
        required=False,
    )
    category = forms.ChoiceField(
        label=_("Lenerscategorie"),
        choices=[("", _("Alle lenerscategorieën")), *PatronCategory.choices],
        required=False,
        help_text=_("Jeugd betaalt nooit te-laatgeld, wat hier ook staat (de wet)."),
    )
    loan_days = _whole(
        _("Uitleentermijn in dagen"),
        rules_services.LOAN_DAYS_RANGE,
        _("1 tot 366 dagen."),
    )
    max_renewals = _whole(
        _("Maximaal verlengen"),
        rules_services.MAX_RENEWALS_RANGE,
        _("Hoe vaak een lener mag verlengen: 0 tot 20 keer."),
    )
    max_loans = _whole(
        _("Maximaal tegelijk geleend"),
        rules_services.MAX_LOANS_RANGE,
        _("1 tot 200 exemplaren."),
    )
    overdue_fee = EuroField(
        label=_("Te-laatgeld per dag (euro)"),
        help_text=_("Bijvoorbeeld 0,25. Vul 0 in voor geen te-laatgeld."),
    )
    overdue_fee_max = EuroField(
        label=_("Te-laatgeld ten hoogste (euro)"),
        help_text=_("Per uitlening, bijvoorbeeld 5,00. Vul 0 in voor geen maximum."),
    )


class RulesForm(AccessibleFormMixin, forms.Form):
    """An organisation's other circulation choices."""

    floating = forms.BooleanField(
        label=_("Zwevende collectie: ingeleverde exemplaren blijven waar ze zijn ingeleverd"),
        required=False,
    )
    hold_shelf_days = _whole(
        _("Dagen op de afhaalplank"),
        rules_services.HOLD_SHELF_DAYS_RANGE,
        _("Zo lang blijft een reservering klaarliggen: 1 tot 60 dagen."),
    )
    lost_fee = EuroField(
        label=_("Administratiekosten bij verlies (euro)"),
        help_text=_("Bovenop de vervangingswaarde, bijvoorbeeld 7,50. Vul 0 in voor geen kosten."),
    )
