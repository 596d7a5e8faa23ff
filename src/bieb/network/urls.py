from django.urls import path

from bieb.network import views

app_name = "network"
urlpatterns = [
    path("vind-je-bibliotheek", views.find, name="find"),
    path("bibliotheken", views.organisation_list, name="organisations"),
    path("bibliotheken/<slug:slug>", views.organisation_detail, name="organisation"),
    path("locaties/<slug:slug>", views.location_detail, name="location"),
]
