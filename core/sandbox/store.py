"""The sandbox's mutable store: seeded base records plus an overlay of changes.

Mutation API (fields in the sandbox's neutral vocabulary, see `FIELDS`):
``store.add(entity, **fields) -> id``, ``store.update(entity, id, **fields)``,
``store.delete(entity, id)``. ``update(..., active=False)`` archives a record: WooCommerce
no longer lists it, Odoo lists it only to a search that asks for archived records
(``active_test`` False, or a domain on ``active``). Every change stamps ``date_modified``
with the current time. Variations are derived from their product (see ``data.variations``).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from core.sandbox import data

ENTITIES = ("customers", "products", "orders")
FIELDS = {
    "customers": (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
        "role",
        "customer_rank",
        "company_id",
        "active",
    ),
    "products": (
        "sku",
        "name",
        "regular_price",
        "sale_price",
        "regular_cents",
        "sale_cents",
        "stock_quantity",
        "status",
        "type",
        "company_id",
        "active",
    ),
    "orders": (
        "customer_id",
        "status",
        "currency",
        "lines",
        "customer_note",
        "company_id",
        "active",
    ),
}
Predicate = Callable[[int], bool]


class Store:
    """Records of one sandbox, deterministic from (size, seed) until mutated; thread-safe."""

    def __init__(self, size: int = 1000, seed: int = 42, real_world: bool = False) -> None:
        self.size = size
        self.seed = seed
        self.real_world = real_world
        self.base = data.counts(size)
        self._lock = threading.RLock()
        self._over: dict[str, dict[int, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self._added: dict[str, dict[int, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self._deleted: dict[str, set[int]] = {e: set() for e in ENTITIES}
        self._next = {e: self.base[e] + 1 for e in ENTITIES}
        self._version = dict.fromkeys(ENTITIES, 0)
        self._cache: dict[tuple[str, str, bool], tuple[int, array[int]]] = {}
        self._memo: dict[object, tuple[tuple[int, ...], Any]] = {}
        self._generated: dict[tuple[str, int], dict[str, Any]] = {}

    # -- reading ------------------------------------------------------------------------
    def exists(self, entity: str, ident: int) -> bool:
        """True for a record that was made and not deleted (archived ones included)."""
        if ident in self._deleted[entity]:
            return False
        return 1 <= ident <= self.base[entity] or ident in self._added[entity]

    def get(self, entity: str, ident: int) -> dict[str, Any] | None:
        """The record in the neutral vocabulary, or None when it does not exist."""
        with self._lock:
            if not self.exists(entity, ident):
                return None
            if ident in self._added[entity]:
                record = dict(self._added[entity][ident])
            else:
                record = self._base(entity, ident)
            record.update(self._over[entity].get(ident, {}))
            return record

    def _base(self, entity: str, ident: int) -> dict[str, Any]:
        """A copy of a base record; recently made ones are kept (making one costs ~20 µs)."""
        key = (entity, ident)
        made = self._generated.get(key)
        if made is None:
            if len(self._generated) >= 20_000:
                self._generated.clear()
            made = self._generated[key] = self._generate(entity, ident)
        record = dict(made)
        if "lines" in record:
            record["lines"] = [dict(line) for line in record["lines"]]
        return record

    def attr(self, entity: str, ident: int, name: str) -> Any:
        """One field of an existing record, cheap for the fields that listings filter on."""
        over = self._over[entity].get(ident)
        if over is not None and name in over:
            return over[name]
        added = self._added[entity].get(ident)
        if added is not None:
            return added.get(name)
        real = self.real_world
        if name == "active":
            return not data.base_archived(entity, ident, real)
        if name == "date_modified":
            return data.base_dates(self.seed, entity, ident)[1]
        if name == "date_created":
            return data.base_dates(self.seed, entity, ident)[0]
        if name == "company_id" and entity != "orders":
            return data.base_company(entity, ident, real)
        if entity == "customers" and name == "role":
            return data.base_role(ident, real)
        if entity == "customers" and name == "customer_rank":
            return data.base_customer_rank(ident, real)
        if entity == "products" and name == "type":
            return "variable" if data.base_variable(ident, real) else "simple"
        if entity == "orders" and name == "status":
            return data.base_status(self.seed, ident)
        record = self.get(entity, ident)
        return None if record is None else record.get(name)

    def ids(
        self,
        entity: str,
        key: str = "",
        pred: Predicate | None = None,
        *,
        with_archived: bool = False,
    ) -> array[int]:
        """Ascending ids of the existing records matching `pred` (archived ones only on demand).

        Cached per (entity, key, with_archived) until the entity changes; `key` must
        identify `pred`.
        """
        with self._lock:
            version = self._version[entity]
            hit = self._cache.get((entity, key, with_archived))
            if hit is not None and hit[0] == version:
                return hit[1]
            deleted = self._deleted[entity]
            over = self._over[entity]
            archived = {i for i, o in over.items() if o.get("active") is False}
            revived = {i for i, o in over.items() if o.get("active") is True}
            hidden = deleted if with_archived else deleted | archived
            base_range = range(1, self.base[entity] + 1)
            base_archives = (
                self.real_world and not with_archived and entity in ("customers", "products")
            )

            def keep(i: int) -> bool:
                if i in hidden:
                    return False
                if base_archives and i not in revived and data.base_archived(entity, i, True):
                    return False
                return pred is None or pred(i)

            if pred is None and not hidden and not base_archives:
                ids = array("q", base_range)
            else:
                ids = array("q", (i for i in base_range if keep(i)))
            for ident, record in sorted(self._added[entity].items()):
                if ident in hidden or (not with_archived and record.get("active") is False):
                    continue
                if pred is None or pred(ident):
                    ids.append(ident)
            self._cache[(entity, key, with_archived)] = (version, ids)
            return ids

    def memo(self, key: object, entities: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """`compute()`, cached under `key` until one of `entities` changes."""
        with self._lock:
            versions = tuple(self._version[e] for e in entities)
            hit = self._memo.get(key)
            if hit is not None and hit[0] == versions:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._memo) > 2_000:
                self._memo.clear()
            self._memo[key] = (versions, value)
        return value

    def variations(self, parent_id: int) -> list[dict[str, Any]]:
        """The variations of a product as it is now (none for a simple or missing product)."""
        parent = self.get("products", parent_id)
        return data.variations(self.seed, parent) if parent is not None else []

    def variation(self, ident: int) -> dict[str, Any] | None:
        """One variation by id, or None."""
        parent_id = data.variation_parent(ident)
        if parent_id is None:
            return None
        return next((v for v in self.variations(parent_id) if v["id"] == ident), None)

    # -- mutation -----------------------------------------------------------------------
    def add(self, entity: str, **fields: Any) -> int:
        """Create a record (generated defaults, overridden by `fields`); return its id."""
        with self._lock:
            ident = self._next[entity]
            self._next[entity] += 1
            record = self._generate(entity, ident)
            now = int(time.time())
            record.update(_clean(entity, fields, self, ident), date_created=now, date_modified=now)
            self._added[entity][ident] = record
            self._touch(entity)
            return ident

    def update(self, entity: str, ident: int, **fields: Any) -> None:
        """Change fields of a record; KeyError when it does not exist."""
        with self._lock:
            if not self.exists(entity, ident):
                raise KeyError(f"{entity} {ident} does not exist")
            over = self._over[entity].setdefault(ident, {})
            over.update(_clean(entity, fields, self, ident), date_modified=int(time.time()))
            self._touch(entity)

    def delete(self, entity: str, ident: int) -> None:
        """Delete a record; KeyError when it does not exist."""
        with self._lock:
            if not self.exists(entity, ident):
                raise KeyError(f"{entity} {ident} does not exist")
            self._deleted[entity].add(ident)
            self._touch(entity)

    def drift(self, entity: str, before_id: int, page_size: int) -> None:
        """One step of drift: delete a visible record before `before_id`, add one, update one."""
        with self._lock:
            ids = self.ids(entity)
            pos = _bisect_left(ids, before_id)
            if pos > 0:
                self.delete(entity, int(ids[pos // 2]))
            self.add(entity)
            ids = self.ids(entity)
            pos = min(len(ids) - 1, _bisect_left(ids, before_id) + 2 * page_size)
            if pos >= 0:
                target = int(ids[pos])
                if entity == "customers":
                    self.update(entity, target, phone=f"+1 555 {int(time.time()) % 10_000_000:07d}")
                elif entity == "products":
                    self.update(entity, target, stock_quantity=int(time.time()) % 500)
                else:
                    self.update(entity, target, status="completed")

    def _touch(self, entity: str) -> None:
        self._version[entity] += 1

    def _generate(self, entity: str, ident: int) -> dict[str, Any]:
        real = self.real_world
        if entity == "customers":
            return data.customer(self.seed, ident, real)
        if entity == "products":
            return data.product(self.seed, ident, real)
        if entity == "orders":
            base = self.base
            return data.order(self.seed, ident, base["customers"], base["products"], real)
        raise KeyError(f"unknown entity {entity!r}")


def _clean(entity: str, fields: dict[str, Any], store: Store, ident: int) -> dict[str, Any]:
    unknown = set(fields) - set(FIELDS[entity])
    if unknown:
        raise KeyError(f"unknown {entity} fields: {sorted(unknown)}")
    out = dict(fields)
    for name in ("regular_price", "sale_price"):
        if name in out:
            value = out.pop(name)
            cents = None if value in (None, "") else int(Decimal(str(value)) * 100)
            out[name.replace("_price", "_cents")] = cents
    if entity == "orders" and "lines" in out:
        lines = []
        for k, line in enumerate(out["lines"]):
            product_id, quantity = int(line["product_id"]), int(line.get("quantity", 1))
            product = store.get("products", product_id) or {}
            chosen = store.variations(product_id)
            item = chosen[k % len(chosen)] if chosen else product
            lines.append(
                {
                    "id": ident * 10 + k,
                    "product_id": product_id,
                    "variation_id": item["id"] if chosen else 0,
                    "quantity": quantity,
                    "total_cents": quantity * data.price_cents(item),
                }
            )
        out["lines"] = lines
        subtotal = sum(int(line["total_cents"]) for line in lines)
        out["shipping_cents"] = data.shipping_for(subtotal)
    return out


def _bisect_left(ids: array[int], value: int) -> int:
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if ids[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo
