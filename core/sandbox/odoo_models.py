"""The Odoo models the sandbox serves, by name.

Records come from the shared store: ``res.partner`` from customers (``odoo_contacts``),
``product.template`` and ``product.product`` from products and their variations
(``odoo_products``), ``sale.order`` and ``sale.order.line`` from orders (``odoo_sales``);
countries, states, currencies, companies, the API user and ``ir.model`` are static
(``odoo_reference``).
"""

from __future__ import annotations

from core.sandbox.odoo_base import UID, Env, Field, Model
from core.sandbox.odoo_contacts import Partner
from core.sandbox.odoo_products import DELIVERY_PRODUCT_ID, ProductProduct, ProductTemplate
from core.sandbox.odoo_reference import (
    Company,
    Country,
    CountryState,
    Currency,
    IrModel,
    Users,
)
from core.sandbox.odoo_sales import SaleOrder, SaleOrderLine

__all__ = ["DELIVERY_PRODUCT_ID", "MODELS", "UID", "Env", "Field", "Model", "SaleOrderLine"]

MODELS: dict[str, type[Model]] = {
    cls.name: cls
    for cls in (
        Partner,
        ProductTemplate,
        ProductProduct,
        SaleOrder,
        SaleOrderLine,
        Country,
        CountryState,
        Currency,
        Company,
        Users,
        IrModel,
    )
}
