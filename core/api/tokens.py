"""The JSON API's bearer tokens: HS256 JWTs signed with API_JWT_SECRET.

Claims: ``org_id`` (the organization, required), ``exp`` (required), ``sub`` (who calls: a
username, whose role then applies, or a service's name), ``iat``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"


class TokenRefused(Exception):
    """A token this server does not accept; the message says why (never the token)."""


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: the organization and the caller's name (when it has one)."""

    org_id: int
    subject: str | None


def issue_token(secret: str, org_id: int, subject: str, *, days: int) -> str:
    """A token for ``subject`` in organization ``org_id``, valid for ``days``."""
    now = int(time.time())
    claims = {"org_id": org_id, "sub": subject, "iat": now, "exp": now + days * 86400}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> TokenClaims:
    """The claims of a token signed with ``secret``; TokenRefused when it is not valid."""
    try:
        claims = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], options={"require": ["org_id", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("The token has expired; ask for a new one.") from None
    except jwt.InvalidTokenError:
        raise TokenRefused("The token is not valid for this server.") from None
    subject = claims.get("sub")
    return TokenClaims(_org_id(claims["org_id"]), subject if isinstance(subject, str) else None)


def _org_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TokenRefused("The token's org_id is not an organization id.")
    try:
        return int(value)
    except ValueError:
        raise TokenRefused("The token's org_id is not an organization id.") from None
