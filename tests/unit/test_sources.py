"""The source registry: the built-in sources, and what reading their records loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import sources
from core.delta import record_format
from core.errors import InvalidRequest

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_sources_in_the_order_they_are_shown() -> None:
    assert sources.keys() == ("woocommerce", "odoo")
    woo, odoo = sources.specs()
    assert (woo.title, odoo.title) == ("🛒 WooCommerce", "🏭 Odoo")
    assert [f.name for f in odoo.credentials] == ["database", "username", "password", "api_key"]
    creds = {"database": "shop", "username": "ann", "password": "pw-1", "api_key": "key-2"}
    assert odoo.secrets_of(creds) == ["pw-1", "key-2"]  # what every log line is scrubbed of
    assert woo.secrets_of({"consumer_key": "ck_1", "consumer_secret": "cs_2"}) == ["ck_1", "cs_2"]
    assert record_format("odoo") is odoo


def test_an_unknown_sync_type_gets_the_api_wording() -> None:
    with pytest.raises(InvalidRequest) as info:
        sources.check_types("shopify", "customers")
    assert str(info.value) == "Invalid sync_type. Must be one of: woocommerce, odoo"
    with pytest.raises(InvalidRequest) as info:
        sources.check_types("odoo", "invoices")
    assert str(info.value) == "Invalid entity_type. Must be one of: customers, products, orders"


def test_the_engine_reads_every_source_without_loading_http_or_sql() -> None:
    """The pure engine asks the registry for a source's format; that loads the source's spec
    and mappings, never its connector (HTTP) nor a database driver."""
    script = (
        "import json, sys\n"
        "from core import sources\n"
        "from core.delta import ENTITY_TYPES, to_canonical\n"
        "for spec in sources.specs():\n"
        "    for entity in ENTITY_TYPES:\n"
        "        to_canonical(spec.key, entity, {'id': 1})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert {"core.connectors.woocommerce", "core.connectors.odoo"} <= loaded
    for module in ("requests", "urllib3", "oauthlib", "sqlalchemy", "core.connectors.http"):
        assert module not in loaded, f"reading records loaded {module}"
    assert not {m for m in loaded if m.endswith(".connector") and m.startswith("core.connectors")}


def test_connector_options_are_in_each_source_spec() -> None:
    woo, odoo = sources.get("woocommerce"), sources.get("odoo")
    assert [(o.name, o.kind) for o in woo.options] == [
        ("customer_roles", "text"),
        ("include_guests", "flag"),
        ("include_trash", "flag"),
        ("query_string_auth", "flag"),
    ]
    assert [(o.name, o.kind) for o in odoo.options] == [
        ("protocol", "choice"),
        ("companies", "text"),
    ]
    assert all(o.label and o.help for o in (*woo.options, *odoo.options[1:]))
    checked = woo.option_values({"include_guests": "yes", "customer_roles": " customer ", "x": 1})
    assert checked == {"include_guests": True, "customer_roles": "customer", "x": 1}
    with pytest.raises(InvalidRequest, match="Protocol must be one of: xmlrpc, json2"):
        odoo.option_values({"protocol": "soap"})
    with pytest.raises(InvalidRequest, match="say yes or no"):
        woo.option_values({"include_guests": "maybe"})
