from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "bieb.community"
    label = "community"
    verbose_name = _("Community")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bieb.accounts import privacy as account_privacy
        from bieb.community import privacy

        account_privacy.register(privacy.PROVIDER)
