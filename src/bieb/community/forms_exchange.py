"""Forms of safe exchange (``views_exchange``): messages, thanks, calling an exchange off,
a handover at a library location, and the desk's code, unlock and return forms.

The services clean and check what matters (plain text, lengths, who may); these forms only
parse what a browser sends and say in Dutch what is missing.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bieb.community.exchanges import THANKS_MAX
from bieb.community.messages import BODY_MAX

CANCEL_REASON_MAX = 300
_TEXTBOX = "utrecht-textbox utrecht-textbox--html-input"
_TEXTAREA = "utrecht-textarea utrecht-textarea--html-textarea"
#: what the desk types: six digits, perhaps with spaces or a dash ("123 456", "123-456")
CODE_TYPED_MAX = 12


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Je bericht"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": BODY_MAX, "class": _TEXTAREA}),
        help_text=gettext_lazy(
            "Je bericht blijft op de site. Links worden niet aanklikbaar gemaakt. Deel geen "
            "adres of bankgegevens; spullen kun je doorgeven via de bibliotheek."
        ),
        error_messages={
            "required": gettext_lazy("Schrijf een bericht."),
            "max_length": gettext_lazy("Een bericht is hooguit %(limit_value)d tekens lang."),
        },
    )


class ThanksForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Een korte zin (mag leeg blijven)"),
        max_length=THANKS_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": THANKS_MAX, "autocomplete": "off", "class": _TEXTBOX}
        ),
        help_text=gettext_lazy("Anderen zien deze zin op het profiel. Geen cijfers of sterren."),
        error_messages={
            "max_length": gettext_lazy("Hooguit %(limit_value)d tekens."),
        },
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Waarom gaat het niet door? (mag leeg blijven)"),
        max_length=CANCEL_REASON_MAX,
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": CANCEL_REASON_MAX, "autocomplete": "off", "class": _TEXTBOX}
        ),
        help_text=gettext_lazy("Alleen voor de bibliotheek; de ander ziet dit niet."),
    )


class HandoverForm(forms.Form):
    """The giver picks a library location; ``choices`` are the option groups offered (the
    post's municipality first), and only those are accepted."""

    location = forms.TypedChoiceField(
        label=gettext_lazy("Bibliotheeklocatie"),
        coerce=int,
        # no "utrecht-select--html-select": it hides the browser's arrow and the theme draws none
        widget=forms.Select(attrs={"class": "utrecht-select"}),
        help_text=gettext_lazy(
            "Je brengt het naar de balie of de afhaalkluis. De ander haalt het daar op met een "
            "code die alleen de ander per e-mail krijgt."
        ),
        error_messages={
            "required": gettext_lazy("Kies een bibliotheeklocatie."),
            "invalid_choice": gettext_lazy("Kies een bibliotheeklocatie uit de lijst."),
        },
    )

    def __init__(self, *args: Any, choices: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", _("Kies een locatie")), *choices]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Ophaalcode"),
        max_length=CODE_TYPED_MAX,
        widget=forms.TextInput(
            attrs={
                "class": _TEXTBOX,
                "inputmode": "numeric",
                "autocomplete": "off",
                "maxlength": CODE_TYPED_MAX,
            }
        ),
        error_messages={
            "required": gettext_lazy("Vul de ophaalcode in."),
            "max_length": gettext_lazy("Een ophaalcode heeft zes cijfers."),
        },
    )

    def clean_code(self) -> str:
        return re.sub(r"[\s-]", "", self.cleaned_data["code"])


class UnlockForm(forms.Form):
    new_code = forms.BooleanField(
        label=gettext_lazy("Stuur een nieuwe code per e-mail (de oude werkt dan niet meer)"),
        required=False,
    )


class ReturnForm(forms.Form):
    id_checked = forms.BooleanField(
        label=gettext_lazy("Ik heb het identiteitsbewijs van de brenger gecontroleerd"),
        error_messages={
            "required": gettext_lazy(
                "Controleer eerst het identiteitsbewijs van wie het bracht, en vink dat aan."
            )
        },
    )
