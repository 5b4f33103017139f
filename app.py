"""Sync Preview — the Streamlit entry: page config, navigation, the auth gate.

Each page script also starts with the same guard (`ui.auth.require_user`): a page in
`pages/` can run without this file on a freshly started server. The navigation is declared
before anything is drawn, so that Streamlit settles on the page before widgets exist.
"""

import streamlit as st

from ui import state
from ui.auth import entry_gate, signed_in_user
from ui.nav import pages_for

st.set_page_config(page_title="Sync Preview", page_icon="🔄", layout="wide")

state.take_gate_user()  # nothing is carried over from an earlier run
known = signed_in_user()  # the account is read once per run: the gate and the page share it
navigation = st.navigation(pages_for(known), position="sidebar" if known else "hidden")
user = entry_gate(known)
if user is None:
    st.stop()
state.pass_gate(user)
navigation.run()
