"""The public REST API, mounted at ``/api/v1/`` by the root URLconf.

Every operation states its auth explicitly (``auth=None`` for public ones); the API-wide
default is ``resident_auth`` so that one which forgets fails closed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Router

from bieb.api import me, me_circulation, me_subscription, tokens
from bieb.api.auth import resident_auth
from bieb.api.base import BiebNinjaAPI
from bieb.catalog.api import router as catalog_router
from bieb.circulation.api import router as circulation_router
from bieb.network.api import router as network_router

DESCRIPTION = """
The public API of **Bieb**, the platform of the Dutch public library network
("de Bibliotheek"). It offers the same services as the website: find libraries and their
opening hours, search the catalogue, and, once signed in, your own account: your loans
(`/me/loans`, renew them), your holds (`/me/holds`) and e-books and audiobooks
(`/me/digital-loans`), and your subscription (`/me/subscription`: take one, switch it off
and on, skip a month, change plan, cancel, undo a scheduled change); the plans and their
prices are public (`/plans`). Activities, courses and events of every library are public
too: the programme at `/activities` (filter by library, location, dates, audience, age, theme,
challenge, price, seats left or near a postcode) and one activity with all its sessions at
`/activities/{id}`; signed in, you register for one, also for a group or paying at the door
(`POST /activities/{id}/registrations`), and list and cancel your registrations
(`/me/registrations`). The community library ("halen en brengen") is public to read:
residents' offers and requests at `/community/posts` (filter by type, kind, category, words,
municipality or near a postcode) and one post at `/community/posts/{id}`; signed in, you
place a post (`POST /community/posts`), respond to one (`POST /community/posts/{id}/responses`),
read your conversations at `/me/messages` and report a post, message or resident
(`POST /community/reports`). Residents are shown by first name and initial and places by
four-digit postcode area, never by e-mail address or street address. Library staff at a desk lend and take in copies through
`/circulation/checkouts` and `/circulation/checkins` (desk staff and managers, at a location
of their own organisation).

## Authentication

Public operations need nothing. Operations on your own data accept either

* an **API token**: `POST /api/v1/auth/token` with `{"email", "password", "name"}` answers
  `{"token", "token_type": "Bearer", "expires_at"}`; send it as
  `Authorization: Bearer <token>`. Tokens expire after 90 days; list them with
  `GET /api/v1/me/tokens` and revoke them with `DELETE /api/v1/me/tokens/{id}` or, for the
  token in use, `DELETE /api/v1/auth/token`. The secret is shown once and never stored.
* the **browser session** of the website (cookie `sessionid`); requests that change data then
  need the CSRF token in the `X-CSRFToken` header.

Repeated failed sign-ins lock out the account and the client for a while, exactly as on the
website.

## Retrying a write safely

Writes that say so accept an `Idempotency-Key` header (any unique value up to 255 visible
ASCII characters, for example a UUID). Send the same request again with the same key within
24 hours and you get the first answer again (with `Idempotent-Replayed: true`) without it
being done twice; refusals are answered the same way. The same key with another method, path
or body answers 422 `idempotency_key_reused`. Keys are per person.

## Errors

Every error is JSON with a stable `code` for programs and a translated `message` for people
(Dutch by default; send `Accept-Language: en` for English):

```json
{"error": {"code": "invalid_input", "message": "…", "details": {"fields": [
  {"field": "email", "in": "body", "type": "missing", "message": "…"}]}}}
```

`details` is present only when there is more to say. Common codes:

| status | code | meaning |
|---|---|---|
| 400 | `bad_request` | the body could not be read (for example broken JSON) |
| 400 | `idempotency_key_invalid` | the `Idempotency-Key` header is empty, too long or not ASCII |
| 401 | `not_authenticated` | no credentials were sent |
| 401 | `invalid_token` | the bearer token is unknown, expired or revoked |
| 401 | `invalid_credentials` | e-mail address or password is wrong |
| 403 | `forbidden` | you are signed in but may not do this |
| 403 | `csrf_failed` | session request that changes data without the CSRF token |
| 404 | `not_found` | it does not exist, or it is not yours to see |
| 409 | `too_many_tokens` | you have the maximum number of active tokens |
| 422 | `invalid_input` | `details.fields` lists each field with its problem |
| 422 | `idempotency_key_reused` | this `Idempotency-Key` was used for another request |
| 429 | `locked_out` | too many failed sign-ins; see `Retry-After` |
| 429 | `rate_limited` | too many requests; see `Retry-After` |
| 500 | `server_error` | our fault; the details are logged, not shown |

Operations may answer other, specific codes (for example `unknown_location`); each is stable
and documented with the operation.
"""

api = BiebNinjaAPI(
    title="Bieb API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=resident_auth,
)


@api.get("/", auth=None, operation_id="api_index", url_name="index", summary="Where to start")
def index(request: HttpRequest) -> dict[str, str]:
    return {
        "title": api.title,
        "version": api.version,
        "openapi": reverse("api:openapi-json"),
        "docs": reverse("api:openapi-view"),
    }


api.add_router("/auth/", tokens.router)
api.add_router("/me", me.router)
api.add_router("/me", me_circulation.router)
api.add_router("/me", me_subscription.router)
api.add_router("/plans", me_subscription.plans_router, auth=None)
api.add_router("/me", "bieb.api.me_programming.router")
api.add_router("/activities", "bieb.programming.api.router", auth=None)
api.add_router("/me", "bieb.api.me_community.router")
api.add_router("/community", "bieb.community.api.router")
# The network's API is public reads (network knows no people): mounted with auth=None. An
# operation in it that needs a signed-in person declares its own auth, which takes precedence.
api.add_router("/network/", network_router, auth=None)
api.add_router("/catalog/", catalog_router, auth=None)
# Staff only: every operation declares resident_auth and then asks accounts.access for a desk
# role at the location it acts at.
api.add_router("/circulation/", circulation_router)

# Last: any other path under /api/v1/ answers a JSON 404 instead of the site's HTML page.
unmatched = Router()


@unmatched.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
    url_name="unmatched",
)
def unmatched_path(request: HttpRequest, rest: str):
    raise Http404


api.add_router("", unmatched)
