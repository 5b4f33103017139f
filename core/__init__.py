"""Sync Preview: everything that is not UI. Never imports Streamlit."""
