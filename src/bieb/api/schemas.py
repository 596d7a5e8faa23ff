"""Request and response bodies of the API's own operations (auth and /me)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from bieb.core import clock


class TokenCreateIn(Schema):
    email: str = Field(min_length=1, max_length=254, examples=["a.jansen@example.nl"])
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(
        "",
        max_length=100,
        description="Your own label for the token, e.g. the app that uses it.",
        examples=["Leesapp op mijn telefoon"],
    )


class TokenCreatedOut(Schema):
    token: str = Field(description="The secret. Shown only now: store it safely.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime


class TokenOut(Schema):
    """A token as listed: never the secret, only the first characters to recognise it."""

    id: int
    name: str
    key_prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime
    is_expired: bool

    @staticmethod
    def resolve_is_expired(obj) -> bool:
        return obj.expires_at <= clock.now()


class OrganisationRef(Schema):
    id: int
    name: str
    slug: str


class HouseholdRef(Schema):
    id: int
    name: str
    is_manager: bool


class RoleOut(Schema):
    role: str
    organisation_slug: str | None


class MeOut(Schema):
    """The signed-in person's own profile."""

    id: int
    email: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    age: int | None
    is_youth: bool
    card_number: str | None
    home_organisation: OrganisationRef | None
    household: HouseholdRef | None
    roles: list[RoleOut]
    email_verified: bool
    keep_loan_history: bool
    preferred_language: str
