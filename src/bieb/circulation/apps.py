from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "bieb.circulation"
    label = "circulation"

    def ready(self) -> None:
        from bieb.accounts import privacy as account_privacy
        from bieb.circulation import privacy

        account_privacy.register(privacy.PROVIDER)
