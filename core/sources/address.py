"""A connector's address: checked when it is saved and before it is used, masked when shown.

An address is an ``http://`` or ``https://`` URL with a host. Credentials belong in the
connector's credential fields (encrypted in the vault), never in the address: a new address
with a user name or password is refused, and one stored before that rule is shown with its
password masked (``https://user:•••@shop.example.com``) wherever it appears.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.errors import InvalidRequest

SCHEMES = ("http", "https")
MASK = "•••"
#: ``scheme://user:password@`` (or ``scheme://user@``) in any text: a log line, an error, a detail.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#]+)@")


def check_address(url: str, *, allow_credentials: bool = False) -> str:
    """The address without surrounding spaces and trailing slashes, or ``InvalidRequest``
    saying what is wrong with it (the message shows the address with its password masked).

    ``allow_credentials`` accepts a user name and password in it (an address stored before
    they were refused, still used to connect).
    """
    address = url.strip().rstrip("/")
    shown = mask_address(address)
    example = "for example https://shop.example.com"
    if not address:
        raise InvalidRequest(f"Enter the address of the system ({example}).")
    if any(ch.isspace() for ch in address):
        raise InvalidRequest(f"The address '{shown}' contains spaces; enter it without them.")
    try:
        parts = urlsplit(address)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidRequest(
            f"The address '{shown}' is not a valid web address ({example})."
        ) from None
    del port
    if parts.scheme.lower() not in SCHEMES or not parts.netloc:
        raise InvalidRequest(
            f"The address '{shown}' must start with http:// or https:// and name a host "
            f"({example})."
        )
    if not parts.hostname:
        raise InvalidRequest(f"The address '{shown}' has no host name ({example}).")
    if not allow_credentials and (parts.username or parts.password):
        raise InvalidRequest(
            "Do not put a user name or password in the address: enter the credentials in "
            "their own fields, where they are stored encrypted."
        )
    return address


def mask_address(url: str) -> str:
    """The address with its user info masked: ``https://user:•••@host`` (a user name alone,
    which may be a token, becomes ``•••``)."""
    return mask_addresses_in(url)


def mask_addresses_in(text: str) -> str:
    """``text`` with the user info of every ``scheme://...@`` address in it masked."""

    def masked(m: re.Match[str]) -> str:
        user, colon, _password = m.group(2).partition(":")
        return f"{m.group(1)}{user}:{MASK}@" if colon else f"{m.group(1)}{MASK}@"

    return _USERINFO.sub(masked, text)
