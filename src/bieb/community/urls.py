"""URLs of the community library: the board and posts, messages and handovers, moderation,
and the library of things. Each part keeps its own list."""

from bieb.community.urls_board import urlpatterns as board
from bieb.community.urls_exchange import urlpatterns as exchange
from bieb.community.urls_moderation import urlpatterns as moderation
from bieb.community.urls_things import urlpatterns as things

app_name = "community"
urlpatterns = [*board, *exchange, *moderation, *things]
