"""Secrets are taken out of messages as whole values, never out of the middle of a word."""

from __future__ import annotations

from core.connectors.redact import protect, redact


def test_a_password_that_is_a_common_word_leaves_other_words_alone() -> None:
    protect(["admin", "p@ss!"])
    odoo = (
        "If you really, really need access, perhaps you can win over your friendly "
        "administrator with a batch of freshly baked cookies."
    )
    assert redact(odoo) == odoo
    assert redact("Odoo refused the login admin.") == "Odoo refused the login ***."
    assert "admin" not in redact("https://user:admin@erp.example.com/")
    assert redact("password “admin”") == "password “***”"
    assert redact("a p@ss! b, p@ss!") == "a *** b, ***"


def test_secret_parameters_are_always_hidden() -> None:
    assert redact("GET /x?consumer_secret=cs_1&oauth_signature=abc%3D&page=2") == (
        "GET /x?consumer_secret=***&oauth_signature=***&page=2"
    )
