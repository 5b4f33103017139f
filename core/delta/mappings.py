"""Where each canonical field comes from: one table per (source, entity).

A table maps a canonical field to a small *spec* that reads the raw record; the field's kind
(``fields.FIELD_KINDS``) then normalizes what the spec read. Odoo tables read the extra keys
the connector adds (``state_code``, ``partner_email``, ``lines``, ``default_code``).

Documented choices for Odoo products, so that they compare sensibly with WooCommerce terms:
``status`` is "publish" for an active product and "private" for an archived one; ``type``
"consu"/"product" -> "simple", "service" -> "service", "combo" -> "grouped" (others as is);
``sale_price`` is always empty (``lst_price`` already includes any price-list discount).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from core.delta import normalize
from core.delta.fields import FIELD_KINDS, Kind


@dataclass(frozen=True)
class Path:
    """A value at a key path (``Path("billing", "phone")``); missing or non-object -> None."""

    keys: tuple[str, ...]

    def __init__(self, *keys: str) -> None:
        object.__setattr__(self, "keys", keys)

    def raw(self, record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in self.keys:
            # dict first: isinstance against the Mapping ABC is several times slower
            if not (type(value) is dict or isinstance(value, Mapping)):
                return None
            value = value.get(key)
        return value

    def value(self, record: Mapping[str, Any], kind: Kind) -> Any:
        return normalize.NORMALIZERS[kind](self.raw(record))


@dataclass(frozen=True)
class FirstOf:
    """The first of several specs whose normalized value is not None."""

    specs: tuple[Spec, ...]

    def __init__(self, *specs: Spec) -> None:
        object.__setattr__(self, "specs", specs)

    def value(self, record: Mapping[str, Any], kind: Kind) -> Any:
        for spec in self.specs:
            result = spec.value(record, kind)
            if result is not None:
                return result
        return None


@dataclass(frozen=True)
class Joined:
    """Normalized text parts joined by one space, empty parts skipped (first + last name)."""

    parts: tuple[Path, ...]

    def __init__(self, *parts: Path) -> None:
        object.__setattr__(self, "parts", parts)

    def value(self, record: Mapping[str, Any], kind: Kind) -> Any:
        texts = [normalize.text(part.raw(record)) for part in self.parts]
        return normalize.NORMALIZERS[kind](" ".join(t for t in texts if t is not None))


@dataclass(frozen=True)
class Computed:
    """A raw value computed from the whole record, then normalized by the field's kind."""

    func: Callable[[Mapping[str, Any]], Any]

    def value(self, record: Mapping[str, Any], kind: Kind) -> Any:
        return normalize.NORMALIZERS[kind](self.func(record))


@dataclass(frozen=True)
class Lines:
    """Order lines read from a list of line objects with their own key names."""

    key: str
    sku: str
    quantity: str
    total: str

    def value(self, record: Mapping[str, Any], kind: Kind) -> Any:
        raw_lines = record.get(self.key)
        if raw_lines is None or raw_lines is False:
            return []
        if not isinstance(raw_lines, list):
            raise normalize.Unreadable(raw_lines)
        return normalize.lines(
            [
                {
                    "sku": line.get(self.sku),
                    "quantity": line.get(self.quantity),
                    "total": line.get(self.total),
                }
                if isinstance(line, Mapping)
                else line
                for line in raw_lines
            ]
        )


Spec = Path | FirstOf | Joined | Computed | Lines


def _many2one_name(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(record: Mapping[str, Any]) -> Any:
        value = record.get(key)
        if isinstance(value, list | tuple) and len(value) == 2:
            return value[1]
        if value is None or value is False:
            return None
        raise normalize.Unreadable(value)

    return read


def _odoo_company(record: Mapping[str, Any]) -> str | None:
    parent = _many2one_name("parent_id")(record)
    for candidate in (record.get("company_name"), record.get("commercial_company_name"), parent):
        company = normalize.text(candidate)
        if company is not None:
            return None if company == normalize.text(record.get("name")) else company
    return None


_ODOO_PRODUCT_TYPES: Final = {
    "consu": "simple",
    "product": "simple",
    "service": "service",
    "combo": "grouped",
}


def _odoo_product_type(record: Mapping[str, Any]) -> Any:
    value = record.get("type")
    return _ODOO_PRODUCT_TYPES.get(value, value) if isinstance(value, str) else value


def _odoo_product_status(record: Mapping[str, Any]) -> str:
    return "private" if record.get("active", True) is False else "publish"


WOOCOMMERCE: Final[dict[str, dict[str, Spec]]] = {
    "customers": {
        "email": FirstOf(Path("email"), Path("billing", "email")),
        "name": FirstOf(
            Joined(Path("first_name"), Path("last_name")),
            Joined(Path("billing", "first_name"), Path("billing", "last_name")),
        ),
        "phone": Path("billing", "phone"),
        "company": Path("billing", "company"),
        "address_1": Path("billing", "address_1"),
        "address_2": Path("billing", "address_2"),
        "city": Path("billing", "city"),
        "state": Path("billing", "state"),
        "postcode": Path("billing", "postcode"),
        "country": Path("billing", "country"),
    },
    "products": {
        "sku": Path("sku"),
        "name": Path("name"),
        "price": Path("price"),
        "regular_price": Path("regular_price"),
        "sale_price": Path("sale_price"),
        "stock_quantity": Path("stock_quantity"),
        "status": Path("status"),
        "type": Path("type"),
    },
    "orders": {
        "number": Path("number"),
        "status": Path("status"),
        "currency": Path("currency"),
        "total": Path("total"),
        "customer_email": Path("billing", "email"),
        "created_at": Path("date_created_gmt"),
        "lines": Lines("line_items", sku="sku", quantity="quantity", total="total"),
    },
}

ODOO: Final[dict[str, dict[str, Spec]]] = {
    "customers": {
        "email": Path("email"),
        "name": Path("name"),
        "phone": Path("phone"),
        "company": Computed(_odoo_company),
        "address_1": Path("street"),
        "address_2": Path("street2"),
        "city": Path("city"),
        "state": Path("state_code"),
        "postcode": Path("zip"),
        "country": Path("country_code"),
    },
    "products": {
        "sku": Path("default_code"),
        "name": Path("name"),
        "price": Path("lst_price"),
        "regular_price": Path("list_price"),
        "sale_price": Computed(lambda record: None),
        "stock_quantity": Path("qty_available"),
        "status": Computed(_odoo_product_status),
        "type": Computed(_odoo_product_type),
    },
    "orders": {
        "number": Path("name"),
        "status": Path("state"),
        "currency": Computed(_many2one_name("currency_id")),
        "total": Path("amount_total"),
        "customer_email": Path("partner_email"),
        "created_at": Path("date_order"),
        "lines": Lines(
            "lines", sku="default_code", quantity="product_uom_qty", total="price_subtotal"
        ),
    },
}

#: A local row already uses the canonical names.
LOCAL: Final[dict[str, dict[str, Spec]]] = {
    entity: {field: Path(field) for field in kinds} for entity, kinds in FIELD_KINDS.items()
}

MAPPINGS: Final = {"woocommerce": WOOCOMMERCE, "odoo": ODOO, "local": LOCAL}
ID_KEYS: Final = {"woocommerce": "id", "odoo": "id", "local": "external_id"}
