"""URLs of the community board (``views_board``): the board (national and per municipality),
posts and their photos, one's own posts and saved searches, and the staff's review of
activity ideas."""

from django.urls import path

from bieb.community import views_board as views

urlpatterns: list = [
    path("community", views.board, name="board"),
    path(
        "community/gemeente/<str:cbs_code>",
        views.municipality_board,
        name="municipality_board",
    ),
    path("community/nieuw", views.post_new, name="post_new"),
    path("community/foto/<int:pk>.jpg", views.photo, name="photo"),
    path("community/foto/<int:pk>/klein.jpg", views.photo_thumb, name="photo_thumb"),
    path("community/<int:pk>", views.post_detail, name="post"),
    path("community/<int:pk>/wijzigen", views.post_edit, name="post_edit"),
    path("community/<int:pk>/sluiten", views.post_close, name="post_close"),
    path("community/<int:pk>/fotos", views.photo_add, name="photo_add"),
    path(
        "community/<int:pk>/fotos/<int:photo_pk>/verwijderen",
        views.photo_remove,
        name="photo_remove",
    ),
    path("mijn/community", views.mine, name="mine"),
    path("mijn/community/zoekopdrachten", views.search_save, name="search_save"),
    path(
        "mijn/community/zoekopdrachten/<int:pk>/verwijderen",
        views.search_delete,
        name="search_delete",
    ),
    path("medewerkers/community/ideeen", views.ideas, name="ideas"),
    path("medewerkers/community/ideeen/<int:pk>", views.idea_review, name="idea_review"),
]
