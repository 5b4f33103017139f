"""Odoo's external API endpoints over the emulated ORM (``odoo_orm``).

- ``/xmlrpc/2/<service>``: XML-RPC, integer fault codes; ``/xmlrpc/<service>``: the legacy
  flavour with string fault codes (odoo-client-lib uses it).
- ``/jsonrpc``: the same three services (common, db, object) in JSON-RPC 2.0 (odoorpc and
  odoo-client-lib use it); errors are HTTP 200 with an ``error`` member.
- ``/json/2/<model>/<method>``: Odoo 19's JSON-2 API (bearer API key, named arguments,
  HTTP status codes for errors); ``/doc-bearer/<model>.json`` describes a model's methods.
- ``/web/version`` (plain JSON), and the JSON-RPC web routes ``/web/webclient/version_info``,
  ``/web/session/authenticate`` (a session cookie), ``/web/database/list`` and
  ``/web/dataset/call_kw`` (with that session).
"""

from __future__ import annotations

import hmac
import inspect
import secrets
import threading
import xmlrpc.client
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from core.sandbox.odoo_errors import OdooError, access_denied, access_error, http_error
from core.sandbox.odoo_models import UID
from core.sandbox.odoo_orm import MODEL_METHODS, BaseModel, Orm, Users
from core.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from core.sandbox.server import SandboxServer

VERSION_INFO = [19, 0, 0, "final", 0, ""]
VERSION = {
    "server_version": "19.0",
    "server_version_info": VERSION_INFO,
    "server_serie": "19.0",
    "protocol_version": 1,
}
XML = "text/xml; charset=utf-8"


class OdooHandler:
    """Answers Odoo's external API paths like an Odoo 19 server."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.orm = Orm(server)
        self._sessions: dict[str, str] = {}
        self._lock = threading.Lock()

    def handle(self, req: Request) -> Response:
        """Route one request to its transport."""
        path = req.path
        if path.startswith("/xmlrpc/2/"):
            return self._xmlrpc(req, path[len("/xmlrpc/2/") :], legacy=False)
        if path.startswith("/xmlrpc/"):
            return self._xmlrpc(req, path[len("/xmlrpc/") :], legacy=True)
        if path == "/jsonrpc":
            return self._jsonrpc(req, lambda p, _r: self._rpc_params(p))
        if path.startswith("/json/2"):
            return self._json2(req)
        if path in ("/web/version", "/json/version"):
            return json_response(200, {"version_info": VERSION_INFO, "version": "19.0"})
        if path == "/web/webclient/version_info":
            return self._jsonrpc(req, lambda _p, _r: (dict(VERSION), None))
        if path == "/web/session/authenticate":
            return self._jsonrpc(req, self._authenticate)
        if path == "/web/database/list":
            return self._jsonrpc(req, lambda _p, _r: ([self.server.odoo_db], None))
        if path == "/web/dataset/call_kw" or path.startswith("/web/dataset/call_kw/"):
            return self._jsonrpc(req, self._call_kw_session)
        if path.startswith("/doc-bearer/") and path.endswith(".json"):
            return self._doc(req, path[len("/doc-bearer/") : -len(".json")])
        return Response(404, b"<h1>Not Found</h1>", content_type="text/html; charset=utf-8")

    # -- the RPC services (common, db, object) ------------------------------------------------
    def dispatch_rpc(self, service: str, method: str, params: Sequence[Any]) -> tuple[Any, Any]:
        """One call of a service; (result, data page number or None)."""
        if service == "common":
            return self._common(method, list(params)), None
        if service == "db":
            return self._db(method, list(params)), None
        if service == "object":
            return self._object(method, list(params))
        raise OdooError(repr(service), "builtins.KeyError", "internal")

    def _common(self, method: str, params: list[Any]) -> Any:
        if method == "version":
            return dict(VERSION)
        if method == "about":
            return "See http://openerp.com"
        if method == "login":
            _arity("exp_login", params, 3)
            return self._login(*params)
        if method == "authenticate":
            _arity("exp_authenticate", params, 4)
            return self._login(*params[:3])
        raise OdooError(f"Method not found: {method}", "builtins.Exception", "internal")

    def _db(self, method: str, params: list[Any]) -> Any:
        if method == "list":
            return [self.server.odoo_db]
        if method == "server_version":
            return "19.0"
        if method == "db_exist":
            _arity("exp_db_exist", params, 1)
            return params[0] == self.server.odoo_db
        if method == "list_lang":
            return [["en_US", "English (US)"]]
        raise OdooError(f"Method not found: {method}", "builtins.Exception", "internal")

    def _object(self, method: str, params: list[Any]) -> tuple[Any, Any]:
        if len(params) < 3:
            raise OdooError("list index out of range", "builtins.IndexError", "internal")
        db, raw_uid, password = params[:3]
        try:
            uid = int(raw_uid)
        except (TypeError, ValueError):
            raise OdooError(
                f"invalid literal for int() with base 10: {raw_uid!r}",
                "builtins.ValueError",
                "internal",
            ) from None
        self._check_db(db)
        if uid != UID or not self._password_ok(password):
            raise access_denied()
        if method == "execute_kw":
            if len(params) < 6:
                raise OdooError(
                    "execute_kw() missing required positional arguments",
                    "builtins.TypeError",
                    "internal",
                )
            model, name, args = params[3], params[4], params[5]
            kwargs = params[6] if len(params) > 6 else {}
            return self.orm.call_kw(str(model), str(name), list(args or []), dict(kwargs or {}))
        if method == "execute":
            if len(params) < 5:
                raise OdooError(
                    "execute() missing required positional arguments",
                    "builtins.TypeError",
                    "internal",
                )
            return self.orm.call_kw(str(params[3]), str(params[4]), list(params[5:]), {})
        raise OdooError(f"Method not available {method}", "builtins.NameError", "internal")

    def _login(self, db: Any, login: Any, password: Any) -> int | bool:
        self._check_db(db)
        return UID if login == self.server.odoo_user and self._password_ok(password) else False

    def _check_db(self, db: Any) -> None:
        if db != self.server.odoo_db:
            raise OdooError(
                'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{db}" does not exist',
                "psycopg2.OperationalError",
                "internal",
            )

    def _password_ok(self, password: Any) -> bool:
        text = str(password or "")
        server = self.server
        return any(
            hmac.compare_digest(text, s) for s in (server.odoo_password, server.odoo_api_key) if s
        )

    # -- XML-RPC ------------------------------------------------------------------------------
    def _xmlrpc(self, req: Request, service: str, legacy: bool) -> Response:
        if req.method != "POST":
            return Response(405, b"Method Not Allowed", content_type="text/plain")
        try:
            params, method = xmlrpc.client.loads(req.body, use_datetime=False)
        except Exception:
            fault = OdooError("Invalid XML-RPC request", "xml.parsers.expat.ExpatError", "internal")
            return _xml(fault.xmlrpc_fault(legacy), None)
        try:
            result, page = self.dispatch_rpc(service, method or "", params)
        except OdooError as exc:
            return _xml(exc.xmlrpc_fault(legacy), None)
        return _xml((result,), page)

    # -- JSON-RPC -----------------------------------------------------------------------------
    def _jsonrpc(
        self, req: Request, run: Callable[[dict[str, Any], Request], tuple[Any, Any]]
    ) -> Response:
        try:
            payload = orjson.loads(req.body or b"{}")
        except orjson.JSONDecodeError:
            return _jsonrpc_error(None, 400, "Invalid JSON data", {})
        if not isinstance(payload, dict):
            return _jsonrpc_error(None, 400, "Invalid JSON-RPC data", {})
        request_id = payload.get("id")
        params = payload.get("params") or {}
        if not isinstance(params, dict):
            params = {}
        try:
            result, extra = run(params, req)
        except OdooError as exc:
            if exc.name == "odoo.http.SessionExpiredException":
                return _jsonrpc_error(request_id, 100, "Odoo Session Expired", exc.serialized())
            return _jsonrpc_error(request_id, 200, "Odoo Server Error", exc.serialized())
        response = json_response(200, {"jsonrpc": "2.0", "id": request_id, "result": result})
        if isinstance(extra, int):
            response.page = extra
        elif isinstance(extra, dict):
            response.headers.update(extra)
        return response

    def _rpc_params(self, params: dict[str, Any]) -> tuple[Any, Any]:
        service, method = params.get("service"), params.get("method")
        args = params.get("args") or []
        if not isinstance(service, str) or not isinstance(method, str):
            raise OdooError(
                "jsonrpc() missing required arguments: 'service', 'method' and 'args'",
                "builtins.TypeError",
                "internal",
            )
        return self.dispatch_rpc(service, method, list(args))

    def _authenticate(self, params: dict[str, Any], _req: Request) -> tuple[Any, Any]:
        db, login, password = params.get("db"), params.get("login"), params.get("password")
        if db != self.server.odoo_db:
            raise access_error("Database not found.")
        if login != self.server.odoo_user or not self._password_ok(password):
            raise access_denied()
        sid = secrets.token_hex(20)
        with self._lock:
            if len(self._sessions) > 10_000:
                self._sessions.clear()
            self._sessions[sid] = str(db)
        cookie = f"session_id={sid}; Path=/; HttpOnly; SameSite=Lax"
        return self._session_info(str(db)), {"Set-Cookie": cookie}

    def _session_info(self, db: str) -> dict[str, Any]:
        companies = list(self.server.profile.odoo_companies) or [1]
        env = self.orm.env()
        company_model = env.model("res.company")
        assert company_model is not None
        allowed = {}
        for cid in companies:
            record = company_model.record(cid) or {"name": f"Company {cid}"}
            allowed[str(cid)] = {
                "id": cid,
                "name": record["name"],
                "sequence": cid,
                "child_ids": [],
                "parent_id": False,
            }
        return {
            "uid": UID,
            "is_system": True,
            "is_admin": True,
            "is_public": False,
            "user_context": {"lang": "en_US", "tz": "UTC", "uid": UID},
            "db": db,
            "server_version": "19.0",
            "server_version_info": VERSION_INFO,
            "name": "Mitchell Admin",
            "username": self.server.odoo_user,
            "partner_display_name": env.partner_name(1),
            "partner_id": 1,
            "web.base.url": self.server.url,
            "user_companies": {
                "current_company": companies[0],
                "allowed_companies": allowed,
                "disallowed_ancestor_companies": {},
            },
        }

    def _call_kw_session(self, params: dict[str, Any], req: Request) -> tuple[Any, Any]:
        sid = _cookie(req.headers.get("cookie", ""), "session_id")
        with self._lock:
            known = sid is not None and sid in self._sessions
        if not known:
            raise OdooError("Session expired", "odoo.http.SessionExpiredException", "internal")
        return self.orm.call_kw(
            str(params.get("model")),
            str(params.get("method")),
            list(params.get("args") or []),
            dict(params.get("kwargs") or {}),
        )

    # -- JSON-2 -------------------------------------------------------------------------------
    def _json2(self, req: Request) -> Response:
        parts = req.path.split("/")
        if req.method != "POST" or len(parts) != 5 or not parts[3] or not parts[4]:
            return _json2_error(http_error(404, "Did you mean POST /json/2/<model>/<method>?"))
        denied = self._bearer(req)
        if denied is not None:
            return denied
        try:
            payload = orjson.loads(req.body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as exc:
            return _json2_error(http_error(400, f"could not parse the body as json: {exc}"))
        try:
            result, page = self.orm.call_json2(parts[3], parts[4], payload)
        except OdooError as exc:
            return _json2_error(exc)
        response = json_response(200, result)
        response.page = page
        return response

    def _bearer(self, req: Request) -> Response | None:
        scheme, _, key = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            key.strip(), self.server.odoo_api_key
        ):
            response = _json2_error(http_error(401, "Invalid apikey"))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        db = req.headers.get("x-odoo-database")
        if db is not None and db != self.server.odoo_db:
            return _json2_error(http_error(404, f"Database {db!r} not found."))
        return None

    def _doc(self, req: Request, model_name: str) -> Response:
        denied = self._bearer(req)
        if denied is not None:
            return denied
        model = self.orm.env().model(model_name)
        if model is None:
            return _json2_error(http_error(404, f"the model {model_name!r} does not exist"))
        holder = Users if model_name == "res.users" else BaseModel
        methods = {}
        for name, stub in inspect.getmembers(holder, inspect.isfunction):
            if name.startswith("_"):
                continue
            parameters = {
                p.name: {"default": p.default} if p.default is not p.empty else {}
                for p in list(inspect.signature(stub).parameters.values())[1:]
                if p.kind is not p.VAR_KEYWORD
            }
            methods[name] = {
                "api": ["model"] if name in MODEL_METHODS else [],
                "parameters": parameters,
            }
        body = {
            "model": model.name,
            "name": model.description,
            "fields": {k: f.describe() for k, f in model.fields().items()},
            "methods": methods,
        }
        return json_response(200, body)


def _arity(name: str, params: Sequence[Any], count: int) -> None:
    if len(params) != count:
        raise OdooError(
            f"{name}() takes {count} positional arguments but {len(params)} were given",
            "builtins.TypeError",
            "internal",
        )


def _xml(payload: Any, page: Any) -> Response:
    if isinstance(payload, xmlrpc.client.Fault):
        body = xmlrpc.client.dumps(payload, methodresponse=True)
    else:
        body = xmlrpc.client.dumps(payload, methodresponse=True, allow_none=False)
    response = Response(200, body.encode(), content_type=XML)
    response.page = page if isinstance(page, int) else None
    return response


def _jsonrpc_error(request_id: Any, code: int, message: str, data: dict[str, Any]) -> Response:
    error = {"code": code, "message": message, "data": data}
    return json_response(200, {"jsonrpc": "2.0", "id": request_id, "error": error})


def _json2_error(exc: OdooError) -> Response:
    return json_response(exc.status, exc.serialized())


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
