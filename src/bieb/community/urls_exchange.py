"""URLs of safe exchange (``views_exchange``): responding, messages, exchanges, handovers,
profiles, and the library desk for halen en brengen."""

from django.urls import path

from bieb.community import views_exchange as views

urlpatterns: list = [
    path("community/<int:pk>/reageren", views.respond, name="respond"),
    path("community/deelnemer/<int:pk>", views.profile, name="profile"),
    path("mijn/berichten", views.messages_list, name="messages"),
    path("mijn/berichten/<int:pk>", views.conversation, name="conversation"),
    path("mijn/berichten/<int:pk>/contact", views.contact_share, name="contact_share"),
    path("mijn/berichten/<int:pk>/blokkeren", views.block, name="block"),
    path("mijn/berichten/<int:pk>/deblokkeren", views.unblock, name="unblock"),
    path("mijn/berichten/<int:pk>/afspraak", views.exchange_agree, name="exchange_agree"),
    path("mijn/berichten/<int:pk>/afspraak/gelukt", views.exchange_done, name="exchange_done"),
    path(
        "mijn/berichten/<int:pk>/afspraak/afzeggen", views.exchange_cancel, name="exchange_cancel"
    ),
    path("mijn/berichten/<int:pk>/bedanken", views.thank, name="thank"),
    path("mijn/berichten/<int:pk>/overdracht", views.handover_create, name="handover_create"),
    path("mijn/overdrachten", views.handovers_mine, name="handovers_mine"),
    path("mijn/overdrachten/<int:pk>/annuleren", views.handover_cancel, name="handover_cancel"),
    path("mijn/community/profiel", views.profile_mine, name="profile_mine"),
    path("medewerkers/halen-en-brengen", views.desk, name="desk"),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>",
        views.desk_location,
        name="desk_location",
    ),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>/ophalen",
        views.handover_pick_up_code,
        name="handover_pick_up_code",
    ),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>/zending/<int:pk>/ontvangen",
        views.handover_drop,
        name="handover_drop",
    ),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>/zending/<int:pk>/ophalen",
        views.handover_pick_up,
        name="handover_pick_up",
    ),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>/zending/<int:pk>/deblokkeren",
        views.handover_unlock,
        name="handover_unlock",
    ),
    path(
        "medewerkers/halen-en-brengen/<int:location_id>/zending/<int:pk>/teruggeven",
        views.handover_return,
        name="handover_return",
    ),
]
