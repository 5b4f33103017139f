"""Who calls the JSON API, and whether their organization may ask again this minute.

The organization comes from a verified bearer token (``core.api.tokens``); an ``X-Org-Id``
header must match it, and is taken alone only when the operator declares a trusted gateway
(API_TRUSTED_GATEWAY). The token's subject becomes the actor (``AccountService.api_actor``).
Each organization has API_RATE_LIMIT requests (10 a minute).
"""

from __future__ import annotations

from fastapi import Request

from core.api.answers import ApiError
from core.api.tokens import TokenRefused, read_token
from core.config import Settings
from core.services.accounts import AccountService
from core.services.actors import Actor
from core.services.ratelimit import OrgRateLimiter


class Callers:
    """Identifies callers and counts their organization's requests."""

    def __init__(self, settings: Settings, accounts: AccountService) -> None:
        self.settings = settings
        self.accounts = accounts
        self.limiter = OrgRateLimiter(
            settings.api_rate_limit, settings.redis_url, kind="api", setting="API_RATE_LIMIT"
        )

    def identify(self, request: Request) -> Actor:
        """The actor of this request; ApiError 401/400 when it cannot be established."""
        header_org = request.headers.get("x-org-id")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            secret = self.settings.api_jwt_secret
            if not secret:
                raise ApiError(401, "The JSON API is closed on this server (no API_JWT_SECRET).")
            try:
                claims = read_token(secret, token)
            except TokenRefused as err:
                raise ApiError(401, str(err)) from None
            if header_org is not None and header_org.strip() != str(claims.org_id):
                raise ApiError(401, "X-Org-Id does not match the token's organization.")
            return self.accounts.api_actor(claims.org_id, claims.subject)
        if self.settings.api_trusted_gateway and header_org:
            try:
                org_id = int(header_org)
            except ValueError:
                raise ApiError(400, "X-Org-Id must be an organization id.") from None
            return self.accounts.gateway_caller(org_id)
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


def callers_of(request: Request) -> Callers:
    """The API application's Callers (set by ``create_api``)."""
    callers: Callers = request.app.state.callers
    return callers
