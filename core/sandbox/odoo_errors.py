"""Exceptions of the emulated Odoo and the way each transport reports them.

Odoo raises Python exceptions; the transport turns them into a fault or an error body
(core/sandbox/README.md names the Odoo code this follows):

=============  ============================  =========  ======  ====================
kind           exception                     /xmlrpc/2  JSON-2  /xmlrpc (legacy)
=============  ============================  =========  ======  ====================
user           odoo.exceptions.UserError     2          422     'warning -- UserError'
missing        odoo.exceptions.MissingError  2          404     'warning -- Missing…'
access_error   odoo.exceptions.AccessError   4          403     'warning -- Access…'
access_denied  odoo.exceptions.AccessDenied  3          403     'AccessDenied'
internal       any other (ValueError, …)     1 (a)      500     the message (b)
http           werkzeug NotFound, …          —          code    —
=============  ============================  =========  ======  ====================

(a) with the traceback as fault string; (b) with the traceback as fault string.

Over JSON-RPC (``/jsonrpc``, ``/web/...``) every error is HTTP 200 with ``{"error": {"code":
200, "message": "Odoo Server Error", "data": {"name", "message", "arguments", "context",
"debug"}}}``.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

_STATUS = {"user": 422, "missing": 404, "access_error": 403, "access_denied": 403, "internal": 500}
_INT_FAULT = {"user": 2, "missing": 2, "access_error": 4, "access_denied": 3, "internal": 1}
_STRING_FAULT = {
    "user": "warning -- UserError\n\n",
    "missing": "warning -- MissingError\n\n",
    "access_error": "warning -- AccessError\n\n",
}


class OdooError(Exception):
    """An exception raised by the emulated Odoo server."""

    def __init__(
        self,
        message: str,
        name: str = "odoo.exceptions.UserError",
        kind: str = "user",
        status: int | None = None,
        arguments: tuple[Any, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.kind = kind
        self.status = status if status is not None else _STATUS.get(kind, 500)
        self.arguments = arguments if arguments is not None else (message,)

    @property
    def traceback(self) -> str:
        """A traceback as Odoo prints it (the last line is what clients show)."""
        if self.kind == "access_denied":
            return ""
        short = self.name.removeprefix("builtins.")
        return (
            "Traceback (most recent call last):\n"
            '  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 156, in retrying\n'
            "    result = func()\n"
            '  File "/usr/lib/python3/dist-packages/odoo/api.py", line 517, in call_kw\n'
            "    result = getattr(recs, name)(*args, **kwargs)\n"
            f"{short}: {self.message}\n"
        )

    # -- the transports -------------------------------------------------------------------
    def xmlrpc_fault(self, legacy: bool = False) -> xmlrpc.client.Fault:
        """The fault of /xmlrpc/2 (integer codes), or of /xmlrpc (string codes)."""
        if not legacy:
            code = _INT_FAULT.get(self.kind, 1)
            text = self.traceback if code == 1 else self.message
            return xmlrpc.client.Fault(code, text)
        if self.kind == "access_denied":
            return xmlrpc.client.Fault("AccessDenied", self.message)  # type: ignore[arg-type]
        prefix = _STRING_FAULT.get(self.kind)
        if prefix is not None:
            return xmlrpc.client.Fault(prefix + self.message, "")  # type: ignore[arg-type]
        return xmlrpc.client.Fault(self.message, self.traceback)  # type: ignore[arg-type]

    def serialized(self) -> dict[str, Any]:
        """odoo.http.serialize_exception: the body of JSON-2 and the data of JSON-RPC errors."""
        return {
            "name": self.name,
            "message": self.message,
            "arguments": list(self.arguments),
            "context": {},
            "debug": self.traceback,
        }


def user_error(message: str) -> OdooError:
    """odoo.exceptions.UserError."""
    return OdooError(message)


def access_error(message: str) -> OdooError:
    """odoo.exceptions.AccessError."""
    return OdooError(message, "odoo.exceptions.AccessError", "access_error")


def access_denied(message: str = "Access Denied") -> OdooError:
    """odoo.exceptions.AccessDenied (a wrong login, password or API key)."""
    return OdooError(message, "odoo.exceptions.AccessDenied", "access_denied")


def value_error(message: str) -> OdooError:
    """A ValueError raised by the ORM (unknown field, bad domain or order)."""
    return OdooError(message, "builtins.ValueError", "internal")


def type_error(message: str) -> OdooError:
    """A TypeError from calling a method with wrong arguments."""
    return OdooError(message, "builtins.TypeError", "internal")


def http_error(status: int, description: str) -> OdooError:
    """A werkzeug HTTP exception (JSON-2 only): NotFound, UnprocessableEntity, ..."""
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        404: "NotFound",
        405: "MethodNotAllowed",
        422: "UnprocessableEntity",
    }
    return OdooError(
        description,
        f"werkzeug.exceptions.{names.get(status, 'HTTPException')}",
        "http",
        status,
        (description, status),
    )
