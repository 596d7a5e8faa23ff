"""Fixtures for every test."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_loan_policies():
    """Each test reads loan policies afresh: a row a rolled-back test created may still sit
    in the process's copy (``circulation.policies``)."""
    from bieb.circulation import policies

    policies.forget()
    yield
    policies.forget()


@pytest.fixture(autouse=True)
def _dutch_first():
    """Each test starts in Dutch, the site's language: a request with ``Accept-Language: en``
    must not leave English active for the next test in the same thread."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield
