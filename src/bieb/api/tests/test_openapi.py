"""The OpenAPI document: served, valid JSON, complete, and explicit about auth."""

from __future__ import annotations

import json
import re

import pytest
from ninja.constants import NOT_SET

from bieb.api.urls import api

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def served_schema(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def operations_in_code():
    """(path as in OpenAPI, method, operation, router's auth) for every operation on the API."""
    for bound in api._get_bound_routers():
        for route, path_view in bound.path_operations.items():
            path = "/api/v1/" + (bound.prefix + route).lstrip("/")
            path = re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", path).replace("//", "/")
            for operation in path_view.operations:
                for method in operation.methods:
                    yield path, method.lower(), operation, bound.auth


def test_openapi_document_is_served_as_valid_json(client, db):
    schema = served_schema(client)

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Bieb API"
    assert schema["info"]["version"] == "1"
    assert '{"error": {"code"' in schema["info"]["description"]


def test_every_operation_in_code_is_in_the_document(client, db):
    paths = served_schema(client)["paths"]

    expected = [
        (path, method)
        for path, method, operation, _ in operations_in_code()
        if operation.include_in_schema
    ]
    missing = [(p, m) for p, m in expected if m not in paths.get(p, {})]

    assert expected, "no operations found"
    assert missing == []


def test_the_api_s_own_operations_are_documented_with_their_auth(client, db):
    paths = served_schema(client)["paths"]

    public = paths["/api/v1/auth/token"]["post"]
    revoke_current = paths["/api/v1/auth/token"]["delete"]
    me = paths["/api/v1/me"]["get"]

    assert "security" not in public
    assert revoke_current["security"] == [{"BearerTokenAuth": []}]
    assert me["security"] == [{"BearerTokenAuth": []}, {"SessionAuth": []}]
    assert "401" in me["responses"]
    assert {"/api/v1/me/tokens", "/api/v1/me/tokens/{token_id}"} <= set(paths)


def test_network_operations_are_mounted_and_documented(client, db):
    paths = served_schema(client)["paths"]
    network_ops = [p for p, _, _, _ in operations_in_code() if p.startswith("/api/v1/network/")]
    if not network_ops:
        pytest.skip("bieb.network.api defines no operations yet")

    assert all(p in paths for p in network_ops)


def test_operation_ids_are_unique(client, db):
    paths = served_schema(client)["paths"]
    ids = [
        op["operationId"] for ops in paths.values() for m, op in ops.items() if m in HTTP_METHODS
    ]

    assert len(ids) == len(set(ids))


def test_every_operation_declares_its_auth_explicitly():
    # On the operation itself, or where its router is mounted (the network's public router).
    implicit = [
        f"{method.upper()} {path}"
        for path, method, operation, router_auth in operations_in_code()
        if operation.auth_param is NOT_SET and router_auth is NOT_SET
    ]

    assert implicit == []


def test_docs_page_is_served(client, db):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
