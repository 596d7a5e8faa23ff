"""URLs of the subscription figures and settlement statements for staff."""

from django.urls import path  # noqa: F401

app_name = "subscription_figures"
urlpatterns: list = []
