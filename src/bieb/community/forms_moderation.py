"""Forms of reporting and moderation: a resident's report (why, and a note), a moderator's
action on a report or a resident (what, for how long, and the explanation the resident reads),
and a phrase for the word filter.

Forms parse what people type; ``community.moderation`` checks and decides. A refusal
(``DomainError``) is put on the field it names (``details["field"]``) or above the form.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bieb.accounts.forms import AccessibleFormMixin
from bieb.community.models import ModerationKind, ReportReason
from bieb.community.moderation import MAX_SUSPENSION_DAYS
from bieb.core.errors import DomainError

#: what a moderator may do with a report: the actions of ``moderation.moderate`` and "dismiss"
#: (``moderation.report_dismiss``: nothing wrong found)
DISMISS = "dismiss"
EXPLANATION_MAX = 500
NOTE_MAX = 500


class RefusalMixin(AccessibleFormMixin):
    """``add_domain_error``: a service's refusal on the field it names, else above the form."""

    #: refusal code -> field, for refusals that do not name their field
    domain_code_fields: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        field = (error.details or {}).get("field")
        if field not in self.fields:  # the service's name may differ from the form's
            field = self.domain_code_fields.get(error.code, field)
        self.add_error(field if field in self.fields else None, error.message)
        if field in self.fields:  # link the input to its new message
            widget = self.fields[field].widget
            widget.attrs["aria-invalid"] = "true"
            widget.attrs["aria-describedby"] = f"{self.add_prefix(field)}-error"


def _radio() -> forms.RadioSelect:
    # the browser's own radio (coloured by ``accent-color``): the theme gives
    # "utrecht-radio-button" no checked look, so a choice made would not show
    return forms.RadioSelect(attrs={"class": "community-radio"})


#: text areas wrap their lines (the site's default class for text, ``utrecht-textbox``, does not)
TEXTAREA_CLASS = "utrecht-textarea utrecht-textarea--html-textarea"


def textarea_widget(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": TEXTAREA_CLASS})


def _explanation_field(*, required: bool = True, help_text=None) -> forms.CharField:
    return forms.CharField(
        label=_("Uitleg voor de bewoner"),
        required=required,
        max_length=EXPLANATION_MAX,
        widget=textarea_widget(3),
        help_text=help_text
        or _(
            "De bewoner krijgt deze uitleg per e-mail, met hoe bezwaar maken werkt. Schrijf "
            "vriendelijk en concreet wat er niet mocht."
        ),
        error_messages={
            "required": _("Schrijf op waarom: de bewoner krijgt deze uitleg te lezen.")
        },
    )


class ReportForm(RefusalMixin, forms.Form):
    """A resident reports a post, a message or a resident."""

    domain_code_fields = {"report_reason": "reason"}

    reason = forms.ChoiceField(
        label=_("Waarom meld je dit?"),
        choices=ReportReason.choices,
        widget=_radio(),
        error_messages={"required": _("Kies waarom je dit meldt.")},
    )
    note = forms.CharField(
        label=_("Toelichting"),
        required=False,
        max_length=NOTE_MAX,
        widget=textarea_widget(4),
        help_text=_(
            "Wat is er aan de hand? Alleen de moderatoren van de bibliotheek lezen dit; de "
            "persoon die je meldt ziet niet dat jij het was."
        ),
    )


class ModerateForm(RefusalMixin, forms.Form):
    """What a moderator does with one report. ``kinds`` are the actions that fit it (hiding
    needs a post or message; a restore something hidden or a suspension)."""

    domain_code_fields = {
        "moderation_kind": "kind",
        "nothing_to_hide": "kind",
        "nothing_to_restore": "kind",
        "no_person": "kind",
    }

    kind = forms.ChoiceField(
        label=_("Wat doe je?"),
        widget=_radio(),
        error_messages={"required": _("Kies wat je wilt doen.")},
    )
    days = forms.IntegerField(
        label=_("Schorsen voor hoeveel dagen?"),
        required=False,
        min_value=1,
        max_value=MAX_SUSPENSION_DAYS,
        help_text=_("Alleen bij schorsen. Leeg: tot je de schorsing zelf opheft."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Vul een aantal dagen in, bijvoorbeeld 7."),
            "min_value": _("Schors voor 1 tot %(max)s dagen.") % {"max": MAX_SUSPENSION_DAYS},
            "max_value": _("Schors voor 1 tot %(max)s dagen.") % {"max": MAX_SUSPENSION_DAYS},
        },
    )
    explanation = _explanation_field(
        required=False,
        help_text=_(
            "Verplicht, behalve bij 'geen actie'. De bewoner krijgt deze uitleg per e-mail, "
            "met hoe bezwaar maken werkt."
        ),
    )

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind != DISMISS and not (data.get("explanation") or "").strip():
            self.add_error(
                "explanation", _("Schrijf op waarom: de bewoner krijgt deze uitleg te lezen.")
            )
        if kind != ModerationKind.SUSPEND:
            data["days"] = None
        return data


def report_kinds(*, can_hide: bool, can_restore: bool) -> list[tuple[str, str]]:
    """The choices of ``ModerateForm`` for one report, in words a moderator reads quickly."""
    kinds = []
    if can_hide:
        kinds.append((ModerationKind.HIDE, _("Verbergen (en de bewoner uitleggen waarom)")))
    kinds.append((ModerationKind.WARN, _("Waarschuwen (er verandert niets)")))
    kinds.append((ModerationKind.SUSPEND, _("Schorsen (niets plaatsen of versturen)")))
    if can_restore:
        kinds.append((ModerationKind.RESTORE, _("Herstellen (weer zichtbaar maken)")))
    kinds.append((DISMISS, _("Geen actie: er is niets mis (de melding sluiten)")))
    return kinds


class PersonActionForm(RefusalMixin, forms.Form):
    """A moderator acts on a resident directly: warn, suspend, lift a suspension, or restore
    one hidden post or message (``action``; ``target`` is the post or message id)."""

    ACTIONS = ("warn", "suspend", "lift", "restore_post", "restore_message")

    domain_code_fields = {"nothing_to_restore": "action", "no_person": "action"}

    action = forms.ChoiceField(
        label=_("Wat doe je?"),
        choices=[
            ("warn", _("Waarschuwen")),
            ("suspend", _("Schorsen")),
            ("lift", _("Schorsing opheffen")),
            ("restore_post", _("Bericht herstellen")),
            ("restore_message", _("Chatbericht herstellen")),
        ],
        widget=forms.HiddenInput,
    )
    target = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    days = forms.IntegerField(
        label=_("Aantal dagen"),
        required=False,
        min_value=1,
        max_value=MAX_SUSPENSION_DAYS,
        help_text=_("Leeg: tot je de schorsing zelf opheft."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Vul een aantal dagen in, bijvoorbeeld 7."),
            "min_value": _("Schors voor 1 tot %(max)s dagen.") % {"max": MAX_SUSPENSION_DAYS},
            "max_value": _("Schors voor 1 tot %(max)s dagen.") % {"max": MAX_SUSPENSION_DAYS},
        },
    )
    explanation = _explanation_field()

    def clean(self):
        data = super().clean()
        if data.get("action") in ("restore_post", "restore_message") and not data.get("target"):
            raise forms.ValidationError(_("Kies wat je wilt herstellen."))
        if data.get("action") != "suspend":
            data["days"] = None
        return data


class WordFilterForm(RefusalMixin, forms.Form):
    domain_code_fields = {"phrase_too_short": "phrase"}

    phrase = forms.CharField(
        label=_("Woord of zin"),
        max_length=60,
        help_text=_(
            "Berichten met dit woord of deze zin worden geweigerd, met een melding aan de "
            "schrijver. Hoofdletters en accenten maken niet uit; het hele woord moet overeenkomen."
        ),
        error_messages={"required": _("Vul een woord of zin in.")},
    )
