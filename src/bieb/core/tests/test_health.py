from unittest import mock

import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_readyz_reports_the_database_vendor(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in {"sqlite", "postgresql"}


def test_healthz_does_not_need_the_database(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_with_a_reason_when_the_database_is_down(client):
    # The database is an outside boundary here: simulate the driver failing to connect.
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "connection refused" in body["reason"]
