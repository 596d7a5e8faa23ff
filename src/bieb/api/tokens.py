"""``/api/v1/auth/token``: exchange e-mail and password for a token; revoke the token in use."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from bieb.api.auth import authenticate_credentials, bearer_auth
from bieb.api.errors import error_responses
from bieb.api.schemas import TokenCreatedOut, TokenCreateIn
from bieb.api.services import token_create, token_revoke

router = Router(tags=["auth"])


@router.post(
    "/token",
    auth=None,
    response={201: TokenCreatedOut, **error_responses(401, 409, 422, 429)},
    operation_id="auth_token_create",
    url_name="auth_token",
    summary="Get a token with e-mail address and password",
    description=(
        "Answers the secret once; store it and send it as `Authorization: Bearer <token>`. "
        "Tokens expire after 90 days. A wrong e-mail address or password gives 401 "
        "`invalid_credentials` (the answer never tells whether the address exists); after "
        "repeated failures the account and the client are locked out for a while: 429 "
        "`locked_out` with `Retry-After`."
    ),
)
def token_obtain(request: HttpRequest, response: HttpResponse, payload: TokenCreateIn):
    user = authenticate_credentials(request, email=payload.email, password=payload.password)
    token, secret = token_create(user=user, name=payload.name)
    response["Cache-Control"] = "no-store"
    return Status(201, {"token": secret, "token_type": "Bearer", "expires_at": token.expires_at})


@router.delete(
    "/token",
    auth=bearer_auth,
    response={204: None, **error_responses(401)},
    operation_id="auth_token_revoke",
    url_name="auth_token",
    summary="Revoke the token used for this request",
)
def token_revoke_current(request: HttpRequest):
    token_revoke(token=request.api_token, actor=request.auth)
    return Status(204, None)
