"""Factories for the API tests. Tokens are made through the service, as a person would."""

from __future__ import annotations

import factory

PASSWORD = "boeken-lenen-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.User"
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"lezer{n}@example.nl")
    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Jansen{n}")
    password = factory.django.Password(PASSWORD)
