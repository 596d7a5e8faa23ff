from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "bieb.circulation"
    label = "circulation"
