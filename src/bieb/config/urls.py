"""Root URLs. Public URLs are Dutch. Each app owns its own urls.py."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from bieb.api.urls import api
from bieb.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", api.urls),
    path("", include("bieb.accounts.urls")),
    path("", include("bieb.network.urls")),
    path("", include("bieb.catalog.urls")),
    path("", include("bieb.circulation.urls")),
    path("", include("bieb.circulation.digital_urls")),
    path("", include("bieb.programming.urls")),
    path("", include("bieb.community.urls")),
    path("", include("bieb.subscriptions.urls")),
    path("", include("bieb.subscriptions.payment_urls")),
    path("", include("bieb.subscriptions.figures_urls")),
    path("", include("bieb.portal.urls")),
]

# JSON under /api/, the translated HTML page elsewhere.
handler404 = "bieb.portal.views.page_not_found"
handler500 = "bieb.portal.views.server_error"
