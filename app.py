"""Sync Preview — the Streamlit entry: page config, navigation, the auth gate.

Each page script also starts with the same guard (`ui.auth.require_user`): a page in
`pages/` can run without this file on a freshly started server. The navigation is declared
before anything is drawn, so that Streamlit settles on the page before widgets exist.
"""

import streamlit as st

from ui.auth import entry_gate, signed_in_user
from ui.nav import pages_for

st.set_page_config(page_title="Sync Preview", page_icon="🔄", layout="wide")

known = signed_in_user()
navigation = st.navigation(pages_for(known), position="sidebar" if known else "hidden")
if entry_gate() is None:
    st.stop()
navigation.run()
