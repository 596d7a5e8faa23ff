from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bieb.accounts"
    label = "accounts"
