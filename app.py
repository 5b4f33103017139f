"""Sync Preview — the Streamlit entry: page config, the auth gate, navigation.

Each page script also starts with the same guard (`ui.auth.require_user`): a page in
`pages/` can run without this file on a freshly started server.
"""

import streamlit as st

from ui.auth import entry_gate
from ui.nav import pages_for

st.set_page_config(page_title="Sync Preview", page_icon="🔄", layout="wide")

user = entry_gate()
navigation = st.navigation(pages_for(user), position="sidebar" if user else "hidden")
if user is None:
    st.stop()
navigation.run()
