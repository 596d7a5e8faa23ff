"""URLs of the library of things (``views_things``)."""

from django.urls import path

from bieb.community import views_things as views

urlpatterns: list = [
    path("dingen", views.catalogue, name="things"),
    path("dingen/<int:item_id>", views.thing, name="thing"),
    path("mijn/dingen", views.mine, name="things_mine"),
    path("mijn/dingen/<int:booking_id>/annuleren", views.cancel, name="thing_cancel"),
    path("medewerkers/dingen", views.staff_things, name="staff_things"),
    path("medewerkers/dingen/<int:item_id>", views.staff_thing, name="staff_thing"),
    path("medewerkers/dingen/<int:item_id>/reparatie", views.repair, name="thing_repair"),
    path("medewerkers/dingen/<int:item_id>/gerepareerd", views.repaired, name="thing_repaired"),
    path(
        "medewerkers/dingen/reservering/<int:booking_id>/uitlenen",
        views.lend,
        name="thing_lend",
    ),
    path(
        "medewerkers/dingen/reservering/<int:booking_id>/innemen",
        views.take_back,
        name="thing_return",
    ),
]
