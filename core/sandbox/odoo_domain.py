"""Odoo search domains and ``order`` specifications: parsed, checked, evaluated.

A domain is a list in prefix ("Polish") notation: leaves ``(field, operator, value)`` and the
operators ``'&'`` and ``'|'`` (two operands) and ``'!'`` (one), with an implicit AND between
the top-level terms. As in Odoo 19 (core/sandbox/README.md), a leaf on a field the model does
not have raises ``ValueError: Invalid field res.partner.foo in condition ('foo', '=', 1)`` and
an unknown operator ``ValueError: Invalid operator in condition (...)``; nothing is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.sandbox.odoo_errors import OdooError, user_error, value_error

# Odoo 19's CONDITION_OPERATORS; the sandbox evaluates all but the hierarchy/sub-domain ones.
OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<=",
        "<",
        ">",
        ">=",
        "=?",
        "=like",
        "=ilike",
        "like",
        "not like",
        "ilike",
        "not ilike",
        "not =like",
        "not =ilike",
        "in",
        "not in",
        "child_of",
        "parent_of",
        "any",
        "not any",
        "any!",
        "not any!",
    }
)
UNSUPPORTED = frozenset({"child_of", "parent_of", "any", "not any", "any!", "not any!"})
_ORDER_TERM = re.compile(
    r"^\s*(?P<field>[a-z0-9_]+)(?:\.id)?(?:\s+(?P<dir>asc|desc))?"
    r"(?:\s+nulls\s+(?:first|last))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Leaf:
    """One condition (field path, operator, value)."""

    path: tuple[str, ...]
    op: str
    value: Any

    def __repr__(self) -> str:
        return f"({'.'.join(self.path)!r}, {self.op!r}, {self.value!r})"


@dataclass(frozen=True)
class Node:
    """'and', 'or' (children) or 'not' (one child); 'true'/'false' constants."""

    kind: str
    children: tuple[Any, ...] = ()


TRUE = Node("true")
FALSE = Node("false")
Tree = Leaf | Node
# (field name, second-level field or None) -> field type, or None when the path is invalid
FieldType = Callable[[str, str | None], str | None]


def parse(domain: Any, model: str, field_type: FieldType) -> Tree:
    """The domain as a tree, every field and operator checked against the model."""
    if domain in (None, False):
        return TRUE
    if not isinstance(domain, list | tuple):
        raise value_error(f"Invalid domain: {domain!r}")
    stack: list[Tree] = []
    for item in reversed(list(domain)):
        if item in ("&", "|"):
            if len(stack) < 2:
                raise value_error(f"Invalid domain: {list(domain)!r}")
            first, second = stack.pop(), stack.pop()
            stack.append(Node("and" if item == "&" else "or", (first, second)))
        elif item == "!":
            if not stack:
                raise value_error(f"Invalid domain: {list(domain)!r}")
            stack.append(Node("not", (stack.pop(),)))
        else:
            stack.append(_leaf(item, model, field_type))
    if not stack:
        return TRUE
    if len(stack) == 1:
        return stack[0]
    return Node("and", tuple(reversed(stack)))


def _leaf(item: Any, model: str, field_type: FieldType) -> Tree:
    if not isinstance(item, list | tuple) or len(item) != 3:
        raise value_error(f"Invalid leaf {item!r}")
    field, op, value = item
    if (field, op, value) in ((1, "=", 1), (True, "=", True)):
        return TRUE
    if (field, op, value) in ((0, "=", 1), (False, "=", True)):
        return FALSE
    condition = f" in condition ({field!r}, {op!r}, {value!r})"
    if not isinstance(field, str) or not field:
        raise OdooError("Empty field name" + condition, "builtins.TypeError", "internal")
    if not isinstance(op, str):
        raise value_error("Invalid operator" + condition)
    op = op.lower()
    if op == "<>":
        op = "!="
    if op not in OPERATORS:
        raise value_error("Invalid operator" + condition)
    head, _, rest = field.partition(".")
    if field_type(head, None) is None:
        raise value_error(f"Invalid field {model}.{head}" + condition)
    if rest and field_type(head, rest) is None:
        raise value_error(f"Invalid field {model}.{field}" + condition)
    if op in UNSUPPORTED:
        raise user_error(
            f"The sandbox does not evaluate the operator {op!r} (a valid Odoo operator)" + condition
        )
    if op in ("in", "not in") and not isinstance(value, list | tuple):
        value = [value]
    return Leaf(tuple(p for p in (head, rest) if p), op, value)


def and_(*trees: Tree) -> Tree:
    """The conjunction of trees (TRUE ones dropped, nested conjunctions flattened)."""
    kept: tuple[Tree, ...] = ()
    for tree in trees:
        if isinstance(tree, Node) and tree.kind == "and":
            kept += tree.children
        elif tree is not TRUE:
            kept += (tree,)
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else Node("and", kept)


def mentions(tree: Tree, field: str) -> bool:
    """True when some leaf is on `field` (Odoo then leaves the active filter to the domain)."""
    if isinstance(tree, Leaf):
        return tree.path[0] == field
    return any(mentions(child, field) for child in tree.children)


def split_ids(tree: Tree) -> tuple[int, int | None, frozenset[int] | None, Tree]:
    """(low, high, id set, rest): top-level id bounds as ``low < id <= high``, and the rest."""
    low, high, allowed = 0, None, None
    rest: list[Tree] = []
    terms = tree.children if isinstance(tree, Node) and tree.kind == "and" else (tree,)
    for term in terms:
        bound = _id_bound(term)
        if bound is None:
            rest.append(term)
            continue
        op, value = bound
        if op in (">", ">="):
            low = max(low, value if op == ">" else value - 1)
        elif op in ("<", "<="):
            top = value - 1 if op == "<" else value
            high = top if high is None else min(high, top)
        elif op == "=":
            allowed = frozenset({value}) if allowed is None else allowed & {value}
        else:
            values = frozenset(value)
            allowed = values if allowed is None else allowed & values
    return low, high, allowed, and_(*rest)


def _id_bound(term: Tree) -> tuple[str, Any] | None:
    if not isinstance(term, Leaf) or term.path != ("id",):
        return None
    value = term.value
    if term.op in (">", ">=", "<", "<=", "=") and _is_int(value):
        return term.op, int(value)
    if term.op == "in" and all(_is_int(v) for v in value):
        return "in", [int(v) for v in value]
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def key(tree: Tree) -> str:
    """A text that identifies the tree (for caches)."""
    if isinstance(tree, Leaf):
        return repr(tree)
    return f"{tree.kind}[{','.join(key(child) for child in tree.children)}]"


# -- evaluation ------------------------------------------------------------------------------
Getter = Callable[[int], Any]


def compile_tree(
    tree: Tree, getter: Callable[[tuple[str, ...]], Getter], field_type: FieldType
) -> Callable[[int], bool] | None:
    """A predicate on record ids (None for a tree that is always true)."""
    if tree is TRUE:
        return None
    if tree is FALSE:
        return lambda _i: False
    if isinstance(tree, Leaf):
        kind = field_type(tree.path[0], tree.path[1] if len(tree.path) > 1 else None) or "char"
        return _leaf_test(getter(tree.path), kind, tree.op, tree.value)
    tests = [compile_tree(child, getter, field_type) for child in tree.children]
    if tree.kind == "not":
        inner = tests[0]
        return (lambda _i: False) if inner is None else (lambda i: not inner(i))
    if tree.kind == "and":
        kept = [t for t in tests if t is not None]
        return (lambda i: all(t(i) for t in kept)) if kept else None
    if any(t is None for t in tests):
        return None
    ors = [t for t in tests if t is not None]
    return lambda i: any(t(i) for t in ors)


def _leaf_test(get: Getter, kind: str, op: str, value: Any) -> Callable[[int], bool]:
    if op == "=?":
        if value is None or value is False:
            return lambda _i: True
        op = "="
    if op.endswith("like"):
        negate = op.startswith("not ")
        base = op.removeprefix("not ")
        pattern = _like(str(value), exact=base.startswith("="), fold=base.endswith("ilike"))

        def like(i: int) -> bool:
            text = _text(get(i), kind)
            hit = text is not None and pattern.match(text) is not None
            return hit != negate

        return like
    if kind in ("one2many", "many2many"):
        wanted = set(value) if isinstance(value, list | tuple) else {value}

        def x2many(i: int) -> bool:
            ids = set(get(i) or [])
            if op in ("=", "in"):
                return bool(ids & wanted) if value not in (False, []) else not ids
            return not (ids & wanted) if value not in (False, []) else bool(ids)

        return x2many
    compare = _COMPARE[op]

    def test(i: int) -> bool:
        actual = get(i)
        if kind == "many2one":
            name_wanted = isinstance(value, str) or (
                isinstance(value, list | tuple) and any(isinstance(v, str) for v in value)
            )
            actual = (actual[1] if name_wanted else actual[0]) if actual else False
        return compare(actual, value)

    return test


def _text(actual: Any, kind: str) -> str | None:
    if kind == "many2one":
        return str(actual[1]) if actual else None
    if actual is False or actual is None:
        return None
    return str(actual)


def _like(value: str, exact: bool, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in value)
    if not exact:
        body = f".*{body}.*"
    flags = (re.IGNORECASE | re.DOTALL) if fold else re.DOTALL
    return re.compile(f"^{body}$", flags)


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(actual: Any, value: Any) -> bool:
        if actual is False or actual is None or value is False or value is None:
            return False
        try:
            return test(actual, value)
        except TypeError:
            return test(str(actual), str(value))

    return compare


def _equal(actual: Any, value: Any) -> bool:
    if value is None:
        value = False
    return bool(actual == value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": _equal,
    "!=": lambda a, v: not _equal(a, v),
    "<": _ordered(lambda a, v: a < v),
    ">": _ordered(lambda a, v: a > v),
    "<=": _ordered(lambda a, v: a <= v),
    ">=": _ordered(lambda a, v: a >= v),
    "in": lambda a, v: a in v or (a is False and None in v),
    "not in": lambda a, v: a not in v,
}


# -- order --------------------------------------------------------------------------------
def parse_order(
    order: Any, model: str, field_type: FieldType, stored: Callable[[str], bool]
) -> list[tuple[str, bool]]:
    """[(field, descending)] of an ``order`` text; Odoo's errors for a bad one."""
    if order in (None, False, ""):
        return []
    if not isinstance(order, str):
        raise value_error(f"Invalid order {order!r}")
    terms: list[tuple[str, bool]] = []
    for part in order.split(","):
        match = _ORDER_TERM.match(part)
        if match is None:
            raise user_error(
                f'Invalid "order" specified ({order}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)"
            )
        field = match.group("field")
        if field_type(field, None) is None:
            raise value_error(f"Invalid field {field!r} on model {model!r}")
        if not stored(field):
            raise value_error(f"Cannot convert {model}.{field} to SQL because it is not stored")
        terms.append((field, (match.group("dir") or "asc").lower() == "desc"))
    return terms


def sort_ids(
    ids: Sequence[int], terms: list[tuple[str, bool]], value: Callable[[int, str], Any]
) -> list[int]:
    """`ids` sorted by the order terms (stable; a final id ascending tie-break)."""
    result = sorted(ids)
    for field, descending in reversed(terms):

        def by(ident: int, name: str = field) -> tuple[int, Any]:
            return _sort_key(value(ident, name))

        result.sort(key=by, reverse=descending)
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], str):
        value = value[1].lower()  # many2one: by the related record's name
    if value is False or value is None:
        return (1, "")  # NULLS LAST for ascending order, as PostgreSQL does
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)
