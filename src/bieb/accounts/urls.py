"""Account and staff URLs. Public URLs are Dutch; names are namespaced ``accounts:``."""

from django.urls import path

from bieb.accounts import staff_views, views

app_name = "accounts"

urlpatterns = [
    # log-in, registration, e-mail verification, password reset
    path("inloggen", views.LoginView.as_view(), name="login"),
    path("uitloggen", views.LogoutView.as_view(), name="logout"),
    path("registreren", views.register, name="register"),
    path("registreren/controleer-je-mail", views.register_done, name="register_done"),
    path("email-bevestigen/opnieuw", views.resend_verification, name="resend_verification"),
    path("email-bevestigen/<str:token>", views.verify_email, name="verify_email"),
    path("wachtwoord-vergeten", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "wachtwoord-vergeten/verstuurd",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "wachtwoord-herstellen/klaar",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "wachtwoord-herstellen/<uidb64>/<token>",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("toestemming/<str:token>", views.guardian_consent, name="guardian_consent"),
    path("account-verwijderd", views.account_deleted, name="deleted"),
    # mijn bibliotheek
    path("mijn", views.mine, name="mine"),
    path("mijn/gegevens", views.profile_edit, name="profile"),
    path("mijn/huishouden", views.household, name="household"),
    path("mijn/huishouden/toevoegen", views.household_add, name="household_add"),
    path("mijn/huishouden/verlaten", views.household_leave, name="household_leave"),
    path("mijn/kinderen", views.children, name="children"),
    path("mijn/kinderen/<int:link_id>/toestemming", views.child_consent, name="child_consent"),
    path("mijn/privacy", views.privacy, name="privacy"),
    path("mijn/privacy/export.json", views.privacy_export, name="privacy_export"),
    path("mijn/account-verwijderen", views.delete_account, name="delete_account"),
    # staff
    path("medewerkers/", staff_views.staff_home, name="staff_home"),
    path("medewerkers/leden", staff_views.member_search, name="member_search"),
    path("medewerkers/leden/<int:member_id>", staff_views.member_detail, name="member_detail"),
    path("medewerkers/locaties", staff_views.locations, name="locations"),
    path(
        "medewerkers/locaties/<int:location_id>/openingstijden",
        staff_views.location_hours,
        name="location_hours",
    ),
    path(
        "medewerkers/locaties/<int:location_id>/afwijkende-tijden",
        staff_views.location_exception,
        name="location_exception",
    ),
]
