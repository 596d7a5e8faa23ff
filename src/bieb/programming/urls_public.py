"""URLs (public): the programme pages, activity pages and the iCalendar feeds. No log-in.

The feeds come before ``activiteiten/<slug>`` only for readability: a slug cannot hold a dot
or a slash, so the paths never overlap."""

from django.urls import path

from bieb.programming import views_public as views

urlpatterns: list = [
    path("activiteiten", views.programme_page, name="programme"),
    path("activiteiten.ics", views.feed_national, name="feed_national"),
    path("activiteiten/doelgroep/<str:audience>.ics", views.feed_audience, name="feed_audience"),
    path("activiteiten/agenda/<str:token>.ics", views.feed_personal, name="feed_personal"),
    path("activiteiten/<slug:slug>.ics", views.activity_ics, name="activity_ics"),
    path("activiteiten/<slug:slug>", views.activity_page, name="detail"),
    path(
        "bibliotheken/<slug:slug>/activiteiten",
        views.organisation_programme,
        name="organisation_programme",
    ),
    path(
        "bibliotheken/<slug:slug>/activiteiten.ics",
        views.feed_organisation,
        name="feed_organisation",
    ),
    path("locaties/<slug:slug>/activiteiten", views.location_programme, name="location_programme"),
    path("locaties/<slug:slug>/activiteiten.ics", views.feed_location, name="feed_location"),
]
