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
