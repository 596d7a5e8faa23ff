from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "bieb.network"
    label = "network"
