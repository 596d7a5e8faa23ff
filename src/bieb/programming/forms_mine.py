"""Forms of the resident's and visitor's side of registration. They parse input; the services
decide (and refuse with a ``DomainError`` that the views show on the form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import AccessibleFormMixin
from bieb.programming.models import Activity, PriceKind


class RegisterForm(AccessibleFormMixin, forms.Form):
    """Seats (when a group may come), paying at the door (when the activity allows it) and,
    for a visitor without an account, a name and an e-mail address."""

    seats = forms.IntegerField(
        label=_("Aantal plaatsen"),
        min_value=1,
        initial=1,
        error_messages={"required": _("Vul in met hoeveel mensen je komt.")},
    )
    pay_at_door = forms.BooleanField(label=_("Ik betaal aan de deur"), required=False)
    name = forms.CharField(
        label=_("Je naam"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        max_length=254,
        help_text=_("We sturen je een link om je aanmelding te bevestigen."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Vul een geldig e-mailadres in.")},
    )

    def __init__(self, *args, activity: Activity, visitor: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.visitor = visitor
        seats = self.fields["seats"]
        seats.label = _("Met hoeveel mensen kom je?")
        if activity.max_group_size > 1:
            # the most seats is the service's rule (``too_many_seats``, with its message)
            seats.widget.attrs.update(
                {"min": 1, "max": activity.max_group_size, "inputmode": "numeric"}
            )
            seats.help_text = _(
                "Kom je met je gezin of een klas? Elke persoon telt als een plaats; "
                "hoogstens %(max)s per aanmelding."
            ) % {"max": activity.max_group_size}
        else:
            del self.fields["seats"]
        if visitor or activity.price_kind == PriceKind.FREE or not activity.pay_at_door:
            # a visitor always pays at the door (the only way without an account)
            del self.fields["pay_at_door"]
        elif activity.price_kind == PriceKind.CREDITS:
            self.fields["pay_at_door"].help_text = _(
                "Heb je genoeg activiteitentegoed, dan gebruiken we dat eerst."
            )
        if not visitor:
            del self.fields["name"]
            del self.fields["email"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    @property
    def seats_wanted(self) -> int:
        if "seats" not in self.fields:  # one seat is all this activity gives a registration
            return 1
        return self.cleaned_data.get("seats") or 1


class OfferAcceptForm(forms.Form):
    """Accepting an offered seat; a resident may choose to pay at the door."""

    pay_at_door = forms.BooleanField(required=False)
