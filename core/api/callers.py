"""Who calls the JSON API, and whether their organization may ask again this minute.

The organization comes from a verified bearer token (``core.api.tokens``); an ``X-Org-Id``
header must match it, and is taken alone only when the operator declares a trusted gateway
(API_TRUSTED_GATEWAY). Each of these headers may be sent once. The token's subject becomes
the actor (``AccountService.api_actor``: an active user, or a service with a token this
server issued and did not revoke). Each organization has API_RATE_LIMIT requests (10 a
minute).
"""

from __future__ import annotations

from fastapi import Request

from core.api.answers import ApiError
from core.api.tokens import TokenRefused, read_token
from core.config import Settings
from core.services.accounts import AccountService
from core.services.actors import Actor
from core.services.ratelimit import OrgRateLimiter

CLOSED = "The JSON API is closed on this server (no API_JWT_SECRET)."


class Callers:
    """Identifies callers and counts their organization's requests."""

    def __init__(
        self, settings: Settings, accounts: AccountService, limiter: OrgRateLimiter
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.limiter = limiter

    def identify(self, request: Request) -> Actor:
        """The actor of this request; ApiError 401/400 when it cannot be established."""
        secret = self.settings.api_jwt_secret
        gateway = self.settings.api_trusted_gateway
        if not secret and not gateway:
            raise ApiError(401, CLOSED)
        header_org = _single(request, "x-org-id")
        scheme, _, token = (_single(request, "authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if not secret:
                raise ApiError(401, CLOSED)
            try:
                claims = read_token(secret, token)
            except TokenRefused as err:
                raise ApiError(401, str(err)) from None
            if header_org is not None and header_org.strip() != str(claims.org_id):
                raise ApiError(401, "X-Org-Id does not match the token's organization.")
            return self.accounts.api_actor(
                claims.org_id, claims.subject, kind=claims.kind, token_id=claims.token_id
            )
        if gateway and header_org:
            text = header_org.strip()
            if not text.isdigit() or len(text) > 10:
                raise ApiError(401, "X-Org-Id must name an organization by its id.")
            return self.accounts.gateway_caller(int(text))
        raise ApiError(401, "Send a bearer token: Authorization: Bearer <token>.")

    def limit(self, org_id: int) -> None:
        """Count one request of the organization; ApiError 429 over the limit."""
        wait = self.limiter.wait_after_hit(org_id)
        if wait is not None:
            raise ApiError(
                429,
                f"Too many API requests for this organization (limit {self.limiter.rate}). "
                f"Try again in {wait} s.",
                {"Retry-After": str(wait)},
            )


def _single(request: Request, name: str) -> str | None:
    """The one value of header ``name`` (None when absent); 400 when it was sent twice."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"Send the {name.title()} header once, not {len(values)} times.")
    return values[0] if values else None


def callers_of(request: Request) -> Callers:
    """The API application's Callers (set by ``create_api``)."""
    callers: Callers = request.app.state.callers
    return callers
