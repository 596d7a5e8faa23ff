"""URLs of subscriptions: the resident's "Mijn abonnement" and the staff screens."""

from django.urls import path  # noqa: F401

app_name = "subscriptions"
urlpatterns: list = []
