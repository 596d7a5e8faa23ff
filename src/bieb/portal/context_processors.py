"""Values every page template needs."""

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    return {"brand_tagline": "voor iedereen, waar je ook woont"}
