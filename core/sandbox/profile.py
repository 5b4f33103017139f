"""How the sandbox's two systems are installed: what differs from one real installation to
the next (unlike faults, these are not errors). Settable per test while the server runs."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_COMPANIES = (1, 2)


@dataclass
class Profile:
    """The installation the sandbox plays (defaults: a plain WooCommerce, a full Odoo).

    odoo_inventory     Odoo has the Inventory app: product fields qty_available,
                       virtual_available, free_qty and is_storable exist (and fields_get
                       lists them); without it, asking for one is Odoo's "Invalid field" error
    odoo_companies     the companies the Odoo API user belongs to; records of other
                       companies are invisible to it (Odoo's multi-company record rules)
    woo_home_url       the WordPress home URL (Settings -> General); None: the address the
                       sandbox serves at. OAuth signatures are checked against it, and the
                       Link headers and _links point at it
    woo_drops_authorization
                       the web server in front of WordPress drops the Authorization header
                       (as some Apache/CGI set-ups do): Basic auth never reaches WooCommerce
    """

    odoo_inventory: bool = True
    odoo_companies: tuple[int, ...] = field(default=ALL_COMPANIES)
    woo_home_url: str | None = None
    woo_drops_authorization: bool = False

    def reset(self) -> None:
        """Back to the defaults."""
        self.odoo_inventory = True
        self.odoo_companies = ALL_COMPANIES
        self.woo_home_url = None
        self.woo_drops_authorization = False
