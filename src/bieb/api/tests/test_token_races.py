"""Races on the locked and conditional paths of the token services."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from bieb.api.errors import ApiError
from bieb.api.models import ApiToken
from bieb.api.services import MAX_ACTIVE_TOKENS, token_create, token_revoke
from bieb.api.tests.factories import UserFactory
from bieb.core.models import AuditEvent


def skip_on_in_memory_sqlite() -> None:
    # Threads share an in-memory SQLite database through its shared cache, whose table locks
    # fail at once ("database table is locked") instead of waiting on the busy timeout. On a
    # file database (WAL, IMMEDIATE transactions) and on PostgreSQL these races are real.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a file-based SQLite test database or PostgreSQL")


def run_together(target, count: int = 2) -> list:
    """Run ``target`` in ``count`` threads released at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_cannot_pass_the_token_limit():
    skip_on_in_memory_sqlite()
    user = UserFactory()
    for _ in range(MAX_ACTIVE_TOKENS - 1):
        token_create(user=user)

    results = run_together(lambda: token_create(user=user))

    created = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(created) == 1, results
    assert [e.code for e in refused] == ["too_many_tokens"]
    assert ApiToken.objects.filter(user=user).count() == MAX_ACTIVE_TOKENS


@pytest.mark.django_db(transaction=True)
def test_parallel_revocations_revoke_once_and_audit_once():
    skip_on_in_memory_sqlite()
    user = UserFactory()
    token, _ = token_create(user=user)

    results = run_together(
        lambda: token_revoke(token=ApiToken.objects.get(pk=token.pk), actor=user), count=3
    )

    assert sorted(results, key=repr) == [False, False, True], results
    assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1
