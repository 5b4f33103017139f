"""The credentials vault: connector secrets are Fernet-encrypted before they reach the DB.

Only :meth:`Vault.decrypt` turns them back into text, and only the service that builds a
connector calls it. Everything shown to a user goes through :func:`mask`.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from cryptography.fernet import Fernet, InvalidToken

from core.errors import ConfigError


class Vault:
    """Encrypts and decrypts a connector's credentials with the settings' SECRET_KEY."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except ValueError as exc:
            raise ConfigError("SECRET_KEY is not a valid Fernet key.") from exc

    def __repr__(self) -> str:
        return "Vault(<key hidden>)"

    def encrypt(self, credentials: Mapping[str, str]) -> bytes:
        """The encrypted form of ``credentials`` (a token that also authenticates them)."""
        return self._fernet.encrypt(orjson.dumps(dict(credentials)))

    def decrypt(self, blob: bytes) -> dict[str, str]:
        """The credentials again; a clear error when SECRET_KEY changed since they were saved."""
        try:
            data = orjson.loads(self._fernet.decrypt(blob))
        except InvalidToken as exc:
            raise ConfigError(
                "Stored connector credentials cannot be decrypted: SECRET_KEY has changed "
                "since they were saved. Enter the credentials again on the Connectors page."
            ) from exc
        return {str(k): str(v) for k, v in data.items()}


def mask(value: str | None) -> str:
    """A display form that never reveals a secret: ``ck_…a1b2`` for long keys, dots otherwise."""
    if not value:
        return ""
    if len(value) >= 16:
        return f"{value[:3]}…{value[-4:]}"
    return "••••••"
