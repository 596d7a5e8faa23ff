"""URLs of circulation: the desk (``/balie/``), the resident's loans and holds (``/mijn/``),
placing a hold from a title's page, and the self-service machines' accounts."""

from django.urls import path

from bieb.circulation import views_desk, views_mine, views_rules

app_name = "circulation"
urlpatterns = [
    # desk
    path("balie/", views_desk.desk_home, name="desk_home"),
    path("balie/<slug:slug>/uitlenen", views_desk.desk_checkout, name="desk_checkout"),
    path("balie/<slug:slug>/innemen", views_desk.desk_checkin, name="desk_checkin"),
    path("balie/<slug:slug>/lijsten", views_desk.desk_lists, name="desk_lists"),
    path(
        "balie/<slug:slug>/transporten/<int:transfer_id>/verstuurd",
        views_desk.desk_transfer_send,
        name="desk_transfer_send",
    ),
    # self-service machines
    path("medewerkers/automaten", views_desk.terminals, name="terminals"),
    path(
        "medewerkers/automaten/<int:terminal_id>/uitzetten",
        views_desk.terminal_deactivate,
        name="terminal_deactivate",
    ),
    # circulation rules (managers; network administrators for the network defaults)
    path("medewerkers/uitleenregels", views_rules.rules, name="rules"),
    path(
        "medewerkers/uitleenregels/leenregels",
        views_rules.rules_policy_save,
        name="rules_policy_save",
    ),
    path(
        "medewerkers/uitleenregels/leenregels/<int:policy_id>/verwijderen",
        views_rules.rules_policy_delete,
        name="rules_policy_delete",
    ),
    path("medewerkers/uitleenregels/regels", views_rules.rules_save, name="rules_save"),
    # mijn bibliotheek
    path("mijn/leningen", views_mine.my_loans, name="my_loans"),
    path("mijn/leningen/<int:loan_id>/verlengen", views_mine.loan_renew, name="loan_renew"),
    path("mijn/reserveringen", views_mine.my_holds, name="my_holds"),
    path("mijn/reserveringen/<int:hold_id>/annuleren", views_mine.hold_cancel, name="hold_cancel"),
    path("mijn/reserveringen/<int:hold_id>/pauzeren", views_mine.hold_pause, name="hold_pause"),
    path("mijn/reserveringen/<int:hold_id>/hervatten", views_mine.hold_resume, name="hold_resume"),
    path(
        "mijn/reserveringen/<int:hold_id>/afhaallocatie",
        views_mine.hold_pickup,
        name="hold_pickup",
    ),
    path("titels/<int:edition_id>/reserveren", views_mine.hold_place, name="hold_place"),
]
