from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "bieb.catalog"
    label = "catalog"
