from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "bieb.subscriptions"
    label = "subscriptions"
