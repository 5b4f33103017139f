"""Streamlit helpers shared by `app.py` and the page scripts (the only UI code besides pages)."""
