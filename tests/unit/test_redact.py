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


def test_secret_parameters_in_a_percent_encoded_base_string_are_hidden() -> None:
    # oauthlib logs the OAuth 1.0a signature base string at DEBUG, its parameters encoded
    base = (
        "GET&http%3A%2F%2Fshop%2Fwp-json&oauth_consumer_key%3Dck_7bc2e1%26oauth_nonce%3D5147"
        "%26page%3D1%26consumer_secret%253Dcs_9f%2526x%253D1"
    )
    cleaned = redact(base)
    assert "ck_7bc2e1" not in cleaned and "5147" not in cleaned and "cs_9f" not in cleaned
    assert cleaned.endswith("%26page%3D1%26consumer_secret%253D***%2526x%253D1")
