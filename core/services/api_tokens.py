"""The JSON API's tokens: issued (their id recorded, never the token), listed and revoked.

A token names who calls: a **user** of the organization (their role applies, and the token
stops working with them) or a **service**. ``core.api.tokens`` signs and reads the tokens;
``AccountService.api_actor`` refuses one whose id was not issued here or was revoked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db.accounts import UserRepo
from core.db.api_tokens import ApiTokenRows, TokenView
from core.db.clock import utcnow
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest, NotFoundError
from core.services.actors import MANAGE_API_TOKENS, Actor, authorize
from core.services.events import ApiTokenIssued, ApiTokenRevoked, record

__all__ = ["ApiTokenService", "TokenView"]


class ApiTokenService:
    """Issue, list and revoke an organization's API tokens (admins and the operator)."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock or utcnow

    def issue(
        self, actor: Actor, subject: str, *, days: int, service: bool | None = None
    ) -> TokenView:
        """Record a new token for ``subject``: a user token when it names an active user of
        the organization (unless ``service`` says otherwise), else a service token. The
        caller signs it (``core.api.tokens.issue_token``) with the id returned."""
        authorize(actor, MANAGE_API_TOKENS)
        name = subject.strip()
        if not name or len(name) > 60:
            raise InvalidRequest("Name who the token is for (at most 60 characters).")
        if days < 1:
            raise InvalidRequest("A token must be valid for at least one day.")
        now = self.clock()
        with tenant_session(self.sessions, actor.org_id) as s:
            is_user = any(u.username == name.lower() and u.active for u in UserRepo(s).list())
            if service is False and not is_user:
                raise NotFoundError(f"There is no active user '{name}' in this organization.")
            kind = "service" if service or not is_user else "user"
            view = ApiTokenRows(s).add(
                name.lower() if kind == "user" else name,
                kind,
                by=actor.log_name,
                now=now,
                expires_at=now + timedelta(days=days),
            )
            record(s, ApiTokenIssued(view.token_id, view.subject, kind), by=actor.log_name)
            return view

    def list(self, actor: Actor) -> list[TokenView]:
        """The tokens issued for the actor's organization, newest first."""
        authorize(actor, MANAGE_API_TOKENS)
        with tenant_session(self.sessions, actor.org_id) as s:
            return ApiTokenRows(s).list()

    def revoke(self, actor: Actor, token_id: str) -> TokenView:
        """Revoke a token: requests that carry it are refused (401) from now on."""
        authorize(actor, MANAGE_API_TOKENS)
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ApiTokenRows(s).revoke(token_id, by=actor.log_name, now=self.clock())
            record(s, ApiTokenRevoked(view.token_id, view.subject), by=actor.log_name)
            return view
