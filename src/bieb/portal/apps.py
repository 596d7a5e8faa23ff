from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "bieb.portal"
    label = "portal"
