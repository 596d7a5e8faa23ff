"""URLconf for tests that need the test-only error API beside the real one."""

from django.urls import path

from bieb.api.tests.error_api import error_api
from bieb.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("test-errors/", error_api.urls),
]
