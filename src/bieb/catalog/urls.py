from django.urls import path

from bieb.catalog import oai_views, views

app_name = "catalog"
urlpatterns = [
    path("zoeken", views.search_page, name="search"),
    path("zoeken/export.csv", views.export_csv, name="export_csv"),
    path("zoeken/suggesties", views.suggestions, name="suggest"),
    path("titels/<int:pk>", views.edition_page, name="edition"),
    path("titels/<int:pk>/marcxml", views.edition_marc, name="edition_marcxml"),
    path("makers/<slug:slug>", views.author_page, name="author"),
    path("onderwerpen", views.subject_index, name="subjects"),
    path("onderwerpen/<slug:slug>", views.subject_page, name="subject"),
    path("nieuw", views.new_page, name="new"),
    path("oai", oai_views.endpoint, name="oai"),
]
