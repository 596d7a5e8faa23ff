from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from bieb.api.services import token_create
from bieb.api.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def resident(db):
    return UserFactory(email="anna.jansen@example.nl")


@pytest.fixture
def resident_secret(resident) -> str:
    _, secret = token_create(user=resident, name="test")
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
