from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "bieb.api"
    label = "api"
