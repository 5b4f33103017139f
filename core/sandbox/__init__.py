"""Loopback sandbox stores speaking the WooCommerce REST v3 and Odoo external API protocols.

``SandboxServer(size=1000, seed=42).start()`` serves both on one port; ``.faults`` holds
the fault knobs and ``.store`` the mutation API (add / update / delete).
"""

from core.sandbox.faults import Faults
from core.sandbox.server import SandboxServer
from core.sandbox.store import Store

__all__ = ["Faults", "SandboxServer", "Store"]
