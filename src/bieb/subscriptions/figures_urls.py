"""URLs of the subscription figures and settlement statements for staff."""

from django.urls import path

from bieb.subscriptions import views_figures

app_name = "subscription_figures"
urlpatterns = [
    path("medewerkers/abonnementen/cijfers", views_figures.figures_page, name="figures"),
    path("medewerkers/verrekening", views_figures.settlements_page, name="settlements"),
    path("medewerkers/verrekening/<str:month>", views_figures.settlement_page, name="settlement"),
    path(
        "medewerkers/verrekening/<str:month>/<str:code>",
        views_figures.statement_page,
        name="statement",
    ),
]
