"""``/api/v1/me``: the signed-in person's own profile and API tokens."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from bieb.accounts.selectors import person_profile
from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.api.schemas import MeOut, TokenOut
from bieb.api.selectors import token_get_for_user, token_list
from bieb.api.services import token_revoke

router = Router(tags=["me"])


@router.get(
    "",
    auth=resident_auth,
    response={200: MeOut, **error_responses(401)},
    operation_id="me_get",
    url_name="me",
    summary="Your own profile",
)
def me(request: HttpRequest):
    return person_profile(user=request.auth)


@router.get(
    "/tokens",
    auth=resident_auth,
    response={200: list[TokenOut], **error_responses(401)},
    operation_id="me_tokens_list",
    url_name="me_tokens",
    summary="Your API tokens (without their secrets)",
    description="Tokens that are not revoked, newest first; expired ones show `is_expired`.",
)
def me_tokens(request: HttpRequest):
    return token_list(user=request.auth)


@router.delete(
    "/tokens/{token_id}",
    auth=resident_auth,
    response={204: None, **error_responses(401, 403, 404)},
    operation_id="me_token_revoke",
    url_name="me_token",
    summary="Revoke one of your API tokens",
    description="A token that is not yours, or is already revoked, answers 404 `token_not_found`.",
)
def me_token_revoke(request: HttpRequest, token_id: int):
    token = token_get_for_user(user=request.auth, token_id=token_id)
    token_revoke(token=token, actor=request.auth)
    return Status(204, None)
