from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammingConfig(AppConfig):
    name = "bieb.programming"
    label = "programming"
    verbose_name = _("Programmering")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bieb.accounts import privacy as account_privacy
        from bieb.programming import privacy

        account_privacy.register(privacy.PROVIDER)
