"""Handlers of ``openapi/auth.yaml`` (served at ``/provisio/auth/v1``): create, list, retrieve and revoke
API tokens. Every operation needs ``auth:admin``. The key is in the create's answer only; lists and
retrieves show everything else: the server keeps only an HMAC of the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from common import clock, request_context, tmf
from common.errors import InvalidInput
from server import deps
from server.auth import tokens
from server.auth.models import ApiToken
from server.responses import paging_headers, raw_query_string

BASE_PATH = "/provisio/auth/v1"
SPEC = Path(__file__).resolve().parent.parent.parent / "openapi" / "auth.yaml"

_TOKEN = ApiToken.__table__
TOKEN_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("id", _TOKEN.c.id),
        tmf.column("user", _TOKEN.c.subject),
        tmf.column("role", _TOKEN.c.role),
        tmf.column("createdBy", _TOKEN.c.created_by),
        tmf.column("createdAt", _TOKEN.c.created_at, kind=tmf.DATETIME),
        tmf.column("expiresAt", _TOKEN.c.expires_at, kind=tmf.DATETIME),
        tmf.column("revokedAt", _TOKEN.c.revoked_at, kind=tmf.DATETIME),
    ),
    tiebreaker=_TOKEN.c.id,
    members=tmf.schema_members(SPEC, "ApiToken"),
)


# The rules server.documents writes into the served document (sort/fields patterns, filter formats).
QUERY_CONTRACTS = {"listApiToken": TOKEN_QUERY, "retrieveApiToken": TOKEN_QUERY}


def _auth() -> Any:
    state = deps.container().auth
    if state is None:
        raise RuntimeError("the app was built without server.auth")
    return state


def create_api_token(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """201 with the token and its key (the only time the key is shown) and a Location."""
    state = _auth()
    expires_at = None
    if body.get("expiresAt"):
        try:
            expires_at = clock.parse_utc(str(body["expiresAt"]))
        except ValueError as error:
            raise InvalidInput(f"expiresAt: {error}", code="INVALID_TOKEN_REQUEST") from None
    with deps.uow() as tx:
        token, key = tokens.create_token(
            tx.session,
            state.secret,
            subject=str(body.get("user", "")),
            scopes=[str(scope) for scope in body.get("scope") or ()],
            role=body.get("role"),
            roles=state.settings.roles,
            expires_at=expires_at,
            description=body.get("description"),
        )
        representation = {**token_json(token), "key": key}
        tx.commit()
    return representation, 201, {"Location": representation["href"]}


def list_api_token(**_declared: Any) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    query = tmf.parse_list_query(raw_query_string(), TOKEN_QUERY)
    condition = tmf.where_clause(query)
    ordering = tmf.order_by(query, TOKEN_QUERY) if query.sort else [ApiToken.created_at.desc(), ApiToken.id]
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(ApiToken).where(condition)).scalar_one()
        rows = (
            tx.session.execute(
                select(ApiToken).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
            )
            .scalars()
            .all()
        )
        body = [tmf.project(token_json(row), query.fields) for row in rows]
    return body, 200, paging_headers(total, len(body))


def retrieve_api_token(id: str, **_declared: Any) -> dict[str, Any]:
    fields = tmf.parse_item_query(raw_query_string(), TOKEN_QUERY.members)
    with deps.uow(read_only=True) as tx:
        return tmf.project(token_json(tokens.find_token(tx.session, id)), fields)


def revoke_api_token(id: str) -> tuple[None, int]:
    """204. This process forgets the token at once; the others within the token cache TTL."""
    with deps.uow() as tx:
        tokens.revoke_token(tx.session, id)
        tx.commit()
    _auth().cache.discard_token(id)
    return None, 204


def token_json(token: ApiToken) -> dict[str, Any]:
    representation: dict[str, Any] = {
        "id": token.id,
        "href": f"{request_context.current().base_url}{BASE_PATH}/token/{token.id}",
        "@type": "ApiToken",
        "user": token.subject,
        "scope": list(token.scopes or ()),
        "createdAt": clock.isoformat(token.created_at),
        "createdBy": token.created_by,
    }
    if token.role:
        representation["role"] = token.role
    if token.description:
        representation["description"] = token.description
    if token.expires_at is not None:
        representation["expiresAt"] = clock.isoformat(token.expires_at)
    if token.revoked_at is not None:
        representation["revokedAt"] = clock.isoformat(token.revoked_at)
    return representation
