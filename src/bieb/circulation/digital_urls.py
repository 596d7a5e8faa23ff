"""URLs of digital lending: the resident's pages and the signed file links (``digital_views``)
and the OPDS catalogue for reading apps (``opds_views``)."""

from django.urls import path

from bieb.circulation import digital_views as views
from bieb.circulation import opds_views

app_name = "digital"
urlpatterns = [
    # mijn bibliotheek
    path("mijn/digitaal", views.mine, name="mine"),
    path("mijn/digitaal/<int:loan_id>/teruggeven", views.give_back, name="return"),
    path(
        "mijn/digitaal/wachtlijst/<int:hold_id>/annuleren",
        views.hold_cancel,
        name="hold_cancel",
    ),
    # from a title's page
    path("digitaal/<int:edition_id>/lenen", views.borrow, name="borrow"),
    path("digitaal/<int:edition_id>/wachtlijst", views.hold_place, name="hold_place"),
    # files
    path("digitaal/inhoud/<str:token>", views.content, name="content"),
    path("digitaal/omslag/<int:edition_id>.png", views.cover, name="cover"),
    # OPDS 1.2 (Atom)
    path("opds", opds_views.opds_root, name="opds"),
    path("opds/leningen", opds_views.opds_loans, name="opds_loans"),
    path("opds/titels", opds_views.opds_titles, name="opds_titles"),
    path("opds/lenen/<int:edition_id>", opds_views.opds_borrow, name="opds_borrow"),
    # OPDS 2.0 (JSON)
    path("opds/v2", opds_views.opds2_root, name="opds2"),
    path("opds/v2/leningen", opds_views.opds2_loans, name="opds2_loans"),
    path("opds/v2/titels", opds_views.opds2_titles, name="opds2_titles"),
    path("opds/v2/lenen/<int:edition_id>", opds_views.opds2_borrow, name="opds2_borrow"),
    path("opds/v2/authenticatie", opds_views.opds_auth, name="opds_auth"),
]
