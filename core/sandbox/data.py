"""The sandbox's seeded data set: every record is a pure function of (seed, entity, id).

Counts: customers = size, products = max(10, size // 4), orders = size. Records are made
on demand (by id), so a store of 1,000,000 costs nothing until a page is rendered. Base
records were created and last modified between 2022-01-01 and 2024-12-31 (UTC).

With ``real_world=True`` the data set also has what real installations have (see
``core/sandbox/README.md``): archived partners and products, administrators and shop
managers among the WordPress users, guest orders, variable products with variations,
product names with characters WordPress stores as HTML entities, a second company, and
section, note and delivery lines on Odoo orders.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

MASK = (1 << 64) - 1
BASE_START = int(datetime(2022, 1, 1, tzinfo=UTC).timestamp())
BASE_END = int(datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
SALTS = {"customers": 0x51, "products": 0x77, "orders": 0xA3}

# (odoo country id, code, name, currency, phone prefix, [(city, state code, postcode)])
COUNTRIES: list[tuple[int, str, str, str, str, list[tuple[str, str, str]]]] = [
    (
        233,
        "US",
        "United States",
        "USD",
        "+1",
        [
            ("San Francisco", "CA", "94103"),
            ("Los Angeles", "CA", "90012"),
            ("New York", "NY", "10001"),
            ("Austin", "TX", "78701"),
            ("Seattle", "WA", "98101"),
            ("Chicago", "IL", "60601"),
        ],
    ),
    (
        57,
        "DE",
        "Germany",
        "EUR",
        "+49",
        [
            ("Berlin", "BE", "10115"),
            ("München", "BY", "80331"),
            ("Hamburg", "HH", "20095"),
            ("Köln", "NW", "50667"),
        ],
    ),
    (75, "FR", "France", "EUR", "+33", [("Paris", "", "75001"), ("Lyon", "", "69001")]),
    (
        231,
        "GB",
        "United Kingdom",
        "GBP",
        "+44",
        [
            ("London", "", "EC1A 1BB"),
            ("Manchester", "", "M1 1AE"),
        ],
    ),
    (
        38,
        "CA",
        "Canada",
        "CAD",
        "+1",
        [
            ("Toronto", "ON", "M5H 2N2"),
            ("Montréal", "QC", "H2Y 1C6"),
            ("Vancouver", "BC", "V6B 1A1"),
        ],
    ),
    (
        13,
        "AU",
        "Australia",
        "AUD",
        "+61",
        [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")],
    ),
    (68, "ES", "Spain", "EUR", "+34", [("Madrid", "M", "28001"), ("Barcelona", "B", "08001")]),
    (
        31,
        "BR",
        "Brazil",
        "BRL",
        "+55",
        [
            ("São Paulo", "SP", "01001-000"),
            ("Rio de Janeiro", "RJ", "20010-000"),
        ],
    ),
]
STATE_NAMES = {
    "US": {
        "CA": "California",
        "NY": "New York",
        "TX": "Texas",
        "WA": "Washington",
        "IL": "Illinois",
    },
    "DE": {"BE": "Berlin", "BY": "Bayern", "HH": "Hamburg", "NW": "Nordrhein-Westfalen"},
    "CA": {"ON": "Ontario", "QC": "Quebec", "BC": "British Columbia"},
    "AU": {"NSW": "New South Wales", "VIC": "Victoria"},
    "ES": {"M": "Madrid", "B": "Barcelona"},
    "BR": {"SP": "São Paulo", "RJ": "Rio de Janeiro"},
}
# Odoo res.country.state ids: (country code, state code) -> id, and back.
STATE_IDS: dict[tuple[str, str], int] = {}
STATES_BY_ID: dict[int, tuple[str, str, str]] = {}
for _country, _states in STATE_NAMES.items():
    for _code, _name in _states.items():
        _sid = 1000 + len(STATE_IDS)
        STATE_IDS[(_country, _code)] = _sid
        STATES_BY_ID[_sid] = (_country, _code, _name)
COUNTRY_BY_CODE = {c[1]: c for c in COUNTRIES}
CURRENCY_IDS = {"USD": 2, "EUR": 1, "GBP": 3, "CAD": 4, "AUD": 5, "BRL": 6}

FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Mateo",
    "Zoë",
    "José",
    "Anaïs",
    "Søren",
    "Łukasz",
    "Chloé",
    "Hiro",
    "Amara",
    "Priya",
    "Omar",
    "Ingrid",
    "Björn",
    "Lea",
    "Jonas",
    "Sofia",
    "Diego",
    "Fatima",
    "Wei",
    "Elena",
    "Marco",
    "Nora",
    "Tomás",
]
LAST = [
    "Smith",
    "Müller",
    "García",
    "Martin",
    "Rossi",
    "Nguyen",
    "Kowalski",
    "Johansson",
    "O'Brien",
    "Dubois",
    "Silva",
    "Tanaka",
    "Schmidt",
    "López",
    "Novak",
    "Brown",
    "Jensen",
    "Moreau",
    "Fischer",
    "Costa",
    "Wilson",
    "Weber",
    "Hansen",
    "Kim",
    "Patel",
]
STREETS = [
    "Main Street",
    "Oak Avenue",
    "Hauptstraße",
    "Rue de la Paix",
    "High Street",
    "King Street",
    "Calle Mayor",
    "Rua Augusta",
    "Maple Drive",
    "Lindenweg",
    "Station Road",
    "Elm Street",
]
COMPANIES = [
    "Acme GmbH",
    "Globex Ltd",
    "Initech",
    "Umbrella SA",
    "Stark Supplies",
    "Wayne Trading",
    "Nordwind AG",
    "Soylent Foods",
    "Hooli",
    "Vandelay Imports",
]
DOMAINS = ["example.com", "example.org", "mail.example.net", "shop.example"]
ADJ = [
    "Rustic",
    "Sleek",
    "Ergonomic",
    "Handmade",
    "Classic",
    "Modern",
    "Vintage",
    "Compact",
    "Deluxe",
    "Organic",
]
MATERIAL = [
    "Cotton",
    "Steel",
    "Oak",
    "Ceramic",
    "Leather",
    "Bamboo",
    "Wool",
    "Glass",
    "Linen",
    "Copper",
]
NOUN = [
    "Mug",
    "Chair",
    "Lamp",
    "Backpack",
    "Notebook",
    "Scarf",
    "Bowl",
    "Desk",
    "Bottle",
    "Blanket",
    "Teapot",
    "Vase",
]
CATEGORIES = ["HOM", "KIT", "OFF", "ACC", "OUT"]
ORDER_STATUSES = [
    ("completed", 55),
    ("processing", 20),
    ("on-hold", 5),
    ("pending", 8),
    ("cancelled", 6),
    ("refunded", 3),
    ("failed", 2),
    ("trash", 1),
]
_STATUS_TABLE = [s for s, w in ORDER_STATUSES for _ in range(w)]


# Odoo res.company records: id -> (name, currency code, country code).
ODOO_COMPANIES = {1: ("Sandbox Store Inc.", "USD", "US"), 2: ("Sandbox Europe GmbH", "EUR", "DE")}
# Tax rates by billing country: code -> (rate id, percent, label); other countries pay none.
TAX_RATES = {
    "DE": (1, 19, "MwSt."),
    "FR": (2, 20, "TVA"),
    "GB": (3, 20, "VAT"),
    "ES": (4, 21, "IVA"),
    "AU": (5, 10, "GST"),
    "CA": (6, 5, "GST"),
}
SIZES = ["S", "M", "L", "XL"]
# Variations share the products' id space in WooCommerce; theirs start here.
VARIATION_BASE = 100_000_000
REFUND_BASE = 200_000_000
FLAT_RATE_CENTS = 490
FREE_SHIPPING_FROM_CENTS = 5000


def mix(value: int) -> int:
    """SplitMix64: a fast, well-spread 64-bit hash step."""
    value = (value + 0x9E3779B97F4A7C15) & MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


class Rng:
    """A tiny deterministic generator for one record."""

    __slots__ = ("state",)

    def __init__(self, seed: int, entity: str, ident: int) -> None:
        self.state = mix((seed * 0x100000001B3) ^ (SALTS[entity] << 56) ^ ident)

    def below(self, bound: int) -> int:
        """An integer in [0, bound)."""
        self.state = mix(self.state)
        return self.state % bound

    def pick(self, items: list[Any]) -> Any:
        """One element of `items`."""
        return items[self.below(len(items))]


def counts(size: int) -> dict[str, int]:
    """How many base records each entity has for a store of `size`."""
    return {"customers": size, "products": max(10, size // 4), "orders": size}


def base_dates(seed: int, entity: str, ident: int) -> tuple[int, int]:
    """(created, modified) as Unix seconds, both within the base period."""
    h = mix((seed << 20) ^ (SALTS[entity] << 8) ^ (ident * 0x9E37))
    created = BASE_START + h % (BASE_END - BASE_START)
    modified = min(BASE_END, created + (h >> 32) % (200 * 86400))
    return created, modified


# -- the real-world rules: which base records are special (pure functions of the id) ------
def base_archived(entity: str, ident: int, real_world: bool) -> bool:
    """Archived in Odoo (active = False): every 50th partner and every 40th product."""
    if not real_world:
        return False
    if entity == "customers":
        return ident % 50 == 17
    return entity == "products" and ident % 40 == 23


def base_role(ident: int, real_world: bool = False) -> str:
    """WordPress role of a base user: every 40th a subscriber; real-world: staff too."""
    if real_world and ident == 1:
        return "administrator"
    if real_world and ident % 125 == 2:
        return "shop_manager"
    return "subscriber" if ident % 40 == 0 else "customer"


def base_customer_rank(ident: int, real_world: bool = False) -> int:
    """Odoo customer_rank: staff (administrators, shop managers) have bought nothing."""
    return 0 if base_role(ident, real_world) in ("administrator", "shop_manager") else 1


def base_company(entity: str, ident: int, real_world: bool) -> int:
    """Odoo company of a base partner or product (0 = shared by all companies)."""
    if not real_world:
        return 0
    if entity == "customers":
        return 2 if ident % 9 == 4 else 0
    return 2 if entity == "products" and ident % 11 == 6 else 0


def base_variable(ident: int, real_world: bool) -> bool:
    """A variable product (with variations): every 8th product of a real-world store."""
    return real_world and ident % 8 == 3


def base_guest(ident: int, real_world: bool) -> bool:
    """An order placed without a customer account (WooCommerce customer_id 0)."""
    return real_world and ident % 12 == 5


def base_status(seed: int, ident: int) -> str:
    """Order status of a base order (1% in the trash)."""
    return str(_STATUS_TABLE[mix((seed << 12) ^ ident ^ 0x5EED) % len(_STATUS_TABLE)])


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of a name, for e-mail addresses."""
    text = text.translate(str.maketrans("ŁłØøß", "LlOos"))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def customer(seed: int, ident: int, real_world: bool = False) -> dict[str, Any]:
    """A base customer in the sandbox's neutral vocabulary."""
    r = Rng(seed, "customers", ident)
    first, last = r.pick(FIRST), r.pick(LAST)
    country = r.pick(COUNTRIES)
    city, state, postcode = r.pick(country[5])
    created, modified = base_dates(seed, "customers", ident)
    return {
        "id": ident,
        "first_name": first,
        "last_name": last,
        "email": f"{ascii_fold(first)}.{ascii_fold(last)}{ident}@{r.pick(DOMAINS)}",
        "phone": f"{country[4]} {200 + r.below(800)} {r.below(10_000_000):07d}",
        "company": r.pick(COMPANIES) if r.below(10) < 3 else "",
        "address_1": f"{1 + r.below(250)} {r.pick(STREETS)}",
        "address_2": f"Apt {1 + r.below(40)}" if r.below(5) == 0 else "",
        "city": city,
        "state": state,
        "postcode": postcode,
        "country": country[1],
        "role": base_role(ident, real_world),
        "customer_rank": base_customer_rank(ident, real_world),
        "company_id": base_company("customers", ident, real_world),
        "active": not base_archived("customers", ident, real_world),
        "date_created": created,
        "date_modified": modified,
    }


def product(seed: int, ident: int, real_world: bool = False) -> dict[str, Any]:
    """A base product; prices are integer cents."""
    r = Rng(seed, "products", ident)
    regular = 199 + r.below(19_800)
    on_sale = r.below(5) == 0
    created, modified = base_dates(seed, "products", ident)
    adj, material, noun = r.pick(ADJ), r.pick(MATERIAL), r.pick(NOUN)
    name = f"{adj} {material} {noun}"
    if real_world and ident % 10 == 7:
        name = f"{adj} {material} & {MATERIAL[(ident // 10) % len(MATERIAL)]} {noun}"
    elif real_world and ident % 10 == 9:
        name = f"{adj} {material} {noun} \u2013 Gift Edition"
    stock = None if r.below(10) == 0 else r.below(500)
    status = "draft" if r.below(20) == 0 else "publish"
    variable = base_variable(ident, real_world)
    return {
        "id": ident,
        "sku": f"{r.pick(CATEGORIES)}-{ident:06d}",
        "name": name,
        "regular_cents": regular,
        "sale_cents": (regular * 8 // 10) if on_sale else None,
        "stock_quantity": None if variable else stock,
        "status": status,
        "type": "variable" if variable else "simple",
        "company_id": base_company("products", ident, real_world),
        "active": not base_archived("products", ident, real_world),
        "date_created": created,
        "date_modified": modified,
    }


def variation_id(parent_id: int, k: int) -> int:
    """The id of the k-th variation of a variable product."""
    return VARIATION_BASE + parent_id * 10 + k


def variation_parent(ident: int) -> int | None:
    """The product a variation id belongs to (None for a product id)."""
    return (ident - VARIATION_BASE) // 10 if ident >= VARIATION_BASE else None


def variations(seed: int, parent: dict[str, Any]) -> list[dict[str, Any]]:
    """The variations (sizes) of a variable product, derived from the product as it is now."""
    if parent.get("type") != "variable":
        return []
    out = []
    for k in range(2 + parent["id"] % 3):
        ident = variation_id(parent["id"], k)
        r = Rng(seed, "products", ident)
        regular = int(parent["regular_cents"]) + 150 * k
        out.append(
            {
                "id": ident,
                "parent_id": parent["id"],
                "option": SIZES[k],
                "sku": f"{parent['sku']}-{SIZES[k]}" if parent.get("sku") else "",
                "name": f"{parent['name']} - {SIZES[k]}",
                "regular_cents": regular,
                "sale_cents": regular * 8 // 10 if parent.get("sale_cents") is not None else None,
                "stock_quantity": r.below(60),
                "status": parent["status"],
                "company_id": parent.get("company_id", 0),
                "active": parent.get("active", True),
                "date_created": parent["date_created"],
                "date_modified": parent["date_modified"],
            }
        )
    return out


def price_cents(record: dict[str, Any]) -> int:
    """Current price (cents) of a product or variation: the sale price when on sale."""
    sale = record.get("sale_cents")
    return int(sale if sale is not None else record.get("regular_cents") or 0)


def line_item(
    seed: int, order_id: int, k: int, product_id: int, quantity: int, real_world: bool
) -> dict[str, Any]:
    """One order line of a base order (a variation of a variable product when there is one)."""
    base = product(seed, product_id, real_world)
    chosen = variations(seed, base)
    item = chosen[k % len(chosen)] if chosen else base
    return {
        "id": order_id * 10 + k,
        "product_id": product_id,
        "variation_id": item["id"] if chosen else 0,
        "quantity": quantity,
        "total_cents": quantity * price_cents(item),
    }


def order(
    seed: int, ident: int, n_customers: int, n_products: int, real_world: bool = False
) -> dict[str, Any]:
    """A base order with 1-4 lines; line totals and total are integer cents."""
    r = Rng(seed, "orders", ident)
    buyer_id = 1 + r.below(max(1, n_customers))
    lines = []
    for k in range(1 + r.below(4)):
        product_id = 1 + r.below(n_products)
        lines.append(line_item(seed, ident, k, product_id, 1 + r.below(5), real_world))
    subtotal = sum(int(line["total_cents"]) for line in lines)
    created, modified = base_dates(seed, "orders", ident)
    buyer_company = base_company("customers", buyer_id, real_world)
    return {
        "id": ident,
        "customer_id": 0 if base_guest(ident, real_world) else buyer_id,
        "buyer_id": buyer_id,
        "status": base_status(seed, ident),
        "currency": "",  # filled from the buyer's country when rendered
        "lines": lines,
        "shipping_cents": shipping_for(subtotal),
        "customer_note": "Please leave the parcel with a neighbour." if ident % 7 == 3 else "",
        "company_id": 2 if buyer_company == 2 else 1,
        "odoo_extra_lines": real_world and ident % 4 == 1,
        "active": True,
        "date_created": created,
        "date_modified": modified,
    }


def shipping_for(subtotal_cents: int) -> int:
    """Flat rate below the free-shipping threshold."""
    return FLAT_RATE_CENTS if subtotal_cents < FREE_SHIPPING_FROM_CENTS else 0


def tax_cents(cents: int, country: str) -> int:
    """The tax on an amount for a buyer in `country` (rounded half up to the cent)."""
    rate = TAX_RATES.get(country)
    return (cents * rate[1] + 50) // 100 if rate else 0


def money(cents: int | None) -> str:
    """Cents as WooCommerce's decimal string ("12.90"); "" for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def iso(seconds: int) -> str:
    """Unix seconds as WooCommerce's GMT timestamp (no zone suffix)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def odoo_datetime(seconds: int) -> str:
    """Unix seconds as Odoo's UTC datetime string."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
