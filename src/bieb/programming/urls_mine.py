"""URLs of the resident's and visitor's side of registration (``views_mine``)."""

from django.urls import path

from bieb.programming import views_mine

urlpatterns = [
    path("activiteiten/<slug:slug>/aanmelden", views_mine.register, name="register"),
    path("aanmelding/<str:token>", views_mine.registration_detail, name="registration"),
    path("aanmelding/<str:token>/qr.svg", views_mine.registration_qr, name="registration_qr"),
    path(
        "aanmelding/<str:token>/bevestigen",
        views_mine.registration_confirm,
        name="registration_confirm",
    ),
    path(
        "aanmelding/<str:token>/plaats-aannemen",
        views_mine.registration_accept,
        name="registration_accept",
    ),
    path(
        "aanmelding/<str:token>/afmelden",
        views_mine.registration_cancel,
        name="registration_cancel",
    ),
    path("mijn/activiteiten", views_mine.mine, name="mine"),
    path("mijn/activiteiten/agenda-link", views_mine.feed_reset, name="feed_reset"),
]
