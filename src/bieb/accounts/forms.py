"""Forms for accounts screens. They parse input; the services validate the domain rules and the
views map a service's ``DomainError`` (``details["field"]``) back onto the field."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.forms import SetPasswordForm as DjangoSetPasswordForm
from django.utils.translation import gettext_lazy as _

from bieb.accounts.models import Language, UserManager
from bieb.core.errors import DomainError

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
TIME_INPUT_FORMATS = ["%H:%M", "%H.%M", "%H:%M:%S"]


class AccessibleFormMixin:
    """Utrecht classes on widgets; errors and help text linked with ``aria-describedby``.

    Styling happens once, when the first field is rendered, so forms that add or replace
    fields in ``__init__`` need no call of their own.
    """

    _widgets_styled = False

    def __getitem__(self, name):
        if not self._widgets_styled:
            self._style_widgets()
        return super().__getitem__(name)

    def _style_widgets(self) -> None:
        self._widgets_styled = True
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "utrecht-checkbox"
            elif isinstance(widget, forms.Select):
                css = "utrecht-select"
            elif isinstance(widget, forms.Textarea):
                css = "utrecht-textarea"  # wraps its lines (a textbox does not)
            else:
                css = "utrecht-textbox"
            widget.attrs.setdefault("class", css)
            if field.help_text:
                # Keep the error ids full_clean() may already have linked.
                widget.attrs.setdefault("aria-describedby", f"{self.add_prefix(name)}-help")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            widget = self.fields[name].widget
            ids = [f"{self.add_prefix(name)}-error"]
            if self.fields[name].help_text:
                ids.append(f"{self.add_prefix(name)}-help")
            widget.attrs["aria-describedby"] = " ".join(ids)
            widget.attrs["aria-invalid"] = "true"

    # A service's field name -> this form's field name, where they differ.
    domain_field_aliases: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        """Show a service's refusal on the field it names, or above the form."""
        field = error.details.get("field")
        field = self.domain_field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, error.message)


class LoginForm(AccessibleFormMixin, AuthenticationForm):
    """Log-in by e-mail address. The field keeps the name ``username`` (django-axes counts
    failures per ``AXES_USERNAME_FORM_FIELD``); it is lower-cased before authenticating so
    ``Lid@…`` and ``lid@…`` share one failure counter."""

    error_messages = {
        "invalid_login": _(
            "Dit e-mailadres en wachtwoord horen niet bij elkaar. Let op hoofdletters in het "
            "wachtwoord, of stel een nieuw wachtwoord in."
        ),
        "inactive": _("Dit account is niet actief."),
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"] = forms.CharField(
            label=_("E-mailadres"),
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        )
        self.fields["password"].label = _("Wachtwoord")

    def clean_username(self) -> str:
        return UserManager.normalize_email(self.cleaned_data.get("username"))


def _organisation_field() -> forms.ModelChoiceField:
    from bieb.network.models import Organisation

    return forms.ModelChoiceField(
        label=_("Eigen bibliotheek"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label=_("Nog geen keuze"),
        help_text=_("De bibliotheek waar je het vaakst komt. Je kunt dit later wijzigen."),
    )


class RegistrationForm(AccessibleFormMixin, forms.Form):
    domain_field_aliases = {"password": "password1"}

    first_name = forms.CharField(
        label=_("Voornaam"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Achternaam"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        max_length=254,
        help_text=_("We sturen je een link om je e-mailadres te bevestigen."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Wachtwoord"),
        strip=False,
        help_text=_("Minstens 10 tekens; niet alleen cijfers en geen veelgebruikt wachtwoord."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Wachtwoord nog een keer"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    birth_date = forms.DateField(
        label=_("Geboortedatum"),
        input_formats=DATE_INPUT_FORMATS,
        help_text=_("Bijvoorbeeld 31-12-1990."),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    postcode = forms.CharField(
        label=_("Postcode (niet verplicht)"),
        max_length=10,
        required=False,
        help_text=_("Bijvoorbeeld 1234 AB."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    guardian_email = forms.EmailField(
        label=_("E-mailadres van je ouder of voogd"),
        max_length=254,
        required=False,
        help_text=_("Alleen nodig als je jonger bent dan 16: die persoon geeft toestemming."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_organisation"] = _organisation_field()

    def clean(self) -> dict:
        data = super().clean()
        if (
            data.get("password1")
            and data.get("password2")
            and data["password1"] != data["password2"]
        ):
            self.add_error("password2", _("De twee wachtwoorden zijn niet gelijk."))
        return data


class ProfileForm(AccessibleFormMixin, forms.Form):
    first_name = forms.CharField(label=_("Voornaam"), max_length=150)
    last_name = forms.CharField(label=_("Achternaam"), max_length=150)
    postcode = forms.CharField(
        label=_("Postcode (niet verplicht)"),
        max_length=10,
        required=False,
        help_text=_("Bijvoorbeeld 1234 AB."),
    )
    preferred_language = forms.ChoiceField(label=_("Taal"), choices=Language.choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_organisation"] = _organisation_field()


class PrivacyForm(AccessibleFormMixin, forms.Form):
    keep_loan_history = forms.BooleanField(
        label=_("Bewaar mijn leengeschiedenis"),
        required=False,
        help_text=_("Zonder deze keuze vergeten we na het inleveren welke boeken je leende."),
    )


class HouseholdCreateForm(AccessibleFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Naam van het huishouden"),
        max_length=120,
        help_text=_("Bijvoorbeeld: Familie Jansen."),
    )


class MemberByCardForm(AccessibleFormMixin, forms.Form):
    """A person identified by card number and e-mail address together."""

    card_number = forms.CharField(
        label=_("Pasnummer"),
        max_length=20,
        help_text=_("De 14 cijfers op de bibliotheekpas."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mailadres"), max_length=254)


class DeleteAccountForm(AccessibleFormMixin, forms.Form):
    password = forms.CharField(
        label=_("Je wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("Ik begrijp dat mijn account en mijn gegevens definitief verdwijnen."),
        required=True,
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Dit wachtwoord klopt niet."))
        return password


class MemberSearchForm(AccessibleFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Zoek een lid"),
        max_length=100,
        required=False,
        help_text=_("Pasnummer, e-mailadres of naam."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class PasswordResetForm(AccessibleFormMixin, DjangoPasswordResetForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mailadres")


class SetPasswordForm(AccessibleFormMixin, DjangoSetPasswordForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Nieuw wachtwoord")
        self.fields["new_password2"].label = _("Nieuw wachtwoord nog een keer")


# --- staff: opening hours ------------------------------------------------------------------


def _kind_choices():
    from bieb.network.models import OpeningKind

    return OpeningKind.choices


def _weekday_choices():
    from bieb.network.models import WEEKDAY_CHOICES

    return [("", "—"), *[(str(v), label) for v, label in WEEKDAY_CHOICES]]


class OpeningPeriodForm(AccessibleFormMixin, forms.Form):
    """One row of the weekly pattern. An empty row is skipped."""

    weekday = forms.TypedChoiceField(label=_("Dag"), coerce=int, required=False, empty_value=None)
    opens = forms.TimeField(label=_("Opent"), required=False, input_formats=TIME_INPUT_FORMATS)
    closes = forms.TimeField(label=_("Sluit"), required=False, input_formats=TIME_INPUT_FORMATS)
    kind = forms.ChoiceField(label=_("Soort"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["weekday"].choices = _weekday_choices()
        self.fields["kind"].choices = _kind_choices()
        for name in ("opens", "closes"):
            self.fields[name].widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

    def clean(self) -> dict:
        data = super().clean()
        filled = [data.get(k) not in (None, "") for k in ("weekday", "opens", "closes")]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Vul dag, openingstijd en sluitingstijd alle drie in."))
        if all(filled) and data["closes"] <= data["opens"]:
            self.add_error("closes", _("De sluitingstijd moet na de openingstijd liggen."))
        data["is_empty"] = not any(filled)
        return data


OpeningPeriodFormSet = forms.formset_factory(
    OpeningPeriodForm, extra=3, max_num=42, absolute_max=60
)


class OpeningExceptionForm(AccessibleFormMixin, forms.Form):
    date = forms.DateField(
        label=_("Datum"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    closed = forms.BooleanField(label=_("De hele dag gesloten"), required=False)
    opens = forms.TimeField(label=_("Opent"), required=False, input_formats=TIME_INPUT_FORMATS)
    closes = forms.TimeField(label=_("Sluit"), required=False, input_formats=TIME_INPUT_FORMATS)
    kind = forms.ChoiceField(label=_("Soort"), required=False)
    reason = forms.CharField(
        label=_("Reden"),
        max_length=120,
        required=False,
        help_text=_("Bijvoorbeeld: Koningsdag."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _kind_choices()
        for name in ("opens", "closes"):
            self.fields[name].widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("closed"):
            if not data.get("opens") or not data.get("closes"):
                raise forms.ValidationError(
                    _("Vul openings- en sluitingstijd in, of kies 'de hele dag gesloten'.")
                )
            if data["closes"] <= data["opens"]:
                self.add_error("closes", _("De sluitingstijd moet na de openingstijd liggen."))
        else:
            data["opens"] = data["closes"] = None
        return data
