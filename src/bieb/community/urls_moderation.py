"""URLs of reporting and moderation (``views_moderation``)."""

from django.urls import path

from bieb.community import views_moderation as views

urlpatterns: list = [
    path("community/<int:pk>/melden", views.report_post, name="report"),
    path("community/deelnemer/<int:pk>/melden", views.report_person, name="report_person"),
    path("community/melding/bedankt", views.report_thanks, name="report_thanks"),
    path("mijn/berichten/bericht/<int:pk>/melden", views.report_message, name="report_message"),
    path("medewerkers/moderatie", views.queue, name="moderation"),
    path("medewerkers/moderatie/<int:report_id>", views.moderate, name="moderate"),
    path(
        "medewerkers/moderatie/deelnemer/<int:pk>",
        views.person,
        name="moderation_person",
    ),
    path("medewerkers/moderatie/woorden", views.word_filters, name="word_filters"),
    path(
        "medewerkers/moderatie/woorden/<int:pk>/verwijderen",
        views.word_filter_remove,
        name="word_filter_remove",
    ),
]
