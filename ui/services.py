"""The one services object of the process, built once and shared by every session."""

from __future__ import annotations

import streamlit as st

from core.bootstrap import Services, shared_services


@st.cache_resource(show_spinner="Opening the database…")
def get_services() -> Services:
    """Build (and migrate) once per process; holds no per-user state and is never mutated."""
    return shared_services()
