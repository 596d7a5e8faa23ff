"""URLs of the circulation app (see the module that fills them)."""

from django.urls import path  # noqa: F401

app_name = "circulation"
urlpatterns: list = []
