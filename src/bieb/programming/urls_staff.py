"""URLs of the staff screens (programmers, the door, rooms and partners) and of the room
requests of residents and partners (``views_rooms``)."""

from django.urls import path

from bieb.programming import views_rooms, views_staff

urlpatterns = [
    path("medewerkers/activiteiten", views_staff.activities, name="staff_activities"),
    path("medewerkers/activiteiten/nieuw", views_staff.activity_new, name="staff_activity_new"),
    path(
        "medewerkers/activiteiten/<int:activity_id>",
        views_staff.activity_detail,
        name="staff_activity",
    ),
    path(
        "medewerkers/activiteiten/<int:activity_id>/publiceren",
        views_staff.activity_publish,
        name="staff_activity_publish",
    ),
    path(
        "medewerkers/activiteiten/<int:activity_id>/kopieren",
        views_staff.activity_duplicate,
        name="staff_activity_duplicate",
    ),
    path(
        "medewerkers/activiteiten/<int:activity_id>/annuleren",
        views_staff.activity_cancel,
        name="staff_activity_cancel",
    ),
    path(
        "medewerkers/activiteiten/<int:activity_id>/aanmeldingen/<int:registration_id>/afmelden",
        views_staff.registration_cancel,
        name="staff_registration_cancel",
    ),
    path("medewerkers/activiteiten/<int:activity_id>/deur", views_staff.door, name="staff_door"),
    path("medewerkers/deur", views_staff.doors, name="staff_doors"),
    path("medewerkers/zalen", views_staff.rooms, name="staff_rooms"),
    path(
        "medewerkers/zalen/aanvragen/<int:booking_id>",
        views_staff.booking_decide,
        name="staff_booking_decide",
    ),
    path("medewerkers/partners", views_staff.partners, name="staff_partners"),
    # room requests of residents and partners
    path("zalen", views_rooms.rooms, name="rooms"),
    path("zalen/<int:room_id>/aanvragen", views_rooms.room_request, name="room_request"),
    path("mijn/zaalaanvragen", views_rooms.my_bookings, name="my_bookings"),
    path(
        "mijn/zaalaanvragen/<int:booking_id>/annuleren",
        views_rooms.my_booking_cancel,
        name="my_booking_cancel",
    ),
]
