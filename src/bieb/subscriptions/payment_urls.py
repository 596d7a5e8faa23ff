"""URLs of online payments: the provider's webhook and the local test provider's page."""

from django.urls import path  # noqa: F401

app_name = "payments"
urlpatterns: list = []
