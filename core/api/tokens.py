"""The JSON API's bearer tokens: HS256 JWTs signed with API_JWT_SECRET.

Claims: ``org_id`` (the organization, required), ``exp`` (required), ``jti`` (the token's id
as this server recorded it when issuing it: ``ApiTokenService.issue``; required),
``kind`` (``user``: ``sub`` is a username of the organization, whose role then applies;
``service``: ``sub`` names another service), ``sub``, ``iat``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
KINDS = ("user", "service")
#: The largest id our tables hold; a bigger org_id names no organization.
MAX_ID = 2**31 - 1


class TokenRefused(Exception):
    """A token this server does not accept; the message says why (never the token)."""


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: the organization, who calls, what kind of caller, its id."""

    org_id: int
    subject: str | None
    kind: str
    token_id: str


def issue_token(
    secret: str, org_id: int, subject: str, *, token_id: str, kind: str, expires_at: int
) -> str:
    """A token for ``subject`` (a ``kind``) in organization ``org_id``, valid until
    ``expires_at`` (a Unix time), with the id the server recorded."""
    claims = {
        "org_id": org_id,
        "sub": subject,
        "kind": kind,
        "jti": token_id,
        "iat": int(time.time()),
        "exp": expires_at,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> TokenClaims:
    """The claims of a token signed with ``secret``; TokenRefused when it is not valid."""
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["org_id", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("The token has expired; ask for a new one.") from None
    except jwt.InvalidTokenError:
        raise TokenRefused("The token is not valid for this server.") from None
    token_id = claims.get("jti")
    if not isinstance(token_id, str) or not token_id:
        raise TokenRefused(
            "The token has no id: it was made before tokens could be revoked, or not by this "
            "server. Ask for a new one (python -m core api-token)."
        )
    kind = claims.get("kind", "user")
    if kind not in KINDS:
        raise TokenRefused("The token is not valid for this server.")
    subject = claims.get("sub")
    return TokenClaims(
        _org_id(claims["org_id"]), subject if isinstance(subject, str) else None, kind, token_id
    )


def _org_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TokenRefused("The token's org_id is not an organization id.")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 10 or not 0 < int(text) <= MAX_ID:
        raise TokenRefused("The token's org_id is not an organization id.")
    return int(text)
