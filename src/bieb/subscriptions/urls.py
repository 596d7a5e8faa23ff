"""URLs of subscriptions: the resident's "Mijn abonnement" and the staff screens."""

from django.urls import path

from bieb.subscriptions import views_mine, views_staff

app_name = "subscriptions"
urlpatterns = [
    # mijn abonnement (signed-in residents; only their own)
    path("mijn/abonnement", views_mine.mine, name="mine"),
    path("mijn/abonnement/uitzetten", views_mine.switch_off, name="switch_off"),
    path("mijn/abonnement/aanzetten", views_mine.switch_on, name="switch_on"),
    path("mijn/abonnement/maand-overslaan", views_mine.skip_next_month, name="skip"),
    path(
        "mijn/abonnement/gepland/<int:change_id>/ongedaan-maken",
        views_mine.change_undo,
        name="change_undo",
    ),
    path("mijn/abonnement/afsluiten", views_mine.subscribe, name="subscribe"),
    path("mijn/abonnement/dagpas", views_mine.day_pass, name="day_pass"),
    path("mijn/abonnement/wijzigen", views_mine.change_plan, name="change_plan"),
    path("mijn/abonnement/opzeggen", views_mine.cancel, name="cancel"),
    path("mijn/abonnement/facturen", views_mine.invoices, name="invoices"),
    path(
        "mijn/abonnement/facturen/<int:invoice_id>.pdf",
        views_mine.invoice_pdf,
        name="invoice_pdf",
    ),
    path("mijn/abonnement/betaalwijze", views_mine.payment_method, name="payment_method"),
    # staff: desk and managers of the resident's organisation; network administrators
    path("medewerkers/abonnementen", views_staff.lookup, name="staff_lookup"),
    path(
        "medewerkers/abonnementen/<int:member_id>",
        views_staff.resident,
        name="staff_resident",
    ),
    path(
        "medewerkers/abonnementen/<int:member_id>/uitzetten",
        views_staff.switch_off,
        name="staff_switch_off",
    ),
    path(
        "medewerkers/abonnementen/<int:member_id>/aanzetten",
        views_staff.switch_on,
        name="staff_switch_on",
    ),
    path(
        "medewerkers/abonnementen/<int:member_id>/facturen/<int:invoice_id>/crediteren",
        views_staff.invoice_credit,
        name="staff_invoice_credit",
    ),
    # network administrators: plans and prices
    path("medewerkers/abonnementen/prijzen", views_staff.prices, name="staff_prices"),
]
