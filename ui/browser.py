"""What the browser tells about its reader: time zone and locale (UTC and US English when it
does not say, as in AppTest)."""

from __future__ import annotations

from datetime import tzinfo

import streamlit as st

from ui import format as fmt


def _context(name: str) -> str | None:
    try:
        value = getattr(st.context, name)
    except Exception:  # no browser context (AppTest)
        return None
    return value if isinstance(value, str) and value else None


def browser_zone() -> tzinfo:
    """The browser's time zone."""
    return fmt.zone(_context("timezone"))


def locality() -> fmt.Locality:
    """The browser's time zone and locale."""
    return fmt.Locality(browser_zone(), fmt.locale(_context("locale")))
