"""Keep secrets out of messages and logs: a URL display form, and redaction of every log record.

Log records are redacted where they are made (the logging module's record factory): every
handler then sees the redacted message — the root logger's, Streamlit's, uvicorn's, and one
added later. (A filter on a logger does not see the records of its child loggers: oauthlib
logs ``oauth_consumer_key`` at DEBUG from ``oauthlib.oauth1.rfc5849``.)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from core.sources.address import mask_addresses_in

_SECRET_PARAMS = re.compile(
    r"(?i)(?<![a-z_])(consumer_key|consumer_secret|oauth_signature|oauth_nonce|oauth_consumer_key|"
    r"password|api_key|apikey|token|key|secret)(=|%3D|%253D)((?:(?!%26|%2526)[^&\s\"'])*)"
)  # also percent-encoded, as in the OAuth 1.0a signature base string oauthlib logs
_lock = threading.Lock()
_known_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None  # the registered secrets, as whole tokens
_installed = False


def display_url(url: str) -> str:
    """The URL as shown to users: scheme, host, port and path; no user info, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{host}{port}{path}"


def _token(secret: str) -> str:
    """A pattern of ``secret`` as a whole token: where it starts (ends) with a letter, digit
    or "_", no such character may come right before (after) it. So a password "admin" is
    taken out of "admin:x@host" and "“admin”", but not out of "administrator"."""
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return before + re.escape(secret) + after


def redact(text: str) -> str:
    """Replace secret query parameters, the user info of addresses and every registered
    secret value (a whole token, not a part of a word) by a mask."""
    text = mask_addresses_in(_SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text))
    with _lock:
        pattern = _pattern
    return text if pattern is None else pattern.sub("***", text)


class RedactingFilter(logging.Filter):
    """Rewrite a log record's message with `redact` (for a handler of one's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _clean(record)
        return True


def _clean(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its message: leave it to logging
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg = cleaned
        record.args = None


def _redacting(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _clean(record)
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    return factory


def protect(secrets: Iterable[str]) -> None:
    """Register secret values, and redact every log record from now on."""
    global _installed, _pattern
    with _lock:
        before = len(_known_secrets)
        _known_secrets.update(s for s in secrets if s and len(s) >= 3)
        if len(_known_secrets) != before:
            longest_first = sorted(_known_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(_token(secret) for secret in longest_first))
        if _installed:
            return
        _installed = True
    make = logging.getLogRecordFactory()
    if not getattr(make, "redacts", False):
        logging.setLogRecordFactory(_redacting(make))
