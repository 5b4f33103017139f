"""The ORM methods external clients call, with Odoo's signatures, context and record rules.

- Arguments are bound like Python binds them to Odoo's methods, so a wrong call fails with
  the TypeError Odoo would raise (over JSON-2: 422 with the message of
  ``inspect.signature(...).bind``, as Odoo 19 does; see core/sandbox/README.md).
- ``context``: ``active_test`` (default True: archived records are left out unless the
  domain has a condition on ``active``) and ``allowed_company_ids`` (must be among the API
  user's companies, else "Access to unauthorized or invalid companies."; without it, all the
  user's companies are visible).
- Record rules: a record of a company the context does not allow is invisible to ``search``
  and refused by ``read`` (AccessError).
- Unknown models, methods and fields raise what Odoo raises (see ``odoo_errors``).
"""

from __future__ import annotations

import bisect
import inspect
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.sandbox import odoo_domain as dom
from core.sandbox.odoo_errors import (
    OdooError,
    access_error,
    http_error,
    type_error,
    value_error,
)
from core.sandbox.odoo_models import MODELS, UID, Env, Model, SaleOrderLine

if TYPE_CHECKING:
    from core.sandbox.server import SandboxServer


class BaseModel:
    """Odoo's public ORM methods, signatures only (a call binds and returns the arguments)."""

    def search(
        self, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> dict[str, Any]:
        return locals()

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
        **read_kwargs: Any,
    ) -> dict[str, Any]:
        return locals()

    def search_count(self, domain: Any, limit: Any = None) -> dict[str, Any]:
        return locals()

    def read(self, fields: Any = None, load: Any = "_classic_read") -> dict[str, Any]:
        return locals()

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
        return locals()

    def name_search(
        self, name: Any = "", domain: Any = None, operator: Any = "ilike", limit: Any = 100
    ) -> dict[str, Any]:
        return locals()


class Users(BaseModel):
    """res.users adds context_get."""

    def context_get(self) -> dict[str, Any]:
        return locals()


MODEL_METHODS = frozenset({"search", "search_read", "search_count", "fields_get", "name_search"})
MODEL_METHODS |= {"context_get"}


@dataclass(frozen=True)
class Context:
    """What a call's context changes."""

    active_test: bool
    companies: tuple[int, ...]
    checked: bool  # allowed_company_ids was given and checked


class Orm:
    """Runs ORM calls against the sandbox store."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    def env(self) -> Env:
        """The models over the current store and profile."""
        server = self.server
        return Env(server.store, server.profile, server.odoo_user, MODELS)

    # -- entry points -------------------------------------------------------------------------
    def call_kw(
        self, model_name: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[Any, int | None]:
        """XML-RPC / JSON-RPC ``execute_kw``: Odoo's call_kw (ids from the first argument)."""
        env = self.env()
        model = env.model(model_name)
        if model is None:
            raise OdooError(f"Object {model_name} doesn't exist")
        stub = self._method(model, method)
        kwargs = dict(kwargs)
        context = kwargs.pop("context", None) or {}
        args = list(args)
        ids: list[int] | None = None
        if method not in MODEL_METHODS:
            if not args:
                raise OdooError("list index out of range", "builtins.IndexError", "internal")
            ids = _ids(args.pop(0))
        try:
            bound = stub(None, *args, **kwargs)
        except TypeError as exc:
            raise type_error(str(exc)) from None
        return self._run(model, method, bound, ids, context)

    def call_json2(
        self, model_name: str, method: str, body: Mapping[str, Any]
    ) -> tuple[Any, int | None]:
        """JSON-2: every argument named, plus ``ids`` and ``context``."""
        env = self.env()
        model = env.model(model_name)
        if model is None:
            raise http_error(404, f"the model {model_name!r} does not exist")
        try:
            stub = self._method(model, method)
        except OdooError as exc:
            if exc.name == "builtins.AttributeError":
                raise http_error(404, exc.message) from None
            raise
        kwargs = {k: v for k, v in body.items() if k not in ("ids", "context")}
        raw_ids = body.get("ids") or []
        if method in MODEL_METHODS and raw_ids:
            raise http_error(422, f"cannot call {model_name}.{method} with ids")
        try:
            inspect.signature(stub).bind(None, **kwargs)
        except TypeError as exc:
            raise http_error(422, str(exc.args[0])) from None
        try:
            bound = stub(None, **kwargs)
        except TypeError as exc:
            raise type_error(str(exc)) from None
        ids = None if method in MODEL_METHODS else _ids(raw_ids)
        return self._run(model, method, bound, ids, body.get("context") or {})

    def _method(self, model: Model, method: str) -> Any:
        if method.startswith("_"):
            raise access_error(
                f"Private methods (such as '{model.name}.{method}') cannot be called remotely."
            )
        holder = Users if model.name == "res.users" else BaseModel
        stub = getattr(holder, method, None)
        if stub is None:
            raise OdooError(
                f"The method '{model.name}.{method}' does not exist",
                "builtins.AttributeError",
                "internal",
            )
        return stub

    # -- the methods --------------------------------------------------------------------------
    def _run(
        self,
        model: Model,
        method: str,
        bound: Mapping[str, Any],
        ids: list[int] | None,
        raw_context: Any,
    ) -> tuple[Any, int | None]:
        if method == "fields_get":
            return _fields_get(model, bound["allfields"], bound["attributes"]), None
        if method == "context_get":
            return {"lang": "en_US", "tz": "UTC", "uid": UID}, None
        ctx = self._context(raw_context)
        if method == "read":
            return self._read(model, ids or [], bound["fields"], bound["load"], ctx), None
        if method == "search_count":
            found, _ = self._search(model, bound["domain"], ctx, counting=True)
            limit = bound["limit"]
            return (min(len(found), int(limit)) if limit else len(found)), None
        if method == "name_search":
            domain = list(bound["domain"] or [])
            if bound["name"]:
                domain.append(["name", bound["operator"], bound["name"]])
            found, _ = self._search(model, domain, ctx, limit=bound["limit"])
            return [[i, model.value(i, "display_name")] for i in found], None
        found, page = self._search(
            model,
            bound["domain"],
            ctx,
            offset=bound["offset"],
            limit=bound["limit"],
            order=bound["order"],
            drifting=True,
        )
        if method == "search":
            return found, page
        read_kwargs = dict(bound["read_kwargs"])
        try:
            read = BaseModel.read(None, bound["fields"], **read_kwargs)  # type: ignore[arg-type]
        except TypeError as exc:
            raise type_error(str(exc)) from None
        return self._read(model, found, read["fields"], read["load"], ctx), page

    def _context(self, raw: Any) -> Context:
        context = raw if isinstance(raw, Mapping) else {}
        user_companies = tuple(self.server.profile.odoo_companies)
        wanted = context.get("allowed_company_ids")
        if wanted:
            if not isinstance(wanted, list | tuple) or set(wanted) - set(user_companies):
                raise access_error("Access to unauthorized or invalid companies.")
            return Context(context.get("active_test", True) is not False, tuple(wanted), True)
        return Context(context.get("active_test", True) is not False, user_companies, False)

    def _search(
        self,
        model: Model,
        domain: Any,
        ctx: Context,
        *,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
        counting: bool = False,
        drifting: bool = False,
    ) -> tuple[list[int], int | None]:
        tree = dom.parse(domain, model.name, model.field_type)
        fields = model.fields()
        if "active" in fields and ctx.active_test and not dom.mentions(tree, "active"):
            tree = dom.and_(dom.Leaf(("active",), "=", True), tree)
        terms = (
            []
            if counting
            else dom.parse_order(
                order or model.order, model.name, model.field_type, lambda f: fields[f].store
            )
        )
        low, high, only, rest = dom.split_ids(tree)
        store = self.server.store
        offset, limit = int(offset or 0), (int(limit) if limit else None)
        if drifting and model.entity and self.server.faults.drift:
            store.drift(model.entity, low + 1, limit or 80)
        rule = _company_rule(model, ctx)
        predicate = dom.compile_tree(rest, model.getter, model.field_type)
        tests = [t for t in (predicate, rule) if t is not None]

        def matches(i: int) -> bool:
            return all(t(i) for t in tests)

        candidates = _candidates(model, rest)
        if candidates is not None:
            matched: Sequence[int] = [i for i in candidates if matches(i)]
        elif not tests:
            matched = model.ids()
        else:
            cache_key = ("odoo-search", model.name, dom.key(rest), ctx.companies)
            matched = store.memo(
                cache_key,
                model.deps,
                lambda: array("q", (i for i in model.ids() if matches(int(i)))),
            )
        start = bisect.bisect_right(matched, low)
        stop = bisect.bisect_right(matched, high) if high is not None else len(matched)
        window: Sequence[int] = matched[start:stop]
        if only is not None:
            window = [i for i in window if i in only]
        if terms == [("id", True)]:
            window = list(window)[::-1]
        elif terms and terms != [("id", False)]:
            if candidates is None and only is None and start == 0 and stop == len(matched):
                sort_key = ("odoo-sort", model.name, dom.key(rest), ctx.companies, tuple(terms))
                window = store.memo(sort_key, model.deps, lambda: _sorted(model, matched, terms))
            else:
                window = _sorted(model, window, terms)
        chosen = list(window[offset : offset + limit] if limit else window[offset:])
        page = (start + offset) // limit + 1 if limit and model.entity else None
        return chosen, page

    def _read(
        self, model: Model, ids: Sequence[int], fields: Any, load: Any, ctx: Context
    ) -> list[dict[str, Any]]:
        available = model.fields()
        if fields in (None, False):
            fields = []
        if not isinstance(fields, list | tuple):
            raise type_error(f"'{type(fields).__name__}' object is not iterable")
        for name in fields:
            if not isinstance(name, str) or name not in available:
                raise value_error(f"Invalid field {name!r} on model {model.name!r}")
        names = [n for n in (fields or available) if n != "id"]
        rule = _company_rule(model, ctx)
        rows: list[dict[str, Any]] = []
        forbidden: list[int] = []
        records = model.records(ids)
        for ident in ids:
            record = records.get(ident)
            if record is None:
                continue  # missing records are left out, as Odoo's read does
            if rule is not None and not rule(ident):
                forbidden.append(ident)
                continue
            row = {"id": ident}
            for name in names:
                value = record.get(name, False)
                if load != "_classic_read" and available[name].type == "many2one" and value:
                    value = value[0]
                row[name] = value
            rows.append(row)
        if forbidden:
            raise access_error(
                "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
                f"Sorry, Mitchell Admin (id={UID}) doesn't have 'read' access to:\n"
                f"- {model.description} ({model.name})\n\n"
                "If you really, really need access, perhaps you can win over your friendly "
                "administrator with a batch of freshly baked cookies."
            )
        return rows


def _sorted(model: Model, ids: Sequence[int], terms: list[tuple[str, bool]]) -> list[int]:
    """`ids` in the order of `terms`, each record read once."""
    records = model.records(ids)
    return dom.sort_ids(
        [i for i in ids if i in records], terms, lambda i, f: records[i].get(f, False)
    )


def _ids(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list | tuple) else [raw]
    out = []
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool):
            raise value_error(f"Invalid record id {value!r}")
        out.append(value)
    return out


def _company_rule(model: Model, ctx: Context) -> Any:
    """The multi-company record rule as a predicate (None when it hides nothing)."""
    if model.company_rule == "none" or "company_id" not in model.fields():
        return None
    allowed = frozenset(ctx.companies)
    if allowed >= {1, 2}:
        return None  # every company of the sandbox is allowed
    if model.company_rule == "shared":
        return lambda i: model.company_of(i) in allowed or model.company_of(i) == 0
    return lambda i: model.company_of(i) in allowed


def _candidates(model: Model, tree: dom.Tree) -> list[int] | None:
    """Line ids of the orders a sale.order.line domain names (instead of scanning all lines)."""
    if not isinstance(model, SaleOrderLine):
        return None
    terms = tree.children if isinstance(tree, dom.Node) and tree.kind == "and" else (tree,)
    for term in terms:
        if isinstance(term, dom.Leaf) and term.path == ("order_id",) and term.op in ("=", "in"):
            values = term.value if isinstance(term.value, list | tuple) else [term.value]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                return model.lines_of(values)
    return None


def _fields_get(model: Model, allfields: Any, attributes: Any) -> dict[str, Any]:
    fields = model.fields()
    names = list(allfields) if allfields else list(fields)
    out: dict[str, Any] = {}
    for name in names:
        field = fields.get(name)
        if field is None:
            continue
        described = field.describe()
        if attributes:
            described = {k: v for k, v in described.items() if k in attributes}
        out[name] = described
    return out
