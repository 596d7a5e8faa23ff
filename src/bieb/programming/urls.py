"""URLs of programming: the public programme and feeds, the resident's registrations, and the
staff screens (programmers, desk at the door, room bookings). Each part keeps its own list."""

from bieb.programming.urls_mine import urlpatterns as mine
from bieb.programming.urls_public import urlpatterns as public
from bieb.programming.urls_staff import urlpatterns as staff

app_name = "programming"
urlpatterns = [*public, *mine, *staff]
