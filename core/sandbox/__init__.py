"""Loopback sandbox stores speaking the WooCommerce REST v3 and Odoo external API protocols.

``SandboxServer(size=1000, seed=42).start()`` serves both on one port; ``.faults`` holds
the fault knobs, ``.profile`` how the two systems are installed, and ``.store`` the mutation
API (add / update / delete). ``real_world=True`` seeds what real installations hold
(archived records, variations, staff users, guest orders, ...); ``tls=True`` serves HTTPS.
See core/sandbox/README.md.
"""

from core.sandbox.faults import Faults
from core.sandbox.profile import Profile
from core.sandbox.server import SandboxServer
from core.sandbox.store import Store

__all__ = ["Faults", "Profile", "SandboxServer", "Store"]
